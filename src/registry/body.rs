//! A metric body's SQL: one expression, parsed as the generic dialect, with
//! the position of what stops it.

use sqlparser::ast;
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::Token;

/// Parses one SQL expression; on failure the message and the 1-based
/// (line, column) inside `text`.
pub(super) fn parse_expression(text: &str) -> Result<ast::Expr, (String, Option<(u32, u32)>)> {
    let dialect = GenericDialect {};
    let located = |e: sqlparser::parser::ParserError| {
        let message = e.to_string();
        let message = message
            .strip_prefix("sql parser error: ")
            .unwrap_or(&message)
            .to_string();
        match message.rfind(" at Line: ") {
            Some(at) => {
                let tail = &message[at + 10..];
                let mut parts = tail.split(", Column: ");
                let line = parts.next().and_then(|l| l.trim().parse().ok());
                let col = parts.next().and_then(|c| c.trim().parse().ok());
                let pos = line.zip(col);
                (message[..at].to_string(), pos)
            }
            None => (message, None),
        }
    };
    let mut parser = Parser::new(&dialect).try_with_sql(text).map_err(located)?;
    let expr = parser.parse_expr().map_err(located)?;
    let next = parser.peek_token();
    if next.token != Token::EOF {
        let pos = (next.span.start.line as u32, next.span.start.column as u32);
        return Err((
            format!("unexpected `{}` after the expression", next.token),
            Some(pos),
        ));
    }
    Ok(expr)
}
