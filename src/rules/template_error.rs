use crate::finding::Finding;
use crate::rules::rule;
use crate::source::{Position, Range};

rule! {
    /// ## What it does
    /// Reports a Jinja template (dbt-style SQL) that cannot be rendered: a
    /// syntax error in a tag, or a template that does too much work (an
    /// endless loop), which rendering stops instead of hanging.
    ///
    /// ## Why is this bad?
    /// Metrics computed in a file that cannot be rendered are not checked.
    /// The other files still are. Macros that are defined nowhere are not an
    /// error: they render as placeholders that are never judged.
    ///
    /// ## Example
    /// ```sql
    /// select {% if %} sum(clicks) as clicks from {{ ref('fct_ad_events') }}
    /// ```
    ///
    /// Use instead:
    /// ```sql
    /// select sum(clicks) as clicks from {{ ref('fct_ad_events') }}
    /// ```
    pub struct TemplateError {
        code: "ML901",
        name: "template-error",
        severity: Warning,
        summary: "A Jinja template that cannot be rendered",
    }
}

impl TemplateError {
    pub fn finding(path: &str, line: u32, message: String) -> Finding {
        let info = Self::INFO;
        Finding {
            help: Some("fix the template; the other files were checked".to_string()),
            label: Some("here".to_string()),
            ..Finding::of(
                &info,
                path,
                Range {
                    start: Position::new(line.max(1), 1),
                    end: Position::new(line.max(1), 2),
                },
                message,
            )
        }
    }
}
