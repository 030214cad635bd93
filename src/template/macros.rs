//! Macros: project and package macros wrapped for dbt's ways (`return`,
//! `varargs`/`kwargs`, `_private` names), dbt's own macros, and the imports
//! that put every package's macros in reach of a model.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use minijinja::value::{Enumerator, Kwargs, Object, ObjectRepr, Value};
use minijinja::{Error, ErrorKind, State};

use super::containers::with_mutable_literal;
use super::placeholder::Placeholder;
use super::scan::mentions;
use super::source_map::{segments, tag_inner};
use super::state::{ExtraArgs, EXTRA_ARGS, MACRO_DEPTH, RENDERED_CALLS, RETURN_SLOT};
use std::path::{Path, PathBuf};

use super::ProjectJinja;

/// What a package's or project's macro is renamed to; its own name becomes a
/// [`DbtMacro`] wrapper of it (see [`with_macro_returns`]).
pub(crate) const MACRO_PREFIX: &str = "__dbt_macro_";

/// Rewrites a project's or package's macros for dbt's ways: each macro is
/// renamed and its name bound to a [`DbtMacro`] wrapper of it, which ends
/// the macro at its `return(value)` with that value as the result (a list of
/// column dicts, a boolean: not a printout), and drops arguments the macro
/// does not take, so a model written for a newer version of a package still
/// renders. Lists and dicts set from literals change in place.
pub(crate) fn with_macro_returns(source: &str) -> String {
    let mut out = String::with_capacity(source.len() + source.len() / 8);
    // The open macro: where its name is in `out`, and the name.
    let mut open: Option<(usize, String)> = None;
    for (start, end, is_tag) in segments(source) {
        let text = &source[start..end];
        let word = if is_tag && text.starts_with("{%") {
            tag_inner(text).split_whitespace().next().unwrap_or("")
        } else {
            ""
        };
        match (word, &mut open) {
            ("macro", _) => {
                let after = text.find("macro").map_or(0, |at| at + "macro".len());
                let skipped = text[after..].len() - text[after..].trim_start().len();
                let name: String = text[after + skipped..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                let name_at = out.len() + after + skipped;
                out.push_str(text);
                open = Some((name_at, name));
            }
            ("endmacro", Some((name_at, name))) => {
                let name = std::mem::take(name);
                if !name.is_empty() {
                    out.insert_str(*name_at, MACRO_PREFIX);
                }
                out.push_str(text);
                if !name.is_empty() {
                    out.push_str(&format!(
                        "{{% set {name} = __dbt_macro({MACRO_PREFIX}{name}) %}}"
                    ));
                }
                open = None;
            }
            _ if is_tag => out.push_str(&with_mutable_literal(text)),
            _ => out.push_str(text),
        }
    }
    out
}

/// What `return(value)` raises inside a project's or package's macro: its
/// [`DbtMacro`] wrapper catches it and gives the value (as dbt does).
pub(super) const RETURN_SIGNAL: &str = "__dbt_return__";

/// dbt's `return(value)`: inside a project's or package's macro it ends the
/// macro with `value`; elsewhere (a model's own macro) it prints `value`.
pub(super) fn dbt_return(value: Value) -> Result<Value, Error> {
    if MACRO_DEPTH.with(|d| d.get()) == 0 {
        return Ok(value);
    }
    RETURN_SLOT.with(|r| *r.borrow_mut() = Some(value));
    Err(Error::new(ErrorKind::InvalidOperation, RETURN_SIGNAL))
}

/// A project's or package's macro, as its callers see it: the call gives
/// the value of its `return()` itself, not its printout, and arguments the
/// macro does not take are dropped rather than an error.
#[derive(Debug)]
pub(super) struct DbtMacro {
    pub(super) inner: Value,
    /// Its parameters' names, and whether it takes a `caller`; read on the
    /// first call (most macros of a package are never called).
    pub(super) signature: std::sync::OnceLock<(Vec<String>, bool)>,
}

impl DbtMacro {
    pub(super) fn value(inner: Value) -> Value {
        Value::from_object(DbtMacro {
            inner,
            signature: std::sync::OnceLock::new(),
        })
    }

    /// `args` cut to what the macro takes: positional ones up to its
    /// parameters, keyword ones it names (and `caller` when it uses one).
    /// `None` when they fit as they are.
    pub(super) fn fitted(&self, args: &[Value]) -> (Option<Vec<Value>>, ExtraArgs) {
        let (names, takes_caller) = self.signature.get_or_init(|| {
            let names = self
                .inner
                .get_attr("arguments")
                .ok()
                .and_then(|a| a.try_iter().ok())
                .map(|a| a.filter_map(|v| v.as_str().map(str::to_string)).collect())
                .unwrap_or_default();
            let takes_caller = self.inner.get_attr("caller").is_ok_and(|v| v.is_true());
            (names, takes_caller)
        });
        let (positional, kwargs) = match args.split_last() {
            Some((last, rest)) if last.is_kwargs() => (rest, Kwargs::try_from(last.clone()).ok()),
            _ => (args, None),
        };
        let taken = positional.len().min(names.len());
        let known = |key: &str| {
            (key == "caller" && *takes_caller) || names.iter().skip(taken).any(|n| n == key)
        };
        let fits =
            positional.len() <= names.len() && kwargs.as_ref().is_none_or(|k| k.args().all(known));
        if fits {
            return (None, ExtraArgs::default());
        }
        // What the macro takes no parameter for is its `varargs` and `kwargs`.
        let extra = ExtraArgs {
            positional: positional.iter().skip(names.len()).cloned().collect(),
            keyword: kwargs
                .as_ref()
                .map(|k| {
                    k.args()
                        .filter(|key| !known(key))
                        .filter_map(|key| Some((key.to_string(), k.get::<Value>(key).ok()?)))
                        .collect()
                })
                .unwrap_or_default(),
        };
        let mut fitted: Vec<Value> = positional.iter().take(names.len()).cloned().collect();
        if let Some(kwargs) = kwargs {
            let kept: Kwargs = kwargs
                .args()
                .filter(|key| known(key))
                .filter_map(|key| Some((key.to_string(), kwargs.get::<Value>(key).ok()?)))
                .collect();
            if kept.args().next().is_some() {
                fitted.push(Value::from(kept));
            }
        }
        (Some(fitted), extra)
    }
}

/// Jinja's `varargs` and `kwargs` inside a project's or package's macro
/// (minijinja's macros have neither): the running macro's extra arguments.
#[derive(Debug)]
pub(super) enum CurrentExtraArgs {
    Varargs,
    Kwargs,
}

impl CurrentExtraArgs {
    pub(super) fn current() -> ExtraArgs {
        EXTRA_ARGS.with(|e| e.borrow().last().cloned().unwrap_or_default())
    }
}

impl Object for CurrentExtraArgs {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        match **self {
            CurrentExtraArgs::Varargs => ObjectRepr::Seq,
            CurrentExtraArgs::Kwargs => ObjectRepr::Map,
        }
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let extra = Self::current();
        match **self {
            CurrentExtraArgs::Varargs => extra.positional.get(key.as_usize()?).cloned(),
            CurrentExtraArgs::Kwargs => {
                let key = key.as_str()?;
                extra
                    .keyword
                    .into_iter()
                    .find(|(k, _)| k == key)
                    .map(|(_, v)| v)
            }
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let extra = Self::current();
        match **self {
            CurrentExtraArgs::Varargs => Enumerator::Values(extra.positional),
            CurrentExtraArgs::Kwargs => Enumerator::Values(
                extra
                    .keyword
                    .into_iter()
                    .map(|(k, _)| Value::from(k))
                    .collect(),
            ),
        }
    }

    fn call_method(
        self: &Arc<Self>,
        _: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let extra = Self::current();
        match (method, args) {
            ("get", [key, rest @ ..]) => Ok(self
                .get_value(key)
                .or_else(|| rest.first().cloned())
                .unwrap_or(Value::from(()))),
            ("items", []) => Ok(Value::from(
                extra
                    .keyword
                    .into_iter()
                    .map(|(k, v)| Value::from(vec![Value::from(k), v]))
                    .collect::<Vec<_>>(),
            )),
            ("keys", []) => Ok(Value::from(
                extra
                    .keyword
                    .into_iter()
                    .map(|(k, _)| Value::from(k))
                    .collect::<Vec<_>>(),
            )),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

impl Object for DbtMacro {
    fn call(self: &Arc<Self>, state: &mut State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        let (fitted, extra) = self.fitted(args);
        MACRO_DEPTH.with(|d| d.set(d.get() + 1));
        EXTRA_ARGS.with(|e| e.borrow_mut().push(extra));
        let result = self.inner.call(state, fitted.as_deref().unwrap_or(args));
        EXTRA_ARGS.with(|e| e.borrow_mut().pop());
        MACRO_DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
        match result {
            Err(e) if e.detail() == Some(RETURN_SIGNAL) => Ok(RETURN_SLOT
                .with(|r| r.borrow_mut().take())
                .unwrap_or_default()),
            other => other,
        }
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.inner.get_item(key).ok().filter(|v| !v.is_undefined())
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.inner)
    }
}

/// A macro called by rendering a template of its own: one of dbt's own, as
/// `adapter.dispatch('name', 'dbt')` gives it (a macro's body cannot see the
/// `dbt` module of the template that calls it), or a package's that cannot
/// be imported where it is called (packages that call each other).
#[derive(Debug)]
pub(super) struct RenderedCall {
    /// The template holding the macro.
    pub(super) template: String,
    pub(super) name: String,
}

impl RenderedCall {
    pub(super) fn value(template: &str, name: &str) -> Value {
        Value::from_object(RenderedCall {
            template: template.to_string(),
            name: name.to_string(),
        })
    }
}

impl Object for RenderedCall {
    fn call(self: &Arc<Self>, state: &mut State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        let mut context = BTreeMap::new();
        let mut params = Vec::new();
        for (i, arg) in args.iter().enumerate() {
            match Kwargs::try_from(arg.clone())
                .ok()
                .filter(|_| arg.is_kwargs())
            {
                Some(kwargs) => {
                    for key in kwargs.args() {
                        let value: Value = kwargs.get(key)?;
                        context.insert(format!("__k_{key}"), value);
                        params.push(format!("{key}=__k_{key}"));
                    }
                }
                None => {
                    context.insert(format!("__a{i}"), arg.clone());
                    params.push(format!("__a{i}"));
                }
            }
        }
        // The call's value (a list, a boolean) is kept, not its printout.
        let source = format!(
            "{{% import '{}' as __m %}}{{% set __result = __m.{}({}) %}}",
            self.template,
            exported_name(&self.name),
            params.join(", ")
        );
        // A render of its own has its own depth: two packages calling each
        // other without end are bounded here.
        let depth = RENDERED_CALLS.with(|d| d.replace(d.get() + 1));
        let result = if depth >= 32 {
            Err(Error::new(
                ErrorKind::InvalidOperation,
                format!(
                    "macro `{}` calls itself through other packages without end",
                    self.name
                ),
            ))
        } else {
            state
                .env()
                .template_from_str(&source)
                .and_then(|template| template.render_captured(context))
                .map(|captured| captured.state().lookup("__result").unwrap_or_default())
        };
        RENDERED_CALLS.with(|d| d.set(d.get().saturating_sub(1)));
        result
    }
}

/// A package that cannot be imported where it is called (it imports the
/// caller's package): its macros render on their own when called.
#[derive(Debug)]
pub(super) struct LazyPackage {
    pub(super) namespace: String,
    pub(super) macros: Vec<String>,
}

impl Object for LazyPackage {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let name = key.as_str()?;
        self.macros
            .iter()
            .any(|m| m == name)
            .then(|| RenderedCall::value(&format!("__pkg_{}", self.namespace), name))
    }

    fn call_method(
        self: &Arc<Self>,
        state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match self.get_value(&Value::from(method)) {
            Some(found) => found.call(state, args),
            None => Ok(Placeholder::value(
                &format!("{}.{method}", self.namespace),
                true,
            )),
        }
    }
}

/// dbt's own macros (the cross-database ones), written for offline rendering.
pub(super) const DBT_BUILTINS: &str = include_str!("dbt_builtins.sql");

/// The `{% import %}`s that make dbt's own macros callable as `dbt.name` and
/// by bare name (a template's own macros of the same name take precedence),
/// for the names a template calls: each import costs a module evaluation.
/// The names of dbt's own macros.
pub(super) fn builtin_names() -> &'static [String] {
    static NAMES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| macro_names(DBT_BUILTINS))
}

