//! Parsing: a file's text to statements, recovering statement by statement.
//!
//! The file is cut into segments at semicolons, and each segment is
//! tokenized once and parsed statement by statement with one parser; when a
//! statement fails, parsing resumes after the next semicolon, so
//! one bad statement becomes one ML900 finding while the statements around
//! it are still checked. A tokenizer error (an unterminated string, say)
//! costs only the text up to the next semicolon.

use sqlparser::ast::Statement;
use sqlparser::dialect::Dialect as SqlDialect;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Location, Token, TokenWithSpan, Tokenizer, TokenizerError};

use crate::source::{LineIndex, Position, Range};

/// Statements longer than this (in tokens, whitespace included) are not parsed.
const MAX_STATEMENT_TOKENS: usize = 60_000;

/// A statement that could not be parsed.
#[derive(Clone, Debug)]
pub struct ParseFailure {
    pub message: String,
    pub range: Range,
    /// Whether the statement holds a query (a `SELECT`), so could hold a
    /// metric: one that holds none (an Oracle `ALTER INDEX … REBUILD`, a
    /// `CREATE LOGIN`) loses nothing by going unparsed.
    pub holds_a_query: bool,
}

/// The statements of one file, in order, and the failures between them.
#[derive(Debug, Default)]
pub struct ParsedFile {
    pub statements: Vec<Statement>,
    pub failures: Vec<ParseFailure>,
}

/// Parses every statement of `text`.
pub fn parse_file(text: &str, dialect: &dyn SqlDialect) -> ParsedFile {
    let mut statements = Vec::new();
    let failures = parse_each(text, dialect, &mut |s| statements.push(s));
    ParsedFile {
        statements,
        failures,
    }
}

/// Parses every statement of `text`, handing each to `on_statement` as soon
/// as it is parsed (so a file of many statements never holds all their
/// trees at once); returns the failures.
///
/// The text is cut at semicolons into segments of about
/// [`SEGMENT_BYTES`] (a longer statement is a segment of its own), and each
/// segment is tokenized and parsed on its own: time is linear in the file's
/// size and memory is bounded by the largest segment, not the file. A segment
/// the tokenizer rejects is taken statement by statement, so a bad statement
/// costs only itself.
pub fn parse_each(
    text: &str,
    dialect: &dyn SqlDialect,
    on_statement: &mut dyn FnMut(Statement),
) -> Vec<ParseFailure> {
    let mut failures = Vec::new();
    let without_batches = batch_separators_blanked(text, dialect);
    let text: &str = &without_batches;
    let index = Positions::new(text);
    let mut statements = StatementSplitter::new(text, dialect).peekable();
    while let Some((from, mut to)) = statements.next() {
        let mut pieces = vec![(from, to)];
        while let Some(&(_, next_to)) = statements.peek() {
            if next_to - from > SEGMENT_BYTES {
                break;
            }
            to = next_to;
            pieces.push(statements.next().expect("peeked"));
        }
        match tokenize_piece(text, from, to, &index, dialect) {
            Ok(tokens) => parse_run(tokens, dialect, on_statement, &mut failures),
            Err(_) => {
                for (from, to) in pieces {
                    tokenize_recovering(
                        text,
                        from,
                        to,
                        &index,
                        dialect,
                        on_statement,
                        &mut failures,
                    );
                }
            }
        }
    }
    failures
}

/// T-SQL's batch separator: a line of `GO` (with an optional repeat count
/// and comment) is no SQL but where SQL Server Management Studio and
/// `sqlcmd` cut a script into batches. It ends a statement as a semicolon
/// does: each `GO` becomes `;` and a space, so every position stays put.
/// Only in the `mssql` dialect, where a column named `go` alone on its
/// line would be odd; never inside a string or a comment.
fn batch_separators_blanked<'t>(
    text: &'t str,
    dialect: &dyn SqlDialect,
) -> std::borrow::Cow<'t, str> {
    if !dialect.is::<sqlparser::dialect::MsSqlDialect>() {
        return std::borrow::Cow::Borrowed(text);
    }
    let separators = StatementSplitter::new(text, dialect).batch_separators();
    if separators.is_empty() {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut blanked = text.to_string();
    for (from, to) in separators {
        blanked.replace_range(from..to, &format!(";{}", " ".repeat(to - from - 1)));
    }
    std::borrow::Cow::Owned(blanked)
}

/// Whether the line starting at `at` is a T-SQL batch separator: `GO`,
/// then optionally a repeat count and a `--` comment.
fn is_batch_separator(line: &str) -> bool {
    // ASCII whitespace only: the separator's offsets are counted in bytes.
    let line = line.trim_matches(|c: char| c.is_ascii_whitespace());
    let Some(rest) = line
        .get(..2)
        .filter(|go| go.eq_ignore_ascii_case("go"))
        .map(|_| &line[2..])
    else {
        return false;
    };
    let rest = rest.split_once("--").map_or(rest, |(before, _)| before);
    let rest = rest.trim_matches(|c: char| c.is_ascii_whitespace());
    rest.is_empty() || rest.bytes().all(|b| b.is_ascii_digit())
}

