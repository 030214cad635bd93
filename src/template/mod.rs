//! Templating: dbt-style Jinja SQL rendered offline, with a source map.
//!
//! The template is rendered with minijinja and stand-ins for dbt's builtins
//! (`ref`, `source`, `config`, `var`, `env_var`, `is_incremental`, `this`,
//! `target`, `adapter`, `log`, `return`, …). A macro that is defined nowhere
//! renders as a placeholder name (`__jinja_name`) that keeps the SQL
//! parsable and compares as "unknown", never as a mismatch. Rendering is
//! bounded by fuel, so a template that loops forever is a finding (ML901).
//!
//! Positions: before rendering, invisible markers carrying template offsets
//! are put at the start of every line of raw text and in front of every tag.
//! They pass through rendering untouched, and are then stripped into a map
//! from each rendered byte to the template byte it came from: raw text maps
//! character by character, text a tag produced maps to the tag.

use std::collections::BTreeMap;
use std::sync::Arc;

use minijinja::value::Value;
use minijinja::{Environment, ErrorKind};

use std::collections::HashMap;

use crate::dialect::Dialect;

mod containers;
mod context;
mod environment;
mod macros;
mod missing_macros;
mod placeholder;
mod python_call;
mod python_datetime;
mod python_itertools;
mod python_re;
mod relation;
mod scan;
mod source_map;
mod state;
#[cfg(test)]
mod tests;

use self::environment::{environment, relative_to_cwd};
use self::macros::prelude;
use self::placeholder::Placeholder;
use self::scan::{referenced_names, KNOWN};
use self::source_map::{strip_markers, with_markers};
use self::state::{
    CALLED, MACRO_DEPTH, REFS, RETURN_SLOT, UPSTREAM_COLUMNS, VAR_CACHE, VAR_DEPTH, WANTED_COLUMNS,
};
pub use macros::MacroBundle;
pub use placeholder::{is_placeholder_name, is_query_parameter_name, PLACEHOLDER_PREFIX};
pub(crate) use scan::call_offset;
pub use scan::{
    enabled_condition, is_templated, unique_key, with_python_holes_as_names,
    with_query_parameters_as_names,
};
pub use source_map::Rendered;

/// How much SQL one file may render to (markers included).
const MAX_RENDERED_BYTES: usize = 20_000_000;

/// A dbt project as its templates see it: its vars, its own macros and its
/// installed packages' macros, and the Jinja environment built from them
/// once (see `environment`).
#[derive(Clone, Debug, Default)]
pub struct ProjectJinja {
    /// Project vars (top level of `vars:`), with their YAML types.
    pub vars: BTreeMap<String, serde_yaml::Value>,
    /// The project's own macros, callable by bare name.
    pub macros: Option<MacroBundle>,
    /// Installed packages' macros, callable as `package.macro`.
    pub packages: Vec<MacroBundle>,
    environment: std::sync::OnceLock<Environment<'static>>,
}

impl ProjectJinja {
    pub fn new(
        vars: BTreeMap<String, serde_yaml::Value>,
        macros: Option<MacroBundle>,
        packages: Vec<MacroBundle>,
    ) -> ProjectJinja {
        ProjectJinja {
            vars,
            macros,
            packages,
            environment: Default::default(),
        }
    }
}

/// Why a template could not be rendered.
#[derive(Debug)]
pub struct TemplateError {
    pub message: String,
    pub line: u32,
    /// As for [`Rendered`]: the error may go once upstream columns are known.
    pub wants_upstream_columns: bool,
    /// The models `ref()`ed before the error.
    pub refs: Vec<String>,
}

/// Renders a template for `dialect`, with the macros and vars of its dbt
/// project if it has one.
pub fn render(
    template: &str,
    dialect: Dialect,
    project: Option<&ProjectJinja>,
) -> Result<Rendered, TemplateError> {
    render_knowing(template, dialect, project, Arc::default())
}

/// [`render`], knowing the output columns of upstream models (by model name)
/// for `adapter.get_columns_in_relation(ref(…))`.
pub fn render_knowing(
    template: &str,
    dialect: Dialect,
    project: Option<&ProjectJinja>,
    upstream_columns: Arc<HashMap<String, Vec<String>>>,
) -> Result<Rendered, TemplateError> {
    UPSTREAM_COLUMNS.with(|c| *c.borrow_mut() = upstream_columns);
    WANTED_COLUMNS.with(|w| w.set(false));
    VAR_DEPTH.with(|d| d.set(0));
    VAR_CACHE.with(|c| c.borrow_mut().clear());
    let result = render_now(template, dialect, project);
    let wanted = WANTED_COLUMNS.with(|w| w.replace(false));
    UPSTREAM_COLUMNS.with(|c| *c.borrow_mut() = Arc::default());
    match result {
        Ok(mut rendered) => {
            rendered.wants_upstream_columns = wanted;
            Ok(rendered)
        }
        Err(mut error) => {
            error.wants_upstream_columns = wanted;
            error.refs = REFS.with(|r| std::mem::take(&mut *r.borrow_mut()).into_iter().collect());
            Err(error)
        }
    }
}

