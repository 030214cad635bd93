//! Reading a template without rendering it: whether it is templated, the
//! names it refers to, its `config()` arguments, and other tools' query
//! parameters made names.

use std::collections::BTreeSet;

use super::source_map::{segments, tag_inner};
use minijinja::Environment;

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
                && super::missing_macros::place(before, after)
                    == super::missing_macros::Place::AfterExpression;
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

/// The SQL with each hole of Python's string formatting written as a name
/// of the same length (so every position stays put), or `None` if it has
/// none: notebooks fill `{table}`, `{start_date}` and `{0}`
/// (`str.format`) and `%(campaign)s` (psycopg's parameters) before they
/// run a query. `{table}` becomes `_table_`, `%(campaign)s` `__campaign__`.
/// A hole that is a fragment of SQL (right after an expression, `from t
/// {where_clause}`, or opening a statement before its query) is blanked.
/// Holes inside string literals (`'{start_date}'`) are already valid SQL,
/// and comments are left alone; braces holding anything but a name
/// (DuckDB's `{'a': 1}`, ClickHouse's `{id:UInt32}`) are SQL of their own.
pub fn with_python_holes_as_names(sql: &str) -> Option<String> {
    let bytes = sql.as_bytes();
    let mut out = String::with_capacity(sql.len());
    let mut any = false;
    let is_name = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let (mut i, mut copied) = (0, 0);
    while i < bytes.len() {
        let rest = &sql[i..];
        let skip_to = if rest.starts_with("--") {
            rest.find('\n').map_or(sql.len(), |n| i + n)
        } else if let Some(comment) = rest.strip_prefix("/*") {
            comment.find("*/").map_or(sql.len(), |n| i + n + 4)
        } else if bytes[i] == b'\'' || bytes[i] == b'"' {
            let quote = bytes[i];
            let mut j = i + 1;
            while j < bytes.len() {
                // MySQL's and BigQuery's `\'` inside a string.
                if bytes[j] == b'\\' {
                    j += 2;
                    continue;
                }
                if bytes[j] == quote {
                    if bytes.get(j + 1) == Some(&quote) {
                        j += 2;
                        continue;
                    }
                    break;
                }
                j += 1;
            }
            (j + 1).min(sql.len())
        } else {
            0
        };
        if skip_to > i {
            i = skip_to;
            continue;
        }
        // `{name}`, `{a.b}`, `{0}`, `{}`; `%(name)s`.
        let hole = if bytes[i] == b'{' {
            let inner = rest[1..]
                .bytes()
                .take_while(|&b| is_name(b) || b == b'.')
                .count();
            (bytes.get(i + 1 + inner) == Some(&b'}')).then_some((1, inner, 1))
        } else if let Some(parameter) = rest.strip_prefix("%(") {
            let inner = parameter.bytes().take_while(|&b| is_name(b)).count();
            (inner > 0 && parameter[inner..].starts_with(")s")).then_some((2, inner, 2))
        } else {
            None
        };
        match hole {
            Some((open, inner, close)) => {
                let length = open + inner + close;
                out.push_str(&sql[copied..i]);
                // A fragment of SQL (`from t {where_clause}`, or a
                // `{create_statement}` before a statement's query): nothing.
                // Glued to a name it is part of that name (`events_{day}`).
                let (before, after) = (&sql[..i], &sql[i + length..]);
                let glued = before.ends_with(|c: char| c.is_alphanumeric() || c == '_')
                    || after.starts_with(|c: char| c.is_alphanumeric() || c == '_');
                let opens_a_statement = {
                    let before = before.trim_end();
                    let next: String = after
                        .trim_start()
                        .chars()
                        .take_while(char::is_ascii_alphabetic)
                        .collect::<String>()
                        .to_ascii_lowercase();
                    (before.is_empty() || before.ends_with(';'))
                        && matches!(next.as_str(), "select" | "with")
                };
                let fragment = !glued
                    && (opens_a_statement
                        || super::missing_macros::place(before, after)
                            == super::missing_macros::Place::AfterExpression);
                if fragment {
                    out.push_str(&" ".repeat(length));
                } else {
                    out.push_str(&"_".repeat(open));
                    out.push_str(&rest[open..open + inner].replace('.', "_"));
                    out.push_str(&"_".repeat(close));
                }
                i += length;
                copied = i;
                any = true;
            }
            None => i += rest.chars().next().map_or(1, char::len_utf8),
        }
    }
    out.push_str(&sql[copied..]);
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
pub(super) fn config_argument<'t>(template: &'t str, key: &str) -> Option<&'t str> {
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

/// Names the template calls or reads attributes of, from inside its tags.
pub(super) fn referenced_names(template: &str) -> BTreeSet<String> {
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

/// Whether `text` names `word` (not as part of a longer name).
pub(super) fn mentions(text: &str, word: &str) -> bool {
    let is_name = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(word).any(|(at, _)| {
        !text[..at].chars().next_back().is_some_and(is_name)
            && !text[at + word.len()..].chars().next().is_some_and(is_name)
    })
}

/// dbt's other globals, which no hole outside dbt means as a parameter.
pub(super) const DBT_GLOBALS: &[&str] = &[
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

pub(super) const KNOWN: &[&str] = &[
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
