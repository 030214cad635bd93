//! Parsing: a file's text to statements, recovering statement by statement.
//!
//! The file is tokenized once and parsed statement by statement with one
//! parser; when a statement fails, parsing resumes after the next top-level
//! semicolon, so one bad statement becomes one ML900 finding while the
//! statements around it are still checked. A tokenizer error (an unterminated
//! string, say) costs only the text up to the next semicolon.

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
pub fn parse_each(
    text: &str,
    dialect: &dyn SqlDialect,
    on_statement: &mut dyn FnMut(Statement),
) -> Vec<ParseFailure> {
    let mut failures = Vec::new();
    for run in tokenize_recovering(text, dialect, &mut failures) {
        parse_run(run, dialect, on_statement, &mut failures);
    }
    failures
}

/// Tokenizes the whole text, skipping over the statements the tokenizer
/// rejects; returns the runs of tokens around them (one run when all is well).
fn tokenize_recovering(
    text: &str,
    dialect: &dyn SqlDialect,
    failures: &mut Vec<ParseFailure>,
) -> Vec<Vec<TokenWithSpan>> {
    let mut statements = Vec::new();
    let mut start = 0;
    let mut index = None;
    while start < text.len() {
        // Blank out what is already handled so positions stay those of the file.
        let masked;
        let input = if start == 0 {
            text
        } else {
            masked = mask_prefix(text, start);
            masked.as_str()
        };
        match Tokenizer::new(dialect, input).tokenize_with_location() {
            Ok(tokens) => {
                statements.push(tokens);
                break;
            }
            Err(TokenizerError { message, location }) => {
                let index = index.get_or_insert_with(|| LineIndex::new(text));
                let error_at = index.offset(location.into()).max(start);
                // The statements before the bad one still count.
                if let Some(cut) = text[start..error_at].rfind(';') {
                    let prefix = mask_prefix(&text[..start + cut + 1], start);
                    if let Ok(tokens) = Tokenizer::new(dialect, &prefix).tokenize_with_location() {
                        statements.push(tokens);
                    }
                }
                let resume = text[error_at..]
                    .find(';')
                    .map(|i| error_at + i + 1)
                    .unwrap_or(text.len());
                let pos: Position = location.into();
                let end = index.position(line_end(text, error_at));
                // At the end of the file the line is empty; underline one column.
                let end = end.max(Position::new(pos.line, pos.column + 1));
                failures.push(ParseFailure {
                    message: message.clone(),
                    range: Range { start: pos, end },
                });
                start = resume;
            }
        }
    }
    statements
}

fn line_end(text: &str, offset: usize) -> usize {
    text[offset..]
        .find('\n')
        .map(|i| offset + i)
        .unwrap_or(text.len())
}

/// `text` with every character before `upto` replaced by a space (newlines kept).
fn mask_prefix(text: &str, upto: usize) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text[..upto].chars() {
        out.push(if c == '\n' { '\n' } else { ' ' });
    }
    out.push_str(&text[upto..]);
    out
}

/// Indices of the semicolons outside parentheses: where statements end.
fn statement_ends(tokens: &[TokenWithSpan]) -> Vec<usize> {
    let mut depth: i32 = 0;
    let mut ends = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        match token.token {
            Token::LParen => depth += 1,
            Token::RParen => depth = (depth - 1).max(0),
            Token::SemiColon if depth == 0 => ends.push(i),
            _ => {}
        }
    }
    ends
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
    let total = tokens.len();
    let mut parser = Parser::new(dialect).with_tokens_with_locations(tokens);
    loop {
        while parser.consume_token(&Token::SemiColon) {}
        let first = parser.peek_token();
        if first.token == Token::EOF {
            break;
        }
        let start = parser.index();
        // A statement of hundreds of thousands of tokens (generated SQL) builds
        // trees deep enough to overflow any stack when walked or dropped.
        let end = ends.iter().copied().find(|&e| e >= start).unwrap_or(total);
        let failure = if end - start > MAX_STATEMENT_TOKENS {
            ParseFailure {
                message: format!(
                    "the statement is too long to analyse ({} tokens; the limit is {MAX_STATEMENT_TOKENS})",
                    end - start
                ),
                range: Range::from(first.span),
            }
        } else {
            match parser.parse_statement() {
                Ok(statement) => {
                    on_statement(statement);
                    let next = parser.peek_token();
                    match next.token {
                        Token::SemiColon | Token::EOF => continue,
                        ref other => ParseFailure {
                            message: format!("Expected: end of statement, found: {other}"),
                            range: Range::from(next.span),
                        },
                    }
                }
                Err(error) => {
                    let (message, location) = split_parser_error(&error);
                    let at = parser.peek_token();
                    let range = match location {
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
                    ParseFailure { message, range }
                }
            }
        };
        failures.push(failure);
        // Resume after the semicolon that ends the failed statement.
        let from = parser.index().max(start);
        match ends.iter().find(|&&end| end >= from) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::dialect::GenericDialect;

    fn parse(text: &str) -> ParsedFile {
        parse_file(text, &GenericDialect {})
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
    fn garbage_is_a_failure_not_a_panic() {
        let parsed = parse("hey team, the ctr looks off again?? select from where ((");
        assert!(parsed.statements.is_empty());
        assert_eq!(parsed.failures.len(), 1);
    }
}