pub(super) fn builtin_imports(text: &str, referenced: &BTreeSet<String>) -> String {
    let names = builtin_names();
    let mut out = String::new();
    // `dbt.x(...)`, or `adapter.dispatch('x', 'dbt')` (a name in a string).
    if mentions(text, "dbt") {
        out.push_str("{% import '__dbt' as dbt %}");
    }
    let bare: Vec<&str> = names
        .iter()
        .filter(|n| referenced.contains(n.as_str()))
        .map(String::as_str)
        .collect();
    if !bare.is_empty() {
        out.push_str(&format!("{{% from '__dbt' import {} %}}", bare.join(", ")));
    }
    out
}

pub(super) fn import_of(package: &str) -> String {
    format!("{{% import '__pkg_{package}' as {package} %}}")
}

/// `{% import %}` of each installed package that `text` names (as
/// `package.macro`, or in `adapter.dispatch('name', 'package')`).
pub(super) fn package_imports(project: &ProjectJinja, text: &str) -> String {
    project
        .packages
        .iter()
        .filter(|b| mentions(text, &b.namespace))
        .map(|b| import_of(&b.namespace))
        .collect()
}

/// For each package, the other packages its macros name, to import. Imports
/// run when a template is loaded, so an import that would close a circle is
/// left out (those calls render as placeholders).
pub(super) fn package_import_graph(packages: &[MacroBundle]) -> Vec<Vec<&str>> {
    let mut edges: Vec<Vec<usize>> = vec![Vec::new(); packages.len()];
    let reaches = |edges: &[Vec<usize>], from: usize, to: usize| {
        let mut stack = vec![from];
        let mut seen = vec![false; packages.len()];
        while let Some(at) = stack.pop() {
            if at == to {
                return true;
            }
            if !std::mem::replace(&mut seen[at], true) {
                stack.extend(&edges[at]);
            }
        }
        false
    };
    for (i, bundle) in packages.iter().enumerate() {
        for (j, other) in packages.iter().enumerate() {
            if i != j && mentions(&bundle.source, &other.namespace) && !reaches(&edges, j, i) {
                edges[i].push(j);
            }
        }
    }
    edges
        .iter()
        .map(|e| e.iter().map(|&j| packages[j].namespace.as_str()).collect())
        .collect()
}