/// How much text is tokenized and parsed at once (a statement longer than
/// this is taken whole).
const SEGMENT_BYTES: usize = 256 * 1024;

/// Tokenizes `text[from..to]`, with positions those of the whole file.
fn tokenize_piece(
    text: &str,
    from: usize,
    to: usize,
    index: &Positions<'_>,
    dialect: &dyn SqlDialect,
) -> Result<Vec<TokenWithSpan>, TokenizerError> {
    let base = index.position(from);
    let shift = |at: Location| -> Location {
        match at.line {
            // Line 0 is sqlparser's "no position".
            0 => at,
            1 => Location::new(u64::from(base.line), u64::from(base.column) + at.column - 1),
            line => Location::new(u64::from(base.line) + line - 1, at.column),
        }
    };
    // Sized for the piece at once (SQL runs about a token per three bytes,
    // whitespace included): grown by doubling, a segment's tokens were
    // copied and their fresh pages cleared several times over.
    let mut tokens = Vec::with_capacity((to - from) / 3 + 1);
    match Tokenizer::new(dialect, &text[from..to]).tokenize_with_location_into_buf(&mut tokens) {
        Ok(()) => {
            if from > 0 {
                for token in &mut tokens {
                    token.span.start = shift(token.span.start);
                    token.span.end = shift(token.span.end);
                }
            }
            Ok(tokens)
        }
        Err(TokenizerError { message, location }) => Err(TokenizerError {
            message,
            location: shift(location),
        }),
    }
}

/// Tokenizes and parses one statement's text (`text[from..to]`) the
/// tokenizer rejected as part of its segment: the failure is reported, and
/// what follows the next semicolon after it is tried again (the splitter
/// may have read an unterminated string as running to the end).
fn tokenize_recovering(
    text: &str,
    mut from: usize,
    to: usize,
    index: &Positions<'_>,
    dialect: &dyn SqlDialect,
    on_statement: &mut dyn FnMut(Statement),
    failures: &mut Vec<ParseFailure>,
) {
    while from < to {
        match tokenize_piece(text, from, to, index, dialect) {
            Ok(tokens) => {
                parse_run(tokens, dialect, on_statement, failures);
                return;
            }
            Err(TokenizerError { message, location }) => {
                let error_at = index.offset(location.into()).clamp(from, to);
                // Statements before the error that the splitter did not cut
                // apart (it reads quotes and comments only closely enough)
                // still count, when they tokenize on their own. Where the
                // cut lands is a guess (a `;` in a comment or string), so
                // what fails to parse there is no finding: the error is.
                if let Some(cut) = text[from..error_at].rfind(';') {
                    if let Ok(tokens) = tokenize_piece(text, from, from + cut + 1, index, dialect) {
                        parse_run(tokens, dialect, on_statement, &mut Vec::new());
                    }
                }
                let pos: Position = location.into();
                let end = index.position(line_end(text, error_at));
                // At the end of the file the line is empty; underline one column.
                let end = end.max(Position::new(pos.line, pos.column + 1));
                failures.push(ParseFailure {
                    message,
                    range: Range { start: pos, end },
                    // What the tokenizer rejected is not known to hold none.
                    holds_a_query: true,
                });
                from = text[error_at..to]
                    .find(';')
                    .map_or(to, |i| error_at + i + 1);
            }
        }
    }
}

/// Positions of byte offsets, remembering the last one worked out: pieces
/// are asked for in file order, so a long line of non-ASCII text is counted
/// once, not once per piece on it.
struct Positions<'t> {
    text: &'t str,
    index: LineIndex<'t>,
    last: std::cell::Cell<(usize, Position)>,
}

impl<'t> Positions<'t> {
    fn new(text: &'t str) -> Self {
        Positions {
            text,
            index: LineIndex::new(text),
            last: std::cell::Cell::new((0, Position::new(1, 1))),
        }
    }

    fn position(&self, offset: usize) -> Position {
        let offset = offset.min(self.text.len());
        let (at, pos) = self.last.get();
        let found = match self.text.get(at..offset) {
            Some(between) if offset >= at && !between.contains('\n') => {
                Position::new(pos.line, pos.column + between.chars().count() as u32)
            }
            _ => self.index.position(offset),
        };
        self.last.set((offset, found));
        found
    }

    fn offset(&self, pos: Position) -> usize {
        self.index.offset(pos)
    }
}

fn line_end(text: &str, offset: usize) -> usize {
    text[offset..]
        .find('\n')
        .map(|i| offset + i)
        .unwrap_or(text.len())
}

/// Cuts a file's text after each semicolon outside strings, quoted names,
/// comments and dollar quotes: the byte ranges of its statements, each with its
/// semicolon (the last one may have none). It reads quotes and comments as
/// the dialect's tokenizer does, closely enough for where to cut; the
/// tokenizer has the last word on each piece.
struct StatementSplitter<'t> {
    text: &'t str,
    at: usize,
    backslash_escapes: bool,
    nested_comments: bool,
    hash_comments: bool,
    triple_quotes: bool,
    /// T-SQL's `[quoted identifiers]`, which may hold a quote or a `;`.
    brackets: bool,
}

