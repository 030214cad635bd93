//! What one render keeps while it runs, per thread: the stand-ins called,
//! the models `ref()`ed, the vars rendered, the macros running. `render`
//! resets it at the start of every template.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use minijinja::Value;

thread_local! {
    /// The stand-ins called while rendering the current template.
    pub(super) static CALLED: std::cell::RefCell<BTreeSet<String>> = const { std::cell::RefCell::new(BTreeSet::new()) };
    /// The models the current template `ref()`s.
    pub(super) static REFS: std::cell::RefCell<BTreeSet<String>> = const { std::cell::RefCell::new(BTreeSet::new()) };
    /// The output columns of the models known to the current render.
    pub(super) static UPSTREAM_COLUMNS: std::cell::RefCell<Arc<HashMap<String, Vec<String>>>> = std::cell::RefCell::new(Arc::default());
    /// How many more containers a copy without a circle may make.
    pub(super) static FROZEN_BUDGET: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    /// How deep renders of vars holding Jinja nest now.
    pub(super) static VAR_DEPTH: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    /// Vars holding Jinja, as rendered for the current template.
    pub(super) static VAR_CACHE: std::cell::RefCell<HashMap<String, Value>> = std::cell::RefCell::new(HashMap::new());
    /// Macros being called through renders of their own, nested.
    pub(super) static RENDERED_CALLS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    /// Whether the current render asked for columns it did not know.
    pub(super) static WANTED_COLUMNS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// The arguments each running project or package macro took no
    /// parameter for: its `varargs` and `kwargs`.
    pub(super) static EXTRA_ARGS: std::cell::RefCell<Vec<ExtraArgs>> = const { std::cell::RefCell::new(Vec::new()) };
    /// How many project or package macros are running (`return` ends one).
    pub(super) static MACRO_DEPTH: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    /// The value of the `return()` that is ending a macro.
    pub(super) static RETURN_SLOT: std::cell::RefCell<Option<Value>> = const { std::cell::RefCell::new(None) };
}

/// Arguments a macro has no parameter for.
#[derive(Debug, Default, Clone)]
pub(super) struct ExtraArgs {
    pub(super) positional: Vec<Value>,
    pub(super) keyword: Vec<(String, Value)>,
}
