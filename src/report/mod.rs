//! Reporting: findings to text for people (`human`) and machines (`json`).

pub mod expressions;
pub mod human;
pub mod inventory;
pub mod json;
pub mod machine;

/// The output formats of `check --format`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Rich snippets of each finding's SQL, then a summary line.
    #[default]
    Human,
    /// One JSON object (the README's JSON output; `schemas/output.schema.json`).
    Json,
    /// One line per finding: `path:line:col: CODE message`.
    Concise,
    /// GitHub Actions workflow commands (annotations on the pull request).
    Github,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// GitLab Code Quality JSON.
    Gitlab,
    /// JUnit XML, one test case per checked file.
    Junit,
}
