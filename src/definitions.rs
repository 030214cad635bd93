//! The registry's own definitions, where a dbt project wrote them (Semantic
//! Layer or legacy dbt metrics YAML, read as the registry): a definition
//! can hold the same mistake as a report. `calculation_method: sum` over a
//! column of per-row rates (`expression: engagement_rate`) adds up rates
//! every time a dashboard asks for the metric, whatever the reports do; it
//! is found at the definition (ML005), as it would be in SQL; so is a
//! derived metric whose missing parentheses subtract a ratio from its own
//! denominator (`impressions - clicks / impressions`, ML013), and a rate
//! the built-in pack knows defined inverted (ML001).

use crate::canon::Expr;
use crate::finding::Finding;
use crate::registry::{Metric, Registry};
use crate::rules::RatioAggregationMismatch;
use crate::source::{Position, Range};

/// Findings in the definitions a dbt project's YAML gives the registry.
pub fn judge_definitions(registry: &Registry) -> Vec<Finding> {
    // The pack's knowledge applies where the pack stands beside the YAML
    // (with no registry named, or named with it), not where the team named
    // its YAML alone.
    let pack = if registry.metrics().iter().any(Metric::is_the_packs) {
        WithThePack::Yes
    } else {
        WithThePack::No
    };
    registry
        .metrics()
        .iter()
        .filter(|m| m.source_is_semantic_model)
        .filter_map(|m| missing_parentheses(m).or_else(|| judge_definition(m, registry, pack)))
        .collect()
}

/// Findings in the definitions of a dbt project's metric YAML that is not
/// the registry: each is checked as above, then judged against the
/// registry's metric of its name, as a report computing it would be, and
/// found at the YAML (a Semantic Layer `ctr` of clicks over spend where the
/// team agreed on clicks over impressions).
pub fn judge_against(definitions: &Registry, registry: &Registry) -> Vec<Finding> {
    definitions
        .metrics()
        .iter()
        .filter_map(|d| judged_against(d, registry))
        .collect()
}

/// What [`judge_against`] finds in one definition.
fn judged_against(d: &Metric, registry: &Registry) -> Option<Finding> {
    missing_parentheses(d)
        .or_else(|| {
            // A metric the registry takes from a pack it extends knows no
            // project's columns: the YAML's own columns (jaffle-shop's
            // `revenue` of `product_price`) are no drift from it; an
            // inversion still is.
            let (agreed, _) = registry.lookup(&d.name)?;
            if agreed.is_the_packs() {
                return inverted_against_the_pack(d, &shown_path(&d.origin.path), where_written(d));
            }
            let mut finding = crate::check::judge_site(
                &shown_path(&d.origin.path),
                &as_site(d, &d.definition),
                registry,
                &[],
            )
            .filter(|f| f.code != crate::rules::NonCanonicalName::INFO.code)?;
            // Said of the definition, not of a report's figure.
            if finding.message.starts_with(&d.name) {
                finding.message = format!("the dbt metric {}", finding.message);
            }
            Some(finding)
        })
        .or_else(|| judge_definition(d, registry, WithThePack::No))
}

/// A definition as a figure of its file, computing `computation` (as
/// written, or with the metrics it reads inlined).
fn as_site(d: &Metric, computation: &Expr) -> crate::extract::Site {
    crate::extract::Site::standing_alone(
        &d.name,
        where_written(d),
        computation.clone(),
        d.source.clone(),
    )
}

/// The definitions of a dbt project's metric YAML that is not the
/// registry, as the figures of their files (by the path findings show),
/// for the inventory: each with the finding [`judge_against`] gives it, and
/// whether the registry's metric of its name is a pack's (which judges no
/// more than an inversion: the rest is left to the project).
pub fn registered_as_sites(definitions: &Registry, registry: &Registry) -> Vec<JudgedDefinition> {
    definitions
        .metrics()
        .iter()
        .filter_map(|d| {
            let (agreed, _) = registry.lookup(&d.name)?;
            Some(JudgedDefinition {
                path: shown_path(&d.origin.path),
                site: as_site(d, &d.agreed),
                finding: judged_against(d, registry),
                left_to_the_project: agreed.is_the_packs(),
            })
        })
        .collect()
}

/// A definition the registry has a metric for, judged (see
/// [`registered_as_sites`]).
pub struct JudgedDefinition {
    pub path: String,
    pub site: crate::extract::Site,
    pub finding: Option<Finding>,
    pub left_to_the_project: bool,
}