fn render_now(
    template: &str,
    dialect: Dialect,
    project: Option<&ProjectJinja>,
) -> Result<Rendered, TemplateError> {
    // One environment per project (its macros compiled once), one per file otherwise.
    let fresh;
    let env: &Environment<'static> = match project {
        Some(p) => p.environment.get_or_init(|| environment(dialect, Some(p))),
        None => {
            fresh = environment(dialect, None);
            &fresh
        }
    };
    // Whatever else this template reaches for: unknown macros, adapter, dbt.*.
    let referenced = referenced_names(template);
    let placeholders: BTreeMap<String, Value> = referenced
        .iter()
        .filter(|name| {
            !KNOWN.contains(&name.as_str()) && env.globals().all(|(g, _)| g != name.as_str())
        })
        .map(|name| (name.clone(), Placeholder::value(name, false)))
        .collect();
    // The prelude stays on the first line, so error lines stay the file's.
    let marked = format!(
        "{}{}",
        prelude(project, template, &referenced),
        with_markers(template)
    );
    CALLED.with(|c| c.borrow_mut().clear());
    REFS.with(|r| r.borrow_mut().clear());
    MACRO_DEPTH.with(|d| d.set(0));
    let result = env.render_str(&marked, Value::from(placeholders));
    RETURN_SLOT.with(|r| r.borrow_mut().take());
    let called: Vec<String> =
        CALLED.with(|c| std::mem::take(&mut *c.borrow_mut()).into_iter().collect());
    match result {
        Ok(rendered) if rendered.len() > MAX_RENDERED_BYTES => Err(TemplateError {
            message: format!(
                "the template renders {} MB of SQL; metriclint stops at {} MB",
                rendered.len() / 1_000_000,
                MAX_RENDERED_BYTES / 1_000_000
            ),
            line: 1,
            wants_upstream_columns: false,
            refs: Vec::new(),
        }),
        Ok(rendered) => {
            let mut rendered = strip_markers(&rendered);
            missing_macros::fit(&mut rendered, &called);
            rendered.unknown_macros = called;
            rendered.refs =
                REFS.with(|r| std::mem::take(&mut *r.borrow_mut()).into_iter().collect());
            Ok(rendered)
        }
        Err(e) => {
            let what = match e.kind() {
                ErrorKind::OutOfFuel => {
                    "the template does too much work to render (an endless loop?)".to_string()
                }
                _ => {
                    let detail = e.detail().map(|d| format!(": {d}")).unwrap_or_default();
                    format!("cannot render the Jinja template ({}{detail})", e.kind())
                }
            };
            // An error inside a macro file is told there, and the finding is
            // put at the model's first call of that macro.
            let in_macro = project.and_then(|p| {
                let bundle = match e.name()? {
                    "__project_macros" => p.macros.as_ref(),
                    name => {
                        let namespace = name.strip_prefix("__pkg_")?;
                        p.packages.iter().find(|b| b.namespace == namespace)
                    }
                }?;
                let line = e.line()?;
                let (file, file_line) = bundle.file_line(line)?;
                let before: usize = bundle
                    .source
                    .split_inclusive('\n')
                    .take(line)
                    .map(str::len)
                    .sum();
                let name = macros::macro_names(&bundle.source[..before]).pop();
                Some((file, file_line, name))
            });
            match in_macro {
                Some((file, line, name)) => Err(TemplateError {
                    message: format!(
                        "{what}, in {} at {}:{line}",
                        name.as_deref()
                            .map_or("a macro".to_string(), |n| format!("macro `{n}`")),
                        relative_to_cwd(file).display()
                    ),
                    line: name
                        .and_then(|n| call_offset(template, &n))
                        .map_or(1, |at| template[..at].matches('\n').count() as u32 + 1),
                    wants_upstream_columns: false,
                    refs: Vec::new(),
                }),
                None => Err(TemplateError {
                    message: what,
                    line: e.line().unwrap_or(1) as u32,
                    wants_upstream_columns: false,
                    refs: Vec::new(),
                }),
            }
        }
    }
}
