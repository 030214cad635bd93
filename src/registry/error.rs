//! Registry errors: each points at the offending YAML with a caret.

use miette::{Diagnostic, NamedSource, SourceSpan};
use thiserror::Error;

use super::yaml_tree::Node;

/// One problem in a registry file.
#[derive(Debug, Error, Diagnostic)]
#[error("{message}")]
pub struct RegistryIssue {
    pub message: String,
    #[source_code]
    pub source_code: Option<NamedSource<String>>,
    #[label("{label}")]
    pub span: Option<SourceSpan>,
    pub label: String,
    #[help]
    pub help: Option<String>,
    /// File, line and column, for tests and plain output.
    pub path: String,
    pub line: u32,
    pub column: u32,
}

/// Everything wrong with the registry; nothing is checked while it has any.
#[derive(Debug, Error, Diagnostic)]
#[error("the metric registry is invalid ({} {})", issues.len(), if issues.len() == 1 { "error" } else { "errors" })]
pub struct RegistryError {
    #[related]
    pub issues: Vec<RegistryIssue>,
}

impl RegistryIssue {
    /// `path:line:column: message`, one line, for logs and tests.
    pub fn one_line(&self) -> String {
        format!(
            "{}:{}:{}: {}",
            self.path, self.line, self.column, self.message
        )
    }
}

/// A problem found by a reader of another registry format.
pub(super) struct Issue {
    pub(super) node: Option<Node>,
    pub(super) message: String,
}

impl Issue {
    pub(super) fn at(node: Option<&Node>, message: String) -> Issue {
        Issue {
            node: node.cloned(),
            message,
        }
    }
}
