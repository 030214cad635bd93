//! `--format human`: each finding as a miette report with the user's SQL
//! underlined, then one summary line.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceCode,
};

use crate::finding::{Finding, Severity, Summary};
use crate::source::LineIndex;

/// A finding with the text of its file, as miette wants it.
struct Report<'a> {
    finding: &'a Finding,
    source: Option<NamedSource<String>>,
    span: Option<(usize, usize)>,
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.finding.message)
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.finding.message)
    }
}

impl std::error::Error for Report<'_> {}

impl Diagnostic for Report<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(format!(
            "{} {}",
            self.finding.code, self.finding.rule
        )))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.finding.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Info => miette::Severity::Advice,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.finding
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let (offset, len) = self.span?;
        let label = self
            .finding
            .label
            .clone()
            .unwrap_or_else(|| "here".to_string());
        Some(Box::new(std::iter::once(LabeledSpan::new(
            Some(label),
            offset,
            len,
        ))))
    }
}

/// Options for human output.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    pub color: bool,
    pub width: usize,
}

/// Renders every finding, then the summary line.
pub fn render(findings: &[Finding], summary: Summary, elapsed: Duration, style: Style) -> String {
    let mut out = render_findings(findings, style);
    out.push_str(&summary_line(summary, elapsed));
    out.push('\n');
    out
}

/// How many findings each rule gave, as a small table.
pub fn statistics(findings: &[Finding]) -> String {
    let mut out = String::new();
    for rule in crate::rules::RULES {
        let n = findings.iter().filter(|f| f.code == rule.code).count();
        if n > 0 {
            out.push_str(&format!("{n:>6}  {}  {}\n", rule.code, rule.name));
        }
    }
    out
}

/// Renders every finding, reading each file with findings once more for its snippet.
pub fn render_findings(findings: &[Finding], style: Style) -> String {
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(style.width)
        .with_links(false);
    let mut texts: HashMap<&str, Option<String>> = HashMap::new();
    let mut out = String::new();
    for finding in findings {
        let text = texts
            .entry(&finding.path)
            .or_insert_with(|| std::fs::read_to_string(&finding.path).ok());
        let (source, span) = match text {
            Some(text) => {
                // Positions are counted after a byte-order mark, as editors do.
                let text = text.strip_prefix('\u{feff}').unwrap_or(text);
                let index = LineIndex::new(text);
                let start = index.offset(finding.range.start);
                let end = index.offset(finding.range.end).max(start);
                (
                    Some(NamedSource::new(&finding.path, text.to_string())),
                    Some((start, end - start)),
                )
            }
            None => (None, None),
        };
        let report = Report {
            finding,
            source,
            span,
        };
        if report.source.is_none() {
            out.push_str(&format!(
                "{}:{}:{}: ",
                finding.path, finding.range.start.line, finding.range.start.column
            ));
        }
        let _ = handler.render_report(&mut out, &report);
        out.push('\n');
    }
    out
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// "Checked 16 files in 12 ms: 9 findings (8 errors, 0 warnings, 1 info)."
pub fn summary_line(summary: Summary, elapsed: Duration) -> String {
    let time = if elapsed.as_millis() >= 1000 {
        format!("{:.2} s", elapsed.as_secs_f64())
    } else {
        format!("{} ms", elapsed.as_millis())
    };
    let files = plural(summary.files, "file", "files");
    if summary.findings == 0 && summary.suppressed == 0 {
        return format!("Checked {files} in {time}: no findings.");
    }
    let suppressed = if summary.suppressed > 0 {
        format!(", {} suppressed", summary.suppressed)
    } else {
        String::new()
    };
    format!(
        "Checked {files} in {time}: {} ({}, {}, {}{suppressed}).",
        plural(summary.findings, "finding", "findings"),
        plural(summary.errors, "error", "errors"),
        plural(summary.warnings, "warning", "warnings"),
        plural(summary.infos, "info", "infos"),
    )
}
