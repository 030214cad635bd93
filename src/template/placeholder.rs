//! The placeholder: what a macro, var or object metriclint cannot render
//! becomes, a name that keeps the SQL parsable and compares as unknown.

use std::fmt;
use std::sync::Arc;

use super::state::CALLED;
use minijinja::value::{Enumerator, Object, ObjectRepr, Value};
use minijinja::{Error, State};

/// A stand-in for anything the project's macros and packages would provide:
/// every attribute is another stand-in, calling one gives a placeholder.
#[derive(Debug)]
pub(super) struct Placeholder {
    /// As written in the template, dotted (`dbt_utils.star`).
    pub(super) path: String,
    /// A stand-in for something dbt has (`modules.datetime`, `flags`), not a
    /// missing macro: its calls are not reported.
    pub(super) builtin: bool,
}

impl Placeholder {
    pub(super) fn value(path: &str, called: bool) -> Value {
        Placeholder::stand_in(path, called, false)
    }

    /// A stand-in for one of dbt's own objects, whose calls are not reported.
    pub(super) fn builtin(path: &str) -> Value {
        Placeholder::stand_in(path, false, true)
    }

    /// A stand-in for `path`; a call of a missing macro (`called`) is noted.
    pub(super) fn stand_in(path: &str, called: bool, builtin: bool) -> Value {
        if called && !builtin {
            CALLED.with(|c| c.borrow_mut().insert(path.to_string()));
        }
        Value::from_object(Placeholder {
            path: path.to_string(),
            builtin,
        })
    }

    /// The placeholder's SQL name: `dbt_utils.star` is `__jinja_dbt_utils_star`.
    pub(super) fn sql_name(&self) -> String {
        Placeholder::sql_name_of(&self.path)
    }

    /// The SQL name of a placeholder for `path`, without the prefix.
    pub(super) fn sql_name_of(path: &str) -> String {
        path.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect()
    }
}

impl Object for Placeholder {
    /// An empty sequence to loops, `length`, `in` and `+` (an undefined
    /// var that a template adds a list to), a name when printed.
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(0)
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let path = format!("{}.{}", self.path, key);
        Some(Placeholder::stand_in(&path, false, self.builtin))
    }

    fn call(self: &Arc<Self>, _: &mut State<'_, '_>, _: &[Value]) -> Result<Value, Error> {
        Ok(Placeholder::stand_in(&self.path, true, self.builtin))
    }

    fn call_method(
        self: &Arc<Self>,
        _: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        // dbt's graph, offline, holds no node: a lookup finds none (or the
        // default given), so a macro takes its path for a node it does not
        // know (a `ref` override falls back on `builtins.ref`).
        if method == "get" && self.path.starts_with("graph.") && !self.path[6..].contains('.') {
            return Ok(args.get(1).cloned().unwrap_or(Value::from(())));
        }
        let path = format!("{}.{method}", self.path);
        Ok(Placeholder::stand_in(&path, true, self.builtin))
    }

    fn is_true(self: &Arc<Self>) -> bool {
        false
    }

    /// A bare name, which SQL takes wherever an expression, a table or a
    /// type goes; two side by side (`{{ a() }} {{ b() }}`) still parse.
    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PLACEHOLDER_PREFIX}_{}", self.sql_name())
    }
}

pub(super) fn is_placeholder(value: &Value) -> bool {
    value
        .as_object()
        .is_some_and(|o| o.downcast_ref::<Placeholder>().is_some())
}

/// What a template tag metriclint cannot render becomes in the SQL: a bare
/// name with this prefix (`__jinja_api_relation_create`).
pub const PLACEHOLDER_PREFIX: &str = "__jinja";

/// Whether a name is such a placeholder, not a column, table or function
/// the report wrote.
pub fn is_placeholder_name(name: &str) -> bool {
    name.starts_with(PLACEHOLDER_PREFIX)
}

/// Whether a name is another tool's query parameter written as a name (see
/// [`super::with_query_parameters_as_names`]: Dune's `{{1. Pool ID}}` reads
/// `__1__Pool_ID__`, psycopg's `%(campaign)s` `__campaign__`): a value the
/// dashboard fills in when it runs, not a column.
pub fn is_query_parameter_name(name: &str) -> bool {
    name.len() > 4 && name.starts_with("__") && name.ends_with("__") && !is_placeholder_name(name)
}
