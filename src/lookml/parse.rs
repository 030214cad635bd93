//! Reading LookML's syntax: `key: value` pairs, `key: name { … }` blocks,
//! `[…]` lists, `"…"` strings, `# …` comments, and SQL values that run to
//! `;;`. Every value keeps its byte range in the file, so a finding in a
//! measure's SQL points at what the user wrote.

use std::ops::Range;

/// One `key: value` of a LookML file.
#[derive(Debug, Clone, PartialEq)]
pub struct Pair {
    pub key: String,
    /// Where the key starts.
    pub at: usize,
    /// Where the pair ends (past its `}`, `]`, `;;` or value).
    pub end: usize,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A word, number or quoted string (quotes removed), and where it is.
    Scalar(String, Range<usize>),
    /// SQL (or HTML) running to `;;`, as written (trimmed), and where it is.
    Expression(String, Range<usize>),
    /// `{ … }`, named (`view: orders { … }`, `+orders` for a refinement) or
    /// not (`derived_table: { … }`).
    Block {
        name: Option<String>,
        pairs: Vec<Pair>,
    },
    /// `[a, "b", field: "value"]`: each item a word or a `key: value` pair.
    List(Vec<ListItem>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum ListItem {
    Scalar(String),
    Pair(String, String),
}

/// Why a file is no LookML, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub message: String,
    pub at: usize,
}

impl Pair {
    /// The pairs of a block's value, none for any other value.
    pub fn pairs(&self) -> &[Pair] {
        match &self.value {
            Value::Block { pairs, .. } => pairs,
            _ => &[],
        }
    }

    /// A block's name (`orders` of `view: orders { … }`).
    pub fn name(&self) -> Option<&str> {
        match &self.value {
            Value::Block { name, .. } => name.as_deref(),
            _ => None,
        }
    }

    /// A scalar's or an expression's text.
    pub fn text(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(text, _) | Value::Expression(text, _) => Some(text),
            _ => None,
        }
    }
}

/// The first pair of `pairs` with `key`.
pub fn find<'p>(pairs: &'p [Pair], key: &str) -> Option<&'p Pair> {
    pairs.iter().find(|p| p.key == key)
}

/// Whether a key's value is SQL or HTML running to `;;` (`sql`,
/// `sql_table_name`, `sql_on`, `html`, `expression`, …).
fn takes_an_expression(key: &str) -> bool {
    key == "sql"
        || key.starts_with("sql_")
        || key.ends_with("_sql")
        || matches!(key, "html" | "expression" | "expression_custom_filter")
}

/// How deep blocks may nest: real LookML nests a handful (a view, a field,
/// a `derived_table`), and a file nested deeper would overflow the stack.
const MAX_NESTING: usize = 64;

/// Reads a LookML file's top-level pairs.
pub fn parse(text: &str) -> Result<Vec<Pair>, SyntaxError> {
    let mut reader = Reader {
        text,
        at: 0,
        depth: 0,
    };
    let pairs = reader.pairs()?;
    reader.skip_space();
    if reader.at < text.len() {
        return Err(reader.error("a `}` closes no block"));
    }
    Ok(pairs)
}

struct Reader<'t> {
    text: &'t str,
    at: usize,
    /// How many blocks the reader is inside.
    depth: usize,
}

impl<'t> Reader<'t> {
    fn error(&self, message: &str) -> SyntaxError {
        SyntaxError {
            message: message.to_string(),
            at: self.at.min(self.text.len()),
        }
    }

