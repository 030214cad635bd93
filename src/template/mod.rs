//! Templating: dbt-style Jinja SQL rendered offline, with a source map.
//!
//! The template is rendered with minijinja and stand-ins for dbt's builtins
//! (`ref`, `source`, `config`, `var`, `env_var`, `is_incremental`, `this`,
//! `target`, `adapter`, `log`, `return`, …). A macro that is defined nowhere
//! renders as a placeholder name (`__jinja_name`) that keeps the SQL
//! parsable and compares as "unknown", never as a mismatch. Rendering is
//! bounded by fuel, so a template that loops forever is a finding (ML901).
//!
//! Positions: before rendering, invisible markers carrying template offsets
//! are put at the start of every line of raw text and in front of every tag.
//! They pass through rendering untouched, and are then stripped into a map
//! from each rendered byte to the template byte it came from: raw text maps
//! character by character, text a tag produced maps to the tag.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use minijinja::value::{Enumerator, Kwargs, Object, ObjectRepr, Rest, Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind, State, UndefinedBehavior};

use std::collections::HashMap;
use std::sync::Mutex;

use crate::dbt::Project;
use crate::dialect::Dialect;
use crate::source::{LineIndex, Position, Range};

mod missing_macros;
mod python_re;

/// Starts a marker whose following text maps byte for byte.
const RAW: char = '\u{E000}';
/// Starts a marker whose following text maps to one place (a tag).
const PINNED: char = '\u{E002}';
/// Ends a marker.
const END: char = '\u{E001}';

/// How much SQL one file may render to (markers included).
const MAX_RENDERED_BYTES: usize = 20_000_000;

/// How much work one file's rendering may do.
const FUEL: u64 = 2_000_000;

/// What a template tag metriclint cannot render becomes in the SQL: a bare
/// name with this prefix (`__jinja_api_relation_create`).
pub const PLACEHOLDER_PREFIX: &str = "__jinja";

/// Whether a name is such a placeholder, not a column, table or function
/// the report wrote.
pub fn is_placeholder_name(name: &str) -> bool {
    name.starts_with(PLACEHOLDER_PREFIX)
}

/// Whether the text is a Jinja template.
pub fn is_templated(text: &str) -> bool {
    text.contains("{{") || text.contains("{%") || text.contains("{#")
}

/// The template with each `{{ … }}` that is another tool's query parameter
/// written as a name of the same length (so every position stays put), or
/// `None` if it has none. Outside dbt, a hole is a parameter where Jinja
/// cannot read it (Dune's `{{2. Start date}}`, devstats'
/// `{{period:c.created_at}}`), or where it names what neither the template
/// nor dbt defines (Dune's, Redash's and Metabase's `{{pool_id}}`), which
/// Jinja would render as nothing.
pub fn with_query_parameters_as_names(template: &str) -> Option<String> {
    let jinja = Environment::new();
    let segments = segments(template);
    // Every word the template's own tags use (`set x`, `for c in cols`,
    // `macro m(a)`): a hole naming one of them is the template's.
    let mut own: BTreeSet<&str> = BTreeSet::new();
    for &(start, end, is_tag) in &segments {
        if is_tag && template[start..].starts_with("{%") {
            own.extend(
                template[start..end]
                    .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .filter(|w| !w.is_empty()),
            );
        }
    }
    let is_parameter = |tag: &str| {
        if jinja.template_from_str(tag).is_err() {
            return true;
        }
        let inner = tag_inner(tag).trim();
        let root = inner.split('.').next().unwrap_or_default();
        let a_name = !root.is_empty()
            && !root.starts_with(|c: char| c.is_ascii_digit())
            && inner
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '.');
        a_name
            && !own.contains(root)
            && !KNOWN.contains(&root)
            && !DBT_GLOBALS.contains(&root)
            && !matches!(root, "true" | "false" | "none" | "True" | "False" | "None")
    };
    let mut out = String::with_capacity(template.len());
    let mut any = false;
    let is_name = |c: char| c.is_alphanumeric() || c == '_';
    for (start, end, is_tag) in segments {
        let text = &template[start..end];
        if is_tag && text.starts_with("{{") && text.ends_with("}}") && is_parameter(text) {
            any = true;
            let (before, after) = (&template[..start], &template[end..]);
            // Right after an expression, a parameter is a fragment of SQL
            // (devstats' `lower(login) {{exclude_bots}}`): nothing. Glued to
            // a name (`repos_{{rnd}}`) or a quote (`'{{from}}'`) it is part
            // of that name or string.
            let glue = |c: char| is_name(c) || c == '\'' || c == '"';
            let glued = before.ends_with(glue) || after.starts_with(glue);
            let fragment = !glued
                && missing_macros::place(before, after) == missing_macros::Place::AfterExpression;
            // Byte for byte, so a multi-byte letter keeps its length too.
            out.extend(text.bytes().map(|b| {
                if fragment {
                    ' '
                } else if b.is_ascii_alphanumeric() {
                    b as char
                } else {
                    '_'
                }
            }));
        } else {
            out.push_str(text);
        }
    }
    any.then_some(out)
}

/// The condition a model's `config(enabled = …)` sets, as written (spaces
/// dropped), unless it is a constant: `var('etl') == 'stitch'`. dbt builds
/// a model only where it holds, so models enabled under different
/// conditions are alternatives.
pub fn enabled_condition(template: &str) -> Option<String> {
    let value = config_argument(template, "enabled")?;
    let condition: String = value.split_whitespace().collect();
    let constant = matches!(condition.to_lowercase().as_str(), "true" | "false" | "");
    (!constant).then_some(condition)
}

/// The columns a model's `config(unique_key = …)` declares its rows unique
/// on, lowercased: `'id'`, `['date', 'address']`, `'(date, address)'`,
/// `'date || address'` is no list of columns and declares nothing here.
pub fn unique_key(template: &str) -> Option<Vec<String>> {
    let value = config_argument(template, "unique_key")?;
    let inner = value
        .trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim();
    let mut columns = Vec::new();
    for part in inner.split(',') {
        let name = part
            .trim()
            .trim_matches(|c| c == '\'' || c == '"')
            .trim()
            .trim_start_matches('(')
            .trim_end_matches(')')
            .trim()
            .trim_matches(|c| c == '\'' || c == '"' || c == '`')
            .to_lowercase();
        let identifier = !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit());
        if !identifier {
            return None;
        }
        columns.push(name);
    }
    (!columns.is_empty()).then_some(columns)
}

/// The text of one keyword argument of a model's first `config(…)` call, as
/// written: up to the next comma or closing bracket at its own depth.
fn config_argument<'t>(template: &'t str, key: &str) -> Option<&'t str> {
    let at = template.find("config(")?;
    let call = &template[at + "config(".len()..];
    // Only the call's own arguments: up to its closing parenthesis.
    let mut depth = 0i32;
    let close = call
        .char_indices()
        .find(|&(_, c)| {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            depth < 0
        })
        .map_or(call.len(), |(i, _)| i);
    let mut rest = &call[..close];
    while let Some(found) = rest.find(key) {
        let after = rest[found + key.len()..].trim_start();
        let boundary = rest[..found]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        if boundary {
            if let Some(value) = after.strip_prefix('=').filter(|v| !v.starts_with('=')) {
                let mut depth = 0i32;
                let mut quote: Option<char> = None;
                let end = value
                    .char_indices()
                    .find(|&(_, c)| {
                        match (quote, c) {
                            (Some(q), c) if c == q => quote = None,
                            (Some(_), _) => {}
                            (None, '\'' | '"') => quote = Some(c),
                            (None, '(' | '[' | '{') => depth += 1,
                            (None, ')' | ']' | '}') => depth -= 1,
                            _ => {}
                        }
                        quote.is_none() && (depth < 0 || (depth == 0 && c == ','))
                    })
                    .map_or(value.len(), |(i, _)| i);
                return Some(&value[..end]);
            }
        }
        rest = &rest[found + key.len()..];
    }
    None
}

/// A rendered template and the way back to the template's positions.
#[derive(Debug)]
pub struct Rendered {
    pub text: String,
    /// Macros called but defined nowhere, as written (`dbt_utils.star`).
    pub unknown_macros: Vec<String>,
    /// The models the template `ref()`s, lowercased.
    pub refs: Vec<String>,
    /// It asked for the columns of a `ref()`ed model the render did not know
    /// (`adapter.get_columns_in_relation(ref('x'))`): rendered again once
    /// the upstream models' columns are known, it may give other SQL.
    pub wants_upstream_columns: bool,
    /// For each byte of `text`, the template byte it came from.
    /// (u32: templates are far below 4 GB, and deferred models keep theirs.)
    origin: Vec<u32>,
}

/// Why a template could not be rendered.
#[derive(Debug)]
pub struct TemplateError {
    pub message: String,
    pub line: u32,
    /// As for [`Rendered`]: the error may go once upstream columns are known.
    pub wants_upstream_columns: bool,
    /// The models `ref()`ed before the error.
    pub refs: Vec<String>,
}

impl Rendered {
    /// Maps a range in the rendered text back to the template.
    pub fn map_range(
        &self,
        rendered: &LineIndex<'_>,
        template: &LineIndex<'_>,
        range: Range,
    ) -> Range {
        let map = |p: Position| {
            let offset = rendered.offset(p).min(self.origin.len().saturating_sub(1));
            template.position(self.origin.get(offset).map_or(0, |&o| o as usize))
        };
        let start = map(range.start);
        // The end is exclusive: map the last character and step past it.
        let end_offset = rendered.offset(range.end);
        let end = if end_offset == 0 || self.origin.is_empty() {
            start
        } else {
            let last = self.origin[(end_offset - 1).min(self.origin.len() - 1)] as usize;
            // Text a tag produced ends where the tag ends.
            let source = template.text();
            let tag_close = match source.get(last..last + 2) {
                Some("{{") => Some("}}"),
                Some("{%") => Some("%}"),
                _ => None,
            };
            match tag_close {
                Some(close) => template.position(tag_end(source, last, close)),
                None => {
                    let p = template.position(last);
                    Position::new(p.line, p.column + 1)
                }
            }
        };
        Range {
            start,
            end: if end < start { start } else { end },
        }
    }
}

impl Rendered {
    /// The template tag that produced all of `range`, when none of it was
    /// written in the file itself (a macro call's or an expression's output).
    pub fn generated_by<'t>(
        &self,
        rendered: &LineIndex<'_>,
        template: &'t str,
        range: Range,
    ) -> Option<&'t str> {
        let (start, end) = (rendered.offset(range.start), rendered.offset(range.end));
        let origins = self.origin.get(start..end.min(self.origin.len()))?;
        let first = *origins.first()? as usize;
        let close = match template.get(first..first + 2) {
            Some("{{") => "}}",
            Some("{%") => "%}",
            _ => return None,
        };
        // A tag's output is pinned to the tag's start; written text is not.
        let is_tag_start = |o: usize| matches!(template.get(o..o + 2), Some("{{" | "{%"));
        if !origins.iter().all(|&o| is_tag_start(o as usize)) {
            return None;
        }
        template.get(first..tag_end(template, first, close))
    }
}

/// Splits a template into raw text and tags: (start offset, is_tag).
fn segments(template: &str) -> Vec<(usize, usize, bool)> {
    let mut out = Vec::new();
    let bytes = template.as_bytes();
    let (mut i, mut raw_start) = (0, 0);
    while i + 1 < bytes.len() {
        let close = match (bytes[i], bytes[i + 1]) {
            (b'{', b'{') => Some("}}"),
            (b'{', b'%') => Some("%}"),
            (b'{', b'#') => Some("#}"),
            _ => None,
        };
        let Some(close) = close else {
            i += 1;
            continue;
        };
        let end = tag_end(template, i, close);
        if raw_start < i {
            out.push((raw_start, i, false));
        }
        out.push((i, end, true));
        i = end;
        raw_start = end;
    }
    if raw_start < template.len() {
        out.push((raw_start, template.len(), false));
    }
    out
}

/// The end of the tag opened at `start`: its `close` outside string literals
/// and brackets, as Jinja reads it (`meta={'a': {'b': 1}}` inside a
/// `{{ config(…) }}` closes two dicts, not the tag); a comment has neither:
/// `{# don't #}` ends at its `#}`.
fn tag_end(template: &str, start: usize, close: &str) -> usize {
    let body = &template[start + 2..];
    if close == "#}" {
        return body
            .find(close)
            .map_or(template.len(), |at| start + 2 + at + close.len());
    }
    let mut quote: Option<char> = None;
    let mut depth = 0usize;
    for (i, c) in body.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, _) if depth == 0 && body[i..].starts_with(close) => {
                return start + 2 + i + close.len()
            }
            (None, '(' | '[' | '{') => depth += 1,
            (None, ')' | ']' | '}') => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    template.len()
}

/// A tag's words, without its delimiters and whitespace control.
fn tag_inner(tag: &str) -> &str {
    tag.get(2..tag.len().saturating_sub(2))
        .unwrap_or("")
        .trim_start_matches(['-', '+'])
        .trim_end_matches(['-', '+'])
        .trim()
}

/// What a package's or project's macro is renamed to; its own name becomes a
/// [`DbtMacro`] wrapper of it (see [`with_macro_returns`]).
pub(crate) const MACRO_PREFIX: &str = "__dbt_macro_";

/// Rewrites a project's or package's macros for dbt's ways: each macro is
/// renamed and its name bound to a [`DbtMacro`] wrapper of it, which ends
/// the macro at its `return(value)` with that value as the result (a list of
/// column dicts, a boolean: not a printout), and drops arguments the macro
/// does not take, so a model written for a newer version of a package still
/// renders. Lists and dicts set from literals change in place.
pub(crate) fn with_macro_returns(source: &str) -> String {
    let mut out = String::with_capacity(source.len() + source.len() / 8);
    // The open macro: where its name is in `out`, and the name.
    let mut open: Option<(usize, String)> = None;
    for (start, end, is_tag) in segments(source) {
        let text = &source[start..end];
        let word = if is_tag && text.starts_with("{%") {
            tag_inner(text).split_whitespace().next().unwrap_or("")
        } else {
            ""
        };
        match (word, &mut open) {
            ("macro", _) => {
                let after = text.find("macro").map_or(0, |at| at + "macro".len());
                let skipped = text[after..].len() - text[after..].trim_start().len();
                let name: String = text[after + skipped..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                let name_at = out.len() + after + skipped;
                out.push_str(text);
                open = Some((name_at, name));
            }
            ("endmacro", Some((name_at, name))) => {
                let name = std::mem::take(name);
                if !name.is_empty() {
                    out.insert_str(*name_at, MACRO_PREFIX);
                }
                out.push_str(text);
                if !name.is_empty() {
                    out.push_str(&format!(
                        "{{% set {name} = __dbt_macro({MACRO_PREFIX}{name}) %}}"
                    ));
                }
                open = None;
            }
            _ if is_tag => out.push_str(&with_mutable_literal(text)),
            _ => out.push_str(text),
        }
    }
    out
}

/// `{% set x = … %}` to a list or dict (`[]`, `{}`, `a + b`) makes one that
/// `x.append(…)` (`x.update(…)`) changes, as in dbt's Python Jinja;
/// minijinja's cannot change. And `{% do e %}` takes any expression `e`, as
/// in Jinja.
fn with_mutable_literal(tag: &str) -> std::borrow::Cow<'_, str> {
    let Some(inner) = tag
        .strip_prefix("{%")
        .map(|t| t.strip_prefix('-').unwrap_or(t))
        .and_then(|t| t.strip_suffix("%}"))
        .map(|t| t.strip_suffix('-').unwrap_or(t))
    else {
        return tag.into();
    };
    // `{% do x.append(y) if c %}`: Jinja's `do` takes any expression,
    // minijinja's only a call; a `set` evaluates any.
    if let Some(expr) = inner.trim_start().strip_prefix("do ") {
        let expr = expr.trim();
        let one_call = expr.ends_with(')')
            && expr
                .find('(')
                .and_then(|open| closing_bracket(&expr[open..]).map(|close| open + close))
                == Some(expr.len() - 1);
        if one_call || expr.is_empty() {
            return tag.into();
        }
        let open = if tag.starts_with("{%-") { "{%-" } else { "{%" };
        let close = if tag.ends_with("-%}") { "-%}" } else { "%}" };
        return format!("{open} set __dbt_done = ({expr}) {close}").into();
    }
    let Some(rest) = inner.trim_start().strip_prefix("set ") else {
        return tag.into();
    };
    let Some((name, value)) = rest.split_once('=') else {
        return tag.into();
    };
    let value = value.trim();
    let name = name.trim();
    let ident = |t: &str| !t.is_empty() && t.chars().all(|c| c.is_alphanumeric() || c == '_');
    let open = if tag.starts_with("{%-") { "{%-" } else { "{%" };
    let close = if tag.ends_with("-%}") { "-%}" } else { "%}" };
    // `{% set ns.attr = … %}`: a namespace must not hold itself (its
    // printout would never end).
    if let Some((namespace, attr)) = name.split_once('.') {
        if ident(namespace) && ident(attr) && !value.is_empty() && !value.starts_with('=') {
            return format!(
                "{open} set {namespace}.{attr} = __dbt_unless_holds({value}, {namespace}) {close}"
            )
            .into();
        }
        return tag.into();
    }
    // One name (not `a, b = …`), and a value (not `x == y` in a `set` block).
    if value.is_empty()
        || value.starts_with('=')
        || name.is_empty()
        || !name.chars().all(|c| c.is_alphanumeric() || c == '_')
    {
        return tag.into();
    }
    format!("{open} set {name} = __dbt_changeable({value}) {close}").into()
}

