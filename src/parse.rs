//! Parsing: a file's text to statements, recovering statement by statement.
//!
//! The file is tokenized once and split at top-level semicolons; each piece is
//! parsed on its own, so one bad statement becomes one ML900 finding while the
//! statements around it are still checked. A tokenizer error (an unterminated
//! string, say) costs only the text up to the next semicolon.

use sqlparser::ast::Statement;
use sqlparser::dialect::Dialect as SqlDialect;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Location, Token, TokenWithSpan, Tokenizer, TokenizerError};

use crate::source::{LineIndex, Position, Range};

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
    let mut parsed = ParsedFile::default();
    for chunk in tokenize_recovering(text, dialect, &mut parsed.failures) {
        parse_chunk(chunk, dialect, &mut parsed);
    }
    parsed
}

/// Tokenizes the whole text, skipping over the statements the tokenizer rejects,
/// and returns the token runs of the statements.
fn tokenize_recovering(
    text: &str,
    dialect: &dyn SqlDialect,
    failures: &mut Vec<ParseFailure>,
) -> Vec<Vec<TokenWithSpan>> {
    let mut statements = Vec::new();
    let mut start = 0;
    let index = LineIndex::new(text);
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
                statements.extend(split_statements(tokens));
                break;
            }
            Err(TokenizerError { message, location }) => {
                let error_at = index.offset(location.into()).max(start);
                // The statements before the bad one still count.
                if let Some(cut) = text[start..error_at].rfind(';') {
                    let prefix = mask_prefix(&text[..start + cut + 1], start);
                    if let Ok(tokens) = Tokenizer::new(dialect, &prefix).tokenize_with_location() {
                        statements.extend(split_statements(tokens));
                    }
                }
                let resume = text[error_at..]
                    .find(';')
                    .map(|i| error_at + i + 1)
                    .unwrap_or(text.len());
                let pos: Position = location.into();
                failures.push(ParseFailure {
                    message: message.clone(),
                    range: Range {
                        start: pos,
                        end: index.position(line_end(text, error_at)),
                    },
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

/// Splits tokens at semicolons outside parentheses; drops runs that hold only
/// whitespace and comments.
fn split_statements(tokens: Vec<TokenWithSpan>) -> Vec<Vec<TokenWithSpan>> {
    let mut out = Vec::new();
    let mut current = Vec::new();
    let mut depth: i32 = 0;
    for token in tokens {
        match token.token {
            Token::LParen => depth += 1,
            Token::RParen => depth = (depth - 1).max(0),
            Token::SemiColon if depth == 0 => {
                push_statement(&mut out, std::mem::take(&mut current));
                continue;
            }
            Token::EOF => continue,
            _ => {}
        }
        current.push(token);
    }
    push_statement(&mut out, current);
    out
}

fn push_statement(out: &mut Vec<Vec<TokenWithSpan>>, tokens: Vec<TokenWithSpan>) {
    if tokens
        .iter()
        .any(|t| !matches!(t.token, Token::Whitespace(_)))
    {
        out.push(tokens);
    }
}

fn parse_chunk(tokens: Vec<TokenWithSpan>, dialect: &dyn SqlDialect, parsed: &mut ParsedFile) {
    let first = tokens
        .iter()
        .find(|t| !matches!(t.token, Token::Whitespace(_)))
        .map(|t| Range::from(t.span))
        .unwrap_or_default();
    let spans: Vec<(Location, Range)> = tokens
        .iter()
        .map(|t| (t.span.start, Range::from(t.span)))
        .collect();
    match Parser::new(dialect)
        .with_tokens_with_locations(tokens)
        .parse_statements()
    {
        Ok(statements) => parsed.statements.extend(statements),
        Err(error) => {
            let (message, location) = split_parser_error(&error);
            let range = location
                .and_then(|loc| {
                    spans
                        .iter()
                        .find(|(start, _)| *start == loc)
                        .map(|(_, r)| *r)
                })
                .unwrap_or(first);
            parsed.failures.push(ParseFailure { message, range });
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
