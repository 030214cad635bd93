//! `--format json`: one object on stdout, in the shape `schemas/output.schema.json` describes.

use serde::Serialize;

use crate::finding::{Finding, Related, Summary};

#[derive(Serialize)]
struct Output<'a> {
    version: u32,
    findings: Vec<JsonFinding<'a>>,
    summary: Summary,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    code: &'a str,
    rule: &'a str,
    severity: &'a str,
    path: &'a str,
    line: u32,
    column: u32,
    end_line: u32,
    end_column: u32,
    metric: Option<&'a str>,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    found: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expected: Option<&'a str>,
    related: &'a [Related],
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<JsonFix<'a>>,
}

/// A finding's fix: what `--fix` (a safe one) or `--fix --unsafe-fixes`
/// (one that changes the figure) would do.
#[derive(Serialize)]
struct JsonFix<'a> {
    title: &'a str,
    applicability: &'static str,
}

/// The JSON document for a run, pretty-printed, newline-terminated.
pub fn render(findings: &[Finding], summary: Summary) -> String {
    let output = Output {
        version: 1,
        findings: findings
            .iter()
            .map(|f| JsonFinding {
                code: f.code,
                rule: f.rule,
                severity: f.severity.name(),
                path: &f.path,
                line: f.range.start.line,
                column: f.range.start.column,
                end_line: f.range.end.line,
                end_column: f.range.end.column,
                metric: f.metric.as_deref(),
                message: &f.message,
                found: f.found.as_deref(),
                expected: f.expected.as_deref(),
                related: &f.related,
                fix: f.fix.as_ref().map(|fix| JsonFix {
                    title: &fix.title,
                    applicability: if fix.changes_the_figure {
                        "unsafe"
                    } else {
                        "safe"
                    },
                }),
            })
            .collect(),
        summary,
    };
    let mut text = serde_json::to_string_pretty(&output).expect("findings serialize");
    text.push('\n');
    text
}
