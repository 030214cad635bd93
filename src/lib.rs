//! metriclint: finds every place a SQL report computes a business metric and
//! flags computations that differ from the agreed definition.
//!
//! The pipeline, one module a stage:
//! [`discover`] → [`template`] or [`lookml`] → [`parse`] → [`extract`] → [`canon`] → [`judge`] (against the
//! registry, per file, in parallel) → [`drift`] (across files) → [`report`];
//! [`definitions`] judges the definitions a dbt project's YAML gives the
//! registry.
//! [`check::run`] drives it; [`names`] reads qualified output names;
//! [`inventory`] and [`init`] build the cross-report views; the `metriclint`
//! binary is a thin shell around [`cli`].

pub mod baseline;
pub mod cache;
pub mod canon;
pub mod check;
pub mod cli;
pub mod config;
pub mod dbt;
pub mod definitions;
pub mod dialect;
pub mod discover;
pub mod drift;
pub mod extract;
pub mod finding;
pub mod fix;
pub mod init;
pub mod inventory;
pub mod judge;
pub mod lookml;
pub mod names;
pub mod parse;
pub mod registry;
pub mod report;
pub mod rules;
pub mod server;
pub mod source;
pub mod suppress;
pub mod template;
