//! Positions in source files: 1-based lines and columns (columns count
//! characters, as sqlparser and editors do) and their byte offsets.

use serde::Serialize;

/// A 1-based line and column; the column counts characters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Position {
    pub line: u32,
    pub column: u32,
}

/// A range in a file: `start` inclusive, `end` exclusive (the position just past the last character).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Range {
    pub start: Position,
    pub end: Position,
}

impl Range {
    /// The first character of a file, for findings about the whole file.
    pub fn file_start() -> Range {
        Range {
            start: Position::new(1, 1),
            end: Position::new(1, 2),
        }
    }
}

impl Position {
    pub fn new(line: u32, column: u32) -> Self {
        Position { line, column }
    }
}

impl From<sqlparser::tokenizer::Location> for Position {
    fn from(l: sqlparser::tokenizer::Location) -> Self {
        Position {
            line: l.line as u32,
            column: l.column as u32,
        }
    }
}

impl From<sqlparser::tokenizer::Span> for Range {
    fn from(s: sqlparser::tokenizer::Span) -> Self {
        Range {
            start: s.start.into(),
            end: s.end.into(),
        }
    }
}

/// Byte offsets of line starts, to turn positions into offsets for snippets.
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
    /// Per line: all ASCII, so columns are byte offsets (the common case,
    /// and what keeps one very long minified line linear).
    ascii: Vec<bool>,
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        let ascii = starts
            .iter()
            .enumerate()
            .map(|(i, &start)| {
                let end = starts.get(i + 1).copied().unwrap_or(text.len());
                text.as_bytes()[start..end].is_ascii()
            })
            .collect();
        LineIndex {
            text,
            starts,
            ascii,
        }
    }

    /// The text indexed.
    pub fn text(&self) -> &'a str {
        self.text
    }

    /// The byte offset of a position (clamped into the text).
    pub fn offset(&self, pos: Position) -> usize {
        let line = (pos.line.max(1) as usize - 1).min(self.starts.len() - 1);
        let start = self.starts[line];
        let end = self
            .starts
            .get(line + 1)
            .copied()
            .unwrap_or(self.text.len());
        let line_text = &self.text[start..end];
        let column = pos.column.max(1) as usize - 1;
        if self.ascii[line] {
            return start + column.min(line_text.len());
        }
        start
            + line_text
                .char_indices()
                .nth(column)
                .map(|(i, _)| i)
                .unwrap_or(line_text.len())
    }

    /// The position of a byte offset.
    pub fn position(&self, offset: usize) -> Position {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let column = if self.ascii[line] {
            offset - self.starts[line] + 1
        } else {
            self.text[self.starts[line]..offset].chars().count() + 1
        };
        Position::new(line as u32 + 1, column as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_and_offsets_round_trip() {
        let text = "select 1;\n  -- Köln\nselect x\n";
        let index = LineIndex::new(text);
        for offset in [0, 3, 10, 12, 21, text.len()] {
            if text.is_char_boundary(offset) {
                assert_eq!(index.offset(index.position(offset)), offset);
            }
        }
        assert_eq!(index.position(10), Position::new(2, 1));
        // Columns count characters: 'K' 'ö' 'l' 'n' -> "n" is column 9 on line 2.
        assert_eq!(index.offset(Position::new(2, 9)), text.find('n').unwrap());
    }
}
