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

fn judge_definition(metric: &Metric, registry: &Registry) -> Option<Finding> {
    let path = shown_path(&metric.origin.path);
    let at = Position::new(metric.origin.line, metric.origin.column);
    let range = Range {
        start: at,
        end: Position::new(at.line, at.column + 1),
    };
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
