//! Findings: what a rule reports about one site.

use serde::Serialize;

use crate::source::Range;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// Another place that explains a finding (the agreed definition, say).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Related {
    pub path: String,
    pub line: u32,
    pub column: u32,
    pub message: String,
}

/// One finding: one site, one rule.
#[derive(Clone, Debug)]
pub struct Finding {
    pub code: &'static str,
    pub rule: &'static str,
    pub severity: Severity,
    /// The file as reached from the given paths.
    pub path: String,
    pub range: Range,
    /// The registry name, or the output name as written where there is none.
    pub metric: Option<String>,
    pub message: String,
    /// Canonical form found at the site.
    pub found: Option<String>,
    /// Canonical form agreed in the registry.
    pub expected: Option<String>,
    pub related: Vec<Related>,
    /// What to do about it, for people (human output only).
    pub help: Option<String>,
    /// A short note under the underlined expression (human output only).
    pub label: Option<String>,
}

impl Finding {
    /// The order of SPEC: path, line, column; then code for a stable tie-break.
    pub fn sort_key(&self) -> (&str, u32, u32, &str, Option<&str>) {
        (
            &self.path,
            self.range.start.line,
            self.range.start.column,
            self.code,
            self.metric.as_deref(),
        )
    }
}

/// Counts of a run, for the summary line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub files: usize,
    pub findings: usize,
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
    /// Findings silenced by suppression comments (an extension of SPEC's
    /// summary, present only when some were).
    #[serde(skip_serializing_if = "is_zero")]
    pub suppressed: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Summary {
    pub fn of(files: usize, findings: &[Finding]) -> Summary {
        let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
        Summary {
            files,
            findings: findings.len(),
            errors: count(Severity::Error),
            warnings: count(Severity::Warning),
            infos: count(Severity::Info),
            suppressed: 0,
        }
    }
}
