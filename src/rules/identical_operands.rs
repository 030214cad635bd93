use crate::extract::identical_operands::Outcome;
use crate::finding::Finding;
use crate::rules::rule;
use crate::source::Range;

rule! {
    /// ## What it does
    /// Finds an operation on a value and itself: `qty - qty` is always 0,
    /// `qty / qty` always 1, and `end_date > end_date` or `total < total`
    /// are never true. Anywhere in a statement: a
    /// figure's formula, a CASE, a WHERE, a JOIN's ON. Parentheses aside,
    /// the two sides must be written alike, and read a column.
    ///
    /// Left alone: `x = x`, `x >= x` and `x <= x`, which are true wherever x
    /// is not NULL and are sometimes written on purpose as a NULL test; `x
    /// <> x` and `x IS DISTINCT FROM x`, true for a NaN where floats follow
    /// IEEE (BigQuery): a NaN test;
    /// operands that read no column (`1 = 1`, `2 > 1`); functions that give
    /// another value each call (`RANDOM() - RANDOM()`); and a template tag
    /// metriclint could not render, since two tags may render alike.
    ///
    /// ## Why is this bad?
    /// It is almost always a typo for another column: `QtyEntered -
    /// QtyEntered` meant `QtyEntered - QtyInvoiced`, a data-quality check
    /// `end_date > end_date` meant the claim's end date and so never fires.
    /// The figure is 0 (or the condition never holds) and nothing says so.
    ///
    /// ## Example
    /// ```sql
    /// SELECT SUM((ol.qty_entered - ol.qty_entered) * ol.price) AS pending_value FROM order_lines ol
    /// ```
    ///
    /// Use instead:
    /// ```sql
    /// SELECT SUM((ol.qty_entered - ol.qty_invoiced) * ol.price) AS pending_value FROM order_lines ol
    /// ```
    pub struct IdenticalOperands {
        code: "ML009",
        name: "identical-operands",
        severity: Error,
        summary: "An operation on a value and itself (`a / a`, `a - a`)",
    }
}

impl IdenticalOperands {
    /// `operation` is the operation as written.
    pub fn finding(path: &str, range: Range, operation: &str, outcome: Outcome) -> Finding {
        let shown = crate::canon::elide_middle(operation, 80);
        let (does, always) = match outcome {
            Outcome::Zero => ("subtracts a value from itself", "it is always 0"),
            Outcome::One => (
                "divides a value by itself",
                "it is always 1 (or NULL where the value is 0 or NULL)",
            ),
            Outcome::NeverTrue => ("compares a value with itself", "it is never true"),
        };
        Finding {
            found: Some(operation.to_string()),
            help: Some(
                "one side is probably meant to be another column or another table's".to_string(),
            ),
            label: Some("the same value on both sides".to_string()),
            ..Finding::of(
                &Self::INFO,
                path,
                range,
                format!("`{shown}` {does}: {always}"),
            )
        }
    }
}
