use super::{listed, shown_name, site_finding, Compared, Explanation};
use crate::extract::Site;
use crate::finding::Finding;
use crate::judge::Difference;
use crate::registry::Metric;
use crate::rules::rule;

rule! {
    /// ## What it does
    /// Flags a site whose formula matches the registered metric but whose
    /// aggregates see other rows: a registered `filter` is missing, or a
    /// different or extra condition applies to a column the definition
    /// constrains, in WHERE, in an inner join's ON clause, or inside an
    /// aggregate (`CASE WHEN`, `FILTER (WHERE …)`, `IF`/`IFF`, `COUNTIF`, …).
    ///
    /// WHERE conditions on columns the definition does not mention (dates,
    /// dimensions, join keys) are the report's slice and never flagged. A
    /// condition inside only some of the aggregates always counts. HAVING never
    /// counts. The registered filter may be applied in WHERE or inside every
    /// aggregate: both are the agreement.
    ///
    /// ## Why is this bad?
    /// A CTR that forgets `is_test = false` counts test traffic; an "S2S share"
    /// whose denominator is also restricted to S2S is always 100%. The formula
    /// looks right, so this drift survives review.
    ///
    /// ## Fix
    /// `check --fix --unsafe-fixes` makes each aggregate of a figure that
    /// leaves out the registered filter conditional on it (`SUM(CASE WHEN
    /// is_test = false THEN clicks END)`). It changes the figure, to the
    /// agreed one, so it waits for `--unsafe-fixes`.
    ///
    /// ## Example
    /// ```sql
    /// SELECT SUM(clicks) / SUM(impressions) AS ctr
    /// FROM fct_ad_events
    /// ```
    ///
    /// Use instead (with `filter: is_test = false` agreed):
    /// ```sql
    /// SELECT SUM(clicks) / SUM(impressions) AS ctr
    /// FROM fct_ad_events
    /// WHERE is_test = false
    /// ```
    pub struct FilterMismatch {
        code: "ML002",
        name: "filter-mismatch",
        severity: Error,
        summary: "A metric computed over other rows than agreed: a filter missing or added",
    }
}

impl FilterMismatch {
    pub fn finding(
        path: &str,
        site: &Site,
        metric: &Metric,
        compared: Compared<'_>,
        differences: &[Difference],
    ) -> Finding {
        let message = format!(
            "{} aggregates other rows than agreed: {}",
            shown_name(site, metric),
            listed(differences)
        );
        let label = "the formula matches; the rows differ".to_string();
        site_finding(
            Self::INFO,
            path,
            site,
            metric,
            compared,
            Explanation::against(metric, message, label),
        )
    }
}