/// Where the bracket opening `text` closes (strings skipped).
fn closing_bracket(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '[' | '{' | '(') => depth += 1,
            (None, ']' | '}' | ')') => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// A list or dict literal as Python has it: one that can change. Values
/// put into a changeable list or dict are changeable too (`{relation: []}`
/// then `d[relation].append(c)`).
fn changeable(value: Value) -> Value {
    // Only Jinja's own lists and maps, and what `+` makes of lists (not
    // relations, columns, stand-ins).
    let plain = value.kind() == ValueKind::Iterable
        || value.as_object().is_none_or(|o| {
            o.downcast_ref::<Vec<Value>>().is_some()
                || o.downcast_ref::<std::collections::BTreeMap<Value, Value>>()
                    .is_some()
        });
    if !plain {
        return value;
    }
    match value.kind() {
        ValueKind::Seq | ValueKind::Iterable => match value.try_iter() {
            Ok(items) => {
                Value::from_object(MutableList(Mutex::new(items.map(changeable).collect())))
            }
            Err(_) => value,
        },
        ValueKind::Map => {
            let mut pairs = Vec::new();
            if let Ok(keys) = value.try_iter() {
                for key in keys {
                    let item = value.get_item(&key).unwrap_or_default();
                    pairs.push((key, changeable(item)));
                }
            }
            Value::from_object(MutableDict(Mutex::new(pairs)))
        }
        _ => value,
    }
}

/// The most items a list a template builds may hold.
const MAX_LIST_ITEMS: usize = 1_000_000;

/// A list that templates change in place (`append`, `extend`, …).
#[derive(Debug, Default)]
struct MutableList(Mutex<Vec<Value>>);

impl MutableList {
    fn items(&self) -> Vec<Value> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

impl Object for MutableList {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let items = self.items();
        let index = key.as_i64()?;
        let index = if index < 0 {
            items.len().checked_sub(index.unsigned_abs() as usize)?
        } else {
            index as usize
        };
        items.get(index).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.items())
    }

    fn call_method(
        self: &Arc<Self>,
        _: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        // Arguments are read, and items compared, before the list is
        // locked: an argument may be (or hold) the list itself.
        let me = Arc::as_ptr(self) as *const ();
        let incoming = |values: Vec<Value>| -> Vec<Value> {
            values
                .into_iter()
                .map(|v| without_cycle(changeable(v), me))
                .collect()
        };
        let current = self.items();
        let position = |value: &Value| current.iter().position(|v| v == value);
        let change = |f: &mut dyn FnMut(&mut Vec<Value>)| -> Result<(), Error> {
            let mut items = self
                .0
                .lock()
                .map_err(|_| Error::new(ErrorKind::InvalidOperation, "list in use"))?;
            f(&mut items);
            // Rendering is bounded in work (fuel) and output; a list that
            // doubles in a loop is bounded here.
            if items.len() > MAX_LIST_ITEMS {
                items.truncate(MAX_LIST_ITEMS);
                return Err(Error::new(
                    ErrorKind::InvalidOperation,
                    format!("a list grows past {MAX_LIST_ITEMS} items"),
                ));
            }
            Ok(())
        };
        match (method, args) {
            ("append", [value]) => {
                let mut new = incoming(vec![value.clone()]);
                change(&mut |items| items.append(&mut new))?;
            }
            ("extend", [values]) => {
                let mut new = incoming(values.try_iter()?.collect());
                change(&mut |items| items.append(&mut new))?;
            }
            ("insert", [at, value]) => {
                let mut new = incoming(vec![value.clone()]);
                change(&mut |items| {
                    let at = at.as_usize().unwrap_or(items.len()).min(items.len());
                    items.splice(at..at, new.drain(..));
                })?;
            }
            ("pop", rest) => {
                let mut popped = Value::from(());
                change(&mut |items| {
                    let at = match rest.first() {
                        Some(i) => i.as_usize().filter(|&i| i < items.len()),
                        None => items.len().checked_sub(1),
                    };
                    if let Some(at) = at {
                        popped = items.remove(at);
                    }
                })?;
                return Ok(popped);
            }
            ("remove", [value]) => {
                if let Some(at) = position(value) {
                    change(&mut |items| {
                        if at < items.len() {
                            items.remove(at);
                        }
                    })?;
                }
            }
            ("clear", []) => change(&mut |items| items.clear())?,
            ("sort", rest) => {
                // `sort()`, `sort(reverse=true)`.
                let reverse = rest
                    .last()
                    .filter(|v| v.is_kwargs())
                    .and_then(|v| Kwargs::try_from(v.clone()).ok())
                    .and_then(|k| k.get::<Option<bool>>("reverse").ok().flatten())
                    .unwrap_or(false);
                change(&mut |items| {
                    items.sort();
                    if reverse {
                        items.reverse();
                    }
                })?
            }
            ("reverse", []) => change(&mut |items| items.reverse())?,
            ("index", [value]) => return Ok(Value::from(position(value))),
            ("count", [value]) => {
                return Ok(Value::from(current.iter().filter(|v| *v == value).count()))
            }
            ("copy", []) => return Ok(Value::from_object(MutableList(Mutex::new(current)))),
            _ => return Err(Error::from(ErrorKind::UnknownMethod)),
        }
        Ok(Value::from(""))
    }
}

/// `value`, or when it holds the container at `container` (putting it there
/// would make a circle no printout ends), a copy of it where that container
/// is none.
fn without_cycle(value: Value, container: *const ()) -> Value {
    /// The container an object is, by address, with its contents: a
    /// changeable list or dict, or any other (a `namespace()` may hold one).
    fn contents(value: &Value) -> Option<(*const (), Vec<Value>, bool)> {
        let object = value.as_object()?;
        if let Some(list) = object.downcast_ref::<MutableList>() {
            return Some((list as *const MutableList as *const (), list.items(), true));
        }
        if let Some(dict) = object.downcast_ref::<MutableDict>() {
            let items = dict
                .entries()
                .into_iter()
                .flat_map(|(k, v)| [k, v])
                .collect();
            return Some((dict as *const MutableDict as *const (), items, true));
        }
        let address = object as *const minijinja::value::DynObject as *const ();
        let items: Vec<Value> = match value.kind() {
            ValueKind::Map => value
                .try_iter()
                .ok()?
                .map(|k| value.get_item(&k).unwrap_or_default())
                .collect(),
            ValueKind::Seq => value.try_iter().ok()?.collect(),
            _ => return None,
        };
        Some((address, items, false))
    }
    // Each changeable container is looked into once, however often it is
    // shared; other objects (whose identity is not known) only so deep and
    // so often, past which the value is taken to hold it.
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![(value.clone(), 0usize)];
    let mut budget = 10_000usize;
    let mut holds = false;
    while let Some((next, depth)) = stack.pop() {
        budget = budget.saturating_sub(1);
        if budget == 0 || depth > 32 {
            holds = true;
            break;
        }
        if let Some((address, items, ours)) = contents(&next) {
            if address == container {
                holds = true;
                break;
            }
            if seen.insert(address) {
                let depth = if ours { depth } else { depth + 1 };
                stack.extend(items.into_iter().map(|item| (item, depth)));
            }
        }
    }
    if !holds {
        return value;
    }
    fn frozen(value: &Value, container: *const (), depth: usize) -> Value {
        let Some(object) = value.as_object() else {
            return value.clone();
        };
        if depth > 32 || FROZEN_BUDGET.with(|b| b.replace(b.get().saturating_sub(1))) == 0 {
            return Value::from(());
        }
        if let Some(list) = object.downcast_ref::<MutableList>() {
            if std::ptr::eq(list as *const MutableList as *const (), container) {
                return Value::from(());
            }
            return Value::from(
                list.items()
                    .iter()
                    .map(|v| frozen(v, container, depth + 1))
                    .collect::<Vec<_>>(),
            );
        }
        if let Some(dict) = object.downcast_ref::<MutableDict>() {
            if std::ptr::eq(dict as *const MutableDict as *const (), container) {
                return Value::from(());
            }
            let map: std::collections::BTreeMap<Value, Value> = dict
                .entries()
                .iter()
                .map(|(k, v)| (k.clone(), frozen(v, container, depth + 1)))
                .collect();
            return Value::from(map);
        }
        // Another map (a `namespace()`): a copy.
        if value.kind() == ValueKind::Map && object.downcast_ref::<Relation>().is_none() {
            let map: std::collections::BTreeMap<Value, Value> = value
                .try_iter()
                .map(|keys| {
                    keys.map(|k| {
                        let v = value.get_item(&k).unwrap_or_default();
                        (k, frozen(&v, container, depth + 1))
                    })
                    .collect()
                })
                .unwrap_or_default();
            return Value::from(map);
        }
        value.clone()
    }
    FROZEN_BUDGET.with(|b| b.set(10_000));
    frozen(&value, container, 0)
}

/// A dict that templates change in place (`update`, `setdefault`, …).
#[derive(Debug, Default)]
struct MutableDict(Mutex<Vec<(Value, Value)>>);

impl MutableDict {
    fn entries(&self) -> Vec<(Value, Value)> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// Keys are compared before the dict is locked: a key may be (or hold)
    /// the dict itself.
    fn position(&self, key: &Value) -> Option<usize> {
        self.entries().iter().position(|(k, _)| k == key)
    }

    fn set(&self, key: Value, value: Value) {
        let me = self as *const MutableDict as *const ();
        let (key, value) = (without_cycle(key, me), without_cycle(value, me));
        let at = self.position(&key);
        if let Ok(mut entries) = self.0.lock() {
            match at.filter(|&i| i < entries.len()) {
                Some(i) => entries[i].1 = value,
                None => entries.push((key, value)),
            }
        }
    }
}

impl Object for MutableDict {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.entries()
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.entries().into_iter().map(|(k, _)| k).collect())
    }

    fn call_method(
        self: &Arc<Self>,
        _: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match (method, args) {
            ("update", [other]) => {
                for key in other.try_iter()? {
                    let value = other.get_item(&key)?;
                    self.set(key, changeable(value));
                }
            }
            ("setdefault", [key, rest @ ..]) => {
                if let Some(found) = self.get_value(key) {
                    return Ok(found);
                }
                let value = changeable(rest.first().cloned().unwrap_or(Value::from(())));
                self.set(key.clone(), value.clone());
                return Ok(value);
            }
            ("pop", [key, rest @ ..]) => {
                let found = self.position(key);
                let mut entries = self
                    .0
                    .lock()
                    .map_err(|_| Error::new(ErrorKind::InvalidOperation, "dict in use"))?;
                return Ok(match found.filter(|&i| i < entries.len()) {
                    Some(i) => entries.remove(i).1,
                    None => rest.first().cloned().unwrap_or_default(),
                });
            }
            ("get", [key, rest @ ..]) => {
                return Ok(self
                    .get_value(key)
                    .or_else(|| rest.first().cloned())
                    .unwrap_or(Value::from(())))
            }
            ("keys", []) => {
                return Ok(Value::from(
                    self.entries()
                        .into_iter()
                        .map(|(k, _)| k)
                        .collect::<Vec<_>>(),
                ))
            }
            ("values", []) => {
                return Ok(Value::from(
                    self.entries()
                        .into_iter()
                        .map(|(_, v)| v)
                        .collect::<Vec<_>>(),
                ))
            }
            ("items", []) => {
                return Ok(Value::from(
                    self.entries()
                        .into_iter()
                        .map(|(k, v)| Value::from(vec![k, v]))
                        .collect::<Vec<_>>(),
                ))
            }
            ("copy", []) => return Ok(Value::from_object(MutableDict(Mutex::new(self.entries())))),
            ("clear", []) => {
                if let Ok(mut entries) = self.0.lock() {
                    entries.clear();
                }
            }
            _ => return Err(Error::from(ErrorKind::UnknownMethod)),
        }
        Ok(Value::from(""))
    }
}

/// What `return(value)` raises inside a project's or package's macro: its
/// [`DbtMacro`] wrapper catches it and gives the value (as dbt does).
const RETURN_SIGNAL: &str = "__dbt_return__";

/// dbt's `return(value)`: inside a project's or package's macro it ends the
/// macro with `value`; elsewhere (a model's own macro) it prints `value`.
fn dbt_return(value: Value) -> Result<Value, Error> {
    if MACRO_DEPTH.with(|d| d.get()) == 0 {
        return Ok(value);
    }
    RETURN_SLOT.with(|r| *r.borrow_mut() = Some(value));
    Err(Error::new(ErrorKind::InvalidOperation, RETURN_SIGNAL))
}

/// A project's or package's macro, as its callers see it: the call gives
/// the value of its `return()` itself, not its printout, and arguments the
/// macro does not take are dropped rather than an error.
#[derive(Debug)]
struct DbtMacro {
    inner: Value,
    /// Its parameters' names, and whether it takes a `caller`; read on the
    /// first call (most macros of a package are never called).
    signature: std::sync::OnceLock<(Vec<String>, bool)>,
}

impl DbtMacro {
    fn value(inner: Value) -> Value {
        Value::from_object(DbtMacro {
            inner,
            signature: std::sync::OnceLock::new(),
        })
    }

