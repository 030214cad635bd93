//! Fixes: edits to the file the user wrote that clear a finding, applied
//! with `check --fix` and shown with `check --diff`.
//!
//! Only safe fixes exist: a fix never changes what a report computes. Each
//! edit names the text it replaces, and is applied only where the file
//! still holds that text; a fix whose edits overlap another's, or a
//! rename whose old name the file uses anywhere its edits do not rename,
//! is left for a person.

use std::collections::BTreeMap;

use crate::finding::Finding;
use crate::source::{LineIndex, Range};

/// A change that clears one finding.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Fix {
    /// What it does, for people: "rename to `ctr`".
    pub title: String,
    pub edits: Vec<Edit>,
    /// Whether the fix renames an output the file may refer to by name
    /// elsewhere (an `ORDER BY` alias, an outer query): it is applied only
    /// where the old name occurs nowhere in the file but at its edits
    /// (the alias, and the reads of it proven to mean it).
    pub renames: bool,
    /// Whether it changes what the report computes (to the agreed
    /// computation): applied only with `--unsafe-fixes`.
    pub changes_the_figure: bool,
}

/// One replacement in a file.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Edit {
    pub range: Range,
    /// The text the range holds, as the finding saw it.
    pub old: String,
    pub new: String,
}

/// The fixes of one file, and what applying them gives.
#[derive(Debug)]
pub struct FileFix {
    pub path: String,
    pub before: String,
    pub after: String,
    /// The findings fixed, as (code, line).
    pub fixed: Vec<(&'static str, u32)>,
    /// Fixes not applied, with why, as (code, line, why).
    pub skipped: Vec<(&'static str, u32, String)>,
}

/// Applies the fixes of `findings` to the texts `read` gives for their
/// files (`None`: the file cannot be read, so nothing of it is fixed).
/// Files whose fixes change nothing are left out.
/// With `unsafe_fixes`, the fixes that change a figure to the agreed one
/// are applied too.
/// `named_elsewhere(name, path)` says another file of the project that
/// names `name` (another report, a model's YAML), if one does: a renamed
/// output is read there.
pub fn plan(
    findings: &[Finding],
    read: &dyn Fn(&str) -> Option<String>,
    named_elsewhere: &dyn Fn(&str, &str) -> Option<String>,
    unsafe_fixes: bool,
) -> Vec<FileFix> {
    let mut by_path: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    let wanted = |f: &&Finding| {
        f.fix
            .as_ref()
            .is_some_and(|fix| unsafe_fixes || !fix.changes_the_figure)
    };
    for finding in findings.iter().filter(wanted) {
        by_path.entry(&finding.path).or_default().push(finding);
    }
    // A file metriclint could not read whole (a statement that does not
    // parse, a template that does not render) is not edited.
    let unreadable = |path: &str| {
        findings
            .iter()
            .find(|f| f.path == path && matches!(f.code, "ML900" | "ML901"))
    };
    let mut out = Vec::new();
    for (path, findings) in by_path {
        let Some(before) = read(path) else {
            continue;
        };
        if let Some(problem) = unreadable(path) {
            out.push(FileFix {
                path: path.to_string(),
                after: before.clone(),
                before,
                fixed: Vec::new(),
                skipped: findings
                    .iter()
                    .map(|f| {
                        (
                            f.code,
                            f.range.start.line,
                            format!(
                                "the file has an {} at line {}; fix that first",
                                problem.code, problem.range.start.line
                            ),
                        )
                    })
                    .collect(),
            });
            continue;
        }
        if let Some(file) = fix_file(path, &before, &findings, named_elsewhere) {
            out.push(file);
        }
    }
    out
}

fn fix_file(
    path: &str,
    before: &str,
    findings: &[&Finding],
    named_elsewhere: &dyn Fn(&str, &str) -> Option<String>,
) -> Option<FileFix> {
    // Positions are counted after a byte-order mark, as the check counts them.
    let bom = if before.starts_with('\u{feff}') { 3 } else { 0 };
    let index = LineIndex::new(&before[bom..]);
    let mut taken: Vec<(usize, usize, &str)> = Vec::new();
    // The names renames give, so that two never give one name.
    let mut given: Vec<String> = Vec::new();
    let mut fixed = Vec::new();
    let mut skipped = Vec::new();
    for finding in findings {
        let fix = finding.fix.as_ref().expect("filtered");
        let line = finding.range.start.line;
        let mut edits = Vec::new();
        let mut why = None;
        // Where a rename renames: every other word of the old name stops it.
        let renamed_at: Vec<usize> = fix
            .edits
            .iter()
            .map(|e| bom + index.offset(e.range.start))
            .collect();
        for edit in &fix.edits {
            let (start, end) = (
                bom + index.offset(edit.range.start),
                bom + index.offset(edit.range.end),
            );
            if before.get(start..end) != Some(edit.old.as_str()) {
                let written = before.get(start..end).unwrap_or_default();
                why = Some(if written.contains("{{") || written.contains("{%") {
                    "the figure is written with Jinja (a macro or a variable), which a fix does not rewrite".to_string()
                } else {
                    "the file no longer holds the text the fix replaces".to_string()
                });
                break;
            }
            if fix.renames && occurs_elsewhere(before, &edit.old, &renamed_at) {
                why = Some(format!(
                    "`{}` is referred to elsewhere in the file; rename it there too",
                    crate::names::unquoted(&edit.old)
                ));
                break;
            }
            if fix.renames
                && (occurs_elsewhere(before, &edit.new, &[])
                    || given.iter().any(|g| g.eq_ignore_ascii_case(&edit.new)))
            {
                why = Some(format!(
                    "`{}` is a name in the file already; two outputs of one name would clash",
                    edit.new
                ));
                break;
            }
            if fix.renames {
                if let Some(other) = named_elsewhere(&edit.old, path) {
                    why = Some(format!(
                        "`{}` is also named in {other}, which may read it by that name",
                        crate::names::unquoted(&edit.old)
                    ));
                    break;
                }
            }
            let overlaps = taken
                .iter()
                .chain(&edits)
                .any(|(s, e, _)| start < *e && *s < end);
            if overlaps {
                why = Some("another fix changes the same text".to_string());
                break;
            }
            edits.push((start, end, edit.new.as_str()));
        }
        match why {
            Some(why) => skipped.push((finding.code, line, why)),
            None => {
                taken.extend(edits);
                if fix.renames {
                    given.extend(fix.edits.iter().map(|e| e.new.clone()));
                }
                fixed.push((finding.code, line));
            }
        }
    }
    if taken.is_empty() {
        return (!skipped.is_empty()).then(|| FileFix {
            path: path.to_string(),
            before: before.to_string(),
            after: before.to_string(),
            fixed,
            skipped,
        });
    }
    taken.sort_by_key(|(start, _, _)| std::cmp::Reverse(*start));
    let mut after = before.to_string();
    for (start, end, new) in taken {
        after.replace_range(start..end, new);
    }
    Some(FileFix {
        path: path.to_string(),
        before: before.to_string(),
        after,
        fixed,
        skipped,
    })
}

/// The text at `range` of `text`.
fn written_at(text: &str, range: Range) -> Option<&str> {
    let index = LineIndex::new(text);
    text.get(index.offset(range.start)..index.offset(range.end))
}

/// The fix of a figure written at `range` of `text` that is `factor` times
/// the agreed one, where the factor is a percent's or a per-mille's: a
/// trailing `* 100` (or leading `100 *`) taken out, or `* 100` put in.
/// `None` for any other factor, or a factor not written so plainly.
pub fn rescaled(text: &str, range: Range, factor: &crate::canon::Number) -> Option<Fix> {
    let written = written_at(text, range)?;
    let value = factor.as_f64()?;
    let scale = [100.0, 1000.0]
        .into_iter()
        .find(|s| (value - s).abs() < 1e-9 || (value * s - 1.0).abs() < 1e-9)?;
    let scale_text = format!("{scale:.0}");
    let new = if value > 1.0 {
        strip_factor(written, &scale_text)?
    } else {
        format!("({written}) * {scale_text}")
    };
    Some(Fix {
        title: if value > 1.0 {
            format!("take out the `* {scale_text}`")
        } else {
            format!("multiply by {scale_text}")
        },
        edits: vec![Edit {
            range,
            old: written.to_string(),
            new,
        }],
        renames: false,
        changes_the_figure: false,
    })
}

/// The unsafe fix of an average or sum of per-row ratios written at
/// `range` of `text` (`AVG(clicks / impressions)`, `SUM(SAFE_DIVIDE(a,
/// b))`): the ratio of the totals, `SUM(clicks) / NULLIF(SUM(impressions),
/// 0)`. It changes the figure, to the agreed one. `None` for anything
/// else (a scaled ratio, an average of a ratio column).
pub fn ratio_of_totals(text: &str, range: Range) -> Option<Fix> {
    use sqlparser::ast::{BinaryOperator, Expr as AstExpr};
    let written = written_at(text, range)?;
    let parsed = sqlparser::parser::Parser::new(&sqlparser::dialect::GenericDialect {})
        .try_with_sql(written)
        .and_then(|mut p| p.parse_expr())
        .ok()?;
    let AstExpr::Function(function) = &parsed else {
        return None;
    };
    let name = function.name.to_string().to_lowercase();
    if !matches!(name.as_str(), "avg" | "sum") || function.over.is_some() {
        return None;
    }
    let args = crate::canon::integer::plain_arguments(&function.args)?;
    let [ratio] = args.as_slice() else {
        return None;
    };
    let unguarded = |e: &AstExpr| -> String {
        match e {
            AstExpr::Function(f) if f.name.to_string().eq_ignore_ascii_case("nullif") => {
                crate::canon::integer::plain_arguments(&f.args)
                    .and_then(|a| a.first().map(|x| x.to_string()))
                    .unwrap_or_else(|| e.to_string())
            }
            AstExpr::Nested(inner) => inner.to_string(),
            other => other.to_string(),
        }
    };
    let (numerator, denominator) = match ratio {
        AstExpr::BinaryOp {
            left,
            op: BinaryOperator::Divide,
            right,
        } => (left.to_string(), unguarded(right)),
        AstExpr::Function(f)
            if matches!(
                f.name.to_string().to_lowercase().as_str(),
                "safe_divide" | "div0" | "div0null"
            ) =>
        {
            let args = crate::canon::integer::plain_arguments(&f.args)?;
            let [n, d] = args.as_slice() else {
                return None;
            };
            (n.to_string(), unguarded(d))
        }
        _ => return None,
    };
    Some(Fix {
        title: "divide the totals".to_string(),
        edits: vec![Edit {
            range,
            old: written.to_string(),
            new: format!("SUM({numerator}) / NULLIF(SUM({denominator}), 0)"),
        }],
        renames: false,
        changes_the_figure: true,
    })
}

/// `expr` without a factor written first or last at its top level
/// (`x * 100`, `100 * x`, `x * 100.0`): `None` where it is not so written.
fn strip_factor(expr: &str, scale: &str) -> Option<String> {
    let trimmed = expr.trim();
    let is_scale = |t: &str| {
        let t = t.trim();
        t == scale
            || t.strip_prefix(scale)
                .is_some_and(|rest| rest.starts_with('.') && rest[1..].chars().all(|c| c == '0'))
    };
    if let Some((rest, last)) = trimmed.rsplit_once('*') {
        if is_scale(last) && top_level_product(rest) {
            return Some(rest.trim_end().to_string());
        }
    }
    if let Some((first, rest)) = trimmed.split_once('*') {
        if is_scale(first) && top_level_product(rest) {
            return Some(rest.trim_start().to_string());
        }
    }
    None
}

/// Whether `expr` has no `+` or `-` outside parentheses: taking a factor
/// off its end leaves the same grouping.
fn top_level_product(expr: &str) -> bool {
    let mut depth = 0i32;
    for c in expr.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            '+' | '-' if depth == 0 => return false,
            _ => {}
        }
    }
    depth == 0
}

