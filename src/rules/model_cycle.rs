use crate::finding::Finding;
use crate::rules::rule;
use crate::source::Range;

rule! {
    /// ## What it does
    /// Reports a model that `ref()`s, directly or through others, a model
    /// that refs it back: a cycle dbt itself refuses to build.
    ///
    /// ## Why is this bad?
    /// The models in the cycle cannot be checked against what their upstream
    /// models compute (lineage across `ref()` needs an order); they are
    /// checked as if their upstream models were plain tables.
    ///
    /// ## Example
    /// ```sql
    /// -- models/a.sql
    /// select * from {{ ref('b') }}
    /// -- models/b.sql
    /// select * from {{ ref('a') }}
    /// ```
    ///
    /// Use instead: break the cycle; one of the models must read a source.
    pub struct ModelCycle {
        code: "ML903",
        name: "model-cycle",
        severity: Warning,
        summary: "A dbt model that refs itself, directly or through others",
    }
}

impl ModelCycle {
    pub fn finding(path: &str, model: &str, refs: &[&str]) -> Finding {
        let info = Self::INFO;
        Finding {
            help: Some(
                "break the cycle; lineage across ref() is not followed for these models"
                    .to_string(),
            ),
            label: Some("cycle".to_string()),
            ..Finding::of(
                &info,
                path,
                Range::file_start(),
                format!(
                    "model `{model}` is part of a ref() cycle (it refs {})",
                    refs.join(", ")
                ),
            )
        }
    }
}