impl<'t> StatementSplitter<'t> {
    fn new(text: &'t str, dialect: &dyn SqlDialect) -> Self {
        StatementSplitter {
            text,
            at: 0,
            backslash_escapes: dialect.supports_string_literal_backslash_escape(),
            nested_comments: dialect.supports_nested_comments(),
            hash_comments: dialect.supports_hash_comment(),
            triple_quotes: dialect.supports_triple_quoted_string(),
            brackets: dialect.is::<sqlparser::dialect::MsSqlDialect>(),
        }
    }

    /// Where the quoted text opened by `quote` at `i` ends (past its closing quote).
    fn quoted_end(&self, i: usize, quote: u8) -> usize {
        let bytes = self.text.as_bytes();
        let triple = [quote; 3];
        if self.triple_quotes && bytes[i..].starts_with(&triple) {
            return find_from(bytes, i + 3, &triple).map_or(bytes.len(), |e| e + 3);
        }
        let mut j = i + 1;
        while j < bytes.len() {
            match bytes[j] {
                b'\\' if self.backslash_escapes && quote != b'`' => j += 2,
                c if c == quote => {
                    // A doubled quote is an escaped one.
                    if bytes.get(j + 1) == Some(&quote) {
                        j += 2;
                    } else {
                        return j + 1;
                    }
                }
                _ => j += 1,
            }
        }
        bytes.len()
    }

    /// Where a `[bracketed identifier]` opened at `i` ends (past its `]`; a
    /// doubled `]]` is an escaped one).
    fn bracket_end(&self, i: usize) -> usize {
        let bytes = self.text.as_bytes();
        let mut j = i + 1;
        while j < bytes.len() {
            if bytes[j] == b']' {
                if bytes.get(j + 1) == Some(&b']') {
                    j += 2;
                    continue;
                }
                return j + 1;
            }
            j += 1;
        }
        bytes.len()
    }

    /// Where a block comment opened at `i` ends (past its `*/`).
    fn comment_end(&self, i: usize) -> usize {
        let bytes = self.text.as_bytes();
        let (mut depth, mut j) = (1, i + 2);
        while j < bytes.len() {
            if bytes[j..].starts_with(b"*/") {
                depth -= 1;
                j += 2;
                if depth == 0 {
                    return j;
                }
            } else if self.nested_comments && bytes[j..].starts_with(b"/*") {
                depth += 1;
                j += 2;
            } else {
                j += 1;
            }
        }
        bytes.len()
    }

    /// Where a dollar-quoted string (`$$…$$`, `$body$…$body$`) opened at `i`
    /// ends, if `i` opens one.
    fn dollar_quoted_end(&self, i: usize) -> Option<usize> {
        let bytes = self.text.as_bytes();
        let tag_len = bytes[i + 1..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
            .count();
        let close = i + 1 + tag_len;
        if bytes.get(close) != Some(&b'$') || bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        let tag = &bytes[i..=close];
        find_from(bytes, close + 1, tag).map(|e| e + tag.len())
    }
}

impl StatementSplitter<'_> {
    /// Where each batch separator line's `GO` and repeat count are (see
    /// [`batch_separators_blanked`]), outside strings and comments.
    fn batch_separators(&self) -> Vec<(usize, usize)> {
        let bytes = self.text.as_bytes();
        let mut found = Vec::new();
        let mut i = 0;
        let mut line_start = true;
        while i < bytes.len() {
            if line_start {
                let end = line_end(self.text, i);
                if is_batch_separator(&self.text[i..end]) {
                    let go = i
                        + (bytes[i..end]
                            .iter()
                            .take_while(|b| b.is_ascii_whitespace())
                            .count());
                    let count = bytes[go + 2..end]
                        .iter()
                        .position(|b| !(b.is_ascii_whitespace() || b.is_ascii_digit()))
                        .map_or(end, |p| go + 2 + p);
                    found.push((go, count));
                    i = end;
                    continue;
                }
            }
            let next = match bytes[i] {
                b'\'' | b'"' => self.quoted_end(i, bytes[i]),
                b'[' if self.brackets => self.bracket_end(i),
                b'-' if bytes.get(i + 1) == Some(&b'-') => line_end(self.text, i),
                b'/' if bytes.get(i + 1) == Some(&b'*') => self.comment_end(i),
                _ => i + 1,
            };
            line_start = next > 0 && bytes.get(next - 1) == Some(&b'\n');
            i = next;
        }
        found
    }
}

/// Where `needle` next occurs in `bytes` from `from`.
fn find_from(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

impl Iterator for StatementSplitter<'_> {
    type Item = (usize, usize);

    fn next(&mut self) -> Option<(usize, usize)> {
        let bytes = self.text.as_bytes();
        let start = self.at;
        if start >= bytes.len() {
            return None;
        }
        let mut i = start;
        while i < bytes.len() {
            i = match bytes[i] {
                b'\'' | b'"' | b'`' => self.quoted_end(i, bytes[i]),
                b'[' if self.brackets => self.bracket_end(i),
                b'-' if bytes.get(i + 1) == Some(&b'-') => line_end(self.text, i),
                b'#' if self.hash_comments => line_end(self.text, i),
                b'/' if bytes.get(i + 1) == Some(&b'*') => self.comment_end(i),
                b'$' => self.dollar_quoted_end(i).unwrap_or(i + 1),
                // Even after an unclosed `(` (see `statement_ends`).
                b';' => {
                    self.at = i + 1;
                    return Some((start, i + 1));
                }
                _ => i + 1,
            };
        }
        self.at = bytes.len();
        Some((start, bytes.len()))
    }
}