/// The unsafe fix of a figure written at `range` of `text` that leaves out
/// the registered `filter` (SQL, as the registry writes it): each of its
/// aggregates made conditional, in the spelling every dialect reads
/// (`SUM(CASE WHEN is_test = false THEN clicks END)`, `COUNT(CASE WHEN …
/// THEN 1 END)` for `COUNT(*)`). `None` where the figure has a window or an
/// aggregate already conditional (`FILTER (WHERE …)`), or does not parse.
/// One SQL expression, parsed as generic SQL (what a fix rewrites).
pub(crate) fn parse_expression(sql: &str) -> Option<sqlparser::ast::Expr> {
    sqlparser::parser::Parser::new(&sqlparser::dialect::GenericDialect {})
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_expr())
        .ok()
}

pub fn filtered(text: &str, range: Range, filter: &str) -> Option<Fix> {
    use sqlparser::ast::{
        Expr as AstExpr, FunctionArg, FunctionArgExpr, FunctionArguments, VisitMut, VisitorMut,
    };
    use std::ops::ControlFlow;
    let written = written_at(text, range)?;
    let mut expr = parse_expression(written)?;
    struct Conditional<'f> {
        filter: &'f str,
        changed: usize,
        refused: bool,
    }
    impl VisitorMut for Conditional<'_> {
        type Break = ();
        fn post_visit_expr(&mut self, expr: &mut AstExpr) -> ControlFlow<()> {
            let AstExpr::Function(function) = expr else {
                return ControlFlow::Continue(());
            };
            let name = function.name.to_string().to_lowercase();
            if !matches!(name.as_str(), "sum" | "count" | "avg" | "min" | "max") {
                return ControlFlow::Continue(());
            }
            if function.over.is_some() || function.filter.is_some() {
                self.refused = true;
                return ControlFlow::Break(());
            }
            let FunctionArguments::List(list) = &mut function.args else {
                self.refused = true;
                return ControlFlow::Break(());
            };
            let [FunctionArg::Unnamed(arg)] = list.args.as_mut_slice() else {
                self.refused = true;
                return ControlFlow::Break(());
            };
            let value = match arg {
                FunctionArgExpr::Wildcard => "1".to_string(),
                FunctionArgExpr::Expr(e) => e.to_string(),
                _ => {
                    self.refused = true;
                    return ControlFlow::Break(());
                }
            };
            let Some(case) =
                parse_expression(&format!("CASE WHEN {} THEN {value} END", self.filter))
            else {
                self.refused = true;
                return ControlFlow::Break(());
            };
            *arg = FunctionArgExpr::Expr(case);
            self.changed += 1;
            ControlFlow::Continue(())
        }
    }
    let mut visitor = Conditional {
        filter,
        changed: 0,
        refused: false,
    };
    let _ = expr.visit(&mut visitor);
    if visitor.refused || visitor.changed == 0 {
        return None;
    }
    Some(Fix {
        title: format!("count only rows where {filter}"),
        edits: vec![Edit {
            range,
            old: written.to_string(),
            new: expr.to_string(),
        }],
        renames: false,
        changes_the_figure: true,
    })
}