    /// `args` cut to what the macro takes: positional ones up to its
    /// parameters, keyword ones it names (and `caller` when it uses one).
    /// `None` when they fit as they are.
    fn fitted(&self, args: &[Value]) -> (Option<Vec<Value>>, ExtraArgs) {
        let (names, takes_caller) = self.signature.get_or_init(|| {
            let names = self
                .inner
                .get_attr("arguments")
                .ok()
                .and_then(|a| a.try_iter().ok())
                .map(|a| a.filter_map(|v| v.as_str().map(str::to_string)).collect())
                .unwrap_or_default();
            let takes_caller = self.inner.get_attr("caller").is_ok_and(|v| v.is_true());
            (names, takes_caller)
        });
        let (positional, kwargs) = match args.split_last() {
            Some((last, rest)) if last.is_kwargs() => (rest, Kwargs::try_from(last.clone()).ok()),
            _ => (args, None),
        };
        let taken = positional.len().min(names.len());
        let known = |key: &str| {
            (key == "caller" && *takes_caller) || names.iter().skip(taken).any(|n| n == key)
        };
        let fits =
            positional.len() <= names.len() && kwargs.as_ref().is_none_or(|k| k.args().all(known));
        if fits {
            return (None, ExtraArgs::default());
        }
        // What the macro takes no parameter for is its `varargs` and `kwargs`.
        let extra = ExtraArgs {
            positional: positional.iter().skip(names.len()).cloned().collect(),
            keyword: kwargs
                .as_ref()
                .map(|k| {
                    k.args()
                        .filter(|key| !known(key))
                        .filter_map(|key| Some((key.to_string(), k.get::<Value>(key).ok()?)))
                        .collect()
                })
                .unwrap_or_default(),
        };
        let mut fitted: Vec<Value> = positional.iter().take(names.len()).cloned().collect();
        if let Some(kwargs) = kwargs {
            let kept: Kwargs = kwargs
                .args()
                .filter(|key| known(key))
                .filter_map(|key| Some((key.to_string(), kwargs.get::<Value>(key).ok()?)))
                .collect();
            if kept.args().next().is_some() {
                fitted.push(Value::from(kept));
            }
        }
        (Some(fitted), extra)
    }
}

/// Arguments a macro has no parameter for.
#[derive(Debug, Default, Clone)]
struct ExtraArgs {
    positional: Vec<Value>,
    keyword: Vec<(String, Value)>,
}

/// Jinja's `varargs` and `kwargs` inside a project's or package's macro
/// (minijinja's macros have neither): the running macro's extra arguments.
#[derive(Debug)]
enum CurrentExtraArgs {
    Varargs,
    Kwargs,
}

impl CurrentExtraArgs {
    fn current() -> ExtraArgs {
        EXTRA_ARGS.with(|e| e.borrow().last().cloned().unwrap_or_default())
    }
}

impl Object for CurrentExtraArgs {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        match **self {
            CurrentExtraArgs::Varargs => ObjectRepr::Seq,
            CurrentExtraArgs::Kwargs => ObjectRepr::Map,
        }
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let extra = Self::current();
        match **self {
            CurrentExtraArgs::Varargs => extra.positional.get(key.as_usize()?).cloned(),
            CurrentExtraArgs::Kwargs => {
                let key = key.as_str()?;
                extra
                    .keyword
                    .into_iter()
                    .find(|(k, _)| k == key)
                    .map(|(_, v)| v)
            }
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let extra = Self::current();
        match **self {
            CurrentExtraArgs::Varargs => Enumerator::Values(extra.positional),
            CurrentExtraArgs::Kwargs => Enumerator::Values(
                extra
                    .keyword
                    .into_iter()
                    .map(|(k, _)| Value::from(k))
                    .collect(),
            ),
        }
    }

    fn call_method(
        self: &Arc<Self>,
        _: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let extra = Self::current();
        match (method, args) {
            ("get", [key, rest @ ..]) => Ok(self
                .get_value(key)
                .or_else(|| rest.first().cloned())
                .unwrap_or(Value::from(()))),
            ("items", []) => Ok(Value::from(
                extra
                    .keyword
                    .into_iter()
                    .map(|(k, v)| Value::from(vec![Value::from(k), v]))
                    .collect::<Vec<_>>(),
            )),
            ("keys", []) => Ok(Value::from(
                extra
                    .keyword
                    .into_iter()
                    .map(|(k, _)| Value::from(k))
                    .collect::<Vec<_>>(),
            )),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

impl Object for DbtMacro {
    fn call(self: &Arc<Self>, state: &mut State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        let (fitted, extra) = self.fitted(args);
        MACRO_DEPTH.with(|d| d.set(d.get() + 1));
        EXTRA_ARGS.with(|e| e.borrow_mut().push(extra));
        let result = self.inner.call(state, fitted.as_deref().unwrap_or(args));
        EXTRA_ARGS.with(|e| e.borrow_mut().pop());
        MACRO_DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
        match result {
            Err(e) if e.detail() == Some(RETURN_SIGNAL) => Ok(RETURN_SLOT
                .with(|r| r.borrow_mut().take())
                .unwrap_or_default()),
            other => other,
        }
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.inner.get_item(key).ok().filter(|v| !v.is_undefined())
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.inner)
    }
}

/// Tags opening and closing blocks whose text is captured (a macro body, a
/// `set` block, a `call` body), not written where they stand.
fn block_change(tag: &str) -> i32 {
    let inner = tag
        .trim_start_matches(['{', '%', '-'])
        .trim_end_matches(['}', '%', '-'])
        .trim();
    let word = inner.split_whitespace().next().unwrap_or("");
    match word {
        "macro" | "call" | "filter" | "test" | "materialization" => 1,
        // `{% set x %}…{% endset %}` captures; `{% set x = … %}` does not.
        "set" if !inner.contains('=') => 1,
        "endmacro" | "endcall" | "endfilter" | "endset" | "endtest" | "endmaterialization" => -1,
        _ => 0,
    }
}

fn marker(kind: char, offset: usize, out: &mut String) {
    out.push(kind);
    out.push_str(&offset.to_string());
    out.push(END);
}

/// The template with position markers in its raw text.
fn with_markers(template: &str) -> String {
    let segments = segments(template);
    let trims_before = |k: usize| {
        segments
            .get(k)
            .is_some_and(|&(start, _, is_tag)| is_tag && template[start + 2..].starts_with('-'))
    };
    let trims_after = |k: usize| {
        k > 0 && {
            let (_, end, is_tag) = segments[k - 1];
            is_tag && template[..end.saturating_sub(2)].ends_with('-')
        }
    };
    let mut out = String::with_capacity(template.len() * 2);
    // Inside a macro (or a captured block) no markers: its text is written
    // where it is called, and maps to that call's marker.
    let mut captured = 0;
    // A tag whose marker went in front of the whitespace it trims.
    let mut marked_early: Option<usize> = None;
    for (k, &(start, end, is_tag)) in segments.iter().enumerate() {
        if is_tag {
            let tag = &template[start..end];
            let change = if tag.starts_with("{%") {
                block_change(tag)
            } else {
                0
            };
            if captured == 0 && change >= 0 && marked_early != Some(k) {
                marker(PINNED, start, &mut out);
            }
            captured = (captured + change).max(0);
            out.push_str(&with_mutable_literal(tag));
            continue;
        }
        let raw = &template[start..end];
        if captured > 0 {
            out.push_str(raw);
            continue;
        }
        // Whitespace a `-` tag trims must touch the tag: no marker inside it.
        let lead = if trims_after(k) {
            raw.len() - raw.trim_start().len()
        } else {
            0
        };
        let tail = if trims_before(k + 1) {
            raw.len() - raw.trim_end().len()
        } else {
            0
        };
        let (lead, tail) = if lead + tail > raw.len() {
            (raw.len(), 0)
        } else {
            (lead, tail)
        };
        out.push_str(&raw[..lead]);
        let body_end = raw.len() - tail;
        if lead < body_end {
            marker(RAW, start + lead, &mut out);
            for (i, c) in raw[lead..body_end].char_indices() {
                out.push(c);
                let next = start + lead + i + 1;
                if c == '\n' && next < start + body_end {
                    marker(RAW, next, &mut out);
                }
            }
        }
        if tail > 0 {
            marker(PINNED, end, &mut out);
            marked_early = Some(k + 1);
            out.push_str(&raw[body_end..]);
        }
    }
    out
}

/// Removes the markers, recording where each remaining byte came from.
fn strip_markers(rendered: &str) -> Rendered {
    let mut text = String::with_capacity(rendered.len());
    let mut origin = Vec::with_capacity(rendered.len());
    let (mut at, mut pinned) = (0usize, true);
    let mut chars = rendered.chars().peekable();
    while let Some(c) = chars.next() {
        if c == RAW || c == PINNED {
            let mut digits = String::new();
            for d in chars.by_ref() {
                if d == END {
                    break;
                }
                digits.push(d);
            }
            at = digits.parse().unwrap_or(at);
            pinned = c == PINNED;
            continue;
        }
        text.push(c);
        origin.extend(std::iter::repeat_n(at as u32, c.len_utf8()));
        if !pinned {
            at += c.len_utf8();
        }
    }
    Rendered {
        text,
        origin,
        unknown_macros: Vec::new(),
        refs: Vec::new(),
        wants_upstream_columns: false,
    }
}

/// A stand-in for anything the project's macros and packages would provide:
/// every attribute is another stand-in, calling one gives a placeholder.
#[derive(Debug)]
struct Placeholder {
    /// As written in the template, dotted (`dbt_utils.star`).
    path: String,
    /// A stand-in for something dbt has (`modules.datetime`, `flags`), not a
    /// missing macro: its calls are not reported.
    builtin: bool,
}

thread_local! {
    /// The stand-ins called while rendering the current template.
    static CALLED: std::cell::RefCell<BTreeSet<String>> = const { std::cell::RefCell::new(BTreeSet::new()) };
    /// The models the current template `ref()`s.
    static REFS: std::cell::RefCell<BTreeSet<String>> = const { std::cell::RefCell::new(BTreeSet::new()) };
    /// The output columns of the models known to the current render.
    static UPSTREAM_COLUMNS: std::cell::RefCell<Arc<HashMap<String, Vec<String>>>> = std::cell::RefCell::new(Arc::default());
    /// How many more containers a copy without a circle may make.
    static FROZEN_BUDGET: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    /// How deep renders of vars holding Jinja nest now.
    static VAR_DEPTH: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    /// Vars holding Jinja, as rendered for the current template.
    static VAR_CACHE: std::cell::RefCell<HashMap<String, Value>> = std::cell::RefCell::new(HashMap::new());
    /// Macros being called through renders of their own, nested.
    static RENDERED_CALLS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    /// Whether the current render asked for columns it did not know.
    static WANTED_COLUMNS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// The arguments each running project or package macro took no
    /// parameter for: its `varargs` and `kwargs`.
    static EXTRA_ARGS: std::cell::RefCell<Vec<ExtraArgs>> = const { std::cell::RefCell::new(Vec::new()) };
    /// How many project or package macros are running (`return` ends one).
    static MACRO_DEPTH: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    /// The value of the `return()` that is ending a macro.
    static RETURN_SLOT: std::cell::RefCell<Option<Value>> = const { std::cell::RefCell::new(None) };
}

impl Placeholder {
    fn value(path: &str, called: bool) -> Value {
        Placeholder::stand_in(path, called, false)
    }

    /// A stand-in for one of dbt's own objects, whose calls are not reported.
    fn builtin(path: &str) -> Value {
        Placeholder::stand_in(path, false, true)
    }

    /// A stand-in for `path`; a call of a missing macro (`called`) is noted.
    fn stand_in(path: &str, called: bool, builtin: bool) -> Value {
        if called && !builtin {
            CALLED.with(|c| c.borrow_mut().insert(path.to_string()));
        }
        Value::from_object(Placeholder {
            path: path.to_string(),
            builtin,
        })
    }

    /// The placeholder's SQL name: `dbt_utils.star` is `__jinja_dbt_utils_star`.
    fn sql_name(&self) -> String {
        Placeholder::sql_name_of(&self.path)
    }

    /// The SQL name of a placeholder for `path`, without the prefix.
    fn sql_name_of(path: &str) -> String {
        path.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect()
    }
}

impl Object for Placeholder {
    /// An empty sequence to loops, `length`, `in` and `+` (an undefined
    /// var that a template adds a list to), a name when printed.
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(0)
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let path = format!("{}.{}", self.path, key);
        Some(Placeholder::stand_in(&path, false, self.builtin))
    }

    fn call(self: &Arc<Self>, _: &mut State<'_, '_>, _: &[Value]) -> Result<Value, Error> {
        Ok(Placeholder::stand_in(&self.path, true, self.builtin))
    }

    fn call_method(
        self: &Arc<Self>,
        _: &mut State<'_, '_>,
        method: &str,
        _: &[Value],
    ) -> Result<Value, Error> {
        let path = format!("{}.{method}", self.path);
        Ok(Placeholder::stand_in(&path, true, self.builtin))
    }

    fn is_true(self: &Arc<Self>) -> bool {
        false
    }

    /// A bare name, which SQL takes wherever an expression, a table or a
    /// type goes; two side by side (`{{ a() }} {{ b() }}`) still parse.
    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PLACEHOLDER_PREFIX}_{}", self.sql_name())
    }
}

/// dbt's `modules`: Python's `re` as Python has it; `datetime`, `pytz` and
/// the rest stand-ins (the clock is the run's, not ours).
#[derive(Debug)]
struct PythonModules;

impl Object for PythonModules {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        Some(match key.as_str()? {
            "re" => python_re::PythonRe::value(),
            other => Placeholder::builtin(&format!("modules.{other}")),
        })
    }
}

/// dbt's `adapter`: `adapter.dispatch('name', 'package')` resolves
/// `<adapter>__name`, then `default__name`, among the macros in scope (the
/// package's when named); anything else is a placeholder.
#[derive(Debug)]
struct Adapter {
    adapter_type: String,
    /// Installed packages, searched when no package is named.
    packages: Vec<String>,
}

impl Object for Adapter {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        Some(Placeholder::value(&format!("adapter.{key}"), false))
    }

    fn call_method(
        self: &Arc<Self>,
        state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        // The warehouse's answers, which rendering offline does without: no
        // relation is known to exist and none has columns, so packages take
        // the branches they take for a schema without the table.
        match method {
            "get_relation" | "load_relation" | "load_cached_relation" => {
                return Ok(Value::from(()))
            }
            "get_columns_in_relation" => return Ok(columns_of(args.first())),
            "get_missing_columns" | "list_relations_without_caching" => {
                return Ok(Value::from(Vec::<Value>::new()))
            }
            "quote" => {
                let name = args.first().map(Value::to_string).unwrap_or_default();
                return Ok(Value::from_safe_string(format!("\"{name}\"")));
            }
            _ => {}
        }
        if method != "dispatch" {
            // Anything else (`adapter.type()`, …): a stand-in, not a missing
            // macro.
            return Ok(Placeholder::stand_in(
                &format!("adapter.{method}"),
                true,
                true,
            ));
        }
        let Some(name) = args.first().and_then(|a| a.as_str()) else {
            return Ok(Placeholder::value("adapter.dispatch", true));
        };
        let candidates: Vec<String> = dispatch_order(&self.adapter_type)
            .iter()
            .map(|prefix| format!("{prefix}__{name}"))
            .collect();
        let namespace = args.get(1).and_then(|a| a.as_str()).map(str::to_string);
        // dbt's own macros: here they are the plain-named builtins (never the
        // caller's `default__`, which would call itself without end).
        if namespace.as_deref() == Some("dbt") {
            return Ok(if builtin_names().iter().any(|n| n == name) {
                RenderedCall::value("__dbt", name)
            } else {
                Placeholder::value(&format!("dbt.{name}"), false)
            });
        }
        let scopes: Vec<Option<String>> = match namespace {
            // A package not imported here is the calling package itself.
            Some(ns) => vec![Some(ns), None],
            None => std::iter::once(None)
                .chain(self.packages.iter().cloned().map(Some))
                .collect(),
        };
        for candidate in &candidates {
            for scope in &scopes {
                let found = match scope {
                    None => state.lookup(candidate),
                    Some(ns) => state
                        .lookup(ns)
                        .and_then(|module| module.get_attr(candidate).ok()),
                };
                if let Some(found) = found.filter(|v| !v.is_undefined() && !v.is_none()) {
                    if is_placeholder(&found) {
                        continue;
                    }
                    return Ok(found);
                }
            }
        }
        Ok(Placeholder::value(&format!("dispatch.{name}"), false))
    }
}

fn is_placeholder(value: &Value) -> bool {
    value
        .as_object()
        .is_some_and(|o| o.downcast_ref::<Placeholder>().is_some())
}