/// Indices of the semicolons: where statements end.
fn statement_ends(tokens: &[TokenWithSpan]) -> Vec<usize> {
    // SQL has no semicolon inside parentheses (a function body is a
    // string): one after an unclosed `(` still ends its statement, so the
    // typo costs that statement, not the rest of the file.
    tokens
        .iter()
        .enumerate()
        .filter(|(_, t)| t.token == Token::SemiColon)
        .map(|(i, _)| i)
        .collect()
}

/// Parses a run of tokens statement by statement, skipping a failed statement
/// up to its terminating semicolon.
fn parse_run(
    tokens: Vec<TokenWithSpan>,
    dialect: &dyn SqlDialect,
    on_statement: &mut dyn FnMut(Statement),
    failures: &mut Vec<ParseFailure>,
) {
    let ends = statement_ends(&tokens);
    let depths = nesting_depths(&tokens);
    let query_words = query_words_before(&tokens);
    // A statement that opens as one that holds no query (`ALTER INDEX`,
    // `CREATE LOGIN`) and has no `SELECT` or `AS` in it; any other (a
    // typo'd `SELEC`, prose, `CREATE VIEW v AS SELCT …`) may be a query
    // gone wrong.
    let holds_a_query = |start: usize, end: usize, first: &Token| {
        let end = end.min(query_words.len() - 1);
        query_words[end] > query_words[start.min(end)] || !opens_a_statement_without_a_query(first)
    };
    let total = tokens.len();
    // Where the text ends, for a statement the end of the file cuts short.
    let last_token = tokens
        .iter()
        .rev()
        .find(|t| !matches!(t.token, Token::Whitespace(_) | Token::EOF))
        .map(|t| t.span);
    let mut parser = Parser::new(dialect).with_tokens_with_locations(tokens);
    let mut next_end = 0;
    // T-SQL ends a statement where the next begins; a semicolon is optional.
    let semicolons_optional = dialect.is::<sqlparser::dialect::MsSqlDialect>();
    loop {
        while parser.consume_token(&Token::SemiColon) {}
        let first = parser.peek_token();
        if first.token == Token::EOF {
            break;
        }
        let start = parser.index();
        // A statement of hundreds of thousands of tokens (generated SQL) builds
        // trees deep enough to overflow any stack when walked or dropped.
        // Statements only move forward: so does the search for their ends.
        while next_end < ends.len() && ends[next_end] < start {
            next_end += 1;
        }
        let end = ends.get(next_end).copied().unwrap_or(total);
        let failure = if end - start > MAX_STATEMENT_TOKENS {
            ParseFailure {
                message: format!(
                    "the statement is too long to analyse ({} tokens; the limit is {MAX_STATEMENT_TOKENS})",
                    end - start
                ),
                range: Range::from(first.span),
                holds_a_query: true,
            }
        } else {
            match parser.parse_statement() {
                Ok(statement) => {
                    on_statement(statement);
                    let next = parser.peek_token();
                    match next.token {
                        Token::SemiColon | Token::EOF => continue,
                        Token::Word(ref word)
                            if semicolons_optional && starts_a_statement(word.keyword) =>
                        {
                            continue
                        }
                        ref other => ParseFailure {
                            message: too_deep(&depths, start, end).unwrap_or_else(|| {
                                format!("Expected: end of statement, found: {other}")
                            }),
                            range: Range::from(next.span),
                            holds_a_query: holds_a_query(start, end, &first.token),
                        },
                    }
                }
                Err(error) => {
                    let (message, location) = split_parser_error(&error);
                    // sqlparser stops at its recursion limit and may report
                    // whatever alternative it tried last ("Expected: ),
                    // found: WHEN"): say what is really wrong.
                    let message = too_deep(&depths, start, end).unwrap_or(message);
                    let at = parser.peek_token();
                    let range = match location {
                        // The file ends before the statement does: the
                        // last thing written is where it stops.
                        _ if at.token == Token::EOF && last_token.is_some() => {
                            Range::from(last_token.expect("checked"))
                        }
                        Some(loc) if loc == at.span.start => Range::from(at.span),
                        Some(loc) => {
                            // Underline the token the message names ("…, found: SELEC").
                            let width = message
                                .rsplit(", found: ")
                                .next()
                                .filter(|_| message.contains(", found: "))
                                .map(|t| t.chars().count().max(1))
                                .unwrap_or(1) as u32;
                            let start = Position::from(loc);
                            Range {
                                start,
                                end: Position::new(start.line, start.column + width),
                            }
                        }
                        None => Range::from(first.span),
                    };
                    ParseFailure {
                        message,
                        range,
                        holds_a_query: holds_a_query(start, end, &first.token),
                    }
                }
            }
        };
        failures.push(failure);
        // Resume after the semicolon that ends the failed statement.
        let from = parser.index().max(start);
        while next_end < ends.len() && ends[next_end] < from {
            next_end += 1;
        }
        match ends.get(next_end) {
            Some(&end) => {
                while parser.index() <= end {
                    if parser.next_token().token == Token::EOF {
                        return;
                    }
                }
            }
            None => return,
        }
    }
}