/// A package's macros with calls of its own macros through its namespace
/// (`fivetran_utils.quote_column(c)` inside fivetran_utils) made direct: a
/// template cannot import itself.
pub(super) fn without_own_namespace(bundle: &MacroBundle) -> String {
    let prefix = format!("{}.", bundle.namespace);
    if !bundle.source.contains(&prefix) {
        return bundle.source.clone();
    }
    let is_name = |c: char| c.is_alphanumeric() || c == '_';
    let source = &bundle.source;
    let mut out = String::with_capacity(source.len());
    let mut last = 0;
    for (at, _) in source.match_indices(&prefix) {
        let after = &source[at + prefix.len()..];
        let name: String = after.chars().take_while(|&c| is_name(c)).collect();
        let own =
            !source[..at].chars().next_back().is_some_and(is_name) && bundle.macros.contains(&name);
        if own && at >= last {
            out.push_str(&source[last..at]);
            last = at + prefix.len();
        }
    }
    out.push_str(&source[last..]);
    out
}

/// The name a bundle exports its macro `name` under. Jinja keeps names that
/// start with `_` private to their template (they cannot be imported), but
/// dbt has no such rule: spellbook's `_monitoring_relation`, dbt_utils'
/// `_is_relation` are macros like any other.
pub(super) fn exported_name(name: &str) -> std::borrow::Cow<'_, str> {
    if name.starts_with('_') {
        format!("metriclint_private{name}").into()
    } else {
        name.into()
    }
}

