use super::{site_finding, Compared, Explanation};
use crate::extract::Site;
use crate::finding::Finding;
use crate::registry::Metric;
use crate::rules::rule;

rule! {
    /// ## What it does
    /// Notes a report that computes a registered metric correctly, but under a
    /// synonym instead of the metric's canonical name.
    ///
    /// ## Why is this bad?
    /// The computation is right, so the number is right; but a dashboard that
    /// shows `click_through_rate` next to another that shows `ctr` makes people
    /// wonder whether they differ, and a search for `ctr` misses this report.
    /// One name per metric keeps the catalogue searchable.
    ///
    /// When the computation also differs, the site is reported as a mismatch
    /// (ML001–ML005) instead, and this note is not repeated.
    ///
    /// ## Example
    /// ```sql
    /// SELECT SUM(clicks) / NULLIF(SUM(impressions), 0) AS click_through_rate
    /// FROM fct_ad_events
    /// ```
    ///
    /// Use instead:
    /// ```sql
    /// SELECT SUM(clicks) / NULLIF(SUM(impressions), 0) AS ctr
    /// FROM fct_ad_events
    /// ```
    pub struct NonCanonicalName {
        code: "ML011",
        name: "non-canonical-name",
        severity: Info,
    }
}

impl NonCanonicalName {
    pub fn finding(path: &str, site: &Site, metric: &Metric) -> Finding {
        let message = format!(
            "{} computes the registered metric {} under another name",
            site.output_name, metric.name
        );
        let compared = Compared {
            found: &site.computation,
            expected: &metric.definition,
        };
        let label = format!("name it {}", metric.name);
        let help = format!("name the column `{}`", metric.name);
        let says = Explanation {
            message,
            label,
            help,
        };
        site_finding(Self::INFO, path, site, metric, compared, says)
    }
}