/// dbt's `ref('model')` or `ref('package', 'model')` (`version=` aside):
/// the model, as a relation named as the model.
fn dbt_ref(args: Rest<Value>, _kwargs: Kwargs) -> Result<Value, Error> {
    let name = args
        .iter()
        .rev()
        .find_map(|a| a.as_str().map(str::to_string))
        .unwrap_or_default();
    REFS.with(|r| r.borrow_mut().insert(name.to_lowercase()));
    Ok(Relation::value(true, "analytics", &name, &name))
}

/// dbt's `source('source', 'table')`: the relation `source.table`.
fn dbt_source(source: String, table: String) -> Value {
    Relation::value(false, &source, &table, &format!("{source}.{table}"))
}

/// The implementations `adapter.dispatch` tries, in order: the adapter's
/// own, those of the adapters it builds on (as dbt does: redshift on
/// postgres, databricks on spark), `default__`; then, since no warehouse
/// decides here, any adapter's, so that a package with only adapter-specific
/// versions (no `default__`) still renders.
fn dispatch_order(adapter: &str) -> Vec<&str> {
    let parents: &[&str] = match adapter {
        "redshift" => &["postgres"],
        "databricks" | "hive" => &["spark"],
        "duckdb" => &["postgres"],
        _ => &[],
    };
    let mut order = vec![adapter];
    order.extend_from_slice(parents);
    order.push("default");
    for fallback in [
        "postgres",
        "snowflake",
        "bigquery",
        "redshift",
        "databricks",
        "spark",
        "duckdb",
    ] {
        if !order.contains(&fallback) {
            order.push(fallback);
        }
    }
    order
}

/// What `ref()` and `source()` give, as in dbt: a relation that prints as
/// its name and answers `.schema`, `.identifier`, `.is_table`, … (so
/// `dbt_utils.union_relations([ref('a'), ref('b')])` takes them).
#[derive(Debug)]
struct Relation {
    /// A `ref()`ed model (whose columns lineage may know), not a source.
    model: bool,
    schema: String,
    identifier: String,
    /// How it prints in the SQL.
    text: String,
}

impl Relation {
    fn value(model: bool, schema: &str, identifier: &str, text: &str) -> Value {
        Value::from_object(Relation {
            model,
            schema: schema.to_string(),
            identifier: identifier.to_string(),
            text: text.to_string(),
        })
    }
}

impl Object for Relation {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        Some(match key.as_str()? {
            "database" => Value::from("analytics"),
            "schema" => Value::from(self.schema.clone()),
            "identifier" | "name" | "table" => Value::from(self.identifier.clone()),
            "type" => Value::from("table"),
            "is_table" => Value::from(true),
            "is_view" | "is_cte" => Value::from(false),
            "metadata" => minijinja::context! { type => "BaseRelation" },
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(&["database", "schema", "identifier", "type", "metadata"])
    }

    fn call_method(
        self: &Arc<Self>,
        _: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "get" => Ok(args
                .first()
                .and_then(|key| self.get_value(key))
                .or_else(|| args.get(1).cloned())
                .unwrap_or(Value::from(()))),
            "render" => Ok(Value::from_safe_string(self.text.clone())),
            // `include(database=false)`, `quote(…)`, `incorporate(…)`: the
            // same relation, as far as its SQL name goes here.
            _ => Ok(Value::from_dyn_object(self.clone())),
        }
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// `adapter.get_columns_in_relation(relation)` offline: a `ref()`ed model's
/// output columns when lineage knows them, else none (and the render notes
/// that it asked, to be done again when they are known).
fn columns_of(relation: Option<&Value>) -> Value {
    let model = relation
        .and_then(Value::as_object)
        .and_then(|o| o.downcast_ref::<Relation>())
        .filter(|r| r.model)
        .map(|r| r.identifier.to_lowercase());
    let Some(model) = model else {
        return Value::from(Vec::<Value>::new());
    };
    let known = UPSTREAM_COLUMNS.with(|c| c.borrow().get(&model).cloned());
    match known {
        Some(names) => Value::from(
            names
                .into_iter()
                .map(|name| Value::from_object(Column(name)))
                .collect::<Vec<_>>(),
        ),
        None => {
            WANTED_COLUMNS.with(|w| w.set(true));
            Value::from(Vec::<Value>::new())
        }
    }
}

/// A column as `get_columns_in_relation` gives it: `.name`, `.column`,
/// `.quoted`, `.data_type` (numeric: casts to it are transparent to the
/// comparison), `.is_string()` and the like.
#[derive(Debug)]
struct Column(String);

impl Object for Column {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        Some(match key.as_str()? {
            "name" | "column" => Value::from(self.0.clone()),
            "quoted" => Value::from_safe_string(format!("\"{}\"", self.0)),
            "data_type" | "dtype" => Value::from("numeric"),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(&["name", "column", "quoted", "data_type", "dtype"])
    }

    fn call_method(
        self: &Arc<Self>,
        _: &mut State<'_, '_>,
        method: &str,
        _: &[Value],
    ) -> Result<Value, Error> {
        Ok(match method {
            "is_numeric" | "is_number" => Value::from(true),
            "string_size" | "numeric_precision" | "numeric_scale" => Value::from(0),
            _ if method.starts_with("is_") => Value::from(false),
            _ => Value::from(()),
        })
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A macro called by rendering a template of its own: one of dbt's own, as
/// `adapter.dispatch('name', 'dbt')` gives it (a macro's body cannot see the
/// `dbt` module of the template that calls it), or a package's that cannot
/// be imported where it is called (packages that call each other).
#[derive(Debug)]
struct RenderedCall {
    /// The template holding the macro.
    template: String,
    name: String,
}

impl RenderedCall {
    fn value(template: &str, name: &str) -> Value {
        Value::from_object(RenderedCall {
            template: template.to_string(),
            name: name.to_string(),
        })
    }
}

impl Object for RenderedCall {
    fn call(self: &Arc<Self>, state: &mut State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        let mut context = BTreeMap::new();
        let mut params = Vec::new();
        for (i, arg) in args.iter().enumerate() {
            match Kwargs::try_from(arg.clone())
                .ok()
                .filter(|_| arg.is_kwargs())
            {
                Some(kwargs) => {
                    for key in kwargs.args() {
                        let value: Value = kwargs.get(key)?;
                        context.insert(format!("__k_{key}"), value);
                        params.push(format!("{key}=__k_{key}"));
                    }
                }
                None => {
                    context.insert(format!("__a{i}"), arg.clone());
                    params.push(format!("__a{i}"));
                }
            }
        }
        // The call's value (a list, a boolean) is kept, not its printout.
        let source = format!(
            "{{% import '{}' as __m %}}{{% set __result = __m.{}({}) %}}",
            self.template,
            exported_name(&self.name),
            params.join(", ")
        );
        // A render of its own has its own depth: two packages calling each
        // other without end are bounded here.
        let depth = RENDERED_CALLS.with(|d| d.replace(d.get() + 1));
        let result = if depth >= 32 {
            Err(Error::new(
                ErrorKind::InvalidOperation,
                format!(
                    "macro `{}` calls itself through other packages without end",
                    self.name
                ),
            ))
        } else {
            state
                .env()
                .template_from_str(&source)
                .and_then(|template| template.render_captured(context))
                .map(|captured| captured.state().lookup("__result").unwrap_or_default())
        };
        RENDERED_CALLS.with(|d| d.set(d.get().saturating_sub(1)));
        result
    }
}

/// A package that cannot be imported where it is called (it imports the
/// caller's package): its macros render on their own when called.
#[derive(Debug)]
struct LazyPackage {
    namespace: String,
    macros: Vec<String>,
}

impl Object for LazyPackage {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let name = key.as_str()?;
        self.macros
            .iter()
            .any(|m| m == name)
            .then(|| RenderedCall::value(&format!("__pkg_{}", self.namespace), name))
    }

    fn call_method(
        self: &Arc<Self>,
        state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match self.get_value(&Value::from(method)) {
            Some(found) => found.call(state, args),
            None => Ok(Placeholder::value(
                &format!("{}.{method}", self.namespace),
                true,
            )),
        }
    }
}

/// dbt's old `adapter_macro('package.name', args…)`: a dispatch of `name`
/// in `package`, called with the rest.
#[derive(Debug)]
struct AdapterMacro;

impl Object for AdapterMacro {
    fn call(self: &Arc<Self>, state: &mut State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        let Some((name, rest)) = args.split_first() else {
            return Ok(Placeholder::value("adapter_macro", true));
        };
        let name = name.to_string();
        let (namespace, macro_name) = match name.split_once('.') {
            Some((namespace, macro_name)) => (Some(namespace), macro_name),
            None => (None, name.as_str()),
        };
        let mut dispatch_args = vec![Value::from(macro_name)];
        dispatch_args.extend(namespace.map(Value::from));
        let adapter = state.lookup("adapter").unwrap_or_default();
        let found = adapter.call_method(state, "dispatch", &dispatch_args)?;
        found.call(state, rest)
    }
}

/// dbt's `exceptions`: `raise_compiler_error(msg)` stops the render as dbt
/// would; warnings and the rest print nothing.
#[derive(Debug)]
struct Exceptions;

impl Object for Exceptions {
    fn call_method(
        self: &Arc<Self>,
        _: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let message = args.first().map(Value::to_string).unwrap_or_default();
        match method {
            "warn" => Ok(Value::from("")),
            _ if method.starts_with("raise") => Err(Error::new(
                ErrorKind::InvalidOperation,
                format!("the template raises a compiler error: {message}"),
            )),
            _ => Ok(Value::from("")),
        }
    }
}

/// A YAML value (a dbt var) as a Jinja value, types kept.
fn yaml_value(v: &serde_yaml::Value) -> Value {
    match v {
        serde_yaml::Value::Null => Value::from(()),
        serde_yaml::Value::Bool(b) => Value::from(*b),
        serde_yaml::Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Value::from(i),
            (None, Some(f)) => Value::from(f),
            _ => Value::from(n.to_string()),
        },
        serde_yaml::Value::String(s) => Value::from(s.clone()),
        serde_yaml::Value::Sequence(items) => {
            Value::from(items.iter().map(yaml_value).collect::<Vec<_>>())
        }
        serde_yaml::Value::Mapping(map) => Value::from(
            map.iter()
                .map(|(k, v)| {
                    (
                        k.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| format!("{k:?}")),
                        yaml_value(v),
                    )
                })
                .collect::<BTreeMap<String, Value>>(),
        ),
        serde_yaml::Value::Tagged(t) => yaml_value(&t.value),
    }
}

/// Names the template calls or reads attributes of, from inside its tags.
fn referenced_names(template: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (start, end, is_tag) in segments(template) {
        if !is_tag {
            continue;
        }
        let tag = &template[start..end];
        let chars: Vec<char> = tag.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            if chars[i].is_alphabetic() || chars[i] == '_' {
                let begin = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                let after_dot = begin > 0 && chars[begin - 1] == '.';
                let next = chars.get(i).copied();
                if !after_dot && matches!(next, Some('(') | Some('.')) {
                    names.insert(chars[begin..i].iter().collect());
                }
            } else if chars[i] == '\'' || chars[i] == '"' {
                // Skip string literals.
                let quote = chars[i];
                i += 1;
                while i < chars.len() && chars[i] != quote {
                    i += 1;
                }
                i += 1;
            } else {
                i += 1;
            }
        }
    }
    names
}

/// Functions and globals that behave as in dbt, or that Jinja provides.
/// How a var that renders itself without end is told.
const SELF_REFERENCE: &str = "refers to itself through the Jinja of vars";

/// dbt's other globals, which no hole outside dbt means as a parameter.
const DBT_GLOBALS: &[&str] = &[
    "this",
    "modules",
    "flags",
    "graph",
    "model",
    "invocation_id",
    "run_started_at",
    "api",
    "adapter",
    "exceptions",
    "execute",
    "builtins",
    "dbt",
];

const KNOWN: &[&str] = &[
    "statement",
    "load_result",
    "ref",
    "source",
    "config",
    "var",
    "env_var",
    "is_incremental",
    "log",
    "return",
    "run_query",
    "target",
    "range",
    "dict",
    "namespace",
    "lipsum",
    "cycler",
    "joiner",
    "debug",
    "loop",
    "caller",
    "super",
    "self",
    "varargs",
    "kwargs",
];

fn environment(dialect: Dialect, project: Option<&Project>) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Lenient);
    env.set_fuel(Some(FUEL));
    // A package macro the installed package does not define (or a Python
    // method Jinja lacks) renders as a placeholder, never as an error.
    let namespaces: Vec<String> = project
        .map(|p| p.packages.iter().map(|b| b.namespace.clone()).collect())
        .unwrap_or_default();
    env.set_unknown_method_callback(move |state, value, method, args| {
        let defined = value.get_attr(method).is_ok_and(|v| !v.is_undefined());
        if defined {
            // A macro the package does define: let the engine call it.
            return Err(Error::from(ErrorKind::UnknownMethod));
        }
        // Python's str, dict and list methods (`.upper()`, `.items()`).
        if let Ok(found) =
            minijinja_contrib::pycompat::unknown_method_callback(state, value, method, args)
        {
            return Ok(found);
        }
        // Changing a list or dict the template cannot change: nothing to say.
        let mutation = matches!(
            method,
            "append" | "extend" | "insert" | "pop" | "remove" | "update" | "setdefault" | "clear"
        );
        if mutation
            && matches!(
                value.kind(),
                ValueKind::Seq | ValueKind::Iterable | ValueKind::Map
            )
        {
            return Ok(Value::from(""));
        }
        // Named as called: `dbt_utils.group_by`, not `group_by`.
        let namespace = std::iter::once("dbt")
            .chain(namespaces.iter().map(String::as_str))
            .find(|n| state.lookup(n).is_some_and(|m| m == *value));
        let path = match namespace {
            Some(namespace) => format!("{namespace}.{method}"),
            None => method.to_string(),
        };
        Ok(Placeholder::value(&path, true))
    });
    env.add_global("adapter_macro", Value::from_object(AdapterMacro));
    env.add_global("varargs", Value::from_object(CurrentExtraArgs::Varargs));
    env.add_global("kwargs", Value::from_object(CurrentExtraArgs::Kwargs));
    env.add_function("ref", dbt_ref);
    env.add_function("source", dbt_source);
    // What a project's own `ref` macro (overriding dbt's) calls.
    env.add_global(
        "builtins",
        minijinja::context! {
            ref => Value::from_function(dbt_ref),
            source => Value::from_function(dbt_source),
            config => Value::from_function(|_: Rest<Value>, _: Kwargs| Value::from("")),
        },
    );
    env.add_function("config", |_: Rest<Value>, _: Kwargs| -> Value {
        Value::from("")
    });
    let vars: BTreeMap<String, Value> = project
        .map(|p| {
            p.vars
                .iter()
                .map(|(k, v)| (k.clone(), yaml_value(v)))
                .collect()
        })
        .unwrap_or_default();
    env.add_function(
        "var",
        move |state: &State, name: String, default: Option<Value>| -> Result<Value, Error> {
            match vars.get(&name) {
                // dbt renders a var's text: `"{{ ref('stg_ads') }}"` is the relation.
                Some(value) if value.as_str().is_some_and(is_templated) => {
                    // Rendered once per template (in a render of its own,
                    // which has its own fuel and depth: bounded here).
                    if let Some(known) = VAR_CACHE.with(|c| c.borrow().get(&name).cloned()) {
                        return Ok(known);
                    }
                    let text = value.as_str().unwrap_or_default();
                    let depth = VAR_DEPTH.with(|d| d.replace(d.get() + 1));
                    let result = if depth >= 16 {
                        Err(Error::new(
                            ErrorKind::InvalidOperation,
                            format!("var `{name}` {SELF_REFERENCE}"),
                        ))
                    } else {
                        state.env().render_str(text, ())
                    };
                    VAR_DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
                    let rendered = match result {
                        Ok(text) => Value::from_safe_string(text),
                        // A var that reaches for what only a run has (the
                        // clock's date arithmetic, a warehouse) is a stand-in,
                        // as an unset var is: the model's SQL rarely hangs on it.
                        Err(e)
                            if depth < 16
                                && e.kind() == ErrorKind::InvalidOperation
                                && !e.to_string().contains(SELF_REFERENCE) =>
                        {
                            Placeholder::value(&format!("var_{name}"), false)
                        }
                        Err(e) => return Err(e),
                    };
                    VAR_CACHE.with(|c| c.borrow_mut().insert(name, rendered.clone()));
                    Ok(rendered)
                }
                Some(value) => Ok(value.clone()),
                None => Ok(
                    default.unwrap_or_else(|| Placeholder::value(&format!("var_{name}"), false))
                ),
            }
        },
    );
    // dbt's filters that convert a rendered string back into a value.
    env.add_filter("as_text", |v: Value| -> String { v.to_string() });
    env.add_filter("as_native", |v: Value| -> Value { v });
    env.add_filter("as_bool", |v: Value| -> bool {
        match v.as_str() {
            Some(s) => s.trim().eq_ignore_ascii_case("true"),
            None => v.is_true(),
        }
    });
    env.add_filter("as_number", |v: Value| -> Value {
        let text = v.to_string();
        match (text.trim().parse::<i64>(), text.trim().parse::<f64>()) {
            (Ok(i), _) => Value::from(i),
            (_, Ok(f)) => Value::from(f),
            _ => v,
        }
    });
    // dbt's `print` writes to the console, not the SQL; `tojson` and
    // `fromjson` convert as Python's json does.
    env.add_function("print", |_: Rest<Value>| Value::from(""));
    env.add_function(
        "tojson",
        |value: Value, _: Kwargs| -> Result<String, Error> {
            serde_json::to_string(&value)
                .map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))
        },
    );
    env.add_function(
        "fromjson",
        |text: String, default: Option<Value>| -> Value {
            serde_json::from_str::<Value>(&text).unwrap_or_else(|_| default.unwrap_or_default())
        },
    );
    // Jinja's `dictsort(case_sensitive, by, reverse)` also takes its
    // arguments by position (dbt_metrics' `dictsort(false, 'value')`).
    env.add_filter("dictsort", dictsort);
    // `{% call statement(…) %}` blocks run queries in dbt: nothing to render.
    env.add_function("statement", |_: Rest<Value>, _: Kwargs| -> Value {
        Value::from("")
    });
    env.add_function("load_result", |name: Value| -> Value {
        Placeholder::builtin(&format!("load_result.{name}"))
    });
    // An unset environment variable reads as its name, a string (dbt would
    // stop; a string still joins others: `"USE WAREHOUSE " + env_var("WH")`).
    env.add_function("env_var", |name: String, default: Option<Value>| -> Value {
        default.unwrap_or_else(|| {
            Value::from(Placeholder::value(&format!("env_{name}"), false).to_string())
        })
    });
    env.add_function("is_incremental", || false);
    env.add_function("load_relation", |_: Rest<Value>| Value::from(()));
    env.add_function("log", |_: Rest<Value>, _: Kwargs| -> Value {
        Value::from("")
    });
    env.add_function("return", dbt_return);
    env.add_function("__dbt_changeable", changeable);
    env.add_function(
        "__dbt_unless_holds",
        |value: Value, namespace: Value| -> Value {
            // A namespace's identity is not known here: equal is taken as itself.
            let holds = value == namespace
                || matches!(value.kind(), ValueKind::Seq | ValueKind::Map)
                    && value.try_iter().is_ok_and(|mut items| {
                        items.any(|item| {
                            item == namespace || value.get_item(&item).is_ok_and(|v| v == namespace)
                        })
                    });
            if holds {
                Value::from(())
            } else {
                value
            }
        },
    );
    env.add_function("__dbt_macro", DbtMacro::value);
    let package_macros: BTreeMap<String, Vec<String>> = project
        .map(|p| {
            p.packages
                .iter()
                .map(|b| (b.namespace.clone(), b.macros.clone()))
                .collect()
        })
        .unwrap_or_default();
    env.add_function("__dbt_lazy_package", move |namespace: String| -> Value {
        let macros = package_macros.get(&namespace).cloned().unwrap_or_default();
        Value::from_object(LazyPackage { namespace, macros })
    });
    env.add_function("run_query", |_: Rest<Value>| -> Value {
        Placeholder::builtin("run_query")
    });
    env.add_global(
        "target",
        minijinja::context! {
            type => dialect.name(),
            name => "dev",
            schema => "analytics",
            database => "analytics",
            profile_name => "default",
        },
    );
    env.add_global("this", Placeholder::value("this", false));
    env.add_global("exceptions", Value::from_object(Exceptions));
    // Rendering is compiling (as `dbt compile`, where `execute` is true),
    // without a warehouse: a query's results are empty stand-ins.
    env.add_global("execute", true);
    env.add_global("modules", Value::from_object(PythonModules));
    for name in [
        "flags",
        "graph",
        "model",
        "invocation_id",
        "run_started_at",
        "api",
    ] {
        env.add_global(name, Placeholder::builtin(name));
    }
    env.add_global(
        "adapter",
        Value::from_object(Adapter {
            adapter_type: dialect.name().to_string(),
            packages: project
                .map(|p| p.packages.iter().map(|b| b.namespace.clone()).collect())
                .unwrap_or_default(),
        }),
    );
    // dbt's own macros, then the project's and its packages' macros, as
    // templates to import from.
    let _ = env.add_template("__dbt", DBT_BUILTINS);
    let mut sources = Vec::new();
    if let Some(project) = project {
        let imports = package_import_graph(&project.packages);
        for (bundle, imported) in project.packages.iter().zip(imports) {
            let mut source = builtin_imports(&bundle.source, &referenced_names(&bundle.source));
            for other in &project.packages {
                if other.namespace == bundle.namespace
                    || !mentions(&bundle.source, &other.namespace)
                {
                    continue;
                }
                if imported.contains(&other.namespace.as_str()) {
                    source.push_str(&import_of(&other.namespace));
                } else {
                    // Importing it would close a circle: called lazily.
                    source.push_str(&format!(
                        "{{% set {0} = __dbt_lazy_package('{0}') %}}",
                        other.namespace
                    ));
                }
            }
            source.push_str(&without_own_namespace(bundle));
            source.push_str(&private_exports(bundle));
            let _ = env.add_template_owned(format!("__pkg_{}", bundle.namespace), source);
            sources.push(bundle.source.clone());
        }
        if let Some(bundle) = &project.macros {
            let source = format!(
                "{}{}{}{}",
                builtin_imports(&bundle.source, &referenced_names(&bundle.source)),
                package_imports(project, &bundle.source),
                without_own_namespace(bundle),
                private_exports(bundle)
            );
            let _ = env.add_template_owned("__project_macros", source);
            sources.push(bundle.source.clone());
        }
    }
    // Whatever else the templates reach for: unknown macros, adapter, dbt.*.
    let mut referenced = BTreeSet::new();
    for source in &sources {
        referenced.extend(referenced_names(source));
    }
    let defined: BTreeSet<String> = env.globals().map(|(name, _)| name.to_string()).collect();
    for name in referenced {
        if !KNOWN.contains(&name.as_str()) && !defined.contains(&name) {
            env.add_global(name.clone(), Placeholder::value(&name, false));
        }
    }
    env
}

