//! Division guards written as CASE: the same ratio as the bare division.
//!
//! `CASE WHEN d = 0 THEN NULL ELSE n / d END`, `CASE WHEN d > 0 THEN n / d
//! ELSE 0 END`, `CASE WHEN d IS NOT NULL AND d <> 0 THEN n / d END` … only
//! change what a zero or null denominator gives, so they are `n / d`. A CASE
//! whose conditions test anything else, or return anything but NULL or 0 on
//! the guarded side, is kept as it is.

use super::{CompareOp, Expr};

fn is_null_or_zero(e: &Expr) -> bool {
    matches!(e, Expr::Null) || matches!(e, Expr::Number(n) if n.is_zero())
}

fn is_zero(e: &Expr) -> bool {
    matches!(e, Expr::Number(n) if n.is_zero())
}

/// The dividing factors of a ratio.
fn denominators(ratio: &Expr) -> Vec<&Expr> {
    match ratio {
        Expr::Product(p) => p
            .factors
            .iter()
            .filter(|f| f.inverse)
            .map(|f| &f.expr)
            .collect(),
        _ => Vec::new(),
    }
}

/// `d = 0`, `d IS NULL`, `d <= 0`, or a disjunction of them, for a denominator `d`.
fn tests_zero(cond: &Expr, dens: &[&Expr]) -> bool {
    let is_den = |e: &Expr| dens.contains(&e);
    match cond {
        Expr::Or(parts) => parts.iter().all(|p| tests_zero(p, dens)),
        Expr::Compare(CompareOp::Eq, a, b) => {
            (is_zero(a) && is_den(b)) || (is_zero(b) && is_den(a))
        }
        Expr::Compare(CompareOp::LtEq, a, b) => is_den(a) && is_zero(b),
        Expr::IsNull(e) => is_den(e),
        _ => false,
    }
}

/// `d <> 0`, `d > 0`, `d IS NOT NULL`, or a conjunction of them.
fn tests_nonzero(cond: &Expr, dens: &[&Expr]) -> bool {
    let is_den = |e: &Expr| dens.contains(&e);
    match cond {
        Expr::And(parts) => {
            parts.iter().all(|p| tests_nonzero(p, dens))
                && parts.iter().any(|p| !matches!(p, Expr::Not(_)))
        }
        Expr::Compare(CompareOp::NotEq, a, b) => {
            (is_zero(a) && is_den(b)) || (is_zero(b) && is_den(a))
        }
        // `0 < d` is how `d > 0` is stored.
        Expr::Compare(CompareOp::Lt, a, b) => is_zero(a) && is_den(b),
        Expr::Not(inner) => matches!(inner.as_ref(), Expr::IsNull(e) if is_den(e)),
        _ => false,
    }
}

/// The ratio a guarded CASE computes, or `None` when it is not a pure guard.
pub fn unguarded_ratio(
    operand: Option<&Expr>,
    branches: &[(Expr, Expr)],
    otherwise: Option<&Expr>,
) -> Option<Expr> {
    if operand.is_some() || branches.len() != 1 {
        return None;
    }
    let (cond, then) = &branches[0];
    let fallback_else = otherwise.map(is_null_or_zero).unwrap_or(true);
    // CASE WHEN d = 0 THEN NULL|0 ELSE n / d END
    if is_null_or_zero(then) {
        if let Some(ratio) = otherwise {
            let dens = denominators(ratio);
            if !dens.is_empty() && tests_zero(cond, &dens) {
                return Some(ratio.clone());
            }
        }
    }
    // CASE WHEN d <> 0 THEN n / d [ELSE NULL|0] END
    if fallback_else {
        let dens = denominators(then);
        if !dens.is_empty() && tests_nonzero(cond, &dens) {
            return Some(then.clone());
        }
    }
    None
}
