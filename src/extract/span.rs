//! Where a select item's expression is in the text.
//!
//! sqlparser's spans are close but not exact: some start late (inside a
//! leading `CAST(` or unary minus) or end early (at `COUNT` in `COUNT(*)`).
//! The expression is bounded by its neighbours, so these functions widen the
//! parsed span to the text between the item's start and its alias, skipping
//! whitespace, comments and the `AS` keyword. All offsets are byte offsets on
//! character boundaries.

/// The byte range of a select item's expression.
///
/// `parsed` is sqlparser's span as byte offsets; `alias_start` is where the
/// alias is written, when it follows the expression.
pub fn expression_bytes(
    text: &str,
    parsed: (usize, usize),
    alias_start: Option<usize>,
) -> (usize, usize) {
    let (mut start, mut end) = (
        parsed.0.min(text.len()),
        parsed.1.min(text.len()).max(parsed.0.min(text.len())),
    );
    match alias_start {
        Some(alias) if alias > end && alias <= text.len() => {
            let before = back_over_gap(text, alias);
            let before = back_over_as(text, before);
            end = back_over_gap(text, before).max(end);
        }
        _ => end = through_arguments(text, end),
    }
    start = widen_start(text, start);
    // Parentheses left open at the start belong to the expression's context.
    while paren_balance(&text[start..end]) > 0 && text[start..].starts_with('(') {
        start += 1;
        start += text[start..end].len() - text[start..end].trim_start().len();
    }
    while paren_balance(&text[start..end]) < 0 {
        let head = text[..start].trim_end();
        if !head.ends_with('(') {
            break;
        }
        start = head.len() - 1;
    }
    (start, end)
}

/// The byte range of an expression inside a select item (a division inside
/// `ROUND(…)`): its own start as parsed, since the text before it is its
/// context, and an end cut at a function name taken to its argument list.
pub fn inner_expression_bytes(text: &str, parsed: (usize, usize)) -> (usize, usize) {
    let start = parsed.0.min(text.len());
    let end = parsed.1.min(text.len()).max(start);
    (start, through_arguments(text, end))
}

/// `end` moved past the argument lists that follow it: an expression cut at
/// a function name (`COUNT` of `COUNT(*)`) ends after its arguments.
fn through_arguments(text: &str, mut end: usize) -> usize {
    while let Some(close) = text[end..]
        .starts_with('(')
        .then(|| matching_close(text, end))
        .flatten()
    {
        end = close + 1;
    }
    end
}

/// Moves back from `pos` over whitespace and comments.
fn back_over_gap(text: &str, mut pos: usize) -> usize {
    loop {
        let trimmed = text[..pos].trim_end().len();
        // Code follows on this line, so a `--` before it is no comment; only a
        // line we moved back onto can end in one.
        let crossed_line = text[trimmed..pos].contains('\n');
        pos = trimmed;
        if text[..pos].ends_with("*/") {
            match text[..pos - 2].rfind("/*") {
                Some(open) => {
                    pos = open;
                    continue;
                }
                None => return pos,
            }
        }
        if crossed_line {
            if let Some(comment) = line_comment_start(text, pos) {
                pos = comment;
                continue;
            }
        }
        return pos;
    }
}

/// If the line holding `pos` has a `--` comment before `pos`, where it starts.
fn line_comment_start(text: &str, pos: usize) -> Option<usize> {
    let line_start = text[..pos].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let mut quote: Option<char> = None;
    let line = &text[line_start..pos];
    let mut chars = line.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"' | '`') => quote = Some(c),
            (None, '-') if chars.peek().map(|(_, n)| *n) == Some('-') => {
                return Some(line_start + i)
            }
            _ => {}
        }
    }
    None
}

/// Moves back over an `AS` keyword ending at `pos`, if there is one.
fn back_over_as(text: &str, pos: usize) -> usize {
    let head = &text[..pos];
    let mut tail = head.char_indices().rev().take(2);
    let (Some((_, s)), Some((a_at, a))) = (tail.next(), tail.next()) else {
        return pos;
    };
    let is_as = a.eq_ignore_ascii_case(&'a') && s.eq_ignore_ascii_case(&'s');
    let boundary = head[..a_at]
        .chars()
        .next_back()
        .is_none_or(|c| !c.is_alphanumeric() && c != '_');
    if is_as && boundary {
        a_at
    } else {
        pos
    }
}

/// Moves the start back over what sqlparser's span leaves out in front: a
/// unary sign, an opening parenthesis, a function name right before one.
fn widen_start(text: &str, mut start: usize) -> usize {
    loop {
        let head = text[..start].trim_end();
        let Some(prev) = head.chars().next_back() else {
            return start;
        };
        let at = head.len() - prev.len_utf8();
        let crossed_line = text[head.len()..start].contains('\n');
        if matches!(prev, '(' | '-' | '+')
            && !(crossed_line && line_comment_start(text, at).is_some())
        {
            // `--` is a comment, never two signs in a row without a space.
            if prev == '-' && head[..at].ends_with('-') {
                return start;
            }
            start = at;
            continue;
        }
        // A function name directly before the parenthesis the expression starts with.
        if text[start..].starts_with('(') && head.len() == start {
            let word = head.len()
                - head
                    .chars()
                    .rev()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '.')
                    .map(char::len_utf8)
                    .sum::<usize>();
            if word < start && !is_keyword(&head[word..]) {
                start = word;
                continue;
            }
        }
        return start;
    }
}

/// Words that end a clause rather than name a function.
fn is_keyword(word: &str) -> bool {
    [
        "select", "distinct", "all", "as", "and", "or", "not", "in", "from", "where", "on",
    ]
    .iter()
    .any(|k| word.eq_ignore_ascii_case(k))
}

/// The offset of the `)` closing the `(` at `open`, outside strings.
fn matching_close(text: &str, open: usize) -> Option<usize> {
    let mut depth = 0;
    let mut quote: Option<char> = None;
    for (i, c) in text[open..].char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"' | '`') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth -= 1;
                if depth == 0 {
                    return Some(open + i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Open minus closed parentheses outside string literals and quoted names.
pub fn paren_balance(text: &str) -> i32 {
    let mut depth = 0;
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"' | '`') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => depth -= 1,
            _ => {}
        }
    }
    depth
}