/// A bundle's private macros (`_name`) set under exportable names, for the
/// end of its template (after its last line, so error lines still map).
pub(super) fn private_exports(bundle: &MacroBundle) -> String {
    bundle
        .macros
        .iter()
        .filter(|m| m.starts_with('_'))
        .map(|m| format!("{{% set {} = {m} %}}", exported_name(m)))
        .collect()
}

/// One entry of a `{% from … import … %}` list that brings in macro `name`
/// under its own name, private ones through their export.
pub(super) fn importable(name: &str) -> String {
    match exported_name(name) {
        std::borrow::Cow::Owned(export) => format!("{export} as {name}"),
        std::borrow::Cow::Borrowed(name) => name.to_string(),
    }
}

/// What a model template needs in front: dbt's macros, the packages it
/// names, and the project's macros.
pub(super) fn prelude(
    project: Option<&ProjectJinja>,
    template: &str,
    referenced: &BTreeSet<String>,
) -> String {
    let mut out = builtin_imports(template, referenced);
    let Some(project) = project else {
        return out;
    };
    out.push_str(&package_imports(project, template));
    if let Some(bundle) = &project.macros {
        let names: Vec<String> = bundle.macros.iter().map(|m| importable(m)).collect();
        out.push_str(&format!(
            "{{% from '__project_macros' import {} %}}",
            names.join(", ")
        ));
        // dbt also reaches the project's macros through its name
        // (`shopify.get_metafields(...)` in a model of project `shopify`).
        if mentions(template, &bundle.namespace) {
            out.push_str(&format!(
                "{{% import '__project_macros' as {} %}}",
                bundle.namespace
            ));
        }
    }
    out
}

/// A package's (or the project's) macros, as one template source.
#[derive(Clone, Debug)]
pub struct MacroBundle {
    /// The package name (the project's own bundle uses the project's name).
    pub namespace: String,
    pub source: String,
    /// Names of the macros the bundle defines.
    pub macros: Vec<String>,
    /// The files the source is made of: the bundle line (1-based) each
    /// starts at, and its path.
    pub files: Vec<(usize, PathBuf)>,
}

