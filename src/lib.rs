//! metriclint: finds every place a SQL report computes a business metric and
//! flags computations that differ from the agreed definition.
//!
//! The pipeline, one module a stage:
//! [`discover`] → [`parse`] → [`extract`] → [`canon`] → [`judge`] → [`report`].
//! [`check::run`] drives it; the `metriclint` binary is a thin shell around it.

pub mod canon;
pub mod dialect;
pub mod parse;
pub mod registry;
pub mod source;
