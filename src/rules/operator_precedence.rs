use crate::finding::Finding;
use crate::rules::rule;
use crate::source::Range;

rule! {
    /// ## What it does
    /// Finds a formula written to add or subtract a ratio and the ratio's
    /// own denominator: `impressions - clicks / impressions`. Division
    /// binds before subtraction, so this is `impressions - (clicks /
    /// impressions)`, a count minus a fraction, where `(impressions -
    /// clicks) / impressions` was meant. Read as written (what parentheses
    /// wrap is left alone), in a report's figure, in a LookML measure's own
    /// `sql:` (not again in the measures that reference it), and in the
    /// metrics of a dbt project's metric YAML that metriclint checks (read
    /// as the registry, or under a team's registry).
    ///
    /// Left alone: a constant beside a ratio (`1 - clicks / impressions` is
    /// a rate), a constant denominator (`100 - score / 100`), and a ratio
    /// beside any other figure.
    ///
    /// ## Why is this bad?
    /// The figure is meaningless (a bounce "rate" of 9,999.4 out of 10,000
    /// impressions) and nothing fails: every dashboard of it is wrong.
    ///
    /// ## Example
    /// ```sql
    /// SELECT SUM(impressions) - SUM(clicks) / SUM(impressions) AS bounce_rate FROM ad_stats
    /// ```
    ///
    /// Use instead:
    /// ```sql
    /// SELECT (SUM(impressions) - SUM(clicks)) / SUM(impressions) AS bounce_rate FROM ad_stats
    /// ```
    pub struct OperatorPrecedence {
        code: "ML013",
        name: "operator-precedence",
        severity: Error,
        summary: "A ratio added to or subtracted from its own denominator (`a - b / a`): parentheses missing",
    }
}

/// A ratio beside its own denominator, as written (see
/// [`OperatorPrecedence`]).
#[derive(Debug, Clone, PartialEq)]
pub struct TotalBesideItsRatio {
    /// The figure beside the ratio, and the ratio, as written.
    pub total: String,
    pub ratio: String,
    /// The ratio's numerator and denominator, as written.
    pub numerator: String,
    pub denominator: String,
    /// Whether the ratio is subtracted (`a - b / a`) or the total (`b / a
    /// - a`); neither when they are added.
    pub ratio_subtracted: bool,
    pub total_subtracted: bool,
}

/// The first `+` or `-` in `expr`, as written, between a division and the
/// division's own denominator: `impressions - clicks / impressions` (a
/// `NULLIF(impressions, 0)` denominator too, and a ratio scaled by a
/// constant, `clicks / impressions * 100`). What parentheses wrap is left
/// alone: `(impressions - clicks) / impressions` divides the difference,
/// as meant, and `s * ((s - c) / s)` is a share of `s`; so is a constant
/// denominator (`100 - score / 100`).
pub fn total_beside_its_ratio(expr: &sqlparser::ast::Expr) -> Option<TotalBesideItsRatio> {
    use sqlparser::ast::{BinaryOperator, Expr as Ast};
    use std::ops::ControlFlow;
    let mut found = None;
    let _ = sqlparser::ast::visit_expressions(expr, |e| {
        let Ast::BinaryOp { left, op, right } = e else {
            return ControlFlow::<()>::Continue(());
        };
        let subtracts = match op {
            BinaryOperator::Minus => true,
            BinaryOperator::Plus => false,
            _ => return ControlFlow::Continue(()),
        };
        // Each side is turned into text only where the other is a ratio:
        // a long chain of `+` is not written out again at every step.
        let hit = match (division(left), division(right)) {
            (_, Some((numerator, written))) if denominator(written) == bare(left) => {
                Some((left, right, numerator, written, true))
            }
            (Some((numerator, written)), _) if denominator(written) == bare(right) => {
                Some((right, left, numerator, written, false))
            }
            _ => None,
        };
        match hit {
            Some((total, ratio, numerator, written, ratio_second)) => {
                found = Some(TotalBesideItsRatio {
                    total: total.to_string(),
                    ratio: ratio.to_string(),
                    numerator: numerator.to_string(),
                    denominator: written.to_string(),
                    ratio_subtracted: subtracts && ratio_second,
                    total_subtracted: subtracts && !ratio_second,
                });
                ControlFlow::Break(())
            }
            None => ControlFlow::Continue(()),
        }
    });
    found
}

