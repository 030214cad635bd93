//! Reporting: findings to text for people (`human`) and machines (`json`).

pub mod human;
pub mod inventory;
pub mod json;

/// The output formats of `check --format`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Rich snippets of each finding's SQL, then a summary line.
    #[default]
    Human,
    /// One JSON object, as specified in SPEC.
    Json,
}
