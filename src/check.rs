//! The `check` job: discover, parse, extract and judge every file.
//!
//! Files are independent until judging, so each is read, parsed, extracted
//! and judged on its own thread (rayon); only the findings are kept.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::dialect::Dialect;
use crate::discover::{discover, MissingPath};
use crate::extract::{Extractor, Site};
use crate::finding::{Finding, Summary};
use crate::judge::{judge, Computation, DifferenceKind, Verdict};
use crate::parse::parse_each;
use crate::registry::{NameMatch, Registry};
use crate::rules::{
    Compared, DefinitionMismatch, FilterMismatch, NonCanonicalName, ParseError,
    RatioAggregationMismatch, SourceMismatch, UnitMismatch,
};
use crate::source::{LineIndex, Position, Range};

/// What to check and how.
#[derive(Clone, Debug, Default)]
pub struct CheckOptions {
    pub paths: Vec<PathBuf>,
    pub dialect: Dialect,
}

/// The outcome of a check.
#[derive(Debug)]
pub struct CheckResult {
    /// Sorted by path, line, column.
    pub findings: Vec<Finding>,
    pub files: usize,
    /// Problems walking the paths (not findings: nothing was read there).
    pub walk_problems: Vec<String>,
    pub elapsed: Duration,
}

impl CheckResult {
    pub fn summary(&self) -> Summary {
        Summary::of(self.files, &self.findings)
    }
}

/// Runs the check over every SQL file under `options.paths`.
pub fn run(options: &CheckOptions, registry: &Registry) -> Result<CheckResult, MissingPath> {
    let started = Instant::now();
    let discovered = discover(&options.paths)?;
    let mut findings: Vec<Finding> = discovered
        .files
        .par_iter()
        .flat_map_iter(|path| check_file(path, options.dialect, registry))
        .collect();
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    Ok(CheckResult {
        findings,
        files: discovered.files.len(),
        walk_problems: discovered.problems,
        elapsed: started.elapsed(),
    })
}

/// Checks one file read from disk.
pub fn check_file(path: &Path, dialect: Dialect, registry: &Registry) -> Vec<Finding> {
    let shown = path.display().to_string();
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) => {
            return vec![ParseError::finding(
                &shown,
                Range::file_start(),
                format!("cannot read the file: {e}"),
                "check the file's permissions; the other files were checked",
            )]
        }
    };
    match String::from_utf8(bytes) {
        Ok(text) => check_text(&shown, &text, dialect, registry),
        Err(e) => {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            // Valid up to here by construction.
            let prefix = std::str::from_utf8(valid).unwrap_or_default();
            let at = LineIndex::new(prefix).position(prefix.len());
            vec![ParseError::finding(
                &shown,
                Range {
                    start: at,
                    end: Position::new(at.line, at.column + 1),
                },
                format!(
                    "the file is not UTF-8 text (invalid byte at line {}, column {})",
                    at.line, at.column
                ),
                "re-save the file as UTF-8; the other files were checked",
            )]
        }
    }
}

/// Checks one file's text, shown under `path`.
pub fn check_text(path: &str, text: &str, dialect: Dialect, registry: &Registry) -> Vec<Finding> {
    // Editors do not count a byte-order mark as a character.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let parser_dialect = dialect.parser_dialect();
    let wanted = |name: &str| registry.lookup(name).is_some();
    let mut extractor = Extractor::new(text, &wanted);
    let failures = parse_each(text, parser_dialect.as_ref(), &mut |statement| {
        extractor.statement(&statement)
    });
    let mut findings: Vec<Finding> = failures
        .into_iter()
        .map(|failure| {
            ParseError::finding(
                path,
                failure.range,
                format!("cannot parse this statement as {dialect} SQL: {}", failure.message),
                "the rest of the file and the other files are still checked; if this is valid SQL of another dialect, pass --dialect",
            )
        })
        .collect();
    for site in extractor.into_sites() {
        findings.extend(judge_site(path, &site, registry));
    }
    findings
}

/// The finding for one site against the registry, if any.
pub fn judge_site(path: &str, site: &Site, registry: &Registry) -> Option<Finding> {
    let (metric, how) = registry.lookup(&site.output_name)?;
    let computation = Computation {
        expr: &site.computation,
        sources: &site.sources,
    };
    let verdict = judge(computation, metric, registry);
    let kinds = verdict.kinds();
    match verdict {
        Verdict::Equivalent => match how {
            NameMatch::Canonical => None,
            NameMatch::Synonym => Some(NonCanonicalName::finding(path, site, metric)),
        },
        Verdict::Unknown(_) => None,
        Verdict::Different {
            differences,
            found,
            expected,
        } => {
            let compared = Compared {
                found: &found,
                expected: &expected,
            };
            // One kind of difference has its own rule; several are ML001.
            let single = (kinds.len() == 1).then(|| *kinds.first().expect("one kind"));
            Some(match single {
                Some(DifferenceKind::Filter) => {
                    FilterMismatch::finding(path, site, metric, compared, &differences)
                }
                Some(DifferenceKind::Source) => {
                    SourceMismatch::finding(path, site, metric, compared)
                }
                Some(DifferenceKind::Scale) => {
                    UnitMismatch::finding(path, site, metric, compared, &differences)
                }
                Some(DifferenceKind::RatioStructure) => {
                    RatioAggregationMismatch::finding(path, site, metric, compared, &differences)
                }
                Some(DifferenceKind::Formula) | None => {
                    DefinitionMismatch::finding(path, site, metric, compared, &differences)
                }
            })
        }
    }
}