/// Where the template first calls the macro `name` (`name(`, or `pkg.name(`).
pub(crate) fn call_offset(template: &str, name: &str) -> Option<usize> {
    let call = format!("{name}(");
    template.match_indices(&call).map(|(at, _)| at).find(|&at| {
        !template[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

/// The path as the user would write it from here, when it is below here.
fn relative_to_cwd(path: &std::path::Path) -> &std::path::Path {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok())
        .unwrap_or(path)
}

/// dbt's own macros (the cross-database ones), written for offline rendering.
const DBT_BUILTINS: &str = include_str!("dbt_builtins.sql");

/// The `{% import %}`s that make dbt's own macros callable as `dbt.name` and
/// by bare name (a template's own macros of the same name take precedence),
/// for the names a template calls: each import costs a module evaluation.
/// The names of dbt's own macros.
fn builtin_names() -> &'static [String] {
    static NAMES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| crate::dbt::macro_names(DBT_BUILTINS))
}

fn builtin_imports(text: &str, referenced: &BTreeSet<String>) -> String {
    let names = builtin_names();
    let mut out = String::new();
    // `dbt.x(...)`, or `adapter.dispatch('x', 'dbt')` (a name in a string).
    if mentions(text, "dbt") {
        out.push_str("{% import '__dbt' as dbt %}");
    }
    let bare: Vec<&str> = names
        .iter()
        .filter(|n| referenced.contains(n.as_str()))
        .map(String::as_str)
        .collect();
    if !bare.is_empty() {
        out.push_str(&format!("{{% from '__dbt' import {} %}}", bare.join(", ")));
    }
    out
}

fn import_of(package: &str) -> String {
    format!("{{% import '__pkg_{package}' as {package} %}}")
}

/// Whether `text` names `word` (not as part of a longer name).
fn mentions(text: &str, word: &str) -> bool {
    let is_name = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(word).any(|(at, _)| {
        !text[..at].chars().next_back().is_some_and(is_name)
            && !text[at + word.len()..].chars().next().is_some_and(is_name)
    })
}

/// `{% import %}` of each installed package that `text` names (as
/// `package.macro`, or in `adapter.dispatch('name', 'package')`).
fn package_imports(project: &Project, text: &str) -> String {
    project
        .packages
        .iter()
        .filter(|b| mentions(text, &b.namespace))
        .map(|b| import_of(&b.namespace))
        .collect()
}

/// For each package, the other packages its macros name, to import. Imports
/// run when a template is loaded, so an import that would close a circle is
/// left out (those calls render as placeholders).
fn package_import_graph(packages: &[crate::dbt::MacroBundle]) -> Vec<Vec<&str>> {
    let mut edges: Vec<Vec<usize>> = vec![Vec::new(); packages.len()];
    let reaches = |edges: &[Vec<usize>], from: usize, to: usize| {
        let mut stack = vec![from];
        let mut seen = vec![false; packages.len()];
        while let Some(at) = stack.pop() {
            if at == to {
                return true;
            }
            if !std::mem::replace(&mut seen[at], true) {
                stack.extend(&edges[at]);
            }
        }
        false
    };
    for (i, bundle) in packages.iter().enumerate() {
        for (j, other) in packages.iter().enumerate() {
            if i != j && mentions(&bundle.source, &other.namespace) && !reaches(&edges, j, i) {
                edges[i].push(j);
            }
        }
    }
    edges
        .iter()
        .map(|e| e.iter().map(|&j| packages[j].namespace.as_str()).collect())
        .collect()
}

/// A package's macros with calls of its own macros through its namespace
/// (`fivetran_utils.quote_column(c)` inside fivetran_utils) made direct: a
/// template cannot import itself.
fn without_own_namespace(bundle: &crate::dbt::MacroBundle) -> String {
    let prefix = format!("{}.", bundle.namespace);
    if !bundle.source.contains(&prefix) {
        return bundle.source.clone();
    }
    let is_name = |c: char| c.is_alphanumeric() || c == '_';
    let source = &bundle.source;
    let mut out = String::with_capacity(source.len());
    let mut last = 0;
    for (at, _) in source.match_indices(&prefix) {
        let after = &source[at + prefix.len()..];
        let name: String = after.chars().take_while(|&c| is_name(c)).collect();
        let own =
            !source[..at].chars().next_back().is_some_and(is_name) && bundle.macros.contains(&name);
        if own && at >= last {
            out.push_str(&source[last..at]);
            last = at + prefix.len();
        }
    }
    out.push_str(&source[last..]);
    out
}

/// The name a bundle exports its macro `name` under. Jinja keeps names that
/// start with `_` private to their template (they cannot be imported), but
/// dbt has no such rule: spellbook's `_monitoring_relation`, dbt_utils'
/// `_is_relation` are macros like any other.
fn exported_name(name: &str) -> std::borrow::Cow<'_, str> {
    if name.starts_with('_') {
        format!("metriclint_private{name}").into()
    } else {
        name.into()
    }
}

/// A bundle's private macros (`_name`) set under exportable names, for the
/// end of its template (after its last line, so error lines still map).
fn private_exports(bundle: &crate::dbt::MacroBundle) -> String {
    bundle
        .macros
        .iter()
        .filter(|m| m.starts_with('_'))
        .map(|m| format!("{{% set {} = {m} %}}", exported_name(m)))
        .collect()
}

/// One entry of a `{% from … import … %}` list that brings in macro `name`
/// under its own name, private ones through their export.
fn importable(name: &str) -> String {
    match exported_name(name) {
        std::borrow::Cow::Owned(export) => format!("{export} as {name}"),
        std::borrow::Cow::Borrowed(name) => name.to_string(),
    }
}

/// Jinja's `dictsort`, its arguments given by position or by name.
fn dictsort(value: &Value, positional: Rest<Value>, named: Kwargs) -> Result<Value, Error> {
    const PARAMETERS: [&str; 3] = ["case_sensitive", "by", "reverse"];
    if positional.len() > PARAMETERS.len() {
        return Err(Error::new(
            ErrorKind::TooManyArguments,
            "dictsort takes at most 3 arguments",
        ));
    }
    let mut arguments: Vec<(&str, Value)> = PARAMETERS
        .iter()
        .copied()
        .zip(positional.iter().cloned())
        .collect();
    for name in named.args() {
        arguments.push((name, named.get::<Value>(name)?));
    }
    minijinja::filters::dictsort(value, arguments.into_iter().collect())
}

/// What a model template needs in front: dbt's macros, the packages it
/// names, and the project's macros.
fn prelude(project: Option<&Project>, template: &str, referenced: &BTreeSet<String>) -> String {
    let mut out = builtin_imports(template, referenced);
    let Some(project) = project else {
        return out;
    };
    out.push_str(&package_imports(project, template));
    if let Some(bundle) = &project.macros {
        let names: Vec<String> = bundle.macros.iter().map(|m| importable(m)).collect();
        out.push_str(&format!(
            "{{% from '__project_macros' import {} %}}",
            names.join(", ")
        ));
        // dbt also reaches the project's macros through its name
        // (`shopify.get_metafields(...)` in a model of project `shopify`).
        if mentions(template, &bundle.namespace) {
            out.push_str(&format!(
                "{{% import '__project_macros' as {} %}}",
                bundle.namespace
            ));
        }
    }
    out
}

/// Renders a template for `dialect`, with the macros and vars of its dbt
/// project if it has one.
pub fn render(
    template: &str,
    dialect: Dialect,
    project: Option<&Project>,
) -> Result<Rendered, TemplateError> {
    render_knowing(template, dialect, project, Arc::default())
}

/// [`render`], knowing the output columns of upstream models (by model name)
/// for `adapter.get_columns_in_relation(ref(…))`.
pub fn render_knowing(
    template: &str,
    dialect: Dialect,
    project: Option<&Project>,
    upstream_columns: Arc<HashMap<String, Vec<String>>>,
) -> Result<Rendered, TemplateError> {
    UPSTREAM_COLUMNS.with(|c| *c.borrow_mut() = upstream_columns);
    WANTED_COLUMNS.with(|w| w.set(false));
    VAR_DEPTH.with(|d| d.set(0));
    VAR_CACHE.with(|c| c.borrow_mut().clear());
    let result = render_now(template, dialect, project);
    let wanted = WANTED_COLUMNS.with(|w| w.replace(false));
    UPSTREAM_COLUMNS.with(|c| *c.borrow_mut() = Arc::default());
    match result {
        Ok(mut rendered) => {
            rendered.wants_upstream_columns = wanted;
            Ok(rendered)
        }
        Err(mut error) => {
            error.wants_upstream_columns = wanted;
            error.refs = REFS.with(|r| std::mem::take(&mut *r.borrow_mut()).into_iter().collect());
            Err(error)
        }
    }
}