/// Whether a statement's first token opens a statement that holds no query
/// unless a `SELECT` follows: DDL, grants, session and control statements
/// (not DML, whose query a typo may hide).
fn opens_a_statement_without_a_query(first: &Token) -> bool {
    let Token::Word(word) = first else {
        return false;
    };
    const OPENERS: &[&str] = &[
        "ALTER",
        "CREATE",
        "DROP",
        "GRANT",
        "REVOKE",
        "DENY",
        "TRUNCATE",
        "SET",
        "DECLARE",
        "EXEC",
        "EXECUTE",
        "USE",
        "BEGIN",
        "COMMIT",
        "ROLLBACK",
        "PRINT",
        "RESTORE",
        "BACKUP",
        "DBCC",
        "COMMENT",
        "ANALYZE",
        "VACUUM",
        "CALL",
        "REFRESH",
        "OPTIMIZE",
        "LOCK",
        "UNLOAD",
        "COPY",
        "IF",
        "WHILE",
        "RETURN",
        "RAISERROR",
        "THROW",
        "WAITFOR",
        "CHECKPOINT",
        "RECONFIGURE",
        "SHUTDOWN",
        "KILL",
    ];
    word.quote_style.is_none() && OPENERS.iter().any(|o| word.value.eq_ignore_ascii_case(o))
}

/// How many `SELECT`s and `AS`s (which introduce a view's or a table's
/// query) come before each token (and, at the last index, in all): the
/// statement of tokens `start..end` holds one where the counts differ.
fn query_words_before(tokens: &[TokenWithSpan]) -> Vec<u32> {
    use sqlparser::keywords::Keyword;
    let mut counts = Vec::with_capacity(tokens.len() + 1);
    let mut seen = 0;
    counts.push(0);
    for token in tokens {
        if matches!(&token.token, Token::Word(w) if matches!(w.keyword, Keyword::SELECT | Keyword::AS))
        {
            seen += 1;
        }
        counts.push(seen);
    }
    counts
}

/// Whether a keyword begins a statement of its own, so that it ends the
/// statement before it where semicolons are optional (T-SQL's `SELECT …`
/// then `SELECT …`).
fn starts_a_statement(keyword: sqlparser::keywords::Keyword) -> bool {
    use sqlparser::keywords::Keyword as K;
    matches!(
        keyword,
        K::SELECT
            | K::WITH
            | K::INSERT
            | K::UPDATE
            | K::DELETE
            | K::MERGE
            | K::CREATE
            | K::ALTER
            | K::DROP
            | K::TRUNCATE
            | K::DECLARE
            | K::SET
            | K::IF
            | K::BEGIN
            | K::EXEC
            | K::EXECUTE
            | K::PRINT
            | K::USE
            | K::WHILE
            | K::RETURN
            | K::GRANT
            | K::COMMIT
            | K::ROLLBACK
    )
}

/// Nesting this deep (parentheses and CASE together) is near sqlparser's
/// recursion limit of 50, past which its messages stop making sense.
const NESTING_LIMIT_NEAR: usize = 40;

/// The message for a statement (tokens `start..=end`) that nests near
/// sqlparser's recursion limit, if it does.
fn too_deep(depths: &[u32], start: usize, end: usize) -> Option<String> {
    let end = end.max(start).min(depths.len().saturating_sub(1));
    let depth = depths.get(start..=end)?.iter().max().copied().unwrap_or(0) as usize;
    (depth >= NESTING_LIMIT_NEAR).then(|| {
        format!(
            "the statement nests too deeply to analyse ({depth} levels of parentheses and CASE)"
        )
    })
}

/// The nesting of parentheses and CASE … END at each token.
fn nesting_depths(tokens: &[TokenWithSpan]) -> Vec<u32> {
    let mut depth = 0u32;
    tokens
        .iter()
        .map(|t| {
            match &t.token {
                Token::LParen => depth += 1,
                Token::RParen => depth = depth.saturating_sub(1),
                Token::Word(w) if w.keyword == sqlparser::keywords::Keyword::CASE => depth += 1,
                Token::Word(w) if w.keyword == sqlparser::keywords::Keyword::END => {
                    depth = depth.saturating_sub(1)
                }
                // Each statement starts afresh: one unclosed CASE does not
                // make every later statement "too deep".
                Token::SemiColon => depth = 0,
                _ => {}
            }
            depth
        })
        .collect()
}