    fn rest(&self) -> &'t str {
        &self.text[self.at..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    /// Skips whitespace and `#` comments.
    fn skip_space(&mut self) {
        loop {
            let rest = self.rest();
            let trimmed = rest.trim_start();
            self.at += rest.len() - trimmed.len();
            if trimmed.starts_with('#') {
                self.at += trimmed.find('\n').unwrap_or(trimmed.len());
            } else {
                return;
            }
        }
    }

    /// Pairs up to a `}` or the end.
    fn pairs(&mut self) -> Result<Vec<Pair>, SyntaxError> {
        let mut pairs = Vec::new();
        loop {
            self.skip_space();
            match self.peek() {
                None | Some('}') => return Ok(pairs),
                _ => pairs.push(self.pair()?),
            }
        }
    }

    fn word(&mut self) -> String {
        let rest = self.rest();
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '.' | '+' | '-' | '*')))
            .unwrap_or(rest.len());
        self.at += end;
        rest[..end].to_string()
    }

    fn pair(&mut self) -> Result<Pair, SyntaxError> {
        let at = self.at;
        let key = self.word();
        if key.is_empty() {
            return Err(self.error("expected a LookML key"));
        }
        self.skip_space();
        if self.peek() != Some(':') {
            return Err(self.error(&format!("expected `:` after `{key}`")));
        }
        self.at += 1;
        let value = if takes_an_expression(&key) {
            self.expression()?
        } else {
            self.value()?
        };
        Ok(Pair {
            key,
            at,
            end: self.at,
            value,
        })
    }

    /// SQL to the next `;;`.
    fn expression(&mut self) -> Result<Value, SyntaxError> {
        let rest = self.rest();
        let Some(end) = rest.find(";;") else {
            return Err(self.error("an expression never ends: `;;` is missing"));
        };
        let raw = &rest[..end];
        let lead = raw.len() - raw.trim_start().len();
        let trimmed = raw.trim();
        let start = self.at + lead;
        self.at += end + 2;
        Ok(Value::Expression(
            trimmed.to_string(),
            start..start + trimmed.len(),
        ))
    }

    fn value(&mut self) -> Result<Value, SyntaxError> {
        self.skip_space();
        match self.peek() {
            Some('{') => self.block(None),
            Some('[') => self.list(),
            Some('"') => {
                let (text, range) = self.string()?;
                Ok(Value::Scalar(text, range))
            }
            Some(_) => {
                let start = self.at;
                let word = self.word();
                if word.is_empty() {
                    return Err(self.error("expected a value"));
                }
                let end = self.at;
                self.skip_space();
                if self.peek() == Some('{') {
                    self.block(Some(word))
                } else {
                    Ok(Value::Scalar(word, start..end))
                }
            }
            None => Err(self.error("the file ends where a value was expected")),
        }
    }

    fn block(&mut self, name: Option<String>) -> Result<Value, SyntaxError> {
        let open = self.at;
        if self.depth >= MAX_NESTING {
            return Err(self.error(&format!("blocks nest deeper than {MAX_NESTING} levels")));
        }
        self.at += 1;
        self.depth += 1;
        let pairs = self.pairs();
        self.depth -= 1;
        let pairs = pairs?;
        if self.peek() != Some('}') {
            self.at = open;
            return Err(self.error("this `{` is never closed"));
        }
        self.at += 1;
        Ok(Value::Block { name, pairs })
    }

    fn string(&mut self) -> Result<(String, Range<usize>), SyntaxError> {
        let open = self.at;
        let mut out = String::new();
        let mut chars = self.rest().char_indices().skip(1);
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, escaped)) = chars.next() {
                        out.push(escaped);
                    }
                }
                '"' => {
                    self.at += i + 1;
                    return Ok((out, open + 1..open + i));
                }
                c => out.push(c),
            }
        }
        Err(self.error("this string is never closed"))
    }

    fn list(&mut self) -> Result<Value, SyntaxError> {
        let open = self.at;
        self.at += 1;
        let mut items = Vec::new();
        loop {
            self.skip_space();
            match self.peek() {
                Some(']') => {
                    self.at += 1;
                    return Ok(Value::List(items));
                }
                Some(',') => self.at += 1,
                Some('"') => items.push(ListItem::Scalar(self.string()?.0)),
                Some(_) => {
                    let word = self.word();
                    if word.is_empty() {
                        return Err(self.error("expected a list item"));
                    }
                    self.skip_space();
                    if self.peek() == Some(':') {
                        self.at += 1;
                        self.skip_space();
                        let value = if self.peek() == Some('"') {
                            self.string()?.0
                        } else {
                            self.word()
                        };
                        items.push(ListItem::Pair(word, value));
                    } else {
                        items.push(ListItem::Scalar(word));
                    }
                }
                None => {
                    self.at = open;
                    return Err(self.error("this `[` is never closed"));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_views_fields_lists_and_sql() {
        let text = r#"# a view
view: ad_stats {
  sql_table_name: analytics.ad_stats ;;
  dimension: clicks { type: number sql: ${TABLE}.clicks ;; }
  measure: ctr {
    type: number
    sql: ${total_clicks} / NULLIF(${total_impressions}, 0) ;;  # not a comment of SQL
    value_format_name: percent_2
    filters: [is_test: "no", platform: "-web"]
    drill_fields: [id, name, detail*]
  }
}
"#;
        let pairs = parse(text).unwrap();
        assert_eq!(pairs.len(), 1);
        let view = &pairs[0];
        assert_eq!((view.key.as_str(), view.name()), ("view", Some("ad_stats")));
        let table = find(view.pairs(), "sql_table_name").unwrap();
        assert_eq!(table.text(), Some("analytics.ad_stats"));
        let ctr = view
            .pairs()
            .iter()
            .find(|p| p.name() == Some("ctr"))
            .unwrap();
        let sql = find(ctr.pairs(), "sql").unwrap();
        let Value::Expression(written, range) = &sql.value else {
            panic!("{sql:?}")
        };
        assert_eq!(&text[range.clone()], written);
        assert_eq!(written, "${total_clicks} / NULLIF(${total_impressions}, 0)");
        assert_eq!(
            find(ctr.pairs(), "filters").unwrap().value,
            Value::List(vec![
                ListItem::Pair("is_test".into(), "no".into()),
                ListItem::Pair("platform".into(), "-web".into()),
            ])
        );
        assert_eq!(
            find(ctr.pairs(), "value_format_name").unwrap().text(),
            Some("percent_2")
        );
    }

    #[test]
    fn anonymous_blocks_refinements_and_escapes() {
        let text = "view: +orders {\n  derived_table: { sql: SELECT 1 AS x ;; }\n  measure: n { label: \"a \\\"quoted\\\" label\" type: count }\n}\n";
        let pairs = parse(text).unwrap();
        assert_eq!(pairs[0].name(), Some("+orders"));
        let derived = find(pairs[0].pairs(), "derived_table").unwrap();
        assert_eq!(derived.name(), None);
        assert_eq!(
            find(derived.pairs(), "sql").unwrap().text(),
            Some("SELECT 1 AS x")
        );
        let n = find(pairs[0].pairs(), "measure").unwrap();
        assert_eq!(
            find(n.pairs(), "label").unwrap().text(),
            Some("a \"quoted\" label")
        );
    }

    #[test]
    fn broken_files_say_where() {
        for (text, message) in [
            ("view: a {\n  measure: b { type: sum\n", "never closed"),
            ("view: a { sql_table_name: t }\n", "`;;` is missing"),
            ("view: a { label: \"x }\n}", "never closed"),
            ("}\n", "closes no block"),
            ("view a { }\n", "expected `:`"),
        ] {
            let error = parse(text).unwrap_err();
            assert!(error.message.contains(message), "{text:?}: {error:?}");
            assert!(error.at <= text.len());
        }
    }
}
