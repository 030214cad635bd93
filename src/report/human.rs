//! `--format human`: each finding as a miette report with the user's SQL
//! underlined, then one summary line.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceCode,
};

use crate::check::CheckedTexts;
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
pub fn render(
    findings: &[Finding],
    summary: Summary,
    elapsed: Duration,
    style: Style,
    texts: &CheckedTexts,
) -> String {
    let mut out = render_findings(findings, style, texts);
    out.push_str(&summary_line(summary, elapsed));
    out.push('\n');
    out.push_str(&fixable_line(findings));
    out
}

/// "2 findings have a fix: `--fix` applies them (1 more with
/// `--unsafe-fixes`)." Nothing when none has.
pub fn fixable_line(findings: &[Finding]) -> String {
    let safe = findings
        .iter()
        .filter(|f| f.fix.as_ref().is_some_and(|fix| !fix.changes_the_figure))
        .count();
    let unsafe_ = findings
        .iter()
        .filter(|f| f.fix.as_ref().is_some_and(|fix| fix.changes_the_figure))
        .count();
    match (safe, unsafe_) {
        (0, 0) => String::new(),
        (0, n) => format!(
            "{} a fix that changes the figure to the agreed one: `--fix --unsafe-fixes` applies {}.\n",
            if n == 1 { "1 finding has" } else { "These findings have" },
            if n == 1 { "it".to_string() } else { format!("all {n}") }
        ),
        (s, 0) => format!("{}: `--fix` applies {}.\n", plural(s, "finding has a fix", "findings have a fix"), if s == 1 { "it" } else { "them" }),
        (s, n) => format!(
            "{}: `--fix` applies {} ({n} more with `--unsafe-fixes`, which change the figure to the agreed one).\n",
            plural(s, "finding has a fix", "findings have a fix"),
            if s == 1 { "it" } else { "them" }
        ),
    }
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

/// Renders every finding. Snippets are drawn from what was checked: stdin's
/// buffer, or a file read once more if its bytes are unchanged (a file
/// edited during the run gets no snippet rather than the wrong one).
pub fn render_findings(findings: &[Finding], style: Style, texts: &CheckedTexts) -> String {
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(style.width)
        .with_links(false);
    let mut read: HashMap<&str, Option<String>> = HashMap::new();
    let mut out = String::new();
    for finding in findings {
        let text = read
            .entry(&finding.path)
            .or_insert_with(|| texts.text(&finding.path).ok());
        let mut excerpt = None;
        let (source, span) = match text {
            Some(text) => {
                // Positions are counted after a byte-order mark, as editors do.
                let text = text.strip_prefix('\u{feff}').unwrap_or(text);
                let index = LineIndex::new(text);
                let start = index.offset(finding.range.start);
                let end = index.offset(finding.range.end).max(start);
                if shown_lines_fit(text, start, end) {
                    (
                        Some(NamedSource::new(&finding.path, text.to_string())),
                        Some((start, end - start)),
                    )
                } else {
                    excerpt = Some(clipped_excerpt(text, start, end));
                    (None, None)
                }
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
        if let Some(excerpt) = excerpt {
            out.push_str(&format!("  │ {excerpt}\n"));
        }
        out.push('\n');
    }
    out
}

/// Lines longer than this are not drawn whole under a finding (miniified
/// SQL, a generated dump): the snippet is clipped around the expression.
const LONGEST_DRAWN_LINE: usize = 1000;

/// Whether every line the snippet of `start..end` shows (with a line of
/// context each side) is short enough to draw whole.
pub fn shown_lines_fit(text: &str, start: usize, end: usize) -> bool {
    // Spans come from elsewhere (a registry error's column): read on char
    // boundaries whatever they say.
    let floor = |mut i: usize| {
        i = i.min(text.len());
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let (start, end) = (floor(start), floor(end.max(start)));
    let from = text[..start]
        .rmatch_indices('\n')
        .nth(1)
        .map_or(0, |(i, _)| i + 1);
    let to = text[end..]
        .match_indices('\n')
        .nth(1)
        .map_or(text.len(), |(i, _)| end + i);
    text[from..to]
        .split('\n')
        .all(|line| line.chars().count() <= LONGEST_DRAWN_LINE)
}

/// The text around `start..end` on one line, at most a few hundred
/// characters, with `…` where it is cut.
fn clipped_excerpt(text: &str, start: usize, end: usize) -> String {
    const AROUND: usize = 80;
    const LONGEST: usize = 240;
    let floor = |mut i: usize| {
        i = i.min(text.len());
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let line_start = text[..start.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let line_end = text[start.min(text.len())..]
        .find('\n')
        .map_or(text.len(), |i| start + i);
    let from = floor(start.saturating_sub(AROUND).max(line_start));
    let to = floor(
        (end.min(line_end).max(start) + AROUND)
            .min(line_end)
            .min(from + LONGEST),
    );
    format!(
        "{}{}{}",
        if from > line_start { "…" } else { "" },
        text[from..to].trim_end_matches('\r'),
        if to < line_end { "…" } else { "" }
    )
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
    // Not findings, but not checked either: said, so nothing is lost unseen.
    let skipped = match summary.skipped_statements {
        0 => String::new(),
        1 => " 1 statement with no query in it did not parse and went unchecked.".to_string(),
        n => format!(" {n} statements with no query in them did not parse and went unchecked."),
    };
    if summary.findings == 0 && summary.suppressed == 0 {
        return format!("Checked {files} in {time}: no findings.{skipped}");
    }
    let suppressed = if summary.suppressed > 0 {
        format!(", {} suppressed", summary.suppressed)
    } else {
        String::new()
    };
    format!(
        "Checked {files} in {time}: {} ({}, {}, {}{suppressed}).{skipped}",
        plural(summary.findings, "finding", "findings"),
        plural(summary.errors, "error", "errors"),
        plural(summary.warnings, "warning", "warnings"),
        plural(summary.infos, "info", "infos"),
    )
}
