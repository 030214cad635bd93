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
    /// A total that the report scales by the same constant as all its other
    /// totals (a 1% sample's sums and counts, each `* 100`) is on the
    /// report's basis, not at another scale, and is no finding; one total
    /// scaled alone is.
    ///
    /// With the built-in pack alone (no registry of your own), the unit is
    /// the repository's: a scale that at least two reports share and no
    /// report contradicts (every CTR in percent), or that the model's column
    /// description states, is no finding.
    ///
    /// ## Why is this bad?
    /// A dashboard that shows CTR 1.8 next to another that shows 0.018 invites
    /// the reader to pick the wrong one; a sum of percent and fraction values is
    /// silently wrong by a factor of 100.
    ///
    /// ## Fix
    /// `check --fix` takes out a `* 100` or `* 1000` written first or last
    /// at the top of the expression, or multiplies a figure that lacks one,
    /// where the factor is a percent's or a per-mille's.
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
        summary: "A metric at another scale than agreed (percent for a fraction, ×1 for ×1000)",
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

impl UnitMismatch {
    /// Under the built-in pack alone, the unit of a rate is the repository's
    /// to ground, as its columns are: where at least two reports compute a
    /// metric at one other scale and none at the pack's (every CTR of a DV360
    /// project in percent, as its UI shows it; a mart's CTR in percent, as
    /// its staging models' are), that scale is the
    /// repository's unit, and its ML004 findings are dropped. One report in
    /// percent among fractions is still found.
    pub fn in_the_repositorys_unit<'s>(
        findings: Vec<Finding>,
        sites: impl IntoIterator<Item = &'s crate::drift::MetricSite>,
        registry: &crate::registry::Registry,
    ) -> Vec<Finding> {
        use std::collections::{BTreeMap, BTreeSet};
        if !registry.is_pack_only() {
            return findings;
        }
        let scale_of = |f: &Finding| {
            (f.code == Self::INFO.code)
                .then(|| {
                    f.metric
                        .clone()
                        .zip(f.message.split_once(": ").map(|(_, s)| s))
                })
                .flatten()
                .map(|(metric, scale)| (metric, scale.to_string()))
        };
        // Per metric: the scales its ML004 findings report, each with its reports.
        let mut scales: BTreeMap<String, BTreeMap<String, BTreeSet<&str>>> = BTreeMap::new();
        for finding in &findings {
            if let Some((metric, scale)) = scale_of(finding) {
                scales
                    .entry(metric)
                    .or_default()
                    .entry(scale)
                    .or_default()
                    .insert(&finding.path);
            }
        }
        let agrees = |s: &crate::drift::MetricSite| {
            s.verdict
                .as_ref()
                .is_none_or(|v| v.0 == crate::rules::NonCanonicalName::INFO.code)
                && !s.left_to_reports
        };
        let sites: Vec<&crate::drift::MetricSite> = sites.into_iter().collect();
        let at_the_packs_scale: BTreeSet<&str> = sites
            .iter()
            .filter(|s| agrees(s))
            .filter_map(|s| s.registered.as_ref().map(|(m, _)| &**m))
            .collect();
        // Reports that compute a metric at another scale than the pack's
        // without a finding: sites left to the reports (a staging model's
        // ratio over columns the pack does not know), all at one scale.
        let unjudged_at_another_scale = |metric: &str| -> BTreeSet<&str> {
            let Some(packs) = registry.get(metric) else {
                return BTreeSet::new();
            };
            let scale = |e: &crate::canon::Expr| crate::judge::split_scale(e).0.to_string();
            let packs_scale = scale(&packs.agreed);
            let left: Vec<(&str, String)> = sites
                .iter()
                .filter(|s| {
                    s.left_to_reports && s.registered.as_ref().is_some_and(|(m, _)| **m == *metric)
                })
                .map(|s| (&*s.path, scale(s.read_form())))
                .filter(|(_, at)| *at != packs_scale)
                .collect();
            let one_scale = left.windows(2).all(|pair| pair[0].1 == pair[1].1);
            if one_scale {
                left.into_iter().map(|(path, _)| path).collect()
            } else {
                BTreeSet::new()
            }
        };
        let repositorys: BTreeSet<String> = scales
            .into_iter()
            .filter(|(metric, by_scale)| {
                let witnesses = |reports: &BTreeSet<&str>| {
                    reports.union(&unjudged_at_another_scale(metric)).count()
                };
                registry
                    .get(metric)
                    .is_some_and(|m| registry.judges_as_pack(m))
                    && by_scale.len() == 1
                    && by_scale.values().all(|reports| witnesses(reports) >= 2)
                    && !at_the_packs_scale.contains(metric.as_str())
            })
            .map(|(metric, _)| metric)
            .collect();
        findings
            .into_iter()
            .filter(|f| !scale_of(f).is_some_and(|(metric, _)| repositorys.contains(&metric)))
            .collect()
    }
}