/// The fix of a figure written at `range` of `text` that computes its
/// metric another way: the registry's own SQL (`body`) in its place, its
/// columns named as the report names them (each qualified by the one
/// table alias the figure uses, if it uses one). `None` where the body
/// reads other metrics (`metric('spend')`), the figure mixes aliases, or
/// it reads a join (`over_a_join`) with no alias to say which side.
pub fn agreed_formula(text: &str, range: Range, body: &str, over_a_join: bool) -> Option<Fix> {
    use sqlparser::ast::{Expr as AstExpr, Ident, Visit, VisitMut, Visitor, VisitorMut};
    use std::ops::ControlFlow;
    let written = written_at(text, range)?;
    if body.to_lowercase().contains("metric(") {
        return None;
    }
    let found = parse_expression(written)?;
    let mut agreed = parse_expression(body.trim())?;
    // The table aliases the figure qualifies its columns with.
    struct Qualifiers(std::collections::BTreeSet<String>, bool);
    impl Visitor for Qualifiers {
        type Break = ();
        fn pre_visit_expr(&mut self, expr: &AstExpr) -> ControlFlow<()> {
            match expr {
                AstExpr::CompoundIdentifier(parts) if parts.len() == 2 => {
                    self.0.insert(parts[0].value.clone());
                }
                AstExpr::CompoundIdentifier(_) => self.1 = true,
                _ => {}
            }
            ControlFlow::Continue(())
        }
    }
    let mut qualifiers = Qualifiers(Default::default(), false);
    let _ = Visit::visit(&found, &mut qualifiers);
    if qualifiers.1 || qualifiers.0.len() > 1 || (over_a_join && qualifiers.0.is_empty()) {
        return None;
    }
    if let Some(alias) = qualifiers.0.into_iter().next() {
        struct Qualify(String);
        impl VisitorMut for Qualify {
            type Break = ();
            fn post_visit_expr(&mut self, expr: &mut AstExpr) -> ControlFlow<()> {
                if let AstExpr::Identifier(column) = expr {
                    *expr = AstExpr::CompoundIdentifier(vec![Ident::new(&self.0), column.clone()]);
                }
                ControlFlow::Continue(())
            }
        }
        let _ = VisitMut::visit(&mut agreed, &mut Qualify(alias));
    }
    let new = agreed.to_string();
    (new != written).then(|| Fix {
        title: format!("write the agreed formula, {}", body.trim()),
        edits: vec![Edit {
            range,
            old: written.to_string(),
            new,
        }],
        renames: false,
        changes_the_figure: true,
    })
}