impl MacroBundle {
    /// The bundle of a package's (or the project's) macro files, each as
    /// (path, text), in order; `None` when they define no macro. dbt's own
    /// block tags are made Jinja's, and a file that Jinja cannot compile is
    /// left out, so it does not take every model down with it.
    pub fn from_files(namespace: &str, files: Vec<(PathBuf, String)>) -> Option<MacroBundle> {
        let mut source = String::new();
        let mut lines = Vec::new();
        let mut line = 1;
        for (path, text) in files {
            let text = jinja_compatible(&text);
            let compiles = |t: &str| minijinja::Environment::new().template_from_str(t).is_ok();
            let returning = with_macro_returns(&text);
            if let Some(text) = [returning, text].into_iter().find(|t| compiles(t)) {
                lines.push((line, path));
                line += text.matches('\n').count() + 1;
                source.push_str(&text);
                source.push('\n');
            }
        }
        if namespace == METRICS_PACKAGE {
            source = with_graph_queries_as_relations(&source);
        }
        let macros = macro_names(&source);
        (!macros.is_empty()).then(|| MacroBundle {
            namespace: namespace.to_string(),
            source,
            macros,
            files: lines,
        })
    }

    /// The macro file and its line for a line of the bundle's source.
    pub fn file_line(&self, line: usize) -> Option<(&Path, usize)> {
        let (start, path) = self.files.iter().rev().find(|(start, _)| *start <= line)?;
        Some((path, line - start + 1))
    }
}

/// The project name of dbt Labs' legacy `dbt_metrics` package.
const METRICS_PACKAGE: &str = "metrics";

/// The legacy `dbt_metrics` package's `metrics.calculate(metric('…'), …)`
/// and `metrics.develop(…)` build a metric's query from dbt's graph of
/// metric nodes, which offline rendering has not: each renders as a
/// relation's name instead (`select * from __jinja_metrics_calculate`), so
/// the model that reads it parses. The metric itself is checked where it
/// is defined, in the project's metric YAML.
fn with_graph_queries_as_relations(source: &str) -> String {
    let mut source = source.to_string();
    // The parameters of both, in every release of the package.
    const PARAMETERS: &str = "metric_list=none, grain=none, dimensions=[], secondary_calculations=[], start_date=none, end_date=none, where=none, date_alias=none";
    for (name, first) in [("calculate", ""), ("develop", "develop_yml=none, ")] {
        for open in ["{% macro", "{%- macro"] {
            source = source.replace(
                &format!("{open} {name}("),
                &format!("{open} __metriclint_graph_{name}("),
            );
        }
        source.push_str(&format!(
            "{{% macro {name}({first}{PARAMETERS}) %}}{}_metrics_{name}{{% endmacro %}}\n",
            crate::template::PLACEHOLDER_PREFIX
        ));
    }
    source
}

/// The names defined by `{% macro name(` in a source.
pub(super) fn macro_names(source: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = source;
    while let Some(at) = rest.find("macro") {
        let before = rest[..at].trim_end();
        let after = &rest[at + 5..];
        rest = after;
        if !(before.ends_with("{%") || before.ends_with("{%-")) {
            continue;
        }
        let name: String = after
            .trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        // A macro that returns keeps its name, bound to its wrapper.
        let name = name
            .strip_prefix(MACRO_PREFIX)
            .map(str::to_string)
            .unwrap_or(name);
        if !name.is_empty() && !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// dbt's own block tags in Jinja terms: a generic `{% test %}` is a macro;
/// `{% materialization %}` blocks are dropped (they build tables, not SQL).
pub(super) fn jinja_compatible(source: &str) -> String {
    let mut out = source
        .replace("{% test ", "{% macro test_")
        .replace("{%- test ", "{%- macro test_")
        .replace("{% endtest %}", "{% endmacro %}")
        .replace("{%- endtest %}", "{%- endmacro %}")
        .replace("{% endtest -%}", "{% endmacro -%}");
    while let Some(start) = out
        .find("{% materialization")
        .or_else(|| out.find("{%- materialization"))
    {
        let end = out[start..]
            .find("endmaterialization")
            .and_then(|e| out[start + e..].find("%}").map(|c| start + e + c + 2))
            .unwrap_or(out.len());
        // Its lines stay, so errors in the file keep their line numbers.
        let lines = "\n".repeat(out[start..end].matches('\n').count());
        out.replace_range(start..end, &lines);
    }
    out
}
