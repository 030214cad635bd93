//! Suppressions written in the SQL, the way ruff and sqlfluff users expect:
//!
//! * `-- noqa` on a line silences every finding starting (or ending) on it;
//!   `-- noqa: ML001,ML004` only those codes;
//! * `-- metriclint: disable=ML010` … `-- metriclint: enable=ML010` silences
//!   a range of lines (`disable` without codes: every rule);
//! * `-- metriclint: disable-file=ML001` silences a code in the whole file.
//!
//! A suppression that silences nothing is reported (ML020), so stale ones do
//! not pile up; but only one that is surely ours. `noqa` is shared with
//! sqlfluff, ruff and others: `-- noqa: LT01` names no ML code and is left to
//! its tool, sqlfluff's `-- noqa: disable=…`/`enable=…` count only for the ML
//! codes they name, and a bare `-- noqa` silences our findings on its line
//! but is never called unused (it may be there for another linter).

use crate::finding::Finding;
use crate::rules::UnusedSuppression;
use crate::source::{Position, Range};

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
enum Kind {
    Line,
    Disable,
    Enable,
    File,
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct Directive {
    kind: Kind,
    /// Where the comment is.
    range: Range,
    /// Upper-case codes; empty means every code.
    codes: Vec<String>,
    /// How the codes were written, for messages.
    written: String,
    used: bool,
    /// Whether it is surely ours, so that silencing nothing is worth a
    /// finding (a bare `noqa` may be another linter's).
    ours: bool,
    /// What to delete to remove it, and where: the comment with the
    /// blanks before it, or its whole line where it is alone on it.
    removal: Option<(Range, String)>,
    /// Whether the comment names another tool's codes beside ours
    /// (`noqa: LT01, ML001`).
    shared: bool,
    /// The lines of the definition a line directive sits in, where the file
    /// groups its findings by definition (a LookML measure): it silences
    /// what is found anywhere in them.
    block: Option<(u32, u32)>,
}

impl Directive {
    fn covers(&self, code: &str) -> bool {
        self.codes.is_empty() || self.codes.iter().any(|c| c == code)
    }
}

/// The suppressions of one file.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Suppressions {
    directives: Vec<Directive>,
}

fn codes(list: &str) -> Vec<String> {
    list.split([',', ' '])
        .map(|c| c.trim().to_ascii_uppercase())
        .filter(|c| !c.is_empty())
        .collect()
}

/// Whether a code is metriclint's (`ML` and digits), not another linter's.
fn is_our_code(code: &str) -> bool {
    code.len() > 2 && code.starts_with("ML") && code[2..].bytes().all(|b| b.is_ascii_digit())
}

/// A `noqa` comment's kind and codes (after `noqa`), or `None` when it is
/// another tool's: it names codes, none of them ours.
fn noqa_directive(rest: &str) -> Option<(Kind, Vec<String>, bool)> {
    let Some(list) = rest.trim_start().strip_prefix(':') else {
        // A bare `noqa`: every rule, on this line.
        return rest
            .trim()
            .is_empty()
            .then(|| (Kind::Line, Vec::new(), false));
    };
    let list = list.trim();
    // sqlfluff's `noqa: enable=all` ends every range, ours too.
    if list == "enable=all" {
        return Some((Kind::Enable, Vec::new(), false));
    }
    // sqlfluff's ranges: `noqa: disable=LT01,ML001` … `noqa: enable=…`.
    let (kind, list) = if let Some(l) = list.strip_prefix("disable=") {
        (Kind::Disable, l)
    } else if let Some(l) = list.strip_prefix("enable=") {
        (Kind::Enable, l)
    } else {
        (Kind::Line, list)
    };
    let ours: Vec<String> = codes(list).into_iter().filter(|c| is_our_code(c)).collect();
    (!ours.is_empty()).then_some((kind, ours, true))
}

/// Where a line's `--` comment starts, outside string literals.
fn comment_start(line: &str, marker: Marker) -> Option<usize> {
    let mut quote: Option<char> = None;
    let mut chars = line.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"' | '`') => quote = Some(c),
            (None, '-')
                if marker == Marker::Dashes && chars.peek().map(|(_, n)| *n) == Some('-') =>
            {
                return Some(i)
            }
            (None, '#') if marker == Marker::Hash => return Some(i),
            _ => {}
        }
    }
    None
}

/// How a file's comments start: `--` in SQL, `#` in LookML.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Marker {
    Dashes,
    Hash,
}

impl Marker {
    fn len(self) -> usize {
        match self {
            Marker::Dashes => 2,
            Marker::Hash => 1,
        }
    }
}

impl Suppressions {
    /// Reads the suppression comments of a file.
    pub fn parse(text: &str) -> Suppressions {
        Self::parse_marked(text, Marker::Dashes)
    }

    /// Reads the suppression comments of a LookML file (`# noqa: ML001`).
    pub fn parse_lookml(text: &str) -> Suppressions {
        Self::parse_marked(text, Marker::Hash)
    }

