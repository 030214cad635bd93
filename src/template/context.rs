//! dbt's context objects as stand-ins: `ref`, `source`, relations and
//! their columns, `adapter`, `exceptions`, Python modules, and the
//! placeholder that stands for whatever a missing macro would give.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::macros::{builtin_names, RenderedCall};
use super::placeholder::{is_placeholder, Placeholder};
use super::relation::columns_of;
use minijinja::value::{Kwargs, Object, Rest, Value};
use minijinja::{Error, ErrorKind, State};

/// dbt's `modules`: Python's `re` as Python has it; `datetime`, `pytz` and
/// the rest stand-ins (the clock is the run's, not ours).
#[derive(Debug)]
pub(super) struct PythonModules;

impl Object for PythonModules {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        Some(match key.as_str()? {
            "re" => super::python_re::PythonRe::value(),
            "datetime" => super::python_datetime::PythonDatetime::value(),
            "itertools" => super::python_itertools::PythonItertools::value(),
            other => Placeholder::builtin(&format!("modules.{other}")),
        })
    }
}

/// dbt's `adapter`: `adapter.dispatch('name', 'package')` resolves
/// `<adapter>__name`, then `default__name`, among the macros in scope (the
/// package's when named); anything else is a placeholder.
#[derive(Debug)]
pub(super) struct Adapter {
    pub(super) adapter_type: String,
    /// Installed packages, searched when no package is named.
    pub(super) packages: Vec<String>,
}

impl Object for Adapter {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        Some(Placeholder::value(&format!("adapter.{key}"), false))
    }

    fn call_method(
        self: &Arc<Self>,
        state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        // The warehouse's answers, which rendering offline does without: no
        // relation is known to exist and none has columns, so packages take
        // the branches they take for a schema without the table.
        match method {
            "get_relation" | "load_relation" | "load_cached_relation" => {
                return Ok(Value::from(()))
            }
            "get_columns_in_relation" => return Ok(columns_of(args.first())),
            "get_missing_columns" | "list_relations_without_caching" => {
                return Ok(Value::from(Vec::<Value>::new()))
            }
            "quote" => {
                let name = args.first().map(Value::to_string).unwrap_or_default();
                return Ok(Value::from_safe_string(format!("\"{name}\"")));
            }
            _ => {}
        }
        if method != "dispatch" {
            // Anything else (`adapter.type()`, …): a stand-in, not a missing
            // macro.
            return Ok(Placeholder::stand_in(
                &format!("adapter.{method}"),
                true,
                true,
            ));
        }
        let Some(name) = args.first().and_then(|a| a.as_str()) else {
            return Ok(Placeholder::value("adapter.dispatch", true));
        };
        let candidates: Vec<String> = dispatch_order(&self.adapter_type)
            .iter()
            .map(|prefix| format!("{prefix}__{name}"))
            .collect();
        let namespace = args.get(1).and_then(|a| a.as_str()).map(str::to_string);
        // dbt's own macros: here they are the plain-named builtins (never the
        // caller's `default__`, which would call itself without end).
        if namespace.as_deref() == Some("dbt") {
            return Ok(if builtin_names().iter().any(|n| n == name) {
                RenderedCall::value("__dbt", name)
            } else {
                Placeholder::value(&format!("dbt.{name}"), false)
            });
        }
        let scopes: Vec<Option<String>> = match namespace {
            // A package not imported here is the calling package itself.
            Some(ns) => vec![Some(ns), None],
            None => std::iter::once(None)
                .chain(self.packages.iter().cloned().map(Some))
                .collect(),
        };
        for candidate in &candidates {
            for scope in &scopes {
                let found = match scope {
                    None => state.lookup(candidate),
                    Some(ns) => state
                        .lookup(ns)
                        .and_then(|module| module.get_attr(candidate).ok()),
                };
                if let Some(found) = found.filter(|v| !v.is_undefined() && !v.is_none()) {
                    if is_placeholder(&found) {
                        continue;
                    }
                    return Ok(found);
                }
            }
        }
        Ok(Placeholder::value(&format!("dispatch.{name}"), false))
    }
}