/// Whether the fixes of `file`, written, did what they are for: the
/// findings they fixed are gone from `after` (the check of the fixed
/// files) and the file parses no worse than in `before`.
pub fn cleared(file: &FileFix, before: &[Finding], after: &[Finding]) -> bool {
    let count = |findings: &[Finding], code: &str| {
        findings
            .iter()
            .filter(|f| f.path == file.path && f.code == code)
            .count()
    };
    let parses = count(after, "ML900") <= count(before, "ML900");
    parses
        && file.fixed.iter().all(|(code, _)| {
            let fixed = file.fixed.iter().filter(|(c, _)| c == code).count();
            count(after, code) + fixed <= count(before, code)
        })
}

/// `text` with its whole-line `--` comments blanked (bytes kept, so
/// offsets hold), lower-cased in ASCII only (byte lengths kept). Nothing
/// else is taken for prose: a quote may open a string in one dialect and
/// not in another, and a name inside a Jinja tag or a string may well be
/// a reference (`cluster_by=['ctr']`).
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        if line.trim_start().starts_with("--") {
            for c in line.chars() {
                if matches!(c, '\n' | '\r') {
                    out.push(c);
                } else {
                    out.extend(std::iter::repeat_n(' ', c.len_utf8()));
                }
            }
        } else {
            out.push_str(&line.to_ascii_lowercase());
        }
    }
    out
}

