use super::{listed, shown_name, site_finding, Compared, Explanation};
use crate::extract::Site;
use crate::finding::Finding;
use crate::judge::Difference;
use crate::registry::Metric;
use crate::rules::rule;

rule! {
    /// ## What it does
    /// Flags a site that computes the registered formula at another scale:
    /// percent where the registry reports a fraction (`* 100`), per mille
    /// (`* 1000`), currency micros (`/ 1e6`), or a missing factor such as the
    /// `* 1000` of a CPM. Constant factors anywhere at the top of the formula
    /// count (`100 * a / b`, `a / b * 100`, `a * 100.0 / b`).
    ///
    /// ## Why is this bad?
    /// A dashboard that shows CTR 1.8 next to another that shows 0.018 invites
    /// the reader to pick the wrong one; a sum of percent and fraction values is
    /// silently wrong by a factor of 100.
    ///
    /// ## Example
    /// ```sql
    /// SELECT 100 * SUM(clicks) / SUM(impressions) AS ctr FROM fct_ad_events
    /// ```
    ///
    /// Use instead (with `unit: fraction` agreed), and format as percent in the
    /// dashboard:
    /// ```sql
    /// SELECT SUM(clicks) / SUM(impressions) AS ctr FROM fct_ad_events
    /// ```
    pub struct UnitMismatch {
        code: "ML004",
        name: "unit-mismatch",
        severity: Error,
    }
}

impl UnitMismatch {
    pub fn finding(
        path: &str,
        site: &Site,
        metric: &Metric,
        compared: Compared<'_>,
        differences: &[Difference],
    ) -> Finding {
        let message = format!(
            "{} has the agreed formula at another scale: {}",
            shown_name(site, metric),
            listed(differences)
        );
        let label = "another scale".to_string();
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
