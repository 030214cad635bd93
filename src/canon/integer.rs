//! Whole numbers in the SQL as written: which divisions a dialect that
//! divides integers by truncating (Postgres, Redshift, SQL Server, SQLite)
//! computes as whole numbers, `3 / 4` being `0`.
//!
//! This reads the AST, not the canonical form: the canonical form treats a
//! numeric cast as the value itself, and so cannot tell `COUNT(x) / COUNT(*)`
//! from `COUNT(x)::numeric / COUNT(*)`, which is exactly the difference here.
//! Only what is a whole number for sure counts (counts, sums of whole
//! numbers, integer literals and casts, and columns whose model's property
//! file declares an integer `data_type`); a column of unknown type is not.

use std::ops::ControlFlow;

use sqlparser::ast::Visit;

use sqlparser::ast::{
    self, BinaryOperator, DataType, Expr as AstExpr, FunctionArg, FunctionArgExpr,
    FunctionArguments, Statement,
};

use super::lower::function_name;

/// A division that loses its fraction: `a / b` of two whole numbers in a
/// truncating dialect, or DuckDB's `//`, where a side aggregates (a metric's
/// ratio, not row arithmetic such as `seconds / 60`).
pub struct WholeNumberDivision {
    /// The whole division.
    pub division: AstExpr,
    /// `//`: a division to whole numbers by its operator alone.
    pub by_operator: bool,
}

/// What is declared of columns' types.
pub struct Declared<'a> {
    /// A model's column's type, where a property file declares one:
    /// `(model, column)` to whether it is an integer type.
    pub by_model: &'a dyn Fn(&str, &str) -> Option<bool>,
    /// Whether a column holds a count: the column a team's registry sums
    /// for a metric of `unit: count` (`impressions: sum(impressions)`).
    pub counted: &'a dyn Fn(&str) -> bool,
}

impl Declared<'_> {
    /// Nothing declared.
    pub const NOTHING: Declared<'static> = Declared {
        by_model: &|_, _| None,
        counted: &|_| false,
    };
}

/// The divisions of `statement` that lose their fraction (see
/// [`WholeNumberDivision`]); `truncates` says whether the dialect divides
/// integers by truncating, and `declared` what the property files declare.
pub fn whole_number_divisions(
    statement: &Statement,
    truncates: bool,
    declared: &Declared<'_>,
) -> Vec<WholeNumberDivision> {
    use sqlparser::ast::Spanned;
    // Worked out for the first division that needs it: most statements have none.
    let mut columns: Option<IntegerColumns> = None;
    let mut out: Vec<WholeNumberDivision> = Vec::new();
    let mut reported: Vec<sqlparser::tokenizer::Span> = Vec::new();
    let _ = ast::visit_expressions(statement, |expr| {
        let AstExpr::BinaryOp { left, op, right } = expr else {
            return ControlFlow::<()>::Continue(());
        };
        let by_operator = match op {
            BinaryOperator::Divide => false,
            BinaryOperator::DuckIntegerDivide => true,
            _ => return ControlFlow::Continue(()),
        };
        let loses_fraction = (contains_aggregate(left) || contains_aggregate(right))
            && (by_operator
                || truncates && {
                    let columns =
                        columns.get_or_insert_with(|| IntegerColumns::of(statement, declared));
                    columns.is_whole(left) && columns.is_whole(right)
                });
        // Outer expressions are visited first: a division inside a reported
        // one (`count(a) / count(b) / 2`) is reported once, at the outermost.
        let span = expr.span();
        let inside = reported
            .iter()
            .any(|r| r.start <= span.start && span.end <= r.end);
        if loses_fraction && !inside {
            reported.push(span);
            out.push(WholeNumberDivision {
                division: expr.clone(),
                by_operator,
            });
        }
        ControlFlow::Continue(())
    });
    out
}

/// The columns of a statement that are integers for sure: every CTE or
/// subquery of the statement that computes a column of that name computes a
/// whole number (`COUNT(*) AS n`), or none computes it and a model the
/// statement reads declares the name an integer (or the registry counts
/// it), none declaring it another type.
struct IntegerColumns {
    names: std::collections::HashSet<String>,
}