/// The implementations `adapter.dispatch` tries, in order: the adapter's
/// own, those of the adapters it builds on (as dbt does: redshift on
/// postgres, databricks on spark), `default__`; then, since no warehouse
/// decides here, any adapter's, so that a package with only adapter-specific
/// versions (no `default__`) still renders.
pub(super) fn dispatch_order(adapter: &str) -> Vec<&str> {
    let parents: &[&str] = match adapter {
        "redshift" => &["postgres"],
        "databricks" | "hive" => &["spark"],
        "duckdb" => &["postgres"],
        _ => &[],
    };
    let mut order = vec![adapter];
    order.extend_from_slice(parents);
    order.push("default");
    for fallback in [
        "postgres",
        "snowflake",
        "bigquery",
        "redshift",
        "databricks",
        "spark",
        "duckdb",
    ] {
        if !order.contains(&fallback) {
            order.push(fallback);
        }
    }
    order
}

/// dbt's old `adapter_macro('package.name', args…)`: a dispatch of `name`
/// in `package`, called with the rest.
#[derive(Debug)]
pub(super) struct AdapterMacro;

impl Object for AdapterMacro {
    fn call(self: &Arc<Self>, state: &mut State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        let Some((name, rest)) = args.split_first() else {
            return Ok(Placeholder::value("adapter_macro", true));
        };
        let name = name.to_string();
        let (namespace, macro_name) = match name.split_once('.') {
            Some((namespace, macro_name)) => (Some(namespace), macro_name),
            None => (None, name.as_str()),
        };
        let mut dispatch_args = vec![Value::from(macro_name)];
        dispatch_args.extend(namespace.map(Value::from));
        let adapter = state.lookup("adapter").unwrap_or_default();
        let found = adapter.call_method(state, "dispatch", &dispatch_args)?;
        found.call(state, rest)
    }
}

/// dbt's `exceptions`: `raise_compiler_error(msg)` stops the render as dbt
/// would; warnings and the rest print nothing.
#[derive(Debug)]
pub(super) struct Exceptions;

impl Object for Exceptions {
    fn call_method(
        self: &Arc<Self>,
        _: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let message = args.first().map(Value::to_string).unwrap_or_default();
        match method {
            "warn" => Ok(Value::from("")),
            _ if method.starts_with("raise") => Err(Error::new(
                ErrorKind::InvalidOperation,
                format!("the template raises a compiler error: {message}"),
            )),
            _ => Ok(Value::from("")),
        }
    }
}

/// A YAML value (a dbt var) as a Jinja value, types kept.
pub(super) fn yaml_value(v: &serde_yaml::Value) -> Value {
    match v {
        serde_yaml::Value::Null => Value::from(()),
        serde_yaml::Value::Bool(b) => Value::from(*b),
        serde_yaml::Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Value::from(i),
            (None, Some(f)) => Value::from(f),
            _ => Value::from(n.to_string()),
        },
        serde_yaml::Value::String(s) => Value::from(s.clone()),
        serde_yaml::Value::Sequence(items) => {
            Value::from(items.iter().map(yaml_value).collect::<Vec<_>>())
        }
        serde_yaml::Value::Mapping(map) => Value::from(
            map.iter()
                .map(|(k, v)| {
                    (
                        k.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| format!("{k:?}")),
                        yaml_value(v),
                    )
                })
                .collect::<BTreeMap<String, Value>>(),
        ),
        serde_yaml::Value::Tagged(t) => yaml_value(&t.value),
    }
}

/// Jinja's `dictsort`, its arguments given by position or by name.
pub(super) fn dictsort(
    value: &Value,
    positional: Rest<Value>,
    named: Kwargs,
) -> Result<Value, Error> {
    const PARAMETERS: [&str; 3] = ["case_sensitive", "by", "reverse"];
    if positional.len() > PARAMETERS.len() {
        return Err(Error::new(
            ErrorKind::TooManyArguments,
            "dictsort takes at most 3 arguments",
        ));
    }
    let mut arguments: Vec<(&str, Value)> = PARAMETERS
        .iter()
        .copied()
        .zip(positional.iter().cloned())
        .collect();
    for name in named.args() {
        arguments.push((name, named.get::<Value>(name)?));
    }
    minijinja::filters::dictsort(value, arguments.into_iter().collect())
}
