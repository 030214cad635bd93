use super::{listed, shown_name, site_finding, Compared, Explanation};
use crate::extract::Site;
use crate::finding::Finding;
use crate::judge::Difference;
use crate::registry::Metric;
use crate::rules::rule;

rule! {
    /// ## What it does
    /// Flags a report column named after a registered metric (or one of its
    /// synonyms) whose formula differs from the registered definition, or that
    /// differs from it in more than one way (filter, scale, source, ratio
    /// structure together). The message lists every difference.
    ///
    /// ## Why is this bad?
    /// Two reports that show "CTR" must mean the same thing. When one divides
    /// clicks by `COUNT(*)` and the other by `SUM(impressions)`, the numbers
    /// disagree and nobody can tell which one is right. The registry records
    /// what the team agreed; a formula that differs from it is drift.
    ///
    /// Equivalent spellings are not flagged: identifier case and quoting, table
    /// qualifiers, operand order, parentheses, numeric casts, `1.0` vs `1`,
    /// `COUNT(*)` vs `COUNT(1)`, CTE and subquery indirection, conditional
    /// aggregates, and zero guards such as `NULLIF(d, 0)`, `SAFE_DIVIDE`, `DIV0`
    /// or `CASE WHEN d = 0 …`. A site metriclint cannot compare for sure is not
    /// flagged either.
    ///
    /// ## Example
    /// ```sql
    /// SELECT campaign_id, SUM(clicks) / COUNT(*) AS ctr
    /// FROM fct_ad_events GROUP BY campaign_id
    /// ```
    ///
    /// Use instead (with `ctr: SUM(clicks) / NULLIF(SUM(impressions), 0)` agreed):
    /// ```sql
    /// SELECT campaign_id, SUM(clicks) / NULLIF(SUM(impressions), 0) AS ctr
    /// FROM fct_ad_events GROUP BY campaign_id
    /// ```
    pub struct DefinitionMismatch {
        code: "ML001",
        name: "definition-mismatch",
        severity: Error,
        summary: "A metric computed with another formula than the agreed one",
    }
}

impl DefinitionMismatch {
    pub fn finding(
        path: &str,
        site: &Site,
        metric: &Metric,
        compared: Compared<'_>,
        differences: &[Difference],
        agreement: &str,
    ) -> Finding {
        let message = format!(
            "{} is computed as {:.100}, but {} defines it as {:.100}: {}",
            shown_name(site, metric),
            compared.found,
            agreement,
            compared.expected,
            listed(differences)
        );
        let label = format!("computed as {:.100}", compared.found);
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
