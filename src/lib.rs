//! metriclint: finds every place a SQL report computes a business metric and
//! flags computations that differ from the agreed definition.
//!
//! The pipeline, one module a stage:
//! [`discover`] → [`parse`] → [`extract`] → [`canon`] → [`judge`] → [`report`].
//! [`check::run`] drives it; the `metriclint` binary is a thin shell around [`cli`].

pub mod canon;
pub mod check;
pub mod cli;
pub mod dialect;
pub mod discover;
pub mod drift;
pub mod extract;
pub mod finding;
pub mod init;
pub mod inventory;
pub mod judge;
pub mod names;
pub mod parse;
pub mod registry;
pub mod report;
pub mod rules;
pub mod source;
