//! A macro that no installed package defines (a package newer than the one
//! installed) renders as a stand-in name. Where the SQL around it expects
//! a name (a column in a select list, a relation after FROM) that name
//! parses; elsewhere it is fitted to what the call most likely wrote, so
//! the rest of the model is still checked:
//!
//! - the whole statement, or a subquery's body (`with base as ({{ m() }})`,
//!   fivetran's `union_connections(…)`): a query of a stand-in relation;
//! - right after an expression (`partition by id {{ m() }}`, a column then
//!   `{{ apply_source_relation() }}`): optional text it appends, so nothing.

use super::placeholder::{Placeholder, PLACEHOLDER_PREFIX};
use super::source_map::Rendered;

/// Fits each stand-in of the `missing` macros (as written: `pkg.name`) in
/// `rendered` to its place, keeping every byte's origin in the template.
pub(super) fn fit(rendered: &mut Rendered, missing: &[String]) {
    for path in missing {
        let name = format!("{PLACEHOLDER_PREFIX}_{}", Placeholder::sql_name_of(path));
        let mut from = 0;
        while let Some(found) = rendered.text[from..].find(&name) {
            let start = from + found;
            let end = start + name.len();
            from = end;
            let whole_word = !rendered.text[end..]
                .chars()
                .next()
                .is_some_and(|c| c.is_alphanumeric() || c == '_')
                && !rendered.text[..start]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_');
            if !whole_word {
                continue;
            }
            let replacement = match place(&rendered.text[..start], &rendered.text[end..]) {
                Place::Query => format!("select * from {name}"),
                Place::AfterExpression => " ".repeat(name.len()),
                Place::Name => continue,
            };
            from = start + replacement.len();
            replace(rendered, start..end, &replacement);
        }
    }
}

#[derive(Debug, PartialEq)]
pub(super) enum Place {
    /// Where a query starts.
    Query,
    /// Right after an expression: optional text the call appends.
    AfterExpression,
    /// Where a name stands (a column, a relation, an argument).
    Name,
}

/// What the SQL around a stand-in expects of it.
pub(super) fn place(before: &str, after: &str) -> Place {
    // A query is all there is up to the statement's or subquery's end.
    let after = after.trim_start();
    let ends_a_query = after.is_empty()
        || after.starts_with([')', ';'])
        || ["union", "intersect", "except"].iter().any(|word| {
            after
                .get(..word.len())
                .is_some_and(|w| w.eq_ignore_ascii_case(word))
        });
    let before = without_trailing_comments(before);
    let Some(last) = before.chars().next_back() else {
        return if ends_a_query {
            Place::Query
        } else {
            Place::Name
        };
    };
    match last {
        ';' if ends_a_query => Place::Query,
        '(' => {
            // A subquery's body or a CTE's (`as (`, `from (`, `in (`),
            // else a function's argument.
            let word = last_word(&before[..before.len() - 1]);
            if ends_a_query && matches!(word.as_str(), "as" | "from" | "join" | "in" | "exists") {
                Place::Query
            } else {
                Place::Name
            }
        }
        // (An opening quote of a name, `"{{ m() }}"`, is a name's place.)
        ')' | '\'' | ']' => Place::AfterExpression,
        c if c.is_alphanumeric() || c == '_' => {
            let word = last_word(before);
            if is_keyword_before_a_name(&word) {
                Place::Name
            } else if matches!(word.as_str(), "all" | "union" | "intersect" | "except") {
                if ends_a_query {
                    Place::Query
                } else {
                    Place::Name
                }
            } else {
                Place::AfterExpression
            }
        }
        _ => Place::Name,
    }
}

/// `text` without the comments and whitespace it ends with (a model's
/// `-- To disable this model, …` header above a macro call).
fn without_trailing_comments(text: &str) -> &str {
    let mut text = text.trim_end();
    loop {
        let line_start = text.rfind('\n').map_or(0, |i| i + 1);
        let last_line = &text[line_start..];
        let cut = if let Some(body) = text.strip_suffix("*/") {
            body.rfind("/*")
        } else {
            // A `--` outside quotes (an even count of them before it).
            last_line
                .match_indices("--")
                .find(|(at, _)| last_line[..*at].matches('\'').count().is_multiple_of(2))
                .map(|(at, _)| line_start + at)
        };
        match cut {
            Some(at) => text = text[..at].trim_end(),
            None => return text,
        }
    }
}

/// The last word of `text`, lowercased.
fn last_word(text: &str) -> String {
    let text = text.trim_end();
    let start = text
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_alphanumeric() || *c == '_')
        .last()
        .map_or(text.len(), |(i, _)| i);
    text[start..].to_lowercase()
}

/// Words after which SQL expects a name or an expression, not more of one.
fn is_keyword_before_a_name(word: &str) -> bool {
    matches!(
        word,
        "select"
            | "distinct"
            | "from"
            | "join"
            | "where"
            | "and"
            | "or"
            | "not"
            | "on"
            | "by"
            | "as"
            | "when"
            | "then"
            | "else"
            | "case"
            | "in"
            | "is"
            | "like"
            | "ilike"
            | "between"
            | "having"
            | "over"
            | "partition"
            | "order"
            | "group"
            | "limit"
            | "with"
            | "set"
            | "values"
            | "into"
            | "table"
            | "using"
            | "return"
            | "returns"
            | "qualify"
            | "lateral"
            | "view"
            | "update"
            | "offset"
            | "top"
            | "fetch"
            | "rows"
    )
}

/// Replaces `range` of the rendered text, each new byte from where the
/// replaced text came from.
fn replace(rendered: &mut Rendered, range: std::ops::Range<usize>, with: &str) {
    let origin = rendered.origin[range.start];
    rendered.text.replace_range(range.clone(), with);
    rendered
        .origin
        .splice(range, std::iter::repeat_n(origin, with.len()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stand_in_is_placed_by_the_sql_before_it() {
        let cases = [
            ("", "", Place::Query),
            ("", "\n", Place::Query),
            ("", " as usd", Place::Name),
            ("select 1;\n", "", Place::Query),
            ("with base as (\n  ", "\n), b as (", Place::Query),
            ("select * from (", ") as t", Place::Query),
            ("select * from (", " as t", Place::Name),
            ("select a from t union all\n", "", Place::Query),
            (
                "select a from t union all\n",
                " union all select 1",
                Place::Query,
            ),
            ("select coalesce(", ")", Place::Name),
            ("select", " from t", Place::Name),
            ("select a,", " from t", Place::Name),
            ("select a from", " where b", Place::Name),
            ("select a from t left join", " on x", Place::Name),
            ("select a\n  ", " from base", Place::AfterExpression),
            (
                "row_number() over (partition by id",
                " order by d)",
                Place::AfterExpression,
            ),
            ("select sum(x)", ", y", Place::AfterExpression),
            ("where a = 'x'", "", Place::AfterExpression),
            ("where a = 1 and", " b", Place::Name),
            // Comments are no SQL before it.
            (
                "-- To disable this model, set using_x to False.\n\n",
                "\n",
                Place::Query,
            ),
            (
                "select a -- the id\n  /* more */\n",
                " from t",
                Place::AfterExpression,
            ),
            ("select '--' as a,", " from t", Place::Name),
            ("select a from t limit 10 offset", "", Place::Name),
            ("select * from \"", "\"", Place::Name),
        ];
        for (before, after, expected) in cases {
            assert_eq!(place(before, after), expected, "{before:?} … {after:?}");
        }
    }
}
