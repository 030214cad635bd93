//! The registry's own definitions, where a dbt project wrote them (Semantic
//! Layer or legacy dbt metrics YAML, read as the registry): a definition
//! can hold the same mistake as a report. `calculation_method: sum` over a
//! column of per-row rates (`expression: engagement_rate`) adds up rates
//! every time a dashboard asks for the metric, whatever the reports do; it
//! is found at the definition (ML005), as it would be in SQL; so is a
//! derived metric whose missing parentheses subtract a ratio from its own
//! denominator (`impressions - clicks / impressions`, ML013).

use crate::finding::Finding;
use crate::registry::{Metric, Registry};
use crate::rules::RatioAggregationMismatch;
use crate::source::{Position, Range};

/// Findings in the definitions a dbt project's YAML gives the registry.
pub fn judge_definitions(registry: &Registry) -> Vec<Finding> {
    registry
        .metrics()
        .iter()
        .filter(|m| m.source_is_semantic_model)
        .filter_map(|m| judge_definition(m, registry))
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
        .filter_map(|d| {
            judge_definition(d, registry).or_else(|| {
                let site = crate::extract::Site::standing_alone(
                    &d.name,
                    where_written(d),
                    d.definition.clone(),
                    d.source.clone(),
                );
                let mut finding =
                    crate::check::judge_site(&shown_path(&d.origin.path), &site, registry, &[])
                        .filter(|f| f.code != crate::rules::NonCanonicalName::INFO.code)?;
                // Said of the definition, not of a report's figure.
                if finding.message.starts_with(&d.name) {
                    finding.message = format!("the dbt metric {}", finding.message);
                }
                Some(finding)
            })
        })
        .collect()
}

/// Where a metric's definition is written: its name in the YAML.
fn where_written(metric: &Metric) -> Range {
    let at = Position::new(metric.origin.line, metric.origin.column);
    Range {
        start: at,
        end: Position::new(at.line, at.column + 1),
    }
}

fn judge_definition(metric: &Metric, registry: &Registry) -> Option<Finding> {
    let path = shown_path(&metric.origin.path);
    let range = where_written(metric);
    if let Some(found) = crate::rules::total_beside_its_ratio(&metric.definition) {
        return Some(crate::rules::OperatorPrecedence::in_definition(
            &path,
            range,
            &metric.name,
            &found,
        ));
    }
    if let Some(column) = crate::judge::summed_rate(&metric.definition) {
        return Some(RatioAggregationMismatch::summed_rate_in_definition(
            &path, range, metric, &column,
        ));
    }
    crate::judge::aggregate_of_ratios(&metric.definition, registry)
        .then(|| RatioAggregationMismatch::ratios_aggregated_in_definition(&path, range, metric))
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