fn render_now(
    template: &str,
    dialect: Dialect,
    project: Option<&Project>,
) -> Result<Rendered, TemplateError> {
    // One environment per project (its macros compiled once), one per file otherwise.
    let fresh;
    let env: &Environment<'static> = match project {
        Some(p) => p.environment.get_or_init(|| environment(dialect, Some(p))),
        None => {
            fresh = environment(dialect, None);
            &fresh
        }
    };
    // Whatever else this template reaches for: unknown macros, adapter, dbt.*.
    let referenced = referenced_names(template);
    let placeholders: BTreeMap<String, Value> = referenced
        .iter()
        .filter(|name| {
            !KNOWN.contains(&name.as_str()) && env.globals().all(|(g, _)| g != name.as_str())
        })
        .map(|name| (name.clone(), Placeholder::value(name, false)))
        .collect();
    // The prelude stays on the first line, so error lines stay the file's.
    let marked = format!(
        "{}{}",
        prelude(project, template, &referenced),
        with_markers(template)
    );
    CALLED.with(|c| c.borrow_mut().clear());
    REFS.with(|r| r.borrow_mut().clear());
    MACRO_DEPTH.with(|d| d.set(0));
    let result = env.render_str(&marked, Value::from(placeholders));
    RETURN_SLOT.with(|r| r.borrow_mut().take());
    let called: Vec<String> =
        CALLED.with(|c| std::mem::take(&mut *c.borrow_mut()).into_iter().collect());
    match result {
        Ok(rendered) if rendered.len() > MAX_RENDERED_BYTES => Err(TemplateError {
            message: format!(
                "the template renders {} MB of SQL; metriclint stops at {} MB",
                rendered.len() / 1_000_000,
                MAX_RENDERED_BYTES / 1_000_000
            ),
            line: 1,
            wants_upstream_columns: false,
            refs: Vec::new(),
        }),
        Ok(rendered) => {
            let mut rendered = strip_markers(&rendered);
            missing_macros::fit(&mut rendered, &called);
            rendered.unknown_macros = called;
            rendered.refs =
                REFS.with(|r| std::mem::take(&mut *r.borrow_mut()).into_iter().collect());
            Ok(rendered)
        }
        Err(e) => {
            let what = match e.kind() {
                ErrorKind::OutOfFuel => {
                    "the template does too much work to render (an endless loop?)".to_string()
                }
                _ => {
                    let detail = e.detail().map(|d| format!(": {d}")).unwrap_or_default();
                    format!("cannot render the Jinja template ({}{detail})", e.kind())
                }
            };
            // An error inside a macro file is told there, and the finding is
            // put at the model's first call of that macro.
            let in_macro = project.and_then(|p| {
                let bundle = match e.name()? {
                    "__project_macros" => p.macros.as_ref(),
                    name => {
                        let namespace = name.strip_prefix("__pkg_")?;
                        p.packages.iter().find(|b| b.namespace == namespace)
                    }
                }?;
                let line = e.line()?;
                let (file, file_line) = bundle.file_line(line)?;
                let before: usize = bundle
                    .source
                    .split_inclusive('\n')
                    .take(line)
                    .map(str::len)
                    .sum();
                let name = crate::dbt::macro_names(&bundle.source[..before]).pop();
                Some((file, file_line, name))
            });
            match in_macro {
                Some((file, line, name)) => Err(TemplateError {
                    message: format!(
                        "{what}, in {} at {}:{line}",
                        name.as_deref()
                            .map_or("a macro".to_string(), |n| format!("macro `{n}`")),
                        relative_to_cwd(file).display()
                    ),
                    line: name
                        .and_then(|n| call_offset(template, &n))
                        .map_or(1, |at| template[..at].matches('\n').count() as u32 + 1),
                    wants_upstream_columns: false,
                    refs: Vec::new(),
                }),
                None => Err(TemplateError {
                    message: what,
                    line: e.line().unwrap_or(1) as u32,
                    wants_upstream_columns: false,
                    refs: Vec::new(),
                }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    /// A package's (or the project's) macros under `namespace`.
    fn bundle(namespace: &str, source: &str) -> crate::dbt::MacroBundle {
        let source = with_macro_returns(source);
        crate::dbt::MacroBundle {
            namespace: namespace.to_string(),
            macros: crate::dbt::macro_names(&source),
            source,
            files: Vec::new(),
        }
    }

    #[test]
    fn a_models_unique_key_is_read_as_a_list_of_columns() {
        for (template, expected) in [
            ("{{ config(unique_key='id') }}", Some(vec!["id"])),
            (
                "{{ config(materialized='table', unique_key=['date', 'address']) }}",
                Some(vec!["date", "address"]),
            ),
            (
                "{{\n  config(\n    order_by='(date, address, symbol)',\n    unique_key='(date, address, symbol)',\n    tags=['x']\n  )\n}}",
                Some(vec!["date", "address", "symbol"]),
            ),
            ("{{ config(unique_key = \"Wallet_Address\") }}", Some(vec!["wallet_address"])),
            // An expression is no list of columns.
            ("{{ config(unique_key=\"date || '-' || address\") }}", None),
            ("{{ config(unique_key=var('key')) }}", None),
            ("{{ config(materialized='table') }}", None),
            ("select 1 as unique_key", None),
        ] {
            let expected: Option<Vec<String>> =
                expected.map(|v| v.into_iter().map(str::to_string).collect());
            assert_eq!(super::unique_key(template), expected, "{template}");
        }
    }

    #[test]
    fn a_models_enabled_condition_is_read_as_written() {
        for (template, condition) in [
            (
                "{{\n  config(\n    enabled = var('etl') == 'stitch' and var('adapter_value') == 'url'\n  )\n}}\nselect 1",
                Some("var('etl')=='stitch'andvar('adapter_value')=='url'"),
            ),
            (
                "{{ config(materialized='table', enabled=var('using_x', true)) }}",
                Some("var('using_x',true)"),
            ),
            ("{{ config(enabled=true) }}", None),
            ("{{ config(materialized='view') }} select is_enabled = 1", None),
            ("{{ config(materialized='view') }} select 1 where enabled = 1", None),
            ("select 1", None),
        ] {
            assert_eq!(
                super::enabled_condition(template).as_deref(),
                condition,
                "{template}"
            );
        }
    }

    use super::*;

    fn rendered(template: &str) -> String {
        render(template, Dialect::Snowflake, None).unwrap().text
    }

    #[test]
    fn dbt_builtins_render_offline() {
        assert_eq!(
            rendered("select * from {{ ref('fct_ad_events') }}"),
            "select * from fct_ad_events"
        );
        assert_eq!(
            rendered("from {{ ref('pkg', 'm') }} join {{ source('raw', 'events') }}"),
            "from m join raw.events"
        );
        assert_eq!(
            rendered("{{ config(materialized='table') }}select 1"),
            "select 1"
        );
        assert_eq!(
            rendered("{% if is_incremental() %}where x > 1{% endif %}done"),
            "done"
        );
        assert_eq!(
            rendered("{{ var('days', 7) }} {{ target.type }}"),
            "7 snowflake"
        );
        assert_eq!(
            rendered("select {{ dbt_utils.safe_divide('a', 'b') }}"),
            "select __jinja_dbt_utils_safe_divide"
        );
        assert_eq!(
            rendered("{{ cents_to_dollars('amount') }} as usd"),
            "__jinja_cents_to_dollars as usd"
        );
        assert_eq!(
            rendered("select {{ adapter.dispatch('x', 'pkg')('a') }}"),
            "select __jinja_dispatch_x"
        );
        // dispatch finds the adapter's implementation, then the default one.
        let macros = "{% macro snowflake__div(a, b) %}div0({{ a }}, {{ b }}){% endmacro %}{% macro default__div(a, b) %}{{ a }} / {{ b }}{% endmacro %}{% macro default__cnt() %}count(*){% endmacro %}";
        assert_eq!(
            rendered(&format!(
                "{macros}{{{{ adapter.dispatch('div')('x', 'y') }}}}"
            )),
            "div0(x, y)"
        );
        assert_eq!(
            rendered(&format!("{macros}{{{{ adapter.dispatch('cnt')() }}}}")),
            "count(*)"
        );
        // dbt's namespace in a dispatch is dbt's own macros, never the
        // caller's default__ (which would call itself without end).
        let deprecated = "{% macro type_bigint() %}{{ return(adapter.dispatch('type_bigint', 'dbt')()) }}{% endmacro %}{% macro default__type_bigint() %}{{ return(adapter.dispatch('type_bigint', 'dbt')()) }}{% endmacro %}";
        assert_eq!(
            rendered(&format!("{deprecated}cast(x as {{{{ type_bigint() }}}})")),
            "cast(x as bigint)"
        );
        // dbt's old adapter_macro is a dispatch.
        assert_eq!(
            rendered(&format!("{macros}{{{{ adapter_macro('div', 'x', 'y') }}}}")),
            "div0(x, y)"
        );
        // No default__: the adapters dbt builds on, then any adapter's.
        let only_adapters =
            "{% macro bigquery__q() %}bq{% endmacro %}{% macro postgres__q() %}pg{% endmacro %}";
        let dispatched = |dialect| {
            render(
                &format!("{only_adapters}{{{{ adapter.dispatch('q')() }}}}"),
                dialect,
                None,
            )
            .unwrap()
            .text
        };
        assert_eq!(dispatched(Dialect::BigQuery), "bq");
        assert_eq!(dispatched(Dialect::Redshift), "pg");
        assert_eq!(dispatched(Dialect::Generic), "pg");
        assert_eq!(dispatched(Dialect::Snowflake), "pg");
        assert_eq!(
            rendered("{% macro m(x) %}sum({{ x }}){% endmacro %}select {{ m('clicks') }}"),
            "select sum(clicks)"
        );
    }

    #[test]
    fn positions_map_back_to_the_template() {
        let template = "{{ config(materialized='view') }}\nselect\n  {{ dbt_utils.star(ref('x')) }},\n  sum(clicks) as clicks\nfrom {{ ref('fct') }}";
        let r = render(template, Dialect::Generic, None).unwrap();
        let (ri, ti) = (LineIndex::new(&r.text), LineIndex::new(template));
        let at = r.text.find("sum(clicks)").unwrap();
        let range = Range {
            start: ri.position(at),
            end: ri.position(at + "sum(clicks)".len()),
        };
        let mapped = r.map_range(&ri, &ti, range);
        assert_eq!(
            (mapped.start.line, mapped.start.column, mapped.end.column),
            (4, 3, 14)
        );
        // Text a tag produced maps to the tag.
        let star = r.text.find("__jinja").unwrap();
        let mapped = r.map_range(
            &ri,
            &ti,
            Range {
                start: ri.position(star),
                end: ri.position(star + 3),
            },
        );
        assert_eq!((mapped.start.line, mapped.start.column), (3, 3));
        let star_range = Range {
            start: ri.position(star),
            end: ri.position(star + 3),
        };
        assert_eq!(
            r.generated_by(&ri, template, star_range),
            Some("{{ dbt_utils.star(ref('x')) }}")
        );
        // Text written in the file is not generated.
        assert_eq!(r.generated_by(&ri, template, range), None);
    }

    /// Renders `model` with `macros` as the project's macro files.
    fn rendered_with_macros(macros: &str, model: &str) -> String {
        let source = with_macro_returns(macros);
        let project = Project {
            macros: Some(crate::dbt::MacroBundle {
                namespace: "proj".to_string(),
                macros: crate::dbt::macro_names(&source),
                source,
                files: Vec::new(),
            }),
            ..Project::default()
        };
        render(model, Dialect::Generic, Some(&project))
            .unwrap()
            .text
    }

    #[test]
    fn dbt_return_makes_the_value_the_macros_result() {
        let macros = "{% macro ratio(a, b) %}\n  {%- set sql = a ~ ' / nullif(' ~ b ~ ', 0)' -%}\n  {% do return(sql) %}\n  ignored text\n{% endmacro %}\n\
            {% macro pick(kind) %}{% if kind == 'ctr' %}{% do return('sum(clicks)') %}{% endif %}{{ return('sum(spend)') }}after{% endmacro %}\n\
            {% macro plain(x) %}sum({{ x }}){% endmacro %}\n\
            {% macro nested() %}{%- do return(ratio(pick('ctr'), plain('impressions'))) -%}{% endmacro %}";
        let cases = [
            (
                "select {{ ratio('sum(clicks)', 'sum(impressions)') }} as ctr",
                "select sum(clicks) / nullif(sum(impressions), 0) as ctr",
            ),
            // The first return taken wins; text after it is dropped.
            (
                "select {{ pick('ctr') }}, {{ pick('cpm') }}",
                "select sum(clicks), sum(spend)",
            ),
            ("select {{ plain('clicks') }}", "select sum(clicks)"),
            // Macros calling macros get their values too.
            (
                "select {{ nested() }} as ctr",
                "select sum(clicks) / nullif(sum(impressions), 0) as ctr",
            ),
            (
                "{% set s = ratio('a', 'b') %}select {{ s | upper }}",
                "select A / NULLIF(B, 0)",
            ),
        ];
        for (model, expected) in cases {
            assert_eq!(rendered_with_macros(macros, model), expected, "{model}");
        }
    }

    #[test]
    fn returned_lists_dicts_and_booleans_reach_callers_as_values() {
        // The fivetran_utils pattern: a macro returns column dicts, another
        // iterates them.
        let macros = "{% macro get_columns() %}{% set columns = [\n    {'name': 'imps', 'datatype': 'int', 'alias': 'impressions'},\n    {'name': 'clicks', 'datatype': 'int'}\n] %}{{ return(columns) }}{% endmacro %}\n\
            {% macro fill(columns) %}{% for c in columns %}{{ c.name }}{% if 'alias' in c %} as {{ c.alias }}{% endif %}{% if not loop.last %}, {% endif %}{% endfor %}{% endmacro %}\n\
            {% macro staged() %}select {{ fill(get_columns()) }} from raw{% endmacro %}\n\
            {% macro is_wide() %}{% do return(false) %}{% endmacro %}\n\
            {% macro count_of(xs) %}{% do return(xs | length) %}{% endmacro %}";
        let cases = [
            (
                "select {{ fill(get_columns()) }} from raw",
                "select imps as impressions, clicks from raw",
            ),
            // Through a variable, and from inside another macro.
            (
                "{% set cols = get_columns() %}select {{ fill(cols) }}, {{ cols | length }} as n",
                "select imps as impressions, clicks, 2 as n",
            ),
            (
                "{{ staged() }}",
                "select imps as impressions, clicks from raw",
            ),
            // A returned false is false, not the text \"false\".
            (
                "select {% if is_wide() %}wide{% else %}narrow{% endif %}",
                "select narrow",
            ),
            ("select {{ count_of([1, 2, 3]) + 1 }}", "select 4"),
            // Printed, a returned list reads as its value.
            (
                "-- {{ get_columns() | map(attribute='name') | join(',') }}",
                "-- imps,clicks",
            ),
        ];
        for (model, expected) in cases {
            assert_eq!(rendered_with_macros(macros, model), expected, "{model}");
        }
    }

    #[test]
    fn each_dbt_builtin_renders_offline() {
        let cases = [
            // ref: one or two arguments, a version, recorded as a ref.
            ("{{ ref('m') }}", "m"),
            ("{{ ref('pkg', 'm') }}", "m"),
            ("{{ ref('m', version=2) }}", "m"),
            ("{{ ref('m', v=2) }}", "m"),
            ("{{ source('raw', 'events') }}", "raw.events"),
            // Relations, as in dbt.
            (
                "{{ ref('m').identifier }} {{ source('raw', 'events').schema }} {{ ref('m') is mapping }}",
                "m raw True",
            ),
            (
                "{{ ref('m').metadata.type }} {{ ref('m').get('type', 'x') }} {{ ref('m').include(database=false) }}",
                "BaseRelation table m",
            ),
            ("{{ ref('m') ~ '_v2' }}", "m_v2"),
            (
                "{{ config(materialized='incremental', unique_key='id') }}x",
                "x",
            ),
            ("{{ var('missing', 'dflt') }}", "dflt"),
            ("{{ env_var('DBT_SCHEMA', 'analytics') }}", "analytics"),
            ("{{ env_var('DBT_SCHEMA') }}", "__jinja_env_dbt_schema"),
            // Unset, it is a string that joins others (a Snowflake
            // `sql_header="USE WAREHOUSE " + env_var(…)`).
            (
                "{{ config(sql_header='use warehouse ' + env_var('WH') + ';') }}x",
                "x",
            ),
            (
                "{% if is_incremental() %}new{% else %}full{% endif %}",
                "full",
            ),
            ("from {{ this }}", "from __jinja_this"),
            (
                "{{ target.type }} {{ target.name }} {{ target.schema }}",
                "snowflake dev analytics",
            ),
            ("{{ log('hello', info=True) }}x", "x"),
            ("{% do log('hello') %}x", "x"),
            ("{{ return('sum(x)') }}", "sum(x)"),
        ];
        for (template, expected) in cases {
            assert_eq!(rendered(template), expected, "{template}");
        }
        let refs = render(
            "{{ ref('a') }} {{ ref('p', 'B', version=1) }}",
            Dialect::Generic,
            None,
        )
        .unwrap()
        .refs;
        assert_eq!(refs, vec!["a".to_string(), "b".to_string()]);
    }

    #[test]
    fn dbts_own_macros_render_as_sql_by_namespace_and_by_bare_name() {
        let cases = [
            (
                "{{ dbt.safe_divide('sum(clicks)', 'sum(impressions)') }}",
                "( sum(clicks) ) / nullif( ( sum(impressions) ), 0)",
            ),
            ("cast(x as {{ dbt.type_string() }})", "cast(x as varchar)"),
            ("cast(x as {{ type_int() }})", "cast(x as integer)"),
            ("{{ dbt.date_trunc('day', 'ts') }}", "date_trunc('day', ts)"),
            ("{{ concat(['a', \"'-'\", 'b']) }}", "concat(a, '-', b)"),
            ("{{ dbt.current_timestamp() }}", "current_timestamp"),
            ("{{ dbt.dateadd('day', -7, 'ts') }}", "dateadd(day, -7, ts)"),
            // A template's own macro of the same name wins.
            (
                "{% macro type_string() %}text{% endmacro %}{{ type_string() }}",
                "text",
            ),
        ];
        for (template, expected) in cases {
            let rendered = render(template, Dialect::Generic, None).unwrap();
            assert_eq!(rendered.text, expected, "{template}");
            assert!(rendered.unknown_macros.is_empty(), "{template}");
        }
        let bigquery = render("{{ dbt.type_string() }}", Dialect::BigQuery, None).unwrap();
        assert_eq!(bigquery.text, "string");
    }

    #[test]
    fn dbt_runtime_objects_render_without_a_warehouse() {
        // `execute` is true, as when dbt compiles; a query's results are
        // empty stand-ins.
        assert_eq!(
            rendered("{% if execute %}{% set r = run_query('x') %}{% for row in r %}{{ row }}{% endfor %}{% endif %}select 1"),
            "select 1"
        );
        // modules, flags, graph: stand-ins, never reported as missing macros.
        let stand_ins = render(
            "select '{{ modules.datetime.date.today() }}'{% if flags.FULL_REFRESH %}, 1{% endif %}{% for n in graph.nodes.values() %}, {{ n }}{% endfor %}",
            Dialect::Generic,
            None,
        )
        .unwrap();
        assert_eq!(
            stand_ins.text,
            "select '__jinja_modules_datetime_date_today'"
        );
        assert!(stand_ins.unknown_macros.is_empty());
        // The usual way to read a query's results: empty, and not reported.
        let query = render(
            "{% set values = run_query('select 1').columns[0].values() %}{% for v in values %}{{ v }}{% endfor %}select 1",
            Dialect::Generic,
            None,
        )
        .unwrap();
        assert_eq!(query.text, "select 1");
        assert!(
            query.unknown_macros.is_empty(),
            "{:?}",
            query.unknown_macros
        );
        // A compiler error raised is a template error with dbt's message.
        let error = render(
            "select 1\n{{ exceptions.raise_compiler_error('unsupported adapter') }}",
            Dialect::Generic,
            None,
        )
        .unwrap_err();
        assert!(
            error.message.contains("unsupported adapter"),
            "{}",
            error.message
        );
        assert_eq!(error.line, 2);
        assert_eq!(rendered("{% do exceptions.warn('w') %}ok"), "ok");
    }

    #[test]
    fn packages_call_their_own_and_other_packages_macros_by_namespace() {
        let project = Project {
            packages: vec![
                bundle(
                    "utils",
                    "{% macro q(c) %}\"{{ c }}\"{% endmacro %}{% macro cols(xs) %}{% for x in xs %}{{ utils.q(x) }}{% if not loop.last %}, {% endif %}{% endfor %}{% endmacro %}{% macro back() %}{{ ads.wrapped(['z']) }}{% endmacro %}{% macro names() %}{{ return(['clicks', 'impressions']) }}{% endmacro %}{% macro big(n) %}{{ return(n > 10) }}{% endmacro %}",
                ),
                bundle(
                    "ads",
                    "{% macro get_cols() %}{{ return(['a', 'b']) }}{% endmacro %}{% macro wrapped(xs) %}{{ utils.cols(xs) }}{% endmacro %}{% macro staged() %}{{ utils.cols(ads.get_cols()) }}{% endmacro %}{% macro ratio() %}{% set c = utils.names() %}{% if utils.big(3) %}count(*){% else %}sum({{ c[0] }}) / sum({{ c[1] }}){% endif %}{% endmacro %}",
                ),
            ],
            ..Project::default()
        };
        let rendered = render(
            "select {{ utils.cols(['x']) }}, {{ ads.wrapped(['y']) }}, {{ ads.staged() }} from t",
            Dialect::Generic,
            Some(&project),
        )
        .unwrap();
        assert_eq!(rendered.text, "select \"x\", \"y\", \"a\", \"b\" from t");
        assert!(
            rendered.unknown_macros.is_empty(),
            "{:?}",
            rendered.unknown_macros
        );
        // A macro an installed package lacks is named with its package.
        let missing = render("{{ utils.group_by(3) }}", Dialect::Generic, Some(&project)).unwrap();
        assert_eq!(missing.unknown_macros, vec!["utils.group_by".to_string()]);
        // utils (listed first) imports ads; ads cannot import utils back (a
        // circle), so its calls of utils render on their own.
        let circular = render("{{ utils.back() }}", Dialect::Generic, Some(&project)).unwrap();
        assert_eq!(circular.text, "\"z\"");
        // Values keep their type across such a call: a list, a false.
        let typed = render("{{ ads.ratio() }}", Dialect::Generic, Some(&project)).unwrap();
        assert_eq!(typed.text, "sum(clicks) / sum(impressions)");
        assert!(
            circular.unknown_macros.is_empty(),
            "{:?}",
            circular.unknown_macros
        );
    }

    /// dbt has no private macros: spellbook's `_monitoring_relation` and
    /// dbt_utils' `_is_relation` are called like any other, and a project
    /// that defines one still renders (Jinja refuses to import such names).
    #[test]
    fn macros_whose_names_start_with_an_underscore_are_macros_too() {
        let project = Project {
            macros: Some(bundle(
                "shop",
                "{% macro _quoted(c) %}\"{{ c }}\"{% endmacro %}{% macro cols() %}{{ _quoted('a') }}, {{ utils.cols(['b']) }}{% endmacro %}",
            )),
            packages: vec![bundle(
                "utils",
                "{% macro _q(c) %}'{{ c }}'{% endmacro %}{% macro cols(xs) %}{% for x in xs %}{{ utils._q(x) }}{% endfor %}{% endmacro %}",
            )],
            ..Project::default()
        };
        let rendered = render(
            "select {{ cols() }}, {{ _quoted('y') }}, {{ utils.cols(['x']) }} from t",
            Dialect::Generic,
            Some(&project),
        )
        .unwrap();
        assert_eq!(rendered.text, "select \"a\", 'b', \"y\", 'x' from t");
        assert!(
            rendered.unknown_macros.is_empty(),
            "{:?}",
            rendered.unknown_macros
        );
    }

    #[test]
    fn a_project_reaches_its_own_macros_through_its_name() {
        let source = with_macro_returns(
            "{% macro cols() %}{{ return(['a', 'b']) }}{% endmacro %}{% macro listed() %}{{ shop.cols() | join(', ') }}{% endmacro %}",
        );
        let project = Project {
            macros: Some(crate::dbt::MacroBundle {
                namespace: "shop".to_string(),
                macros: crate::dbt::macro_names(&source),
                source,
                files: Vec::new(),
            }),
            ..Project::default()
        };
        let rendered = render(
            "select {{ shop.listed() }}, {{ listed() }} from t",
            Dialect::Generic,
            Some(&project),
        )
        .unwrap();
        assert_eq!(rendered.text, "select a, b, a, b from t");
        assert!(
            rendered.unknown_macros.is_empty(),
            "{:?}",
            rendered.unknown_macros
        );
    }

    #[test]
    fn package_macros_take_the_arguments_they_know_and_drop_the_rest() {
        let macros = "{% macro source_relation(union_schema_variable='x') %}, '{{ union_schema_variable }}' as source_relation{% endmacro %}\n\
            {% macro wrap(a) %}[{{ a }}{{ caller() }}]{% endmacro %}";
        let cases = [
            // A newer model passes a keyword argument this version lacks.
            (
                "select 1 {{ source_relation(union_schema_variable='s', union_database_variable='d') }}",
                "select 1 , 's' as source_relation",
            ),
            // And an extra positional one.
            ("{{ source_relation('s', 'extra') }}", ", 's' as source_relation"),
            // `caller` still reaches a macro that uses it.
            ("{% call wrap('a') %}b{% endcall %}", "[ab]"),
        ];
        for (model, expected) in cases {
            assert_eq!(rendered_with_macros(macros, model), expected, "{model}");
        }
    }

    #[test]
    fn lists_and_dicts_change_in_place_and_python_methods_work() {
        let cases = [
            (
                "{% set cols = [] %}{% for c in ['a', 'b'] %}{% do cols.append(c ~ '_x') %}{% endfor %}select {{ cols | join(', ') }}",
                "select a_x, b_x",
            ),
            (
                "{%- set cols = ['a'] -%}{% do cols.extend(['b', 'c']) %}{{ cols | length }} {{ cols[-1] }} {{ 'b' in cols }}",
                "3 c True",
            ),
            (
                "{% set m = {} %}{% do m.update({'k': 1}) %}{% for k, v in m.items() %}{{ k }}={{ v }}{% endfor %} {{ m.get('z', 0) }}",
                "k=1 0",
            ),
            ("{{ 'Clicks '.strip().upper() }}", "CLICKS"),
            ("{{ 'a,b'.split(',') | join('|') }}", "a|b"),
            ("{{ {'a': 1}.keys() | list | join }}", "a"),
            // A literal Jinja cannot change: the change is dropped, quietly.
            ("{% do (['a'] + ['b']).append('c') %}ok", "ok"),
            (
                "{% set l = [2, 1, 3] %}{% do l.sort(reverse=true) %}{{ l | join }} {% set d = {'a': 1} %}{% set e = d.copy() %}{% do e.update({'b': 2}) %}{{ d | length }}{{ e | length }}",
                "321 12",
            ),
            // `do` with a condition.
            (
                "{% set xs = [] %}{% do xs.append('a') if true %}{% do xs.append('b') if false %}{{ xs | join }}",
                "a",
            ),
        ];
        for (template, expected) in cases {
            let rendered = render(template, Dialect::Generic, None).unwrap();
            assert_eq!(rendered.text, expected, "{template}");
            assert!(rendered.unknown_macros.is_empty(), "{template}");
        }
        // A list doubled in a loop is stopped, not left to take the memory.
        let doubled = render(
            "{% set l = ['x'] %}{% for i in range(30) %}{% do l.extend(l + []) %}{% endfor %}select 1",
            Dialect::Generic,
            None,
        )
        .unwrap_err();
        assert!(
            doubled.message.contains("grows past"),
            "{}",
            doubled.message
        );
        // In a package's macro too.
        let macros = "{% macro names(xs) %}{%- set out = [] -%}{%- for x in xs %}{% do out.append(x.name) %}{% endfor -%}{{ return(out) }}{% endmacro %}";
        assert_eq!(
            rendered_with_macros(
                macros,
                "{{ names([{'name': 'a'}, {'name': 'b'}]) | join(', ') }}"
            ),
            "a, b"
        );
    }

    #[test]
    fn upstream_model_columns_answer_get_columns_in_relation() {
        let template = "{% set names = [] %}{% for c in adapter.get_columns_in_relation(ref('stg')) %}{% do names.append(c.column ~ ':' ~ c.data_type) %}{% endfor %}select {{ names | join(', ') }} from {{ ref('stg') }}";
        // Not known yet: no columns, and the render says it asked.
        let first = render(template, Dialect::Generic, None).unwrap();
        assert_eq!(first.text, "select  from stg");
        assert!(first.wants_upstream_columns);
        let known = Arc::new(HashMap::from([(
            "stg".to_string(),
            vec!["clicks".to_string(), "impressions".to_string()],
        )]));
        let again = render_knowing(template, Dialect::Generic, None, known).unwrap();
        assert_eq!(
            again.text,
            "select clicks:numeric, impressions:numeric from stg"
        );
        assert!(!again.wants_upstream_columns);
        // A source's columns are never known, and never asked for again.
        let source = render(
            "{{ adapter.get_columns_in_relation(source('raw', 'events')) | length }}",
            Dialect::Generic,
            None,
        )
        .unwrap();
        assert_eq!(source.text, "0");
        assert!(!source.wants_upstream_columns);
    }

    #[test]
    fn a_projects_own_ref_macro_reaches_dbts_through_builtins() {
        let source = with_macro_returns(
            "{% macro ref(model_name) %}{% do return(builtins.ref(model_name).include(database=false)) %}{% endmacro %}",
        );
        let project = Project {
            macros: Some(crate::dbt::MacroBundle {
                namespace: "proj".to_string(),
                macros: crate::dbt::macro_names(&source),
                source,
                files: Vec::new(),
            }),
            ..Project::default()
        };
        let rendered = render(
            "select * from {{ ref('stg') }}",
            Dialect::Generic,
            Some(&project),
        )
        .unwrap();
        assert_eq!(rendered.text, "select * from stg");
        assert_eq!(rendered.refs, vec!["stg".to_string()]);
    }

    #[test]
    fn varargs_and_kwargs_reach_a_macro_without_parameters_for_them() {
        // The ref override of dbt's documentation.
        let macros = "{% macro ref() %}\n\
            {% set version = kwargs.get('version') or kwargs.get('v') %}\n\
            {% set packagename = none %}\n\
            {%- if (varargs | length) == 1 -%}{% set modelname = varargs[0] %}\n\
            {%- else -%}{% set packagename = varargs[0] %}{% set modelname = varargs[1] %}{% endif %}\n\
            {% if packagename is not none %}{% set rel = builtins.ref(packagename, modelname, version=version) %}\n\
            {% else %}{% set rel = builtins.ref(modelname, version=version) %}{% endif %}\n\
            {% do return(rel) %}\n\
            {% endmacro %}\n\
            {% macro add_all() %}{{ varargs | join(' + ') }}{% endmacro %}\n\
            {% macro keys(a) %}{{ a }}:{{ kwargs.keys() | join(',') }}{% endmacro %}";
        let cases = [
            ("from {{ ref('stg') }}", "from stg"),
            ("from {{ ref('pkg', 'stg', version=2) }}", "from stg"),
            (
                "select {{ add_all('clicks', 'spend') }}",
                "select clicks + spend",
            ),
            ("{{ keys(1, x=2, y=3) }}", "1:x,y"),
        ];
        for (model, expected) in cases {
            assert_eq!(
                rendered_with_macros(macros, model).trim(),
                expected,
                "{model}"
            );
        }
    }

    #[test]
    fn macro_calls_are_found_by_whole_name() {
        assert_eq!(
            call_offset("{{ unbroken(1) }} {{ broken(2) }}", "broken"),
            Some(21)
        );
        assert_eq!(call_offset("{{ pkg.broken(2) }}", "broken"), Some(7));
        assert_eq!(call_offset("{{ broken_x(2) }}", "broken"), None);
    }

    #[test]
    fn macros_are_bound_to_wrappers_with_their_text_kept() {
        let wrapped = |body: &str| {
            format!("{{% macro __dbt_macro_m() %}}{body}{{% endmacro %}}{{% set m = __dbt_macro(__dbt_macro_m) %}}")
        };
        let call = "{% call statement('s') %}{{ return(1) }}{% endcall %}";
        assert_eq!(
            with_macro_returns(&format!("{{% macro m() %}}{call}{{% endmacro %}}")),
            wrapped(call)
        );
        assert_eq!(
            with_macro_returns("{% macro m() %}x{% endmacro %}{{ return_rate }}"),
            format!("{}{{{{ return_rate }}}}", wrapped("x"))
        );
    }

    #[test]
    fn return_ends_the_macro_there_as_in_dbt() {
        let macros = "{% macro pick(name) %}{% if name == 'ctr' %}{{ return('sum(clicks) / sum(impressions)') }}{% endif %}{{ exceptions.raise_compiler_error('unknown metric ' ~ name) }}{% endmacro %}\n\
            {% macro countdown(n) %}{% if n == 0 %}{{ return('done') }}{% endif %}{{ return(countdown(n - 1)) }}{% endmacro %}\n\
            {% macro cols() %}{% set xs = ['clicks'] %}{{ return(xs) }}{% do xs.append('spend') %}{% endmacro %}\n\
            {% macro loud(x) %}{% for c in x %}{% if c == 'b' %}{% do return(c | upper) %}{% endif %}{% endfor %}none{% endmacro %}";
        let cases = [
            // What follows a return never runs: no compiler error here.
            (
                "select {{ pick('ctr') }} as ctr",
                "select sum(clicks) / sum(impressions) as ctr",
            ),
            // A recursion that ends at a return.
            ("{{ countdown(3) }}", "done"),
            // The value as it was returned.
            ("{{ cols() | join(', ') }}", "clicks"),
            // From inside a loop; Python's string methods in the value.
            ("{{ loud(['a', 'b', 'c']) }}", "B"),
        ];
        for (model, expected) in cases {
            assert_eq!(rendered_with_macros(macros, model), expected, "{model}");
        }
        // Outside a project's macros (a model's own), return prints its value.
        assert_eq!(
            rendered("{% macro m() %}{{ return('x') }}y{% endmacro %}{{ m() }}"),
            "xy"
        );
    }

    #[test]
    fn project_vars_keep_their_types_and_dbt_helpers_render() {
        // `template` rendered in a project whose `vars:` are `vars`.
        let with_vars = |vars: &str, template: &str| {
            let project = Project {
                vars: serde_yaml::from_str(vars).unwrap(),
                ..Project::default()
            };
            render(template, Dialect::Generic, Some(&project))
                .unwrap()
                .text
        };
        assert_eq!(
            with_vars(
                "flag_off: false\ndays: 7\nmetric_list: [clicks, impressions]\n",
                "{% if var('flag_off') %}x{% else %}y{% endif %}{{ var('days') + 1 }}{% for m in var('metric_list') %} {{ m }}{% endfor %}",
            ),
            "y8 clicks impressions"
        );
        // A var whose Jinja needs a run (the clock's date arithmetic) is a
        // stand-in; one that renders is its text.
        assert_eq!(
            with_vars(
                "start: \"{{ '2022-09-15' if target.name == 'prod' else (modules.datetime.datetime.now() - modules.datetime.timedelta(days=7)).strftime('%Y-%m-%d') }}\"\nschema: \"{{ 'prod' if target.name == 'prod' else 'dev' }}\"\n",
                "{{ config(begin=var('start')) }}select '{{ var('schema') }}' as s from {{ var('start') }}",
            ),
            "select 'dev' as s from __jinja_var_start"
        );
        assert_eq!(
            rendered("{{ '3' | as_number + 1 }} {{ 'true' | as_bool }}"),
            "4 True"
        );
        assert_eq!(
            rendered("{% call statement('s', fetch_result=True) %}select 1{% endcall %}select 2"),
            "select 2"
        );
        assert_eq!(
            rendered("{{ run_query('select 1').columns[0] }}"),
            "__jinja_run_query_columns_0"
        );
    }

    #[test]
    fn whitespace_control_trims_as_in_jinja() {
        assert_eq!(
            rendered("select\n  sum(spend) as spend\n  {{- '_usd' }},\n  1 as x"),
            "select\n  sum(spend) as spend_usd,\n  1 as x"
        );
        assert_eq!(rendered("a\n{%- if true -%}\n   b\n{%- endif %}"), "ab");
        let template = "select\n  {%- if true %}\n  sum(clicks) as clicks\n  {%- endif %}\nfrom t";
        let r = render(template, Dialect::Generic, None).unwrap();
        assert_eq!(r.text, "select\n  sum(clicks) as clicks\nfrom t");
        let (ri, ti) = (LineIndex::new(&r.text), LineIndex::new(template));
        let at = r.text.find("sum(clicks)").unwrap();
        let m = r.map_range(
            &ri,
            &ti,
            Range {
                start: ri.position(at),
                end: ri.position(at + 11),
            },
        );
        assert_eq!((m.start.line, m.start.column, m.end.column), (3, 3, 14));
    }

    #[test]
    fn captured_blocks_and_strings_in_tags() {
        // A `set` block captures its text, markers and all do not leak into it.
        assert_eq!(
            rendered(
                "{% set mode %}strict{% endset %}{% if mode == 'strict' %}a{% else %}b{% endif %}"
            ),
            "a"
        );
        assert_eq!(
            rendered("{% set n %}3{% endset %}{{ range(n | int) | length }}"),
            "3"
        );
        // `}}` inside a string does not end the tag.
        assert_eq!(
            rendered("{{ config(post_hook=['grant on {{ this }}']) }}select 1"),
            "select 1"
        );
        // Nor does one that closes dicts inside the tag (Flipside's models
        // tag their tables so), while one after the last bracket does.
        assert_eq!(
            rendered("{{ config(meta={'tags': {'table': {'PURPOSE': 'BRIDGE'}} }) }}select 1"),
            "select 1"
        );
        assert_eq!(
            rendered("select {{ {'a': {'b': 2}}['a']['b'] }}"),
            "select 2"
        );
        // A comment has no strings: an apostrophe in it does not hide the rest.
        assert_eq!(rendered("{# don't #}select {{ 1 + 1 }}"), "select 2");
        assert_eq!(segments("{# it's #}x{{ y }}").len(), 3);
    }

    /// Fivetran's packages call fivetran_utils macros newer than the copy
    /// installed: the model still renders to SQL that parses, and each
    /// missing macro is still named.
    #[test]
    fn macros_missing_from_an_installed_package_leave_sql_that_parses() {
        let project = Project {
            packages: vec![bundle(
                "fivetran_utils",
                "{% macro fill_staging_columns(cols) %}{{ cols | join(', ') }}{% endmacro %}",
            )],
            ..Project::default()
        };
        let template = "with base as (\n    {{ fivetran_utils.union_connections(connection_dictionary='recharge_sources') }}\n), fields as (\n    select {{ fivetran_utils.fill_staging_columns(['id', 'd']) }}\n        {{ fivetran_utils.apply_source_relation(package_name='recharge') }}\n    from base\n)\nselect id, row_number() over (partition by id {{ fivetran_utils.partition_by_source_relation() }} order by d) as n, {{ fivetran_utils.source_relation() }} as source_relation\nfrom fields";
        let r = render(template, Dialect::Generic, Some(&project)).unwrap();
        assert_eq!(
            r.text.split_whitespace().collect::<Vec<_>>().join(" "),
            "with base as ( select * from __jinja_fivetran_utils_union_connections ), fields as ( select id, d from base ) select id, row_number() over (partition by id order by d) as n, __jinja_fivetran_utils_source_relation as source_relation from fields"
        );
        assert_eq!(r.unknown_macros.len(), 4, "{:?}", r.unknown_macros);
        assert!(crate::parse::parse_each(
            &r.text,
            Dialect::Generic.parser_dialect().as_ref(),
            &mut |_| {}
        )
        .is_empty());
        // Every byte still maps into the template: the fitted query to the
        // call it stands for.
        let index = LineIndex::new(&r.text);
        let at = r.text.find("select * from").unwrap();
        let range = r.map_range(
            &index,
            &LineIndex::new(template),
            Range {
                start: index.position(at),
                end: index.position(at + 6),
            },
        );
        assert_eq!(range.start.line, 2, "{range:?}");
    }

    /// Outside dbt, what Jinja cannot read, and bare names neither the
    /// template nor dbt defines, are other tools' query parameters.
    #[test]
    fn query_parameters_read_as_names_of_the_same_length() {
        let cases = [
            (
                "where d >= '{{2. Start date}}' and {{period:c.day}} and p = {{pool_id}}",
                Some("where d >= '__2__Start_date__' and __period_c_day__ and p = __pool_id__"),
            ),
            ("where p = {{ pool.id }}", Some("where p = ___pool_id___")),
            // A fragment after an expression is nothing; glued to a name,
            // part of it.
            (
                "and (lower(login) {{exclude_bots}}) from repos_{{rnd}} r",
                Some("and (lower(login)                 ) from repos___rnd__ r"),
            ),
            ("{% set n = 3 %}select {{ n }}, {{ loop }}", None),
            ("{% for c in cols %}{{ c }}{% endfor %}", None),
            (
                "select {{ ref('m') }}, {{ this }}, {{ 1 + 1 }}, {{ true }}",
                None,
            ),
        ];
        for (template, expected) in cases {
            let named = with_query_parameters_as_names(template);
            assert_eq!(named.as_deref(), expected, "{template}");
            if let Some(named) = named {
                assert_eq!(named.len(), template.len());
            }
        }
    }

    /// `modules.re` as Python's `re`: dbt_utils' `slugify`, as written there,
    /// and the calls projects make.
    #[test]
    fn modules_re_is_pythons_re() {
        let rendered = |t: &str| render(t, Dialect::Generic, None).unwrap().text;
        let slugify = "{% macro slugify(string) %}{% if not string %}{{ return('') }}{% endif %}{% set string = string | lower %}{% set string = modules.re.sub('[ -]+', '_', string) %}{% set string = modules.re.sub('[^a-z0-9_]+', '', string) %}{% set string = modules.re.sub('^[0-9]', '_' + string[0], string) %}{{ return(string) }}{% endmacro %}";
        let cases = [
            (
                format!("{slugify}{{{{ slugify('Daily Events-Count!') }}}} {{{{ slugify('7 day') }}}}"),
                "daily_events_count _7_day",
            ),
            (
                "{% set m = modules.re.match('stg_(\\w+?)__(\\w+)', 'stg_google_ads__campaigns') %}{{ m.group(1) }} {{ m.group(2) }} {{ m.groups() | join(',') }}".to_string(),
                "google_ads campaigns google_ads,campaigns",
            ),
            (
                "{{ modules.re.match('ads', 'stg_ads') is none }} {{ modules.re.search('ads', 'stg_ads') is none }} {{ modules.re.fullmatch('a|ab', 'ab') is none }}".to_string(),
                "True False False",
            ),
            (
                "{{ modules.re.findall('(\\d+)', 'a1b22c333') | join(',') }} {{ modules.re.split('_+', 'a__b_c') | join(' ') }}".to_string(),
                "1,22,333 a b c",
            ),
            (
                "{{ modules.re.sub('(?P<word>ads)', '\\g<word>_v2', 'ADS ads', flags=modules.re.IGNORECASE) }} {{ modules.re.sub('(a)(b)', '\\\\2\\\\1', 'abab', count=1) }}".to_string(),
                "ADS_v2 ads_v2 baab",
            ),
            (
                "{{ modules.re.split('__', 'stg_a__b__c', 1) | join('|') }} {{ modules.re.split('(_)', 'a_b') | join('|') }} {% for m in modules.re.finditer('[0-9]+', 'a1b22') %}{{ m.group(0) }}.{% endfor %}".to_string(),
                "stg_a|b__c a|_|b 1.22.",
            ),
            (
                "{% set p = modules.re.compile('^int_', modules.re.I) %}{{ p.sub('', 'INT_orders') }} {{ modules.re.escape('a.b') }}".to_string(),
                "orders a\\.b",
            ),
        ];
        for (template, expected) in cases {
            assert_eq!(rendered(&template), expected, "{template}");
        }
        // A pattern re cannot read is an error, as in dbt.
        assert!(render("{{ modules.re.sub('(', '', 'x') }}", Dialect::Generic, None).is_err());
        // The other modules stay stand-ins.
        assert_eq!(
            rendered("{{ modules.datetime.date.today() }}"),
            "__jinja_modules_datetime_date_today"
        );
    }

    /// Jinja's filters as dbt's Jinja has them.
    #[test]
    fn filters_take_their_arguments_as_jinja_does() {
        let rendered = |t: &str| render(t, Dialect::Generic, None).unwrap().text;
        // dbt's print, tojson and fromjson.
        assert_eq!(
            rendered(
                "{{ print('x') }}{{ tojson({'a': [1, 'b']}) }} {{ fromjson('{\"k\": 2}')['k'] }}"
            ),
            "{\"a\":[1,\"b\"]} 2"
        );
        // dictsort takes its arguments by position too (dbt_metrics).
        assert_eq!(
            rendered(
                "{% for k, v in {'a': 2, 'b': 1} | dictsort(false, 'value') %}{{ k }}{% endfor %}"
            ),
            "ba"
        );
        assert_eq!(
            rendered(
                "{% for k, v in {'a': 2, 'b': 1} | dictsort(reverse=true) %}{{ k }}{% endfor %}"
            ),
            "ba"
        );
    }

    #[test]
    fn macro_output_maps_to_the_call_and_tag_output_to_the_whole_tag() {
        let template = "{% macro ratio(a, b) %}\n  sum({{ a }}) / sum({{ b }})\n{% endmacro %}\nselect\n  {{ ratio('clicks', 'rows') }} as ctr,\n  sum(x) / {{ 'count(*)' }} as y\nfrom t";
        let r = render(template, Dialect::Generic, None).unwrap();
        let (ri, ti) = (LineIndex::new(&r.text), LineIndex::new(template));
        let span = |needle: &str| {
            let at = r.text.find(needle).unwrap();
            let range = Range {
                start: ri.position(at),
                end: ri.position(at + needle.len()),
            };
            let m = r.map_range(&ri, &ti, range);
            (m.start.line, m.start.column, m.end.line, m.end.column)
        };
        // The macro's body is written at the call: that is where it is reported.
        assert_eq!(span("sum(clicks) / sum(rows)"), (5, 3, 5, 32));
        // An expression ending in a tag ends where the tag ends.
        assert_eq!(span("sum(x) / count(*)"), (6, 3, 6, 28));
    }

    #[test]
    fn endless_loops_and_syntax_errors_are_errors_not_hangs() {
        let err = render(
            "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
            Dialect::Generic,
            None,
        )
        .err()
        .unwrap();
        assert!(err.message.contains("too much work"), "{}", err.message);
        let err = render("select\n{% if %}", Dialect::Generic, None)
            .err()
            .unwrap();
        assert_eq!(err.line, 2);
    }
}