impl IntegerColumns {
    fn of(statement: &Statement, declared: &Declared<'_>) -> Self {
        let mut reads = Reads::default();
        let _ = statement.visit(&mut reads);
        let models: Vec<&String> = reads
            .relations
            .iter()
            .filter(|r| !reads.ctes.contains(*r))
            .collect();
        let mut names = std::collections::HashSet::new();
        let mut columns = reads.columns;
        columns.sort_unstable();
        columns.dedup();
        for column in columns {
            if reads.computed.contains(&column) {
                continue;
            }
            if reads.computed_whole.contains(&column) {
                names.insert(column);
                continue;
            }
            let types: Vec<bool> = models
                .iter()
                .filter_map(|m| (declared.by_model)(m, &column))
                .collect();
            let integer = !types.is_empty() || (declared.counted)(&column);
            if integer && types.iter().all(|&integer| integer) {
                names.insert(column);
            }
        }
        IntegerColumns { names }
    }

    /// Whether the expression is a whole number for sure, in a dialect whose
    /// division of whole numbers is one.
    fn is_whole(&self, expr: &AstExpr) -> bool {
        let column = match expr {
            AstExpr::Identifier(ident) => Some(ident),
            AstExpr::CompoundIdentifier(parts) => parts.last(),
            _ => None,
        };
        match column {
            Some(ident) => self.names.contains(&ident.value.to_lowercase()),
            None => is_whole_with(expr, &|e| self.is_whole(e)),
        }
    }
}

/// What a statement reads and computes, for [`IntegerColumns`].
#[derive(Default)]
struct Reads {
    /// The relations it reads, by their own (last) name.
    relations: Vec<String>,
    /// Its CTEs' names.
    ctes: Vec<String>,
    /// Every column name it refers to.
    columns: Vec<String>,
    /// The names its CTEs and subqueries give computed columns: whole
    /// numbers for sure (`COUNT(*) AS n`), and the others.
    computed_whole: std::collections::HashSet<String>,
    computed: std::collections::HashSet<String>,
    /// Whether the statement's outermost query was met (its own outputs are
    /// what it publishes, not what it reads).
    outermost_seen: bool,
}

impl ast::Visitor for Reads {
    type Break = ();

