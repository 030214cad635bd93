use super::{shown_name, site_finding, Compared, Explanation};
use crate::extract::Site;
use crate::finding::Finding;
use crate::registry::Metric;
use crate::rules::rule;

rule! {
    /// ## What it does
    /// Notes a report that computes, by name, a metric whose agreed definition
    /// is more than one SQL expression: a dbt Semantic Layer `cumulative`
    /// metric (a running or windowed total over a time spine) or `conversion`
    /// metric (base events joined to later conversion events of the same
    /// entity within a window).
    ///
    /// ## Why is this bad?
    /// It is not bad in itself. MetricFlow computes these metrics with joins
    /// and windows that a single select-list expression cannot be compared
    /// with, so metriclint cannot say whether the report agrees. The note
    /// tells you the site was seen and left unjudged, rather than silently
    /// passing it: review such sites by hand, or query the metric through the
    /// Semantic Layer instead of recomputing it.
    ///
    /// Sites of these metrics are never reported as mismatches.
    ///
    /// ## Example
    /// With `weekly_active_advertisers` registered as a cumulative metric:
    /// ```sql
    /// SELECT COUNT(DISTINCT advertiser_id) AS weekly_active_advertisers
    /// FROM fct_ad_events
    /// WHERE event_date >= CURRENT_DATE - 7
    /// ```
    pub struct MetricNotComparable {
        code: "ML012",
        name: "metric-not-comparable",
        severity: Info,
        summary: "A metric whose agreed definition is no single SQL expression (cumulative, conversion)",
    }
}

impl MetricNotComparable {
    /// `kind` is the metric's type as registered (`cumulative`, `conversion`).
    pub fn finding(path: &str, site: &Site, metric: &Metric, kind: &str) -> Finding {
        let message = format!(
            "{} is a {kind} metric in the registry; metriclint cannot compare a single SQL expression with it, so this site is not judged",
            shown_name(site, metric)
        );
        let compared = Compared {
            found: &site.computation,
            expected: &metric.definition,
        };
        let says = Explanation::against(
            metric,
            message,
            format!("not comparable with a {kind} metric"),
        );
        site_finding(Self::INFO, path, site, metric, compared, says)
    }
}
