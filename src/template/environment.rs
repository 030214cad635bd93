//! The Jinja environment: dbt's globals, filters and tests, with the
//! project's and its packages' macros compiled once.

use std::collections::{BTreeMap, BTreeSet};

use minijinja::value::{Kwargs, Rest, Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind, State, UndefinedBehavior};

use super::containers::changeable;
use super::context::{dictsort, yaml_value, Adapter, AdapterMacro, Exceptions, PythonModules};
use super::macros::{
    builtin_imports, dbt_return, import_of, package_import_graph, package_imports, private_exports,
    without_own_namespace, CurrentExtraArgs, DbtMacro, LazyPackage, DBT_BUILTINS,
};
use super::placeholder::Placeholder;
use super::relation::{dbt_ref, dbt_source};
use super::scan::{is_templated, mentions, referenced_names, KNOWN};
use super::state::{VAR_CACHE, VAR_DEPTH};
use super::ProjectJinja;
use crate::dialect::Dialect;

/// Functions and globals that behave as in dbt, or that Jinja provides.
/// How a var that renders itself without end is told.
pub(super) const SELF_REFERENCE: &str = "refers to itself through the Jinja of vars";

pub(super) fn environment(
    dialect: Dialect,
    project: Option<&ProjectJinja>,
) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Lenient);
    env.set_fuel(Some(FUEL));
    // A package macro the installed package does not define (or a Python
    // method Jinja lacks) renders as a placeholder, never as an error.
    let namespaces: Vec<String> = project
        .map(|p| p.packages.iter().map(|b| b.namespace.clone()).collect())
        .unwrap_or_default();
    env.set_unknown_method_callback(move |state, value, method, args| {
        let defined = value.get_attr(method).is_ok_and(|v| !v.is_undefined());
        if defined {
            // A macro the package does define: let the engine call it.
            return Err(Error::from(ErrorKind::UnknownMethod));
        }
        // Python's str, dict and list methods (`.upper()`, `.items()`).
        if let Ok(found) =
            minijinja_contrib::pycompat::unknown_method_callback(state, value, method, args)
        {
            return Ok(found);
        }
        // Changing a list or dict the template cannot change: nothing to say.
        let mutation = matches!(
            method,
            "append" | "extend" | "insert" | "pop" | "remove" | "update" | "setdefault" | "clear"
        );
        if mutation
            && matches!(
                value.kind(),
                ValueKind::Seq | ValueKind::Iterable | ValueKind::Map
            )
        {
            return Ok(Value::from(""));
        }
        // Named as called: `dbt_utils.group_by`, not `group_by`.
        let namespace = std::iter::once("dbt")
            .chain(namespaces.iter().map(String::as_str))
            .find(|n| state.lookup(n).is_some_and(|m| m == *value));
        let path = match namespace {
            Some(namespace) => format!("{namespace}.{method}"),
            None => method.to_string(),
        };
        Ok(Placeholder::value(&path, true))
    });
    env.add_global("adapter_macro", Value::from_object(AdapterMacro));
    env.add_global("varargs", Value::from_object(CurrentExtraArgs::Varargs));
    env.add_global("kwargs", Value::from_object(CurrentExtraArgs::Kwargs));
    env.add_function("ref", dbt_ref);
    env.add_function("source", dbt_source);
    // What a project's own `ref` macro (overriding dbt's) calls.
    env.add_global(
        "builtins",
        minijinja::context! {
            ref => Value::from_function(dbt_ref),
            source => Value::from_function(dbt_source),
            config => Value::from_function(|_: Rest<Value>, _: Kwargs| Value::from("")),
        },
    );
    env.add_function("config", |_: Rest<Value>, _: Kwargs| -> Value {
        Value::from("")
    });
    let vars: BTreeMap<String, Value> = project
        .map(|p| {
            p.vars
                .iter()
                .map(|(k, v)| (k.clone(), yaml_value(v)))
                .collect()
        })
        .unwrap_or_default();
    env.add_function(
        "var",
        move |state: &State,
              name: String,
              default: Option<Value>,
              named: Kwargs|
              -> Result<Value, Error> {
            // `var('x', default=…)` names its default, as dbt allows.
            let default = match default {
                Some(default) => Some(default),
                None => named.get::<Option<Value>>("default")?,
            };
            match vars.get(&name) {
                // dbt renders a var's text: `"{{ ref('stg_ads') }}"` is the relation.
                Some(value) if value.as_str().is_some_and(is_templated) => {
                    // Rendered once per template (in a render of its own,
                    // which has its own fuel and depth: bounded here).
                    if let Some(known) = VAR_CACHE.with(|c| c.borrow().get(&name).cloned()) {
                        return Ok(known);
                    }
                    let text = value.as_str().unwrap_or_default();
                    let depth = VAR_DEPTH.with(|d| d.replace(d.get() + 1));
                    let result = if depth >= 16 {
                        Err(Error::new(
                            ErrorKind::InvalidOperation,
                            format!("var `{name}` {SELF_REFERENCE}"),
                        ))
                    } else {
                        state.env().render_str(text, ())
                    };
                    VAR_DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
                    let rendered = match result {
                        Ok(text) => Value::from_safe_string(text),
                        // A var that reaches for what only a run has (the
                        // clock's date arithmetic, a warehouse) is a stand-in,
                        // as an unset var is: the model's SQL rarely hangs on it.
                        Err(e)
                            if depth < 16
                                && e.kind() == ErrorKind::InvalidOperation
                                && !e.to_string().contains(SELF_REFERENCE) =>
                        {
                            Placeholder::value(&format!("var_{name}"), false)
                        }
                        Err(e) => return Err(e),
                    };
                    VAR_CACHE.with(|c| c.borrow_mut().insert(name, rendered.clone()));
                    Ok(rendered)
                }
                Some(value) => Ok(value.clone()),
                None => Ok(
                    default.unwrap_or_else(|| Placeholder::value(&format!("var_{name}"), false))
                ),
            }
        },
    );
    // dbt's filters that convert a rendered string back into a value.
    env.add_filter("as_text", |v: Value| -> String { v.to_string() });
    env.add_filter("as_native", |v: Value| -> Value { v });
    env.add_filter("as_bool", |v: Value| -> bool {
        match v.as_str() {
            Some(s) => s.trim().eq_ignore_ascii_case("true"),
            None => v.is_true(),
        }
    });
    env.add_filter("as_number", |v: Value| -> Value {
        let text = v.to_string();
        match (text.trim().parse::<i64>(), text.trim().parse::<f64>()) {
            (Ok(i), _) => Value::from(i),
            (_, Ok(f)) => Value::from(f),
            _ => v,
        }
    });
    // dbt's `print` writes to the console, not the SQL; `tojson` and
    // `fromjson` convert as Python's json does.
    env.add_function("print", |_: Rest<Value>| Value::from(""));
    env.add_function(
        "tojson",
        |value: Value, _: Kwargs| -> Result<String, Error> {
            serde_json::to_string(&value)
                .map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))
        },
    );
    env.add_function(
        "fromjson",
        |text: String, default: Option<Value>| -> Value {
            serde_json::from_str::<Value>(&text).unwrap_or_else(|_| default.unwrap_or_default())
        },
    );
    // Jinja's `dictsort(case_sensitive, by, reverse)` also takes its
    // arguments by position (dbt_metrics' `dictsort(false, 'value')`).
    env.add_filter("dictsort", dictsort);
    // `{% call statement(…) %}` blocks run queries in dbt: nothing to render.
    env.add_function("statement", |_: Rest<Value>, _: Kwargs| -> Value {
        Value::from("")
    });
    env.add_function("load_result", |name: Value| -> Value {
        Placeholder::builtin(&format!("load_result.{name}"))
    });
    // An unset environment variable reads as its name, a string (dbt would
    // stop; a string still joins others: `"USE WAREHOUSE " + env_var("WH")`).
    env.add_function(
        "env_var",
        |name: String, default: Option<Value>, named: Kwargs| -> Result<Value, Error> {
            let default = match default {
                Some(default) => Some(default),
                None => named.get::<Option<Value>>("default")?,
            };
            Ok(default.unwrap_or_else(|| {
                Value::from(Placeholder::value(&format!("env_{name}"), false).to_string())
            }))
        },
    );
    // dbt's `metric('name')` (the legacy metrics spec) names a metric node
    // of the graph, which offline rendering has not: a stand-in, whose
    // metric is checked in the YAML that defines it.
    env.add_function("metric", |name: Value, _: Rest<Value>| -> Value {
        Placeholder::builtin(&format!("metric.{name}"))
    });
    env.add_function("is_incremental", || false);
    env.add_function("load_relation", |_: Rest<Value>| Value::from(()));
    env.add_function("log", |_: Rest<Value>, _: Kwargs| -> Value {
        Value::from("")
    });
    env.add_function("return", dbt_return);
    env.add_function("__dbt_changeable", changeable);
    env.add_function(
        "__dbt_unless_holds",
        |value: Value, namespace: Value| -> Value {
            // A namespace's identity is not known here: equal is taken as itself.
            let holds = value == namespace
                || matches!(value.kind(), ValueKind::Seq | ValueKind::Map)
                    && value.try_iter().is_ok_and(|mut items| {
                        items.any(|item| {
                            item == namespace || value.get_item(&item).is_ok_and(|v| v == namespace)
                        })
                    });
            if holds {
                Value::from(())
            } else {
                value
            }
        },
    );
    env.add_function("__dbt_macro", DbtMacro::value);
    let package_macros: BTreeMap<String, Vec<String>> = project
        .map(|p| {
            p.packages
                .iter()
                .map(|b| (b.namespace.clone(), b.macros.clone()))
                .collect()
        })
        .unwrap_or_default();
    env.add_function("__dbt_lazy_package", move |namespace: String| -> Value {
        let macros = package_macros.get(&namespace).cloned().unwrap_or_default();
        Value::from_object(LazyPackage { namespace, macros })
    });
    env.add_function("run_query", |_: Rest<Value>| -> Value {
        Placeholder::builtin("run_query")
    });
    env.add_global(
        "target",
        minijinja::context! {
            type => dialect.name(),
            name => "dev",
            schema => "analytics",
            database => "analytics",
            profile_name => "default",
        },
    );
    env.add_global("this", Placeholder::value("this", false));
    env.add_global("exceptions", Value::from_object(Exceptions));
    // Rendering is compiling (as `dbt compile`, where `execute` is true),
    // without a warehouse: a query's results are empty stand-ins.
    env.add_global("execute", true);
    env.add_global("modules", Value::from_object(PythonModules));
    for name in [
        "flags",
        "graph",
        "model",
        "invocation_id",
        "run_started_at",
        "api",
    ] {
        env.add_global(name, Placeholder::builtin(name));
    }
    env.add_global(
        "adapter",
        Value::from_object(Adapter {
            adapter_type: dialect.name().to_string(),
            packages: project
                .map(|p| p.packages.iter().map(|b| b.namespace.clone()).collect())
                .unwrap_or_default(),
        }),
    );
    // dbt's own macros, then the project's and its packages' macros, as
    // templates to import from.
    let _ = env.add_template("__dbt", DBT_BUILTINS);
    let mut sources = Vec::new();
    if let Some(project) = project {
        let imports = package_import_graph(&project.packages);
        for (bundle, imported) in project.packages.iter().zip(imports) {
            let mut source = builtin_imports(&bundle.source, &referenced_names(&bundle.source));
            for other in &project.packages {
                if other.namespace == bundle.namespace
                    || !mentions(&bundle.source, &other.namespace)
                {
                    continue;
                }
                if imported.contains(&other.namespace.as_str()) {
                    source.push_str(&import_of(&other.namespace));
                } else {
                    // Importing it would close a circle: called lazily.
                    source.push_str(&format!(
                        "{{% set {0} = __dbt_lazy_package('{0}') %}}",
                        other.namespace
                    ));
                }
            }
            source.push_str(&without_own_namespace(bundle));
            source.push_str(&private_exports(bundle));
            let _ = env.add_template_owned(format!("__pkg_{}", bundle.namespace), source);
            sources.push(bundle.source.clone());
        }
        if let Some(bundle) = &project.macros {
            let source = format!(
                "{}{}{}{}",
                builtin_imports(&bundle.source, &referenced_names(&bundle.source)),
                package_imports(project, &bundle.source),
                without_own_namespace(bundle),
                private_exports(bundle)
            );
            let _ = env.add_template_owned("__project_macros", source);
            sources.push(bundle.source.clone());
        }
    }
    // Whatever else the templates reach for: unknown macros, adapter, dbt.*.
    let mut referenced = BTreeSet::new();
    for source in &sources {
        referenced.extend(referenced_names(source));
    }
    let defined: BTreeSet<String> = env.globals().map(|(name, _)| name.to_string()).collect();
    for name in referenced {
        if !KNOWN.contains(&name.as_str()) && !defined.contains(&name) {
            env.add_global(name.clone(), Placeholder::value(&name, false));
        }
    }
    env
}

/// The path as the user would write it from here, when it is below here.
pub(super) fn relative_to_cwd(path: &std::path::Path) -> &std::path::Path {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok())
        .unwrap_or(path)
}

/// How much work one file's rendering may do.
pub(super) const FUEL: u64 = 2_000_000;
