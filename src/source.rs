//! Positions in source files: 1-based lines and columns (columns count
//! characters, as sqlparser and editors do) and their byte offsets.

use serde::{Deserialize, Serialize};

/// A 1-based line and column; the column counts characters.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Position {
    pub line: u32,
    pub column: u32,
}

/// A range in a file: `start` inclusive, `end` exclusive (the position just past the last character).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
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
    starts: LineStarts,
    /// The lines (from 0) that hold a non-ASCII character, in order: on the
    /// others, the common case, columns are byte offsets (and one very long
    /// minified line stays linear).
    non_ascii: Vec<usize>,
}

/// Line starts, four bytes each when the text allows: a generated dump of
/// millions of short lines is indexed twice (parse and extract).
enum LineStarts {
    Narrow(Vec<u32>),
    Wide(Vec<usize>),
}

impl LineStarts {
    fn of(text: &str) -> Self {
        let starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1));
        match u32::try_from(text.len()) {
            // Every start is at most the text's length.
            Ok(_) => LineStarts::Narrow(starts.map(|s| s as u32).collect()),
            Err(_) => LineStarts::Wide(starts.collect()),
        }
    }

    fn len(&self) -> usize {
        match self {
            LineStarts::Narrow(s) => s.len(),
            LineStarts::Wide(s) => s.len(),
        }
    }

    fn get(&self, line: usize) -> Option<usize> {
        match self {
            LineStarts::Narrow(s) => s.get(line).map(|&s| s as usize),
            LineStarts::Wide(s) => s.get(line).copied(),
        }
    }

    /// The line holding `offset`.
    fn line_of(&self, offset: usize) -> usize {
        match self {
            LineStarts::Narrow(s) => s.partition_point(|&s| s as usize <= offset) - 1,
            LineStarts::Wide(s) => s.partition_point(|&s| s <= offset) - 1,
        }
    }
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> Self {
        let starts = LineStarts::of(text);
        let non_ascii = if text.is_ascii() {
            Vec::new()
        } else {
            (0..starts.len())
                .filter(|&line| {
                    let start = starts.get(line).unwrap_or(text.len());
                    let end = starts.get(line + 1).unwrap_or(text.len());
                    !text.as_bytes()[start..end].is_ascii()
                })
                .collect()
        };
        LineIndex {
            text,
            starts,
            non_ascii,
        }
    }

    /// The text indexed.
    pub fn text(&self) -> &'a str {
        self.text
    }

    fn is_ascii(&self, line: usize) -> bool {
        self.non_ascii.binary_search(&line).is_err()
    }

    /// The byte offset of a position (clamped into the text).
    pub fn offset(&self, pos: Position) -> usize {
        let line = (pos.line.max(1) as usize - 1).min(self.starts.len() - 1);
        let start = self.starts.get(line).unwrap_or(0);
        let end = self.starts.get(line + 1).unwrap_or(self.text.len());
        let line_text = &self.text[start..end];
        let column = pos.column.max(1) as usize - 1;
        if self.is_ascii(line) {
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
        let line = self.starts.line_of(offset);
        let start = self.starts.get(line).unwrap_or(0);
        let column = if self.is_ascii(line) {
            offset - start + 1
        } else {
            self.text[start..offset].chars().count() + 1
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

    #[test]
    fn every_offset_round_trips_on_ascii_and_non_ascii_lines() {
        for text in [
            "",
            "select 1",
            "a\nbé\n\nc\n",
            "é\né\nx\n✓✓ y\n",
            "\n\n\n",
            "plain\nlines\nonly\n",
        ] {
            let index = LineIndex::new(text);
            for offset in (0..=text.len()).filter(|&o| text.is_char_boundary(o)) {
                let at = index.position(offset);
                assert_eq!(index.offset(at), offset, "{text:?} at {offset}");
                // Columns count characters from the line's start.
                let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
                let column = text[line_start..offset].chars().count() as u32 + 1;
                let line = text[..offset].matches('\n').count() as u32 + 1;
                assert_eq!(at, Position::new(line, column), "{text:?} at {offset}");
            }
        }
    }
}