/// sqlparser puts the position at the end of its message: "… at Line: 3, Column: 7".
fn split_parser_error(error: &ParserError) -> (String, Option<Location>) {
    let text = match error {
        ParserError::ParserError(s) | ParserError::TokenizerError(s) => s.clone(),
        ParserError::RecursionLimitExceeded => {
            return (
                "the statement nests too deeply to analyse".to_string(),
                None,
            )
        }
    };
    if let Some(at) = text.rfind(" at Line: ") {
        let tail = &text[at + " at Line: ".len()..];
        let mut parts = tail.split(", Column: ");
        let line = parts.next().and_then(|l| l.trim().parse::<u64>().ok());
        let column = parts.next().and_then(|c| c.trim().parse::<u64>().ok());
        if let (Some(line), Some(column)) = (line, column) {
            return (text[..at].to_string(), Some(Location::new(line, column)));
        }
    }
    (text, None)
}

/// The schema a file's `USE scglv3;` makes the default: the statements after
/// it read `anondb_calculate` as `scglv3.anondb_calculate`, which is another
/// table than another file's `scgl.anondb_calculate` (two versions of one
/// schema, whose columns were renamed between them).
#[derive(Debug, Default)]
pub struct DefaultSchema {
    schema: Option<sqlparser::ast::ObjectName>,
}

impl DefaultSchema {
    /// Notes a `USE` statement, or qualifies the one-part relation names of
    /// any other statement (its CTEs' names apart) with the schema in use.
    pub fn apply(&mut self, statement: &mut Statement) {
        use sqlparser::ast::{ObjectName, Use};
        if let Statement::Use(used) = statement {
            self.schema = match used {
                // Some dialects read `USE DEFAULT` as a schema of that name.
                Use::Object(name) | Use::Schema(name) | Use::Database(name)
                    if !name.to_string().eq_ignore_ascii_case("default") =>
                {
                    Some(name.clone())
                }
                Use::Object(_) | Use::Schema(_) | Use::Database(_) | Use::Default => None,
                _ => self.schema.take(),
            };
            return;
        }
        let Some(schema) = &self.schema else {
            return;
        };
        let ctes = cte_names(statement);
        let _ = sqlparser::ast::visit_relations_mut(statement, |name: &mut ObjectName| {
            if let [part] = &name.0[..] {
                let own = part.to_string();
                let own = crate::names::unquoted(&own).to_lowercase();
                // A one-part name holding its own dots (BigQuery's quoted
                // `project.dataset.table`) is qualified already.
                if !own.contains('.') && !ctes.contains(&own) {
                    let mut parts = schema.0.clone();
                    parts.push(part.clone());
                    *name = ObjectName(parts);
                }
            }
            std::ops::ControlFlow::<()>::Continue(())
        });
    }
}