/// Whether `text` names `name` as a word outside its comment lines (ASCII
/// case aside), other than as an alias it gives (`AS name`, an output of
/// its own): another file that may read a renamed output by its old name.
pub fn names_word(text: &str, name: &str) -> bool {
    let lower = code_only(text);
    let aliased_at: Vec<usize> = word_starts(&lower, name)
        .into_iter()
        .filter(|&start| {
            let before = lower[..start].trim_end_matches(['"', '`', '[']).trim_end();
            before.ends_with(" as") || before.ends_with("\nas") || before.ends_with("\tas")
        })
        .collect();
    occurs_elsewhere(text, name, &aliased_at)
}

/// Where `name` starts as a word in `lower` (lower-cased text).
fn word_starts(lower: &str, name: &str) -> Vec<usize> {
    let bare = crate::names::unquoted(name).to_ascii_lowercase();
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = Vec::new();
    if bare.is_empty() {
        return out;
    }
    let mut from = 0;
    while let Some(found) = lower[from..].find(&bare) {
        let start = from + found;
        let end = start + bare.len();
        let before_ok = lower[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !is_word(c));
        let after_ok = lower[end..].chars().next().is_none_or(|c| !is_word(c));
        if before_ok && after_ok {
            out.push(start);
        }
        from = end;
    }
    out
}