/// The definitions of a dbt project's metric YAML that is not the
/// registry and that the registry has no metric for, as the figures of
/// their files (by the path findings show): each is compared with the
/// reports that compute a figure of its name (ML010 across SQL, LookML and
/// YAML) and listed by the inventory. Those the registry has a metric for
/// are judged against it ([`judge_against`]).
pub fn unregistered_as_sites(
    definitions: &Registry,
    registry: &Registry,
) -> Vec<(String, Vec<crate::extract::Site>)> {
    let mut by_file: Vec<(String, Vec<crate::extract::Site>)> = Vec::new();
    for d in definitions.metrics() {
        if registry.lookup(&d.name).is_some() || d.agreed.is_uncertain() {
            continue;
        }
        let path = shown_path(&d.origin.path);
        let site = as_site(d, &d.agreed);
        match by_file.iter_mut().find(|(p, _)| *p == path) {
            Some((_, sites)) => sites.push(site),
            None => by_file.push((path, vec![site])),
        }
    }
    by_file
}

/// The YAML files, as findings show them, that hold the definitions judged
/// by [`judge_definitions`] and [`judge_against`].
pub fn files(registry: &Registry, definitions: Option<&Registry>) -> Vec<String> {
    let mut files: Vec<String> = registry
        .metrics()
        .iter()
        .chain(definitions.into_iter().flat_map(Registry::metrics))
        .filter(|m| m.source_is_semantic_model)
        .map(|m| shown_path(&m.origin.path))
        .collect();
    files.sort();
    files.dedup();
    files
}

/// Whether the built-in pack's knowledge of a rate applies: under the pack
/// (beside the YAML), not under a registry the team chose instead.
#[derive(Clone, Copy, PartialEq)]
enum WithThePack {
    Yes,
    No,
}

/// A derived metric missing its parentheses (ML013).
fn missing_parentheses(metric: &Metric) -> Option<Finding> {
    // As written: the definition with its metrics inlined may be
    // rearranged, and only the text has the parentheses.
    let written = crate::fix::parse_expression(&metric.body_text)?;
    let found = crate::rules::total_beside_its_ratio(&written)?;
    Some(crate::rules::OperatorPrecedence::in_definition(
        &shown_path(&metric.origin.path),
        where_written(metric),
        &metric.name,
        &found,
    ))
}

/// Where a metric's definition is written: its name in the YAML.
fn where_written(metric: &Metric) -> Range {
    let at = Position::new(metric.origin.line, metric.origin.column);
    Range {
        start: at,
        end: Position::new(at.line, at.column + 1),
    }
}

fn judge_definition(metric: &Metric, registry: &Registry, pack: WithThePack) -> Option<Finding> {
    let path = shown_path(&metric.origin.path);
    let range = where_written(metric);
    if pack == WithThePack::Yes {
        if let Some(finding) = inverted_against_the_pack(metric, &path, range) {
            return Some(finding);
        }
    }
    if let Some(column) = crate::judge::summed_rate(&metric.definition) {
        return Some(RatioAggregationMismatch::summed_rate_in_definition(
            &path, range, metric, &column,
        ));
    }
    crate::judge::aggregate_of_ratios(&metric.definition, registry)
        .then(|| RatioAggregationMismatch::ratios_aggregated_in_definition(&path, range, metric))
}

/// A definition of a rate the built-in pack knows by its name or a
/// synonym, which divides what the pack divides by (`ctr` as impressions
/// over clicks): the pack knows that much of any CTR, whatever the
/// project's columns, and the YAML that says otherwise is ML001 at the
/// definition. Other differences from the pack (columns, filters, scale)
/// are the project's to agree on.
fn inverted_against_the_pack(metric: &Metric, path: &str, range: Range) -> Option<Finding> {
    let pack = crate::registry::builtin::default_pack()?;
    let (packs, _) = pack.lookup(&metric.name)?;
    let bare = crate::judge::without_filters;
    if !packs.is_ratio() || !crate::drift::inverted(&bare(&metric.definition), &bare(&packs.agreed))
    {
        return None;
    }
    let site = crate::extract::Site {
        range,
        ..as_site(metric, &metric.definition)
    };
    let mut finding = crate::check::judge_site(path, &site, pack, &[])?;
    if finding.message.starts_with(&metric.name) {
        finding.message = format!("the dbt metric {}", finding.message);
    }
    Some(finding)
}

/// A registry file's path as findings show files: relative to the working
/// folder where it is under it (a Semantic Layer found by default is named
/// by its full path).
fn shown_path(path: &str) -> String {
    let relative = std::env::current_dir().ok().and_then(|cwd| {
        std::path::Path::new(path)
            .strip_prefix(cwd)
            .ok()
            .map(|p| p.to_path_buf())
    });
    match relative {
        Some(p) => p.display().to_string(),
        None => path.to_string(),
    }
}