/// The names of every CTE a statement defines, lowercased.
fn cte_names(statement: &Statement) -> std::collections::HashSet<String> {
    use sqlparser::ast::{Query, Visit, Visitor};
    struct Ctes(std::collections::HashSet<String>);
    impl Visitor for Ctes {
        type Break = ();
        fn pre_visit_query(&mut self, query: &Query) -> std::ops::ControlFlow<()> {
            for cte in query.with.iter().flat_map(|w| &w.cte_tables) {
                self.0.insert(cte.alias.name.value.to_lowercase());
            }
            std::ops::ControlFlow::Continue(())
        }
    }
    let mut ctes = Ctes(std::collections::HashSet::new());
    let _ = statement.visit(&mut ctes);
    ctes.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::dialect::GenericDialect;

    fn parse(text: &str) -> ParsedFile {
        parse_file(text, &GenericDialect {})
    }

    fn parse_tsql(text: &str) -> ParsedFile {
        parse_file(text, &sqlparser::dialect::MsSqlDialect {})
    }

    #[test]
    fn tsql_batch_separators_end_statements() {
        let script = "select count(*) as orders from tblOrder\nGO\nselect sum(x) as total from t\n  go 5  -- twice\nselect 1 as one\nGo\n";
        let parsed = parse_tsql(script);
        assert_eq!(parsed.failures.len(), 0, "{:?}", parsed.failures);
        assert_eq!(parsed.statements.len(), 3);
        // Positions after a separator are the file's own.
        let third = parsed.statements[2].to_string();
        assert_eq!(third, "SELECT 1 AS one");
    }

    #[test]
    fn go_in_strings_comments_and_other_words_is_no_separator() {
        for (text, statements) in [
            ("select 'a\nGO\nb' as s from t", 1),
            ("select 1 as a /*\nGO\n*/ from t", 1),
            ("select 1 as a -- GO\nfrom t", 1),
        ] {
            let parsed = parse_tsql(text);
            assert_eq!(parsed.statements.len(), statements, "{text}: {parsed:?}");
        }
        for (line, separates) in [
            ("GO", true),
            ("  go 5 -- twice\r\n", true),
            ("GOTO done", false),
            ("gone", false),
            ("go away", false),
            ("\u{2003}GO", false),
        ] {
            assert_eq!(is_batch_separator(line), separates, "{line:?}");
        }
        // Near miss: other dialects keep `GO` as a word (and fail on it).
        let generic = parse("select 1 as a\nGO\nselect 2 as b");
        assert_eq!(generic.failures.len(), 1, "{generic:?}");
    }

    #[test]
    fn a_failed_statement_holds_a_query_unless_it_opens_as_one_without() {
        for (text, holds) in [
            ("ALTER INDEX ix1 REBUILD NOPARALLEL;", false),
            ("CREATE LOGIN reporting WITH PASSWORD = 'x';", false),
            // Near misses: a typo'd query, prose, a broken query in DDL.
            ("SELEC clicks FRM events;", true),
            ("hey, can someone check the ctr;", true),
            ("CREATE TABLE t AS SELECT a FROM b WHERE;", true),
            (
                "create view v as selct sum(revenue) as r from orders;",
                true,
            ),
            ("insert into t selet a from b;", true),
            ("select sum(clicks) as clicks frm t;", true),
        ] {
            let parsed = parse(text);
            assert_eq!(parsed.failures.len(), 1, "{text}: {parsed:?}");
            assert_eq!(parsed.failures[0].holds_a_query, holds, "{text}");
        }
    }

    #[test]
    fn tsql_bracketed_names_hold_quotes_and_semicolons() {
        let parsed = parse_tsql(
            "select 1 as [Owner's total]\nGO\nselect 2 as [a;b]\nGO\nselect 3 as [c'd]]e]\n",
        );
        assert_eq!(parsed.failures.len(), 0, "{:?}", parsed.failures);
        assert_eq!(parsed.statements.len(), 3);
    }

    #[test]
    fn tsql_statements_need_no_semicolon_between_them() {
        let parsed = parse_tsql(
            "select count(*) as orders from tblOrder where x = 1\nselect sum(y) as total from t\nupdate t set y = 0\n",
        );
        assert_eq!(parsed.failures.len(), 0, "{:?}", parsed.failures);
        assert_eq!(parsed.statements.len(), 3);
        // Near miss: elsewhere a missing semicolon is a parse error.
        let generic = parse("select 1 as a from t\nselect 2 as b from u\n");
        assert_eq!(generic.failures.len(), 1, "{generic:?}");
        // And a T-SQL statement that stops before a word that begins none
        // still fails.
        let garbled = parse_tsql("select a from t frobnicate b\n");
        assert_eq!(garbled.failures.len(), 1, "{garbled:?}");
    }

    #[test]
    fn good_statements_around_a_bad_one_survive() {
        let parsed = parse("select 1 as a;\nSELEC clicks FRM events;\nselect 2 as b;");
        assert_eq!(parsed.statements.len(), 2);
        assert_eq!(parsed.failures.len(), 1);
        assert_eq!(parsed.failures[0].range.start.line, 2);
    }

    #[test]
    fn semicolons_inside_strings_and_parens_do_not_split() {
        let parsed = parse("select ';' as a, (1) as b; select 3");
        assert_eq!(parsed.statements.len(), 2);
        assert!(parsed.failures.is_empty());
    }

    #[test]
    fn tokenizer_error_costs_only_its_statement() {
        let parsed = parse("select 1 as a;\nselect 'unterminated as b;\nselect 2 as c;");
        // Statements before the bad one are kept, checking resumes after its semicolon.
        assert_eq!(parsed.statements.len(), 2);
        assert_eq!(parsed.failures.len(), 1);
        assert_eq!(parsed.failures[0].range.start.line, 2);
    }

    #[test]
    fn comment_only_files_have_nothing() {
        let parsed = parse("-- nothing here\n/* really */\n;;\n");
        assert!(parsed.statements.is_empty());
        assert!(parsed.failures.is_empty());
    }

    #[test]
    fn an_unterminated_comment_costs_only_what_follows_it() {
        let parsed = parse(
            "select sum(clicks) / count(*) as ctr from t;\n/* never closed; really\nselect 1;\n",
        );
        assert_eq!(parsed.statements.len(), 1);
        assert_eq!(parsed.failures.len(), 1);
    }

    #[test]
    fn statements_are_cut_outside_quotes_comments_and_parentheses() {
        let pieces = |text: &str, dialect: &dyn SqlDialect| -> Vec<String> {
            StatementSplitter::new(text, dialect)
                .map(|(from, to)| text[from..to].trim().to_string())
                .collect()
        };
        let generic = GenericDialect {};
        let cases: &[(&str, &[&str])] = &[
            ("select 1; select 2", &["select 1;", "select 2"]),
            (
                "select ';' as a; select 2;",
                &["select ';' as a;", "select 2;"],
            ),
            (
                "select 'it''s; here' as a; x",
                &["select 'it''s; here' as a;", "x"],
            ),
            ("select \"a;b\" from t; x", &["select \"a;b\" from t;", "x"]),
            (
                "select 1 -- a; comment\n; x",
                &["select 1 -- a; comment\n;", "x"],
            ),
            // Generic SQL nests block comments, as Postgres does.
            (
                "select /* a; /* b; */ c; */ 1; x",
                &["select /* a; /* b; */ c; */ 1;", "x"],
            ),
            // An unclosed `(` costs its statement, not the rest of the file.
            ("select (1; select 2", &["select (1;", "select 2"]),
            (
                "create function f() as $$ a; b $$; x",
                &["create function f() as $$ a; b $$;", "x"],
            ),
            (
                "create function f() as $body$ a; $body$; x",
                &["create function f() as $body$ a; $body$;", "x"],
            ),
            ("select $1; x", &["select $1;", "x"]),
        ];
        for (text, want) in cases {
            assert_eq!(pieces(text, &generic), *want, "{text}");
        }
        let bigquery = sqlparser::dialect::BigQueryDialect {};
        assert_eq!(
            pieces(
                "select 'a\\';b' as s; # x; y\nselect '''c;'''; z",
                &bigquery
            ),
            ["select 'a\\';b' as s;", "# x; y\nselect '''c;''';", "z"]
        );
    }

    #[test]
    fn statements_past_a_segment_keep_their_positions() {
        let statement = "select 1 as x from t;\n";
        let count = SEGMENT_BYTES / statement.len() * 3;
        let mut text = statement.repeat(count);
        text.push_str("select\n  sum(clicks) as c from t;\nSELEC oops;\n");
        let mut last = None;
        let failures = parse_each(&text, &GenericDialect {}, &mut |s| last = Some(s));
        let lines = count as u32;
        assert_eq!(failures.len(), 1);
        assert_eq!(failures[0].range.start.line, lines + 3);
        let last = last.expect("statements");
        use sqlparser::ast::Spanned;
        assert_eq!(last.span().start.line, u64::from(lines) + 1);
    }

    #[test]
    fn nesting_past_the_parsers_limit_says_so() {
        let deep = format!(
            "select {}1{} as x from t; select 1 as y",
            "case when a then ".repeat(49),
            " end".repeat(49)
        );
        let parsed = parse(&deep);
        assert_eq!(parsed.failures.len(), 1);
        assert!(
            parsed.failures[0]
                .message
                .starts_with("the statement nests too deeply"),
            "{}",
            parsed.failures[0].message
        );
        // Near miss: a shallow statement's own error is kept.
        let parsed = parse("select ((1)) as x from t where; select 1 as y");
        assert!(!parsed.failures[0].message.contains("nests too deeply"));
    }

    #[test]
    fn statements_the_splitter_did_not_cut_apart_still_count_before_an_error() {
        // MySQL needs a space after `--`: `5--2` is arithmetic, which the
        // splitter read as a comment, so one piece holds three statements.
        let text = "select 5--2 as a; select 4 as b;\nselect 'unterminated as b;\nselect 1 as c;";
        let parsed = parse_file(text, &sqlparser::dialect::MySqlDialect {});
        let lines: Vec<u32> = parsed.failures.iter().map(|f| f.range.start.line).collect();
        assert_eq!(lines, [2], "{:?}", parsed.failures);
        assert_eq!(parsed.statements.len(), 3);
    }

    #[test]
    fn one_unclosed_case_does_not_make_later_statements_too_deep() {
        let text = format!(
            "{}SELEC oops;",
            "select case when a then 1 as x from t;\n".repeat(41)
        );
        let parsed = parse(&text);
        let last = parsed.failures.last().expect("failures");
        assert_eq!(last.range.start.line, 42);
        assert!(
            !last.message.contains("nests too deeply"),
            "{}",
            last.message
        );
    }

    #[test]
    fn an_unclosed_parenthesis_costs_only_its_statement() {
        let parsed =
            parse("select x from t where a in (select b from u;\nselect 1 as z;\nSELEC ok;\n");
        let lines: Vec<u32> = parsed.failures.iter().map(|f| f.range.start.line).collect();
        assert_eq!(lines, [1, 3], "{:?}", parsed.failures);
        assert_eq!(parsed.statements.len(), 1);
    }

    #[test]
    fn remembered_positions_agree_with_the_line_index() {
        let text = "select 'é' as a; select 'ü' as b;\nselect 1;\n  sélect 2; x";
        let positions = Positions::new(text);
        let index = LineIndex::new(text);
        // In order, backwards and across lines, on char boundaries.
        let offsets: Vec<usize> = (0..=text.len())
            .filter(|&i| text.is_char_boundary(i))
            .collect();
        for &offset in offsets.iter().chain(offsets.iter().rev()).step_by(3) {
            assert_eq!(
                positions.position(offset),
                index.position(offset),
                "{offset}"
            );
        }
    }

    #[test]
    fn garbage_is_a_failure_not_a_panic() {
        let parsed = parse("hey team, the ctr looks off again?? select from where ((");
        assert!(parsed.statements.is_empty());
        assert_eq!(parsed.failures.len(), 1);
    }

    #[test]
    fn use_qualifies_one_part_tables_but_not_ctes() {
        let dialect = sqlparser::dialect::GenericDialect {};
        let mut schema = super::DefaultSchema::default();
        let mut shown = Vec::new();
        parse_each(
            "select 1 from a; USE scglv3; with c as (select * from t) select * from c join s.u on true; USE DEFAULT; select 1 from b",
            &dialect,
            &mut |mut statement| {
                schema.apply(&mut statement);
                shown.push(statement.to_string());
            },
        );
        assert_eq!(shown[0], "SELECT 1 FROM a");
        assert_eq!(
            shown[2],
            "WITH c AS (SELECT * FROM scglv3.t) SELECT * FROM c JOIN s.u ON true"
        );
        assert_eq!(shown[4], "SELECT 1 FROM b");
    }
}