/// Whether `name` occurs in `text` as a word anywhere but at the offsets
/// `at` (case-insensitively, quotes aside).
fn occurs_elsewhere(text: &str, name: &str, at: &[usize]) -> bool {
    if crate::names::unquoted(name).is_empty() {
        return true;
    }
    // An occurrence the fix edits (with or without its quote).
    let ours = |start: usize| at.iter().any(|&at| start == at || start == at + 1);
    word_starts(&code_only(text), name)
        .into_iter()
        .any(|start| !ours(start))
}

/// A unified diff of a fixed file, `git diff` style.
pub fn unified_diff(file: &FileFix) -> String {
    similar::TextDiff::from_lines(&file.before, &file.after)
        .unified_diff()
        .context_radius(2)
        .header(&format!("a/{}", file.path), &format!("b/{}", file.path))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Position;

    fn rename(line: u32, column: u32, old: &str, new: &str) -> Finding {
        let range = Range {
            start: Position::new(line, column),
            end: Position::new(line, column + old.chars().count() as u32),
        };
        let info = crate::rules::NonCanonicalName::INFO;
        Finding {
            fix: Some(Fix {
                title: format!("rename to `{new}`"),
                edits: vec![Edit {
                    range,
                    old: old.to_string(),
                    new: new.to_string(),
                }],
                renames: true,
                changes_the_figure: false,
            }),
            ..Finding::of(&info, "r.sql", range, "m".to_string())
        }
    }

    #[test]
    fn an_alias_is_renamed_where_nothing_else_names_it() {
        let text = "select sum(c) / sum(i) as click_through_rate from t\n";
        let findings = [rename(1, 27, "click_through_rate", "ctr")];
        let files = plan(&findings, &|_| Some(text.to_string()), &|_, _| None, false);
        assert_eq!(files[0].after, "select sum(c) / sum(i) as ctr from t\n");
        assert_eq!(files[0].fixed, vec![("ML011", 1)]);
    }

    #[test]
    fn an_alias_named_elsewhere_or_text_that_moved_is_left_alone() {
        let text =
            "select sum(c) / sum(i) as click_through_rate from t order by click_through_rate\n";
        let findings = [rename(1, 27, "click_through_rate", "ctr")];
        let files = plan(&findings, &|_| Some(text.to_string()), &|_, _| None, false);
        assert_eq!(files[0].after, text);
        assert!(files[0].skipped[0].2.contains("referred to elsewhere"));
        let moved = "select 1,\n sum(c) / sum(i) as click_through_rate from t\n";
        let files = plan(&findings, &|_| Some(moved.to_string()), &|_, _| None, false);
        assert_eq!(files[0].after, moved);
        assert!(files[0].skipped[0].2.contains("no longer holds"));
    }

    #[test]
    fn a_fix_counts_only_if_its_finding_is_gone_and_the_file_parses() {
        let text = "select sum(c) / sum(i) as click_through_rate from t\n";
        let findings = [rename(1, 27, "click_through_rate", "ctr")];
        let files = plan(&findings, &|_| Some(text.to_string()), &|_, _| None, false);
        let parse_error = Finding::of(
            &crate::rules::ParseError::INFO,
            "r.sql",
            Range::file_start(),
            "cannot parse".to_string(),
        );
        assert!(cleared(&files[0], &findings, &[]));
        assert!(!cleared(&files[0], &findings, &findings));
        assert!(!cleared(&files[0], &findings, &[parse_error]));
    }

    #[test]
    fn a_rename_to_a_name_the_file_uses_is_left_alone() {
        let text = "select sum(c) / sum(i) as click_through_rate, 1 as ctr from t\n";
        let findings = [rename(1, 27, "click_through_rate", "ctr")];
        let files = plan(&findings, &|_| Some(text.to_string()), &|_, _| None, false);
        assert_eq!(files[0].after, text);
        assert!(files[0].skipped[0].2.contains("a name in the file already"));
    }

    #[test]
    fn a_comment_line_names_nothing_but_a_string_or_a_tag_may() {
        let text =
            "-- click_through_rate report\nselect sum(c) / sum(i) as click_through_rate from t\n";
        let at = text.find("click_through_rate from").unwrap();
        assert!(!occurs_elsewhere(text, "click_through_rate", &[at]));
        for more in [
            "order by click_through_rate",
            "{{ config(cluster_by=['click_through_rate']) }}",
            "{# don't #} order by click_through_rate",
            "where x = 'o\\'brien' order by click_through_rate",
        ] {
            let text = format!("{text}{more}\n");
            assert!(
                occurs_elsewhere(&text, "click_through_rate", &[at]),
                "{more}"
            );
        }
        // Lower-casing keeps byte offsets: `İ` before the alias.
        let text = "select 1 as \"İl\", sum(c) / sum(i) as click_through_rate from t\n";
        let at = text.find("click_through_rate").unwrap();
        assert!(!occurs_elsewhere(text, "click_through_rate", &[at]));
    }

    #[test]
    fn another_file_that_only_gives_the_name_to_an_output_of_its_own_reads_nothing() {
        for defines in [
            "select sum(c) / sum(i) as click_through_rate from t",
            "select sum(c) / sum(i) AS \"click_through_rate\" from t",
            "{% macro rate() %}sum(c) / sum(i)\n  as click_through_rate{% endmacro %}",
        ] {
            assert!(!names_word(defines, "click_through_rate"), "{defines}");
        }
        for reads in [
            "select r.click_through_rate from r",
            "select click_through_rate as ctr from r",
            "models:\n  - name: r\n    columns:\n      - name: click_through_rate\n",
        ] {
            assert!(names_word(reads, "click_through_rate"), "{reads}");
        }
    }

    #[test]
    fn a_percent_factor_is_taken_out_or_put_in() {
        let hundred = crate::canon::Number::int(100);
        let text = "select sum(c) / sum(i) * 100 as ctr from t";
        let range = Range {
            start: Position::new(1, 8),
            end: Position::new(1, 29),
        };
        let fix = rescaled(text, range, &hundred).unwrap();
        assert_eq!(fix.edits[0].old, "sum(c) / sum(i) * 100");
        assert_eq!(fix.edits[0].new, "sum(c) / sum(i)");
        let text = "select 100.0 * sum(c) / sum(i) as ctr from t";
        let range = Range {
            start: Position::new(1, 8),
            end: Position::new(1, 31),
        };
        assert_eq!(
            rescaled(text, range, &hundred).unwrap().edits[0].new,
            "sum(c) / sum(i)"
        );
        let hundredth = hundred.recip().unwrap();
        let text = "select sum(c) / sum(i) as ctr from t";
        let range = Range {
            start: Position::new(1, 8),
            end: Position::new(1, 23),
        };
        assert_eq!(
            rescaled(text, range, &hundredth).unwrap().edits[0].new,
            "(sum(c) / sum(i)) * 100"
        );
        // Not written plainly, or another factor: no fix.
        let text = "select round(sum(c) / sum(i) * 100, 2) as ctr from t";
        let range = Range {
            start: Position::new(1, 8),
            end: Position::new(1, 39),
        };
        assert!(rescaled(text, range, &hundred).is_none());
        let text = "select sum(c) / sum(i) - 1 * 100 as ctr from t";
        let range = Range {
            start: Position::new(1, 8),
            end: Position::new(1, 33),
        };
        assert!(rescaled(text, range, &hundred).is_none());
        assert!(rescaled(text, range, &crate::canon::Number::int(7)).is_none());
    }

    #[test]
    fn averaged_ratios_become_a_ratio_of_totals() {
        for (written, fixed) in [
            (
                "AVG(clicks / impressions)",
                Some("SUM(clicks) / NULLIF(SUM(impressions), 0)"),
            ),
            (
                "avg(e.clicks / nullif(e.impressions, 0))",
                Some("SUM(e.clicks) / NULLIF(SUM(e.impressions), 0)"),
            ),
            (
                "SUM(SAFE_DIVIDE(clicks, impressions))",
                Some("SUM(clicks) / NULLIF(SUM(impressions), 0)"),
            ),
            ("AVG(ctr)", None),
            ("AVG(clicks / impressions) * 100", None),
        ] {
            let text = format!("select {written} as ctr from t");
            let range = Range {
                start: Position::new(1, 8),
                end: Position::new(1, 8 + written.chars().count() as u32),
            };
            let fix = ratio_of_totals(&text, range);
            assert_eq!(
                fix.as_ref().map(|f| f.edits[0].new.as_str()),
                fixed,
                "{written}"
            );
            assert!(fix.is_none_or(|f| f.changes_the_figure));
        }
    }

    #[test]
    fn a_file_that_does_not_parse_is_not_edited() {
        let text = "select sum(c) / sum(i) as click_through_rate from t;\nselec 1\n";
        let broken = Finding::of(
            &crate::rules::ParseError::INFO,
            "r.sql",
            Range {
                start: Position::new(2, 1),
                end: Position::new(2, 6),
            },
            "cannot parse".to_string(),
        );
        let findings = [rename(1, 27, "click_through_rate", "ctr"), broken];
        let files = plan(&findings, &|_| Some(text.to_string()), &|_, _| None, false);
        assert_eq!(files[0].after, text);
        assert!(
            files[0].skipped[0].2.contains("ML900 at line 2"),
            "{:?}",
            files[0].skipped
        );
    }

    #[test]
    fn a_figure_missing_the_filter_counts_only_its_rows() {
        for (written, fixed) in [
            (
                "SUM(clicks) / NULLIF(SUM(impressions), 0)",
                Some("SUM(CASE WHEN is_test = false THEN clicks END) / NULLIF(SUM(CASE WHEN is_test = false THEN impressions END), 0)"),
            ),
            (
                "COUNT(*)",
                Some("COUNT(CASE WHEN is_test = false THEN 1 END)"),
            ),
            ("SUM(clicks) FILTER (WHERE x = 1)", None),
            ("SUM(clicks) OVER ()", None),
            ("clicks", None),
        ] {
            let text = format!("select {written} as m from t");
            let range = Range {
                start: Position::new(1, 8),
                end: Position::new(1, 8 + written.chars().count() as u32),
            };
            let fix = filtered(&text, range, "is_test = false");
            assert_eq!(fix.as_ref().map(|f| f.edits[0].new.as_str()), fixed, "{written}");
        }
    }

    #[test]
    fn a_byte_order_mark_is_no_column() {
        // The check counts columns after the mark, as editors do.
        let text = "\u{feff}select sum(c) / sum(i) as click_through_rate from t\n";
        let findings = [rename(1, 27, "click_through_rate", "ctr")];
        let files = plan(&findings, &|_| Some(text.to_string()), &|_, _| None, false);
        assert_eq!(
            files[0].after,
            "\u{feff}select sum(c) / sum(i) as ctr from t\n"
        );
    }

    #[test]
    fn a_diff_shows_the_change() {
        let text = "select sum(c) / sum(i) as click_through_rate from t\n";
        let findings = [rename(1, 27, "click_through_rate", "ctr")];
        let files = plan(&findings, &|_| Some(text.to_string()), &|_, _| None, false);
        let diff = unified_diff(&files[0]);
        assert!(diff.contains("--- a/r.sql\n+++ b/r.sql\n"), "{diff}");
        assert!(
            diff.contains("+select sum(c) / sum(i) as ctr from t"),
            "{diff}"
        );
    }
}