    fn pre_visit_query(&mut self, query: &ast::Query) -> ControlFlow<()> {
        if let Some(with) = &query.with {
            self.ctes.extend(
                with.cte_tables
                    .iter()
                    .map(|c| c.alias.name.value.to_lowercase()),
            );
        }
        if std::mem::replace(&mut self.outermost_seen, true) {
            if let ast::SetExpr::Select(select) = query.body.as_ref() {
                for item in &select.projection {
                    if let ast::SelectItem::ExprWithAlias { expr, alias } = item {
                        if matches!(
                            expr,
                            AstExpr::Identifier(_) | AstExpr::CompoundIdentifier(_)
                        ) {
                            continue;
                        }
                        let name = alias.value.to_lowercase();
                        if is_whole(expr) {
                            self.computed_whole.insert(name);
                        } else {
                            self.computed.insert(name);
                        }
                    }
                }
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_relation(&mut self, relation: &ast::ObjectName) -> ControlFlow<()> {
        if let Some(ast::ObjectNamePart::Identifier(last)) = relation.0.last() {
            let name = last.value.to_lowercase();
            self.relations
                .push(name.rsplit('.').next().unwrap_or(&name).to_string());
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &AstExpr) -> ControlFlow<()> {
        match expr {
            AstExpr::Identifier(ident) => self.columns.push(ident.value.to_lowercase()),
            AstExpr::CompoundIdentifier(parts) => {
                if let Some(last) = parts.last() {
                    self.columns.push(last.value.to_lowercase());
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

/// Whether the expression is a whole number for sure, with no column known
/// to be one.
pub fn is_whole(expr: &AstExpr) -> bool {
    is_whole_with(expr, &is_whole)
}

/// [`is_whole`], with `part` deciding the expression's parts.
fn is_whole_with(expr: &AstExpr, part: &dyn Fn(&AstExpr) -> bool) -> bool {
    let is_whole = part;
    match expr {
        AstExpr::Nested(inner) => is_whole(inner),
        AstExpr::Value(v) => {
            matches!(&v.value, ast::Value::Number(n, _) if n.bytes().all(|b| b.is_ascii_digit()))
        }
        AstExpr::UnaryOp {
            op: ast::UnaryOperator::Minus | ast::UnaryOperator::Plus,
            expr,
        } => is_whole(expr),
        AstExpr::BinaryOp { left, op, right } => {
            matches!(
                op,
                BinaryOperator::Plus
                    | BinaryOperator::Minus
                    | BinaryOperator::Multiply
                    | BinaryOperator::Divide
                    | BinaryOperator::Modulo
            ) && is_whole(left)
                && is_whole(right)
        }
        AstExpr::Cast { data_type, .. } => is_integer_type(data_type),
        AstExpr::Case {
            conditions,
            else_result,
            ..
        } => {
            conditions.iter().all(|w| is_whole(&w.result))
                && else_result
                    .as_deref()
                    .is_none_or(|e| is_whole(e) || is_null(e))
        }
        AstExpr::Function(function) => {
            let name = function_name(&function.name);
            let args = plain_arguments(&function.args);
            match name.as_str() {
                "count" | "count_if" | "countif" | "count_big" => function.over.is_none(),
                "sum" | "min" | "max" => {
                    function.over.is_none() && matches!(args.as_deref(), Some([x]) if is_whole(x))
                }
                "coalesce" | "ifnull" | "isnull" | "nvl" | "nullif" => {
                    matches!(args.as_deref(), Some([first, rest @ ..]) if is_whole(first) && rest.iter().all(|a| is_whole(a)))
                }
                _ => false,
            }
        }
        _ => false,
    }
}

fn is_null(expr: &AstExpr) -> bool {
    matches!(expr, AstExpr::Value(v) if matches!(v.value, ast::Value::Null))
}

fn is_integer_type(data_type: &DataType) -> bool {
    is_integer_type_name(&data_type.to_string())
}

/// Whether a type name (a cast's, a property file's `data_type`) is an
/// integer type.
pub fn is_integer_type_name(name: &str) -> bool {
    matches!(
        name.trim().to_ascii_lowercase().as_str(),
        "int" | "integer" | "bigint" | "smallint" | "tinyint" | "int2" | "int4" | "int8" | "int64"
    )
}

/// The arguments of a call, when all are plain expressions.
fn plain_arguments(args: &FunctionArguments) -> Option<Vec<&AstExpr>> {
    match args {
        FunctionArguments::List(list) => list
            .args
            .iter()
            .map(|a| match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// Whether an aggregate is computed inside the expression.
fn contains_aggregate(expr: &AstExpr) -> bool {
    let mut found = false;
    let _ = ast::visit_expressions(expr, |e| {
        if let AstExpr::Function(f) = e {
            let name = function_name(&f.name);
            if f.over.is_none()
                && matches!(
                    super::functions::meaning(&name),
                    Some(
                        super::functions::Meaning::Aggregate(_)
                            | super::functions::Meaning::AggregateIf(_)
                            | super::functions::Meaning::CountIf
                            | super::functions::Meaning::CountDistinct
                    )
                )
            {
                found = true;
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    });
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::dialect::{DuckDbDialect, PostgreSqlDialect};
    use sqlparser::parser::Parser;

    fn divisions(sql: &str, truncates: bool) -> Vec<String> {
        let statements = if truncates {
            Parser::parse_sql(&PostgreSqlDialect {}, sql).unwrap()
        } else {
            Parser::parse_sql(&DuckDbDialect {}, sql).unwrap()
        };
        whole_number_divisions(&statements[0], truncates, &Declared::NOTHING)
            .iter()
            .map(|d| d.division.to_string())
            .collect()
    }

    #[test]
    fn whole_numbers_divided_lose_their_fraction() {
        // (SQL, the divisions reported)
        let cases: &[(&str, &[&str])] = &[
            (
                "select count(clicks) / count(*) as ctr from t",
                &["count(clicks) / count(*)"],
            ),
            (
                "select sum(case when clicked then 1 else 0 end) / count(*) as ctr from t",
                &["sum(CASE WHEN clicked THEN 1 ELSE 0 END) / count(*)"],
            ),
            (
                "select 100 * count(a) / count(b) as pct from t",
                &["100 * count(a) / count(b)"],
            ),
            (
                "select count(distinct a) / nullif(count(b), 0) as r from t",
                &["count(DISTINCT a) / nullif(count(b), 0)"],
            ),
            (
                "select count(a) / count(b) / 2 as r from t",
                &["count(a) / count(b) / 2"],
            ),
            ("select count(*) / 7 as per_day from t", &["count(*) / 7"]),
            (
                "select sum(x::int) / count(*) as r from t",
                &["sum(x::INT) / count(*)"],
            ),
            // A side that is a decimal makes it exact.
            ("select count(a)::numeric / count(b) as r from t", &[]),
            ("select 1.0 * count(a) / count(b) as r from t", &[]),
            ("select count(a) / count(b)::float as r from t", &[]),
            (
                "select cast(count(a) as decimal) / count(b) as r from t",
                &[],
            ),
            // Columns of unknown type, and row arithmetic, are not reported.
            ("select sum(clicks) / sum(impressions) as ctr from t", &[]),
            ("select clicks / impressions as ctr from t", &[]),
            ("select seconds / 60 as minutes from t", &[]),
            ("select count(*) over () / 2 as half from t", &[]),
        ];
        for (sql, want) in cases {
            assert_eq!(divisions(sql, true), want.to_vec(), "{sql}");
        }
    }

    #[test]
    fn only_truncating_dialects_lose_the_fraction_of_a_slash() {
        assert!(divisions("select count(a) / count(b) as r from t", false).is_empty());
        assert_eq!(
            divisions("select sum(a) // sum(b) as r from t", false),
            vec!["sum(a) // sum(b)"]
        );
    }

    #[test]
    fn columns_a_model_declares_integers_are_whole_numbers() {
        // `fct_ads` declares clicks and impressions integers, spend numeric.
        let by_model = |model: &str, column: &str| match (model, column) {
            ("fct_ads", "clicks" | "impressions") => Some(true),
            ("fct_ads", "spend") => Some(false),
            _ => None,
        };
        let declared = Declared {
            by_model: &by_model,
            counted: &|column| column == "sessions",
        };
        let found = |sql: &str| -> Vec<String> {
            let statements = Parser::parse_sql(&PostgreSqlDialect {}, sql).unwrap();
            whole_number_divisions(&statements[0], true, &declared)
                .iter()
                .map(|d| d.division.to_string())
                .collect()
        };
        let cases: &[(&str, &[&str])] = &[
            ("select sum(clicks) / sum(impressions) as ctr from fct_ads", &["sum(clicks) / sum(impressions)"]),
            ("select sum(a.clicks) / sum(a.impressions) as ctr from analytics.fct_ads a", &["sum(a.clicks) / sum(a.impressions)"]),
            ("with f as (select * from fct_ads) select sum(clicks) / count(*) as r from f", &["sum(clicks) / count(*)"]),
            // A registered count measure's column, over any relation.
            ("select sum(clicks) / sum(sessions) as r from events", &[]),
            ("select sum(sessions) / count(distinct user_id) as r from events", &["sum(sessions) / count(DISTINCT user_id)"]),
            // Another type, an undeclared relation, a recomputed name.
            ("select sum(spend) / sum(clicks) as cpc from fct_ads", &[]),
            ("select sum(clicks) / sum(impressions) as ctr from other_ads", &[]),
            ("with f as (select sum(clicks) * 1.0 as clicks from fct_ads) select clicks / count(*) as r from f", &[]),
            // A CTE's counts, divided in the query over it.
            ("with f as (select day, count(*) as n, count(clicked_at) as c from events group by 1) select sum(c) / sum(n) as ctr from f", &["sum(c) / sum(n)"]),
            ("with f as (select day, count(*) as n, sum(spend) as c from events group by 1) select sum(c) / sum(n) as cpa from f", &[]),
            ("with f as (select count(*) as n from a), g as (select avg(x) as n from b) select count(*) / sum(n) as r from f, g", &[]),
            ("select sum(clicks)::numeric / sum(impressions) as ctr from fct_ads", &[]),
        ];
        for (sql, want) in cases {
            assert_eq!(found(sql), want.to_vec(), "{sql}");
        }
    }
}
