use super::{shown_name, site_finding, Compared, Explanation};
use crate::extract::Site;
use crate::finding::Finding;
use crate::registry::Metric;
use crate::rules::rule;

rule! {
    /// ## What it does
    /// Flags a site whose formula and filter match the registered metric but
    /// which computes it from another relation than the registered `source`.
    /// Relations are compared by the last part of their name, case-insensitively,
    /// through CTEs and subqueries, so `analytics.fct_ad_events`,
    /// `` `proj.analytics.fct_ad_events` `` and a dbt-rendered name all match
    /// `fct_ad_events`.
    ///
    /// A metric of a dbt Semantic Layer has its semantic model's `model` as
    /// its source, which says where MetricFlow computes it, not what every
    /// model must read: a report that reads a model of the project is no
    /// finding; one that reads only tables the project does not build is.
    ///
    /// ## Why is this bad?
    /// The same formula over another table is another number: a raw event log
    /// still holds invalid traffic and duplicates that the agreed fact table has
    /// removed; a staging copy lags a day behind.
    ///
    /// ## Example
    /// ```sql
    /// SELECT SUM(clicks) / SUM(impressions) AS ctr FROM raw_ad_events
    /// ```
    ///
    /// Use instead (with `source: fct_ad_events` agreed):
    /// ```sql
    /// SELECT SUM(clicks) / SUM(impressions) AS ctr FROM analytics.fct_ad_events
    /// ```
    pub struct SourceMismatch {
        code: "ML003",
        name: "source-mismatch",
        severity: Error,
        summary: "A metric computed from another table than the agreed source",
    }
}

impl SourceMismatch {
    pub fn finding(path: &str, site: &Site, metric: &Metric, compared: Compared<'_>) -> Finding {
        // The relations the report reads itself; their own lineage, which
        // does not reach the agreed source either, only as a count.
        let reads = if site.reads.is_empty() {
            &site.sources
        } else {
            &site.reads
        };
        let upstream = site.sources.iter().filter(|s| !reads.contains(s)).count();
        let of = if reads.len() == 1 { "it" } else { "them" };
        let through = match upstream {
            0 => String::new(),
            1 => format!(" (and 1 relation upstream of {of})"),
            n => format!(" (and {n} relations upstream of {of})"),
        };
        let message = format!(
            "{} is computed from {}{through}, but the registry says it comes from {}",
            shown_name(site, metric),
            reads.join(", "),
            metric.source.join(" or ")
        );
        let label = format!("reads {}", reads.join(", "));
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
