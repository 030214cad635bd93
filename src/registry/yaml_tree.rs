//! A YAML tree that remembers where every node was written.
//!
//! serde_yaml gives typed values but no positions; this tree (built from
//! yaml-rust2's marked events) gives the positions, so that registry errors
//! can put a caret under the exact key or value.

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, ScanError};

/// Where a node starts: byte offset and 1-based line and column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Mark {
    pub offset: usize,
    pub line: u32,
    pub column: u32,
}

impl Mark {
    /// The mark at 1-based `line` and `column` (in characters) of `source`,
    /// its byte offset worked out from them: YAML parsers count their
    /// indexes in characters, which are not byte offsets past a non-ASCII
    /// character.
    pub fn at(source: &str, line: usize, column: usize) -> Mark {
        let line_start = if line <= 1 {
            0
        } else {
            source
                .match_indices('\n')
                .nth(line - 2)
                .map_or(source.len(), |(i, _)| i + 1)
        };
        Mark::on_line(source, line_start, line, column)
    }

    /// [`Mark::at`], with the byte offset where the line starts known.
    fn on_line(source: &str, line_start: usize, line: usize, column: usize) -> Mark {
        let rest = &source[line_start.min(source.len())..];
        let within = rest
            .char_indices()
            .take_while(|(_, c)| *c != '\n')
            .nth(column.saturating_sub(1))
            .map_or_else(|| rest.find('\n').unwrap_or(rest.len()), |(i, _)| i);
        Mark {
            offset: line_start + within,
            line: line as u32,
            column: column as u32,
        }
    }
}

#[derive(Clone, Debug)]
pub enum NodeKind {
    Scalar(String),
    Sequence(Vec<Node>),
    /// Keys and values in file order.
    Mapping(Vec<(Node, Node)>),
    Alias,
}

#[derive(Clone, Debug)]
pub struct Node {
    pub mark: Mark,
    pub kind: NodeKind,
}

impl Node {
    /// The value under `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    /// The key node and the value node of `key` in a mapping.
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        match &self.kind {
            NodeKind::Mapping(entries) => entries
                .iter()
                .find(|(k, _)| k.as_scalar() == Some(key))
                .map(|(k, v)| (k, v)),
            _ => None,
        }
    }

    pub fn item(&self, index: usize) -> Option<&Node> {
        match &self.kind {
            NodeKind::Sequence(items) => items.get(index),
            _ => None,
        }
    }

    pub fn as_scalar(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// Keys of a mapping, in file order.
    pub fn keys(&self) -> Vec<&Node> {
        match &self.kind {
            NodeKind::Mapping(entries) => entries.iter().map(|(k, _)| k).collect(),
            _ => Vec::new(),
        }
    }

    /// Byte length of the node's text when it is a plain scalar on one line, else
    /// the rest of its line: enough to underline it.
    pub fn text_len(&self, source: &str) -> usize {
        let rest = &source[self.mark.offset.min(source.len())..];
        let line = rest.split('\n').next().unwrap_or("").trim_end();
        match &self.kind {
            NodeKind::Scalar(s) if line.starts_with(s.as_str()) && !s.is_empty() => s.len(),
            _ => line.len().max(1),
        }
    }
}

struct Builder<'s> {
    source: &'s str,
    /// Byte offsets where each line starts.
    line_starts: Vec<usize>,
    stack: Vec<Node>,
    /// Pending key for each open mapping (parallel to the mappings on `stack`).
    keys: Vec<Option<Node>>,
    root: Option<Node>,
}

impl Builder<'_> {
    fn mark(&self, m: Marker) -> Mark {
        let line_start = self
            .line_starts
            .get(m.line().saturating_sub(1))
            .copied()
            .unwrap_or(self.source.len());
        Mark::on_line(self.source, line_start, m.line(), m.col() + 1)
    }

    fn push_value(&mut self, node: Node) {
        let Some(parent) = self.stack.last_mut() else {
            if self.root.is_none() {
                self.root = Some(node);
            }
            return;
        };
        match &mut parent.kind {
            NodeKind::Sequence(items) => items.push(node),
            NodeKind::Mapping(entries) => {
                let slot = self.keys.last_mut().expect("mapping has a key slot");
                match slot.take() {
                    None => *slot = Some(node),
                    Some(key) => entries.push((key, node)),
                }
            }
            _ => {}
        }
    }
}

impl MarkedEventReceiver for Builder<'_> {
    fn on_event(&mut self, event: Event, mark: Marker) {
        let mark = self.mark(mark);
        match event {
            Event::Scalar(value, ..) => self.push_value(Node {
                mark,
                kind: NodeKind::Scalar(value),
            }),
            Event::Alias(_) => self.push_value(Node {
                mark,
                kind: NodeKind::Alias,
            }),
            Event::SequenceStart(..) => self.stack.push(Node {
                mark,
                kind: NodeKind::Sequence(Vec::new()),
            }),
            Event::MappingStart(..) => {
                self.stack.push(Node {
                    mark,
                    kind: NodeKind::Mapping(Vec::new()),
                });
                self.keys.push(None);
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some(node) = self.stack.pop() {
                    if matches!(node.kind, NodeKind::Mapping(_)) {
                        self.keys.pop();
                    }
                    self.push_value(node);
                }
            }
            _ => {}
        }
    }
}

/// The most a registry or config file may hold: real ones are a few
/// hundred kilobytes, and `/dev/zero` must not be read until memory runs out.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// How deep `[`/`{` may nest: real files nest a handful of levels, and YAML
/// scanners take minutes to reject a hundred thousand.
pub const MAX_FLOW_DEPTH: usize = 64;

