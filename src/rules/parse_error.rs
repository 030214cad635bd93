use crate::finding::Finding;
use crate::rules::rule;
use crate::source::Range;

rule! {
    /// ## What it does
    /// Reports a statement metriclint could not parse, a file it could not read,
    /// or a file that is not UTF-8 text.
    ///
    /// ## Why is this bad?
    /// Metrics computed in a statement that cannot be parsed are not checked,
    /// so drift there goes unseen. The rest of the file and every other file
    /// are still checked: one bad statement never hides the findings elsewhere.
    ///
    /// A statement with no query in it (it opens as DDL, a grant or a
    /// session statement and holds no `SELECT` or `AS`: an Oracle `ALTER
    /// INDEX … REBUILD`) holds no metric: one that does not parse is
    /// counted in the summary (`skipped_statements`), not reported.
    ///
    /// The usual causes are a `--dialect` that does not match the SQL (pass
    /// `--dialect bigquery`, `snowflake`, … ), templating such as Jinja that
    /// has not been rendered, or a genuine syntax error.
    ///
    /// ## Example
    /// ```sql
    /// SELEC clicks FRM events;
    /// ```
    ///
    /// Use instead:
    /// ```sql
    /// SELECT clicks FROM events;
    /// ```
    pub struct ParseError {
        code: "ML900",
        name: "parse-error",
        severity: Warning,
        summary: "A statement or file that could not be parsed or read",
    }
}

impl ParseError {
    pub fn finding(path: &str, range: Range, message: String, help: &str) -> Finding {
        let info = Self::INFO;
        // The parser quotes the token it met, which may be a NUL or another
        // control character: shown escaped, never raw into a terminal or log.
        let message = if message.chars().any(char::is_control) {
            message
                .chars()
                .map(|c| match c {
                    c if c.is_control() => c.escape_unicode().to_string(),
                    c => c.to_string(),
                })
                .collect()
        } else {
            message
        };
        Finding {
            help: Some(help.to_string()),
            ..Finding::of(&info, path, range, message)
        }
    }
}
