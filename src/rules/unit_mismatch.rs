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
    /// A LookML measure shown with a percent format (`value_format_name:
    /// percent_2`, `value_format: "0.0%"`) is a fraction that Looker
    /// multiplies by 100 to show: computed `* 100` as well, it is found at
    /// its format whatever the registry says. An escaped `\%` or a quoted
    /// `"%"` in a `value_format` is the literal sign and multiplies
    /// nothing.
    ///
    /// With the built-in pack alone (no registry of your own), the unit is
    /// the repository's: percent where the pack has a fraction (or the
    /// reverse) that no report contradicts, another scale that at least two
    /// reports share and none contradicts, or a scale the model's column
    /// description states, is no finding. One report in percent among
    /// fractions still is, and so is any scale against a registry of your
    /// own (`init` writes the repository's unit into the registry it
    /// proposes).
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
    /// A LookML measure computed in percent (`* 100`) and shown with a
    /// percent format, which multiplies by 100 again: found at the format,
    /// whatever the registry (Looker's percent formats expect a fraction).
    pub fn shown_in_percent_twice(
        path: &str,
        range: crate::source::Range,
        measure: &str,
        format: &str,
    ) -> Finding {
        Finding {
            metric: Some(measure.to_string()),
            found: Some(format!("percent (×100), shown with {format}")),
            help: Some(format!(
                "take the `* 100` out of its `sql:` ({format} multiplies by 100 itself), or show it with a decimal format"
            )),
            label: Some(SHOWN_IN_PERCENT_TWICE.to_string()),
            ..Finding::of(
                &Self::INFO,
                path,
                range,
                format!(
                    "{measure} is computed in percent (×100) and shown with {format}, which multiplies by 100 again: a rate of 1.8% shows as 180%"
                ),
            )
        }
    }

    /// Under the built-in pack alone, the unit of a rate is the repository's
    /// to ground, as its columns are: where at least two reports compute a
    /// metric at one other scale and none at the pack's (every CTR of a DV360
    /// project in percent, as its UI shows it; a mart's CTR in percent, as
    /// its staging models' are), that scale is the
    /// repository's unit, and its ML004 findings are dropped (one report
    /// suffices for percent against fraction, see [`witnesses_needed`]).
    /// One report in percent among fractions is still found.
    pub fn in_the_repositorys_unit<'s>(
        findings: Vec<Finding>,
        sites: impl IntoIterator<Item = &'s crate::drift::MetricSite>,
        registry: &crate::registry::Registry,
    ) -> Vec<Finding> {
        let units = Self::repositorys_units(&findings, sites, &Default::default(), registry);
        Self::without_the_repositorys_units(findings, &units)
    }

    /// The findings, less those at a scale `units` holds as the
    /// repository's (see [`UnitMismatch::repositorys_units`]).
    pub fn without_the_repositorys_units(
        findings: Vec<Finding>,
        units: &RepositoryUnits,
    ) -> Vec<Finding> {
        findings
            .into_iter()
            .filter(|f| !scale_of(f).is_some_and(|(metric, _)| units.contains_key(&metric)))
            .collect()
    }

    /// The pack's metrics the repository keeps at a scale of its own, by
    /// name, each with its scale in words (see
    /// [`UnitMismatch::in_the_repositorys_unit`]); empty under a registry
    /// of your own.
    /// `agreed_per_row`: the metrics a row-level column computes as
    /// agreed, at the pack's scale.
    pub fn repositorys_units<'s>(
        findings: &[Finding],
        sites: impl IntoIterator<Item = &'s crate::drift::MetricSite>,
        agreed_per_row: &std::collections::BTreeSet<String>,
        registry: &crate::registry::Registry,
    ) -> RepositoryUnits {
        use std::collections::{BTreeMap, BTreeSet};
        if !registry.is_pack_only() {
            return RepositoryUnits::new();
        }
        // Per metric: the scales its ML004 findings report, each with its reports.
        let mut scales: BTreeMap<String, BTreeMap<String, BTreeSet<&str>>> = BTreeMap::new();
        for finding in findings {
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
        let scale = |e: &crate::canon::Expr| crate::judge::split_scale(e).0.to_string();
        // A site left to the reports (over columns the pack does not know)
        // at the pack's scale contradicts another scale as much as one the
        // pack judged. One that divides nothing (a TikTok `avg(ctr)` passed
        // through at its source's grain) shows no scale: it contradicts none.
        let left_at_the_packs_scale = |s: &crate::drift::MetricSite| {
            s.left_to_reports
                && crate::judge::is_ratio(s.read_form())
                && s.registered
                    .as_ref()
                    .and_then(|(m, _)| registry.get(m))
                    .is_some_and(|m| scale(&m.agreed) == scale(s.read_form()))
        };
        let at_the_packs_scale: BTreeSet<&str> = sites
            .iter()
            .filter(|s| agrees(s) || left_at_the_packs_scale(s))
            .filter_map(|s| s.registered.as_ref().map(|(m, _)| &**m))
            .chain(agreed_per_row.iter().map(String::as_str))
            .collect();
        // Reports that compute a metric at another scale than the pack's
        // without a finding: sites left to the reports (a staging model's
        // ratio over columns the pack does not know), all at one scale.
        let unjudged_at_another_scale = |metric: &str| -> BTreeSet<&str> {
            let Some(packs) = registry.get(metric) else {
                return BTreeSet::new();
            };
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
        scales
            .into_iter()
            .filter(|(metric, by_scale)| {
                let witnesses = |reports: &BTreeSet<&str>| {
                    reports.union(&unjudged_at_another_scale(metric)).count()
                };
                registry
                    .get(metric)
                    .is_some_and(|m| registry.judges_as_pack(m))
                    && by_scale.len() == 1
                    && by_scale
                        .iter()
                        .all(|(scale, reports)| witnesses(reports) >= witnesses_needed(scale))
                    && !at_the_packs_scale.contains(metric.as_str())
            })
            .filter_map(|(metric, by_scale)| {
                let scale = by_scale.into_keys().next()?;
                Some((metric, scale))
            })
            .collect()
    }
}

/// Metrics of the pack at the repository's own scale: name → how the scale
/// differs from the pack's, in words ("it is in percent (×100) where the
/// built-in pack reports a fraction").
pub type RepositoryUnits = std::collections::BTreeMap<String, String>;

/// The label of a measure computed and shown in percent (see
/// [`UnitMismatch::shown_in_percent_twice`]).
const SHOWN_IN_PERCENT_TWICE: &str = "multiplies by 100 again";

/// An ML004 finding's metric and the scale difference its message states:
/// a scale against an agreement, not a measure shown in percent twice,
/// which is no unit a repository could keep.
fn scale_of(f: &Finding) -> Option<(String, String)> {
    (f.code == UnitMismatch::INFO.code && f.label.as_deref() != Some(SHOWN_IN_PERCENT_TWICE))
        .then(|| {
            f.metric
                .clone()
                .zip(f.message.split_once(": ").map(|(_, s)| s))
        })
        .flatten()
        .map(|(metric, scale)| (metric, scale.to_string()))
}

/// Whether a scale difference in words is percent where the pack has a
/// fraction.
pub fn is_percent_for_a_fraction(scale: &str) -> bool {
    scale.starts_with("it is in percent (×100) where") && scale.ends_with("reports a fraction")
}

/// How many reports must share a scale for it to be the repository's.
/// Percent against fraction is how a rate is shown, both honest: one report
/// that no other contradicts sets it (a lone LinkedIn mart's CTR and CVR
/// in percent). Any other factor (a CTR per mille, a CPM without its
/// `* 1000`) reads as a mistake until a second report shares it.
fn witnesses_needed(scale: &str) -> usize {
    let fraction_for_a_percent =
        scale.starts_with("it is in a fraction where") && scale.ends_with("reports percent (×100)");
    if is_percent_for_a_fraction(scale) || fraction_for_a_percent {
        1
    } else {
        2
    }
}
