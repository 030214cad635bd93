//! The rules: one file each, its doc comment being the rule's documentation.
//!
//! Each rule is declared with `rule!`, which keeps the doc comment both as
//! rustdoc and as the text `metriclint` can print about the rule.

use crate::canon::Expr;
use crate::extract::Site;
use crate::finding::{Finding, Related, Severity};
use crate::registry::Metric;

mod currency_mismatch;
mod definition_mismatch;
mod filter_mismatch;
mod identical_operands;
mod inconsistent_computation;
mod integer_division;
mod metric_not_comparable;
mod model_cycle;
mod non_canonical_name;
mod operator_precedence;
mod parse_error;
mod ratio_aggregation_mismatch;
mod rounding_before_aggregation;
mod source_mismatch;
mod template_error;
mod unit_mismatch;
mod unknown_macro;
mod unused_suppression;

pub use currency_mismatch::CurrencyMismatch;
pub use definition_mismatch::DefinitionMismatch;
pub use filter_mismatch::FilterMismatch;
pub use identical_operands::IdenticalOperands;
pub use inconsistent_computation::{reports_phrase, InconsistentComputation, OtherVariant};
pub use integer_division::IntegerDivision;
pub use metric_not_comparable::MetricNotComparable;
pub use model_cycle::ModelCycle;
pub use non_canonical_name::NonCanonicalName;
pub use operator_precedence::{total_beside_its_ratio, OperatorPrecedence, TotalBesideItsRatio};
pub use parse_error::ParseError;
pub use ratio_aggregation_mismatch::RatioAggregationMismatch;
pub use rounding_before_aggregation::RoundingBeforeAggregation;
pub use source_mismatch::SourceMismatch;
pub use template_error::TemplateError;
pub use unit_mismatch::{is_percent_for_a_fraction, RepositoryUnits, UnitMismatch};
pub use unknown_macro::UnknownMacro;
pub use unused_suppression::UnusedSuppression;

/// A rule's identity and documentation.
#[derive(Clone, Copy, Debug)]
pub struct RuleInfo {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    /// What the rule finds, in one line (`rule --all`, SARIF's short
    /// description).
    pub summary: &'static str,
    /// The rule's doc comment, as Markdown.
    pub doc: &'static str,
}

/// Declares a rule: a unit struct carrying its doc comment, code, name and severity.
macro_rules! rule {
    ($(#[doc = $doc:literal])* $vis:vis struct $name:ident { code: $code:literal, name: $rule:literal, severity: $severity:ident, summary: $summary:literal $(,)? }) => {
        $(#[doc = $doc])*
        $vis struct $name;

        impl $name {
            pub const INFO: $crate::rules::RuleInfo = $crate::rules::RuleInfo {
                code: $code,
                name: $rule,
                severity: $crate::finding::Severity::$severity,
                summary: $summary,
                doc: concat!($($doc, "\n"),*),
            };
        }
    };
}
pub(crate) use rule;

/// Every rule metriclint has, in code order.
pub const RULES: &[RuleInfo] = &[
    DefinitionMismatch::INFO,
    FilterMismatch::INFO,
    SourceMismatch::INFO,
    UnitMismatch::INFO,
    RatioAggregationMismatch::INFO,
    IntegerDivision::INFO,
    RoundingBeforeAggregation::INFO,
    CurrencyMismatch::INFO,
    IdenticalOperands::INFO,
    InconsistentComputation::INFO,
    NonCanonicalName::INFO,
    MetricNotComparable::INFO,
    OperatorPrecedence::INFO,
    UnusedSuppression::INFO,
    ParseError::INFO,
    TemplateError::INFO,
    UnknownMacro::INFO,
    ModelCycle::INFO,
];

impl RuleInfo {
    /// The first paragraph of the rule's doc: what it does, in full.
    pub fn description(&self) -> String {
        self.doc
            .lines()
            .map(str::trim)
            .skip_while(|l| l.starts_with('#') || l.is_empty())
            .take_while(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

pub fn by_code(code: &str) -> Option<&'static RuleInfo> {
    RULES
        .iter()
        .find(|r| r.code.eq_ignore_ascii_case(code) || r.name == code)
}

/// How a site names its metric in messages: `ctr`, or
/// `click_through_rate (registered as ctr)`.
fn shown_name(site: &Site, metric: &Metric) -> String {
    if site.output_name.eq_ignore_ascii_case(&metric.name) {
        metric.name.clone()
    } else {
        format!("{} (registered as {})", site.output_name, metric.name)
    }
}

/// Where the agreement lives and what it says, for the help text.
fn agreement_help(metric: &Metric) -> String {
    let mut help = format!("agreed at {}: `{}`", metric.origin, metric.body_text.trim());
    if !metric.filter.is_empty() {
        let filter: Vec<String> = metric.filter.iter().map(ToString::to_string).collect();
        help.push_str(&format!(", over rows where {}", filter.join(" and ")));
    }
    if !metric.source.is_empty() {
        help.push_str(&format!(", from {}", metric.source.join(" or ")));
    }
    if let Some(description) = &metric.description {
        help.push_str(&format!("\n{}: {}", metric.name, description.trim()));
    }
    help
}

/// What a finding about a site compared, for its `found`/`expected`.
pub struct Compared<'a> {
    pub found: &'a Expr,
    pub expected: &'a Expr,
}

/// What a finding says: the message, the note under the expression, the help.
struct Explanation {
    message: String,
    label: String,
    help: String,
}

impl Explanation {
    /// A finding against a registered metric: the help says where it is agreed.
    fn against(metric: &Metric, message: String, label: impl Into<String>) -> Explanation {
        Explanation {
            message,
            label: label.into(),
            help: agreement_help(metric),
        }
    }
}

/// The differences, on one line.
fn listed(differences: &[crate::judge::Difference]) -> String {
    differences
        .iter()
        .map(|d| d.text.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

/// A finding about one site against one registered metric.
fn site_finding(
    info: RuleInfo,
    path: &str,
    site: &Site,
    metric: &Metric,
    compared: Compared<'_>,
    says: Explanation,
) -> Finding {
    let Explanation {
        message,
        label,
        help,
    } = says;
    Finding {
        code: info.code,
        rule: info.name,
        severity: info.severity,
        path: path.to_string(),
        range: site.range,
        metric: Some(metric.name.clone()),
        message,
        found: Some(compared.found.to_string()),
        expected: Some(compared.expected.to_string()),
        related: vec![Related {
            path: metric.origin.path.clone(),
            line: metric.origin.line,
            column: metric.origin.column,
            message: "agreed definition".to_string(),
        }],
        help: Some(help),
        label: Some(label),
        fix: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_is_documented_and_unique() {
        for (i, rule) in RULES.iter().enumerate() {
            assert!(
                rule.doc.contains("## What it does"),
                "{} lacks docs",
                rule.code
            );
            assert!(
                rule.doc.contains("## Example"),
                "{} lacks an example",
                rule.code
            );
            assert!(RULES[i + 1..]
                .iter()
                .all(|r| r.code != rule.code && r.name != rule.name));
        }
        assert_eq!(by_code("ml001").unwrap().name, "definition-mismatch");
        assert_eq!(by_code("parse-error").unwrap().code, "ML900");
    }
}
