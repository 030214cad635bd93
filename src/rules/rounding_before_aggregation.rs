use crate::finding::Finding;
use crate::rules::rule;
use crate::source::Range;

rule! {
    /// ## What it does
    /// Finds a money figure that adds up (or averages) values rounded row by
    /// row: `SUM(ROUND(spend, 2))`, also through casts, numeric conversions
    /// and `COALESCE(…, 0)`, and `TRUNC(x, 2)`. A figure is money when its
    /// name is a metric registered with a currency unit (the built-in pack's
    /// `spend`, `revenue`, `cost`, … or your registry's `unit: currency`), or
    /// when its name or the rounded column carries a currency code (`_usd`,
    /// `_eur`, …).
    ///
    /// Rounding the total (`ROUND(SUM(spend), 2)`) is presentation and is
    /// never reported; neither is rounding a count or a figure that is no
    /// money, where a team may round on purpose, nor a sum over groups of
    /// one row each (grouped by, or fixing in its WHERE, every column of the
    /// key of the one relation it reads: a dbt model's
    /// `config(unique_key=…)`, or the GROUP BY or DISTINCT of the model or
    /// CTE it reads), where each row's rounding is its total's.
    ///
    /// ## Why is this bad?
    /// Each row loses up to half of its last kept digit, and the losses add
    /// up: a thousand rows can move a total by dollars, and two reports of
    /// one figure, one rounding rows and one the total, disagree.
    ///
    /// ## Example
    /// ```sql
    /// SELECT campaign_id, SUM(ROUND(spend, 2)) AS spend FROM ad_events GROUP BY 1
    /// ```
    ///
    /// Use instead:
    /// ```sql
    /// SELECT campaign_id, ROUND(SUM(spend), 2) AS spend FROM ad_events GROUP BY 1
    /// ```
    pub struct RoundingBeforeAggregation {
        code: "ML007",
        name: "rounding-before-aggregation",
        severity: Warning,
        summary: "Money rounded row by row before it is added up",
    }
}

impl RoundingBeforeAggregation {
    /// `output` is the figure's name, `metric` its registered metric if any,
    /// `aggregate` and `rounding` the aggregate and the rounding inside it,
    /// as written.
    pub fn finding(
        path: &str,
        range: Range,
        output: &str,
        metric: Option<&str>,
        aggregate: &str,
        rounding: &str,
    ) -> Finding {
        let shown = crate::canon::elide_middle(rounding, 60);
        let total = crate::canon::elide_middle(aggregate, 60);
        let message = format!(
            "{output} adds up values rounded row by row: `{total}` rounds each row (`{shown}`) before adding, so every row's rounding error is in the total"
        );
        Finding {
            metric: metric.map(str::to_string),
            found: Some(aggregate.to_string()),
            help: Some("round the total instead: `ROUND(SUM(x), 2)`".to_string()),
            label: Some("rounded before it is added up".to_string()),
            ..Finding::of(&Self::INFO, path, range, message)
        }
    }
}
