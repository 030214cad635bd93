//! Operations whose two operands are one expression: `qty - qty` is always
//! 0, `a.end_date > a.end_date` never true. Read from the statement as
//! written, anywhere in it (select lists, WHERE, JOIN ON, CASE).

use std::ops::ControlFlow;

use sqlparser::ast::{self, BinaryOperator, Expr as AstExpr, Spanned, Statement};

/// One operation on a value and itself.
#[derive(Debug)]
pub struct IdenticalOperands {
    /// The operation, as written.
    pub operation: AstExpr,
    /// What it always gives.
    pub outcome: Outcome,
}

/// What an operation on a value and itself always gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// `x - x`.
    Zero,
    /// `x / x`: 1, or NULL where x is 0 or NULL.
    One,
    /// `x > x`, `x < x`.
    NeverTrue,
}

/// Every operation of `statement` on a value and itself, outermost first
/// and never one inside another reported.
///
/// `x = x`, `x >= x` and `x <= x` are left alone: they are true wherever x
/// is not NULL, and some write them on purpose as a NULL test; so are `x <>
/// x` and `x IS DISTINCT FROM x`, true for a NaN in BigQuery and other
/// dialects that follow IEEE floats (a NaN test). So are
/// operands that read no column (`1 = 1`, a template's filler), that call a
/// function giving another value each call (`RANDOM() - RANDOM()`), or
/// that hold a placeholder for a template tag metriclint could not render
/// (two different tags may render alike).
pub fn identical_operands(statement: &Statement) -> Vec<IdenticalOperands> {
    let mut found: Vec<IdenticalOperands> = Vec::new();
    // A zero written on purpose is taken as reported: never reported, nor
    // anything inside it.
    let mut reported: Vec<sqlparser::tokenizer::Span> = zeros_on_purpose(statement);
    let _ = ast::visit_expressions(statement, |expr| {
        let (left, right, outcome) = match expr {
            AstExpr::BinaryOp { left, op, right } => {
                let outcome = match op {
                    BinaryOperator::Minus => Outcome::Zero,
                    BinaryOperator::Divide => Outcome::One,
                    BinaryOperator::Gt | BinaryOperator::Lt => Outcome::NeverTrue,
                    _ => return ControlFlow::<()>::Continue(()),
                };
                (left.as_ref(), right.as_ref(), outcome)
            }
            _ => return ControlFlow::Continue(()),
        };
        let (left, right) = (unnested(left), unnested(right));
        if left != right || !is_one_value(left) {
            return ControlFlow::Continue(());
        }
        let span = expr.span();
        let inside = reported
            .iter()
            .any(|r| r.start <= span.start && span.end <= r.end);
        if !inside {
            reported.push(span);
            found.push(IdenticalOperands {
                operation: expr.clone(),
                outcome,
            });
        }
        ControlFlow::Continue(())
    });
    found
}

/// The spans of `x - x` written as a CASE branch's whole result (`ELSE
/// ROUND(multiplier - multiplier)`), also through rounding, a cast or
/// COALESCE: a zero of x's type (NULL where x is NULL), an idiom some write
/// on purpose for the branches that have no value. Inside a larger formula
/// (`(qty - qty) * price`), or as a whole output (`end_ts - end_ts AS
/// duration`), it is a typo.
fn zeros_on_purpose(statement: &Statement) -> Vec<sqlparser::tokenizer::Span> {
    use sqlparser::ast::{Visit, Visitor};
    struct Whole(Vec<sqlparser::tokenizer::Span>);
    impl Whole {
        fn note(&mut self, value: &AstExpr) {
            let value = unwrapped(value);
            if matches!(
                value,
                AstExpr::BinaryOp {
                    op: BinaryOperator::Minus,
                    ..
                }
            ) {
                self.0.push(value.span());
            }
        }
    }
    impl Visitor for Whole {
        type Break = ();
        fn pre_visit_expr(&mut self, expr: &AstExpr) -> ControlFlow<()> {
            if let AstExpr::Case {
                conditions,
                else_result,
                ..
            } = expr
            {
                for when in conditions {
                    self.note(&when.result);
                }
                if let Some(otherwise) = else_result {
                    self.note(otherwise);
                }
            }
            ControlFlow::Continue(())
        }
    }
    let mut whole = Whole(Vec::new());
    let _ = statement.visit(&mut whole);
    whole.0
}

/// A value without the wrappers that keep it what it is: parentheses,
/// rounding, casts, `COALESCE(x, …)`.
fn unwrapped(expr: &AstExpr) -> &AstExpr {
    match expr {
        AstExpr::Nested(inner) | AstExpr::Cast { expr: inner, .. } => unwrapped(inner),
        AstExpr::Function(function) => {
            let name = function.name.to_string().to_lowercase();
            let first = crate::canon::integer::plain_arguments(&function.args)
                .and_then(|args| args.first().copied());
            match first {
                Some(first)
                    if matches!(
                        name.as_str(),
                        "round" | "trunc" | "coalesce" | "nvl" | "ifnull" | "isnull"
                    ) =>
                {
                    unwrapped(first)
                }
                _ => expr,
            }
        }
        other => other,
    }
}

