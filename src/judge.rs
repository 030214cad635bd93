//! Judging: is a site's computation the agreed one?
//!
//! The answer is three-valued. "Unknown" (the site uses a construct the
//! canonical form does not model yet) is never reported as a mismatch: a false
//! alarm costs more trust than a missed one costs coverage.

use crate::canon::{Expr, Number};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Equivalent,
    /// How the computation differs, each item a phrase in the metric's own terms.
    Different(Vec<String>),
    /// Why the comparison cannot be decided.
    Unknown(String),
}

/// Compares what a site computes with what the registry agreed.
pub fn compare(found: &Expr, expected: &Expr) -> Verdict {
    if found == expected {
        return Verdict::Equivalent;
    }
    if found.is_uncertain() {
        return Verdict::Unknown(format!(
            "`{found}` uses a construct metriclint cannot compare yet"
        ));
    }
    if expected.is_uncertain() {
        return Verdict::Unknown(
            "the registry definition uses a construct metriclint cannot compare yet".to_string(),
        );
    }
    if !found.has_aggregate() && expected.has_aggregate() {
        // A row-level expression over already aggregated rows is a fine way to
        // compute a ratio; which rows these are needs lineage we do not have.
        return Verdict::Unknown(format!(
            "`{found}` aggregates nothing here; its inputs come from elsewhere"
        ));
    }
    Verdict::Different(differences(found, expected))
}

fn scale_words(scale: &Number) -> String {
    format!("×{scale}")
}

/// The differences between two computations, naming numerator, denominator
/// and scale separately when both are ratios.
pub fn differences(found: &Expr, expected: &Expr) -> Vec<String> {
    let (found_scale, found_num, found_den) = found.as_ratio();
    let (expected_scale, expected_num, expected_den) = expected.as_ratio();
    let is_ratio = |d: &Expr| !matches!(d, Expr::Number(n) if n.is_one());
    if !is_ratio(&found_den) && !is_ratio(&expected_den) && found_scale == expected_scale {
        return vec![format!(
            "it computes {found} where the registry has {expected}"
        )];
    }
    let mut out = Vec::new();
    if found_num != expected_num {
        out.push(format!(
            "the numerator is {found_num} where the registry has {expected_num}"
        ));
    }
    if found_den != expected_den {
        match (is_ratio(&found_den), is_ratio(&expected_den)) {
            (true, true) => out.push(format!(
                "the denominator is {found_den} where the registry has {expected_den}"
            )),
            (false, true) => out.push(format!("it does not divide by {expected_den}")),
            (true, false) => out.push(format!(
                "it divides by {found_den}, which the registry does not"
            )),
            (false, false) => {}
        }
    }
    if found_scale != expected_scale {
        out.push(format!(
            "the scale is {} where the registry has {}",
            scale_words(&found_scale),
            scale_words(&expected_scale)
        ));
    }
    if out.is_empty() {
        out.push(format!(
            "it computes {found} where the registry has {expected}"
        ));
    }
    out
}
