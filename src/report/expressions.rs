//! `metriclint explain --expr A [--expr B]`: the canonical form of SQL
//! expressions, and whether two are the same computation (and if not, how
//! they differ), as `check` would judge them.

use crate::canon::lower::{BaseColumns, Lowerer};
use crate::dialect::Dialect;
use crate::judge::{explain, Counterpart};
use crate::registry::Registry;

/// The text `explain --expr` prints for `texts` (one or two expressions),
/// or what is wrong with one of them.
pub fn explain_expressions(
    texts: &[String],
    dialect: Dialect,
    registry: &Registry,
) -> Result<String, String> {
    let parser_dialect = dialect.parser_dialect();
    let mut forms = Vec::new();
    let mut out = String::new();
    for (i, text) in texts.iter().enumerate() {
        let parsed = sqlparser::parser::Parser::new(parser_dialect.as_ref())
            .try_with_sql(text)
            .and_then(|mut p| p.parse_expr())
            .map_err(|e| format!("cannot parse expression {} as {dialect} SQL: {e}", i + 1))?;
        let form = Lowerer::for_registry(&BaseColumns).lower(&parsed);
        out.push_str(&format!(
            "{}. {}\n   canonical: {form}\n",
            i + 1,
            text.trim()
        ));
        forms.push(form);
    }
    if let [first, second] = forms.as_slice() {
        let alike = |e: &crate::canon::Expr| crate::drift::with_counts_alike_and(e, false);
        if first == second || alike(first) == alike(second) {
            out.push_str(&format!("\nthe same computation: both reduce to {first}\n"));
        } else {
            let counterpart = Counterpart {
                subject: "the first".to_string(),
                plural: false,
            };
            let differences = explain(second, first, None, registry, &counterpart);
            out.push_str("\ndifferent computations");
            if differences.is_empty() {
                out.push_str(&format!(": {second} against {first}\n"));
            } else {
                let texts: Vec<String> = differences
                    .iter()
                    .map(|d| match d.text.strip_prefix("it ") {
                        Some(rest) => format!("the second {rest}"),
                        None => d.text.clone(),
                    })
                    .collect();
                out.push_str(&format!(": {}\n", texts.join("; ")));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn explained(texts: &[&str]) -> String {
        let registry = crate::registry::load_builtin("programmatic").unwrap();
        let texts: Vec<String> = texts.iter().map(|t| t.to_string()).collect();
        explain_expressions(&texts, Dialect::BigQuery, &registry).unwrap()
    }

    #[test]
    fn equivalent_spellings_reduce_to_one_form() {
        let text = explained(&["SUM(a)/NULLIF(SUM(b),0)", "SAFE_DIVIDE(SUM(a), SUM(b))"]);
        assert!(
            text.contains("the same computation: both reduce to sum(a) / sum(b)"),
            "{text}"
        );
    }

    #[test]
    fn different_computations_say_how() {
        let text = explained(&["SUM(clicks) / SUM(impressions)", "SUM(clicks) / COUNT(*)"]);
        assert!(text.contains("different computations"), "{text}");
        assert!(text.contains("count(*)"), "{text}");
        let one = explained(&["AVG(clicks / impressions)"]);
        assert!(
            one.contains("canonical: avg(clicks / impressions)"),
            "{one}"
        );
    }
}
