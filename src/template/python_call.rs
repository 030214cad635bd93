//! What the Python modules (`re`, `datetime`, `itertools`) share: a call's
//! arguments split into positional and named, and the error Python raises
//! as Jinja's invalid operation.

use minijinja::value::{Kwargs, Rest, Value};
use minijinja::{Error, ErrorKind};

/// A call's positional arguments, and its named ones.
pub(super) fn split_args(args: &[Value]) -> Result<(Vec<Value>, Kwargs), Error> {
    let (Rest(positional), named): (Rest<Value>, Kwargs) = minijinja::value::from_args(args)?;
    Ok((positional, named))
}

/// What Python would raise (a `ValueError`, a `TypeError`), as a template
/// error.
pub(super) fn error(message: String) -> Error {
    Error::new(ErrorKind::InvalidOperation, message)
}
