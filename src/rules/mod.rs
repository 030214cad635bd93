//! The rules: one file each, its doc comment being the rule's documentation.
//!
//! Each rule is declared with [`rule!`], which keeps the doc comment both as
//! rustdoc and as the text `metriclint` can print about the rule.

use crate::finding::Severity;

mod definition_mismatch;
mod non_canonical_name;
mod parse_error;

pub use definition_mismatch::DefinitionMismatch;
pub use non_canonical_name::NonCanonicalName;
pub use parse_error::ParseError;

/// A rule's identity and documentation.
#[derive(Clone, Copy, Debug)]
pub struct RuleInfo {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    /// The rule's doc comment, as Markdown.
    pub doc: &'static str,
}

/// Declares a rule: a unit struct carrying its doc comment, code, name and severity.
macro_rules! rule {
    ($(#[doc = $doc:literal])* $vis:vis struct $name:ident { code: $code:literal, name: $rule:literal, severity: $severity:ident $(,)? }) => {
        $(#[doc = $doc])*
        $vis struct $name;

        impl $name {
            pub const INFO: $crate::rules::RuleInfo = $crate::rules::RuleInfo {
                code: $code,
                name: $rule,
                severity: $crate::finding::Severity::$severity,
                doc: concat!($($doc, "\n"),*),
            };
        }
    };
}
pub(crate) use rule;

/// Every rule metriclint has, in code order.
pub const RULES: &[RuleInfo] = &[
    DefinitionMismatch::INFO,
    NonCanonicalName::INFO,
    ParseError::INFO,
];

pub fn by_code(code: &str) -> Option<&'static RuleInfo> {
    RULES
        .iter()
        .find(|r| r.code.eq_ignore_ascii_case(code) || r.name == code)
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
