use crate::canon::Expr;
use crate::finding::Finding;
use crate::rules::rule;
use crate::source::Range;

rule! {
    /// ## What it does
    /// Finds a formula that adds or subtracts a ratio and the ratio's own
    /// denominator: `impressions - clicks / impressions`. Division binds
    /// before subtraction, so this is `impressions - (clicks /
    /// impressions)`, a count minus a fraction, where
    /// `(impressions - clicks) / impressions` was meant. In a report's
    /// figure (its aggregates read as written, or through lineage) and in
    /// the definitions a dbt project's metric YAML gives the registry
    /// (derived metrics over `{{ metric('…') }}`).
    ///
    /// Left alone: a constant beside a ratio (`1 - clicks / impressions` is
    /// a rate), and a ratio beside any other figure.
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

/// A ratio beside its own denominator in one sum (see
/// [`OperatorPrecedence`]).
#[derive(Debug, Clone, PartialEq)]
pub struct TotalBesideItsRatio {
    pub total: Expr,
    pub ratio: Expr,
    /// Whether the sum subtracts the ratio (`a - b / a`) or the total
    /// (`b / a - a`); neither when it adds them.
    pub ratio_subtracted: bool,
    pub total_subtracted: bool,
}

/// The first sum in `expr` that adds or subtracts a ratio and the ratio's
/// own denominator.
pub fn total_beside_its_ratio(expr: &Expr) -> Option<TotalBesideItsRatio> {
    let mut found = None;
    expr.walk(&mut |e| {
        let Expr::Sum(terms) = e else { return };
        if found.is_some() {
            return;
        }
        let core = |e: &Expr| crate::judge::split_scale(e).1;
        for (i, ratio) in terms.iter().enumerate() {
            let Expr::Product(p) = &ratio.expr else {
                continue;
            };
            if !p.factors.iter().any(|f| f.inverse) {
                continue;
            }
            let (_, _, denominator) = ratio.expr.as_ratio();
            let beside = terms.iter().enumerate().find(|(j, other)| {
                *j != i
                    && !matches!(other.expr, Expr::Number(_))
                    && core(&other.expr) == core(&denominator)
            });
            if let Some((_, total)) = beside {
                found = Some(TotalBesideItsRatio {
                    total: total.expr.clone(),
                    ratio: ratio.expr.clone(),
                    ratio_subtracted: ratio.negated,
                    total_subtracted: total.negated,
                });
                return;
            }
        }
    });
    found
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
        let TotalBesideItsRatio { total, ratio, .. } = found;
        let (_, numerator, _) = ratio.as_ratio();
        let how = if found.ratio_subtracted {
            format!("subtracts {ratio:.100} from {total:.100}")
        } else if found.total_subtracted {
            format!("subtracts {total:.100} from {ratio:.100}")
        } else {
            format!("adds {ratio:.100} to {total:.100}")
        };
        Finding {
            metric: Some(metric.to_string()),
            found: Some(format!("{total:.100} and {ratio:.100}")),
            help: Some(format!(
                "add the parentheses, if this is what it means: ({total:.60} - {numerator:.60}) / {total:.60}"
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