/// Reads a YAML file of at most [`MAX_FILE_BYTES`].
pub fn read_bounded(path: &std::path::Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(std::io::Error::other(format!(
            "it is larger than {} MiB, which no registry or config file needs",
            MAX_FILE_BYTES >> 20
        )));
    }
    String::from_utf8(bytes).map_err(|e| {
        // Where an editor shows it: the line and column of the first bad byte.
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let prefix = std::str::from_utf8(valid).unwrap_or_default();
        let line = prefix.matches('\n').count() + 1;
        let column = prefix
            .rsplit('\n')
            .next()
            .unwrap_or_default()
            .chars()
            .count()
            + 1;
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("it is not UTF-8 text (invalid byte at line {line}, column {column})"),
        )
    })
}

/// The byte offset where flow collections (`[`, `{`) nest deeper than
/// [`MAX_FLOW_DEPTH`], if they do: checked in one pass before any parser
/// sees the text. Quoted scalars and comments are skipped.
pub fn too_deep(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let (mut depth, mut i) = (0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            // A flow collection opens after a space, an indicator or
            // another opening (`x[1` in a scalar opens nothing).
            b'[' | b'{'
                if i == 0
                    || matches!(
                        bytes[i - 1],
                        b' ' | b'\t' | b'\n' | b':' | b',' | b'[' | b'{' | b'-'
                    ) =>
            {
                depth += 1;
                if depth > MAX_FLOW_DEPTH {
                    return Some(i);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b'#' if i == 0 || bytes[i - 1].is_ascii_whitespace() => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            quote @ (b'\'' | b'"') if i == 0 || !bytes[i - 1].is_ascii_alphanumeric() => {
                i += 1;
                while i < bytes.len() && bytes[i] != quote && bytes[i] != b'\n' {
                    if quote == b'"' && bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Where the first alias (`*name`) of `text` is, if any: serde_yaml reports
/// an alias bomb ("repetition limit exceeded") with no position.
pub fn first_alias(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    (1..bytes.len()).find(|&i| {
        bytes[i] == b'*'
            && matches!(bytes[i - 1], b' ' | b'[' | b',' | b'{' | b':')
            && bytes
                .get(i + 1)
                .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
    })
}

/// The mark of a serde_yaml error: its location, or for an alias bomb the
/// first alias.
pub fn error_mark(text: &str, error: &serde_yaml::Error) -> Option<Mark> {
    let mark_at = |offset: usize| {
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
        Mark::at(text, line, column)
    };
    let message = error.to_string();
    // "control characters are not allowed at position 31": more exact than
    // the location (the document's start).
    let at_position = message
        .rsplit_once("at position ")
        .and_then(|(_, n)| n.trim().parse::<usize>().ok());
    // libyaml counts that position in bytes.
    if let Some(mut offset) = at_position {
        offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        return Some(mark_at(offset));
    }
    match error.location() {
        Some(l) => Some(Mark::at(text, l.line(), l.column())),
        None if message.contains("repetition limit") => first_alias(text).map(mark_at),
        None => None,
    }
}

/// Parses the first document of `source` into a positioned tree.
pub fn parse(source: &str) -> Result<Option<Node>, ScanError> {
    let mut builder = Builder {
        source,
        line_starts: std::iter::once(0)
            .chain(source.match_indices('\n').map(|(i, _)| i + 1))
            .collect(),
        stack: Vec::new(),
        keys: Vec::new(),
        root: None,
    };
    let mut parser = Parser::new_from_str(source);
    parser.load(&mut builder, false)?;
    Ok(builder.root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_positions_of_keys_and_values() {
        let src = "version: 1\nmetrics:\n  - name: ctr\n    sql: SUM(clicks)\n";
        let root = parse(src).unwrap().unwrap();
        let metric = root.get("metrics").unwrap().item(0).unwrap();
        let (key, value) = metric.entry("sql").unwrap();
        assert_eq!((key.mark.line, key.mark.column), (4, 5));
        assert_eq!((value.mark.line, value.mark.column), (4, 10));
        assert_eq!(
            &src[value.mark.offset..value.mark.offset + value.text_len(src)],
            "SUM(clicks)"
        );
    }

    #[test]
    fn deep_flow_nesting_is_found_in_one_pass() {
        assert_eq!(too_deep("a: [[1], {b: [2]}]  # [[[[\n"), None);
        assert_eq!(too_deep("a: '[[[[[[[['\n"), None);
        let deep = format!("x: {}", "[".repeat(100_000));
        assert_eq!(too_deep(&deep), Some(3 + MAX_FLOW_DEPTH));
        // Brackets inside words open nothing.
        let prose = format!("description: |\n{}", "  see x[1\n".repeat(70));
        assert_eq!(too_deep(&prose), None);
    }

    #[test]
    fn offsets_are_bytes_past_non_ascii_text() {
        let src =
            "# ✓✓✓✓✓✓ — données\nversion: 1\nmetrics:\n  - name: ctr # é\n    sql: SUM(clicks)\n";
        let root = parse(src).unwrap().unwrap();
        let metric = root.get("metrics").unwrap().item(0).unwrap();
        let (key, value) = metric.entry("sql").unwrap();
        assert_eq!((key.mark.line, key.mark.column), (5, 5));
        assert_eq!(
            &src[value.mark.offset..value.mark.offset + value.text_len(src)],
            "SUM(clicks)"
        );
        let mark = Mark::at(src, 2, 10);
        assert_eq!(&src[mark.offset..mark.offset + 1], "1");
    }
}
