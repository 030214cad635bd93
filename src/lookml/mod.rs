//! LookML (`.lkml`) as report definitions: each view's measures are metric
//! sites, read as the SQL Looker would run for them (see [`sql`]) and
//! judged like a report's, with the same registry and rules; findings
//! point into the `.lkml` file at the measure.

pub mod explores;
pub mod parse;
pub mod sql;

use std::path::Path;

pub use sql::Generated;

/// Whether a path is a LookML file (`orders.view.lkml`, `model.lkml`).
pub fn is_lookml(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("lkml"))
}

/// A LookML file's measures as SQL, or where its syntax breaks.
pub fn to_sql(text: &str) -> Result<Generated, parse::SyntaxError> {
    let pairs = parse::parse(text)?;
    Ok(sql::measures_as_sql(text, &pairs))
}

/// A LookML file's measures as SQL and what it says of views and explores
/// (see [`explores`]), from one parse; or where its syntax breaks.
pub fn read(
    text: &str,
    line_of: &dyn Fn(usize) -> u32,
) -> Result<(Generated, explores::Facts), parse::SyntaxError> {
    let pairs = parse::parse(text)?;
    Ok((
        sql::measures_as_sql(text, &pairs),
        explores::facts(text, &pairs, line_of),
    ))
}