/// A division's numerator and denominator, through a constant factor
/// (`b / a * 100`, `100 * b / a`), where the denominator is no constant.
fn division(expr: &sqlparser::ast::Expr) -> Option<(&sqlparser::ast::Expr, &sqlparser::ast::Expr)> {
    use sqlparser::ast::{BinaryOperator, Expr as Ast};
    let constant = |e: &Ast| matches!(e, Ast::Value(_));
    match expr {
        Ast::BinaryOp {
            left,
            op: BinaryOperator::Divide,
            right,
        } if !constant(right) => Some((left, right)),
        Ast::BinaryOp {
            left,
            op: BinaryOperator::Multiply | BinaryOperator::Divide,
            right,
        } if constant(right) => division(left),
        _ => None,
    }
}

/// An operand as compared: its parentheses off; lowercased (identifiers
/// are not case-sensitive) unless it holds a string literal, which is.
fn bare(expr: &sqlparser::ast::Expr) -> String {
    match expr {
        sqlparser::ast::Expr::Nested(inner) => bare(inner),
        other => {
            let text = other.to_string();
            if text.contains('\'') {
                text
            } else {
                text.to_lowercase()
            }
        }
    }
}

/// A denominator as compared: `NULLIF(x, 0)` is `x`, which it guards.
fn denominator(expr: &sqlparser::ast::Expr) -> String {
    use sqlparser::ast::{Expr as Ast, FunctionArg, FunctionArgExpr, FunctionArguments};
    match expr {
        Ast::Nested(inner) => denominator(inner),
        Ast::Function(f) if f.name.to_string().eq_ignore_ascii_case("nullif") => match &f.args {
            FunctionArguments::List(list) => match list.args.first() {
                Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(guarded))) => bare(guarded),
                _ => bare(expr),
            },
            _ => bare(expr),
        },
        other => bare(other),
    }
}

impl OperatorPrecedence {
    /// A report's figure `name` with a ratio beside its own denominator.
    pub fn finding(path: &str, range: Range, name: &str, found: &TotalBesideItsRatio) -> Finding {
        Self::said(path, range, name, name.to_string(), found)
    }

    /// The same in a definition a dbt project's YAML gives the registry.
    pub fn in_definition(
        path: &str,
        range: Range,
        metric: &str,
        found: &TotalBesideItsRatio,
    ) -> Finding {
        Self::said(
            path,
            range,
            metric,
            format!("the definition of {metric}"),
            found,
        )
    }

    fn said(
        path: &str,
        range: Range,
        metric: &str,
        what: String,
        found: &TotalBesideItsRatio,
    ) -> Finding {
        let TotalBesideItsRatio {
            total,
            ratio,
            numerator,
            denominator,
            ..
        } = found;
        let (how, meant) = if found.ratio_subtracted {
            (
                format!("subtracts {ratio} from {total}"),
                format!("({total} - {numerator}) / {denominator}"),
            )
        } else if found.total_subtracted {
            (
                format!("subtracts {total} from {ratio}"),
                format!("({numerator} - {total}) / {denominator}"),
            )
        } else {
            (
                format!("adds {ratio} to {total}"),
                format!("({total} + {numerator}) / {denominator}"),
            )
        };
        Finding {
            metric: Some(metric.to_string()),
            found: Some(format!("{total} and {ratio}")),
            help: Some(format!(
                "add the parentheses, if this is what it means: {meant}"
            )),
            label: Some("a ratio beside its own denominator".to_string()),
            ..Finding::of(
                &Self::INFO,
                path,
                range,
                format!(
                    "{what} {how}, its own denominator: division binds first, so this adds a total and a fraction, and is no ratio"
                ),
            )
        }
    }
}