fn unnested(expr: &AstExpr) -> &AstExpr {
    match expr {
        AstExpr::Nested(inner) => unnested(inner),
        other => other,
    }
}

/// Whether an operand is one value wherever it is read twice: it reads a
/// column, calls no function that gives another value each call, and holds
/// no template placeholder.
fn is_one_value(expr: &AstExpr) -> bool {
    let (mut reads_a_column, mut varies) = (false, false);
    let _ = ast::visit_expressions(expr, |e| {
        match e {
            AstExpr::Identifier(ident) => {
                reads_a_column = true;
                varies |= crate::template::is_placeholder_name(&ident.value);
            }
            AstExpr::CompoundIdentifier(parts) => {
                reads_a_column = true;
                varies |= parts
                    .iter()
                    .any(|p| crate::template::is_placeholder_name(&p.value));
            }
            AstExpr::Function(function) => {
                let name = function.name.to_string().to_lowercase();
                varies |= crate::template::is_placeholder_name(&name)
                    || matches!(
                        name.rsplit('.').next().unwrap_or(""),
                        "rand"
                            | "random"
                            | "uuid"
                            | "newid"
                            | "gen_random_uuid"
                            | "uuid_generate_v4"
                            | "generate_uuid"
                            | "random_uuid"
                            | "randn"
                            | "seq4"
                            | "seq8"
                            | "nextval"
                    );
            }
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
    reads_a_column && !varies
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(sql: &str) -> Vec<(String, Outcome)> {
        let statements =
            sqlparser::parser::Parser::parse_sql(&sqlparser::dialect::GenericDialect {}, sql)
                .expect("parses");
        statements
            .iter()
            .flat_map(identical_operands)
            .map(|f| (f.operation.to_string(), f.outcome))
            .collect()
    }

    #[test]
    fn a_value_and_itself_is_found() {
        let cases = [
            (
                "SELECT SUM((ol.QtyEntered - ol.QtyEntered) * ol.PriceEntered) AS pending FROM ol",
                "ol.QtyEntered - ol.QtyEntered",
                Outcome::Zero,
            ),
            (
                "SELECT CASE WHEN m.end_date > m.end_date THEN 'invalid' END AS check_end FROM m",
                "m.end_date > m.end_date",
                Outcome::NeverTrue,
            ),
            (
                "SELECT * FROM a JOIN b ON a.id = b.id WHERE a.total < a.total OR a.n <> b.n",
                "a.total < a.total",
                Outcome::NeverTrue,
            ),
            (
                "SELECT SUM(spend) / SUM(spend) AS share FROM t",
                "SUM(spend) / SUM(spend)",
                Outcome::One,
            ),
            (
                "SELECT (a - b) - (a - b) AS d FROM t",
                "(a - b) - (a - b)",
                Outcome::Zero,
            ),
        ];
        for (sql, operation, outcome) in cases {
            let got = found(sql);
            let shown: Vec<(&str, Outcome)> = got.iter().map(|(o, k)| (o.as_str(), *k)).collect();
            let expected = operation.replace("!=", "<>");
            assert!(
                shown.contains(&(expected.as_str(), outcome)) && shown.len() == 1,
                "{sql}: {shown:?}"
            );
        }
    }

    #[test]
    fn two_values_or_no_column_are_not() {
        for sql in [
            "SELECT a.qty - b.qty AS diff FROM a JOIN b ON a.id = b.id",
            "SELECT stake * growth - stake AS reward FROM s",
            "SELECT * FROM t WHERE 1 = 1 AND 2 > 1 AND 'a' <> 'a'",
            // Equality is a NULL test some write on purpose.
            "SELECT * FROM t WHERE x = x AND y >= y",
            // A NaN test where floats follow IEEE (BigQuery).
            "SELECT COUNT(*) AS nan_scores FROM t WHERE score != score OR s IS DISTINCT FROM s",
            "SELECT RANDOM() - RANDOM() AS jitter, RAND(x) > RAND(x) AS coin FROM t",
            "SELECT __jinja_var_a - __jinja_var_a AS d FROM t",
            // A zero of the column's type, written as a whole value.
            "SELECT CASE WHEN base = 'L' THEN ROUND(p.m * 2) ELSE ROUND(p.m - p.m) END AS new_m FROM p",
        ] {
            let got = found(sql);
            assert!(got.is_empty(), "{sql}: {got:?}");
        }
    }
}