    fn parse_marked(text: &str, marker: Marker) -> Suppressions {
        let mut directives = Vec::new();
        for (index, whole) in text.split_inclusive('\n').enumerate() {
            let line = whole.trim_end_matches(['\n', '\r']);
            let Some(at) = comment_start(line, marker) else {
                continue;
            };
            let comment = line[at + marker.len()..].trim();
            let lower = comment.to_ascii_lowercase();
            let (kind, codes, ours) = if let Some(rest) = lower.strip_prefix("noqa") {
                match noqa_directive(rest) {
                    Some(directive) => directive,
                    None => continue,
                }
            } else if let Some(rest) = lower.strip_prefix("metriclint:") {
                let rest = rest.trim();
                let (kind, list) = if let Some(list) = rest.strip_prefix("disable-file") {
                    (Kind::File, list)
                } else if let Some(list) = rest.strip_prefix("disable") {
                    (Kind::Disable, list)
                } else if let Some(list) = rest.strip_prefix("enable") {
                    (Kind::Enable, list)
                } else {
                    continue;
                };
                (kind, codes(list.trim_start_matches(['=', ' '])), true)
            } else {
                continue;
            };
            let line_no = index as u32 + 1;
            let column = line[..at].chars().count() as u32 + 1;
            let code = line[..at].trim_end();
            let removal = if code.is_empty() {
                // Alone on its line: the line goes, its end with it.
                let end = if whole.ends_with('\n') {
                    Position::new(line_no + 1, 1)
                } else {
                    Position::new(line_no, line.chars().count() as u32 + 1)
                };
                (
                    Range {
                        start: Position::new(line_no, 1),
                        end,
                    },
                    whole.to_string(),
                )
            } else {
                let from = code.chars().count() as u32 + 1;
                (
                    Range {
                        start: Position::new(line_no, from),
                        end: Position::new(line_no, line.chars().count() as u32 + 1),
                    },
                    line[code.len()..].to_string(),
                )
            };
            directives.push(Directive {
                kind,
                range: Range {
                    start: Position::new(line_no, column),
                    end: Position::new(line_no, line.chars().count() as u32 + 1),
                },
                written: codes.join(", "),
                codes,
                used: false,
                ours,
                removal: Some(removal),
                block: None,
                shared: comment
                    .split([':', ',', ' ', '='])
                    .map(|w| w.trim().to_ascii_uppercase())
                    .any(|w| {
                        w.len() > 2
                            && w.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                            && w.chars().any(|c| c.is_ascii_digit())
                            && !is_our_code(&w)
                    }),
            });
        }
        Suppressions { directives }
    }

