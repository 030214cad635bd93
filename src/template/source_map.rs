//! The source map: invisible markers put into the template before rendering
//! and stripped from its output into a map from each rendered byte to the
//! template byte it came from (see the module documentation).

use super::containers::with_mutable_literal;
use crate::source::{LineIndex, Position, Range};

/// Starts a marker whose following text maps byte for byte.
pub(super) const RAW: char = '\u{E000}';
/// Starts a marker whose following text maps to one place (a tag).
pub(super) const PINNED: char = '\u{E002}';
/// Ends a marker.
pub(super) const END: char = '\u{E001}';

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
    pub(super) origin: Vec<u32>,
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
pub(super) fn segments(template: &str) -> Vec<(usize, usize, bool)> {
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
pub(super) fn tag_end(template: &str, start: usize, close: &str) -> usize {
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
pub(super) fn tag_inner(tag: &str) -> &str {
    tag.get(2..tag.len().saturating_sub(2))
        .unwrap_or("")
        .trim_start_matches(['-', '+'])
        .trim_end_matches(['-', '+'])
        .trim()
}

/// Tags opening and closing blocks whose text is captured (a macro body, a
/// `set` block, a `call` body), not written where they stand.
pub(super) fn block_change(tag: &str) -> i32 {
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

pub(super) fn marker(kind: char, offset: usize, out: &mut String) {
    out.push(kind);
    out.push_str(&offset.to_string());
    out.push(END);
}

/// The template with position markers in its raw text.
pub(super) fn with_markers(template: &str) -> String {
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
pub(super) fn strip_markers(rendered: &str) -> Rendered {
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