    /// Makes each line directive inside one of `blocks` (first and last
    /// line of a definition, a LookML measure) silence what is found
    /// anywhere in that block, as a `# noqa` after a multi-line `sql:` or on
    /// the `measure:` line means.
    pub fn widen_to_blocks(&mut self, blocks: &[(u32, u32)]) {
        for d in self.directives.iter_mut().filter(|d| d.kind == Kind::Line) {
            let line = d.range.start.line;
            d.block = blocks
                .iter()
                .copied()
                .find(|(start, end)| *start <= line && line <= *end);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.directives.is_empty()
    }

    /// Marks the line directives from line `first` to `last` used: what
    /// they silence there was left out (a LookML view no explore reads),
    /// so none of them is unused (ML020).
    pub fn excuse_lines(&mut self, first: u32, last: u32) {
        for d in self.directives.iter_mut().filter(|d| d.kind == Kind::Line) {
            if (first..=last).contains(&d.range.start.line) {
                d.used = true;
            }
        }
    }

    /// Whether a directive silences `finding`, marking it used.
    fn silences(&mut self, finding: &Finding) -> bool {
        let (first, last) = (finding.range.start.line, finding.range.end.line);
        let code = finding.code;
        // Same line, or the same definition.
        let in_block = |d: &Directive| {
            d.block
                .is_some_and(|(start, end)| start <= first && first <= end)
        };
        if let Some(d) = self.directives.iter_mut().find(|d| {
            d.kind == Kind::Line
                && (d.range.start.line == first || d.range.start.line == last || in_block(d))
                && d.covers(code)
        }) {
            d.used = true;
            return true;
        }
        if let Some(d) = self
            .directives
            .iter_mut()
            .find(|d| d.kind == Kind::File && d.covers(code))
        {
            d.used = true;
            return true;
        }
        // The last disable/enable for this code before the finding decides.
        let mut active: Option<usize> = None;
        for (i, d) in self.directives.iter().enumerate() {
            if d.range.start.line > first {
                break;
            }
            match d.kind {
                Kind::Disable if d.covers(code) => active = Some(i),
                Kind::Enable if d.covers(code) => active = None,
                _ => {}
            }
        }
        match active {
            Some(i) => {
                self.directives[i].used = true;
                true
            }
            None => false,
        }
    }

    /// Splits `findings` of this file into kept ones and the number silenced.
    pub fn apply(&mut self, findings: Vec<Finding>) -> (Vec<Finding>, usize) {
        let mut kept = Vec::with_capacity(findings.len());
        let mut silenced = 0;
        for finding in findings {
            if self.silences(&finding) {
                silenced += 1;
            } else {
                kept.push(finding);
            }
        }
        (kept, silenced)
    }

    /// How the range a `disable` (the directive at `start`) opens ends:
    /// `Some(Some(enable))` at the next `enable` naming its very codes,
    /// `Some(None)` at the end of the file; `None` when another range of
    /// any of its codes is opened or closed first (they are tangled).
    fn range_end(&self, start: usize) -> Option<Option<&Directive>> {
        let disable = &self.directives[start];
        let touches =
            |d: &Directive| d.codes.is_empty() || d.codes.iter().any(|c| disable.codes.contains(c));
        // A range of its codes opened before it and still open: the enable
        // ends that one too, and removing it would let that one run on.
        let mut open_before = false;
        for d in &self.directives[..start] {
            match d.kind {
                Kind::Disable if touches(d) => open_before = true,
                Kind::Enable if touches(d) => open_before = false,
                _ => {}
            }
        }
        if open_before {
            return None;
        }
        for d in &self.directives[start + 1..] {
            match d.kind {
                Kind::Enable if d.codes == disable.codes => return Some(Some(d)),
                Kind::Enable | Kind::Disable if touches(d) => return None,
                _ => {}
            }
        }
        Some(None)
    }

    /// ML020 for every suppression that silenced nothing.
    pub fn unused(&self, path: &str) -> Vec<Finding> {
        self.directives
            .iter()
            .enumerate()
            .filter(|(_, d)| !d.used && d.ours && d.kind != Kind::Enable)
            .map(|(index, d)| {
                let what = match d.kind {
                    Kind::Line => "noqa",
                    Kind::Disable => "disable",
                    Kind::File => "disable-file",
                    Kind::Enable => "enable",
                };
                // A comment that names another tool's codes too is theirs
                // as well; a suppression of every rule or of cross-report
                // drift may be unused only because this run saw some
                // reports: none is removed. A range goes with its end
                // (`enable`), removed together, or not at all.
                let removable = |d: &Directive| {
                    !d.shared && !d.codes.is_empty() && !d.codes.iter().any(|c| c == "ML010")
                };
                let mut removals: Vec<(Range, String)> = d
                    .removal
                    .clone()
                    .filter(|_| removable(d))
                    .into_iter()
                    .collect();
                if d.kind == Kind::Disable {
                    match self.range_end(index) {
                        // Open to the end of the file: the comment alone.
                        Some(None) => {}
                        Some(Some(end))
                            if !removals.is_empty() && removable(end) && end.removal.is_some() =>
                        {
                            removals.extend(end.removal.clone());
                        }
                        _ => removals.clear(),
                    }
                }
                UnusedSuppression::finding(path, d.range, what, &d.written, removals)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_form() {
        let text = "select '--' -- noqa\nselect 2 -- noqa: ML001, ml004\n-- metriclint: disable=ML010\n-- metriclint: enable=ML010\n-- metriclint: disable-file=ML011\n-- noqa is mentioned in prose here\n";
        let s = Suppressions::parse(text);
        let kinds: Vec<(Kind, Vec<String>)> = s
            .directives
            .iter()
            .map(|d| (d.kind, d.codes.clone()))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (Kind::Line, vec![]),
                (Kind::Line, vec!["ML001".to_string(), "ML004".to_string()]),
                (Kind::Disable, vec!["ML010".to_string()]),
                (Kind::Enable, vec!["ML010".to_string()]),
                (Kind::File, vec!["ML011".to_string()]),
            ]
        );
    }

    #[test]
    fn other_linters_noqa_comments_are_theirs() {
        let text = "select 1 -- noqa: LT01\n\
            select 2 -- noqa: disable=LT01,LT02\n\
            select 3 -- noqa: enable=all\n\
            select 4 -- noqa\n\
            select 5 -- noqa: LT01, ML001\n\
            select 6 -- noqa: disable=ML010\n";
        let s = Suppressions::parse(text);
        let kinds: Vec<(Kind, Vec<String>, bool)> = s
            .directives
            .iter()
            .map(|d| (d.kind, d.codes.clone(), d.ours))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (Kind::Enable, vec![], false),
                (Kind::Line, vec![], false),
                (Kind::Line, vec!["ML001".to_string()], true),
                (Kind::Disable, vec!["ML010".to_string()], true),
            ]
        );
        // `enable=all` ends our ranges too.
        let mut ranged =
            Suppressions::parse("-- noqa: disable=ML010\n-- noqa: enable=all\nselect 1\n");
        let after = crate::rules::UnusedSuppression::finding(
            "r.sql",
            Range {
                start: Position::new(3, 1),
                end: Position::new(3, 2),
            },
            "noqa",
            "",
            Vec::new(),
        );
        let mut late = after.clone();
        late.code = "ML010";
        assert!(!ranged.silences(&late));
        // None silences anything here: only ours are called unused, and the
        // bare `noqa` (which may be sqlfluff's) is not.
        let unused = s.unused("r.sql");
        let lines: Vec<u32> = unused.iter().map(|f| f.range.start.line).collect();
        assert_eq!(lines, vec![5, 6]);
        assert!(unused[0].message.contains("ML001") && !unused[0].message.contains("LT01"));
    }
}
