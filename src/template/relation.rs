//! dbt's relations and columns: what `ref()`, `source()` and `this` give,
//! and the columns `adapter.get_columns_in_relation` finds for them.

use std::fmt;
use std::sync::Arc;

use super::state::{REFS, UPSTREAM_COLUMNS, WANTED_COLUMNS};
use minijinja::value::{Enumerator, Kwargs, Object, ObjectRepr, Rest, Value};
use minijinja::{Error, State};

/// dbt's `ref('model')` or `ref('package', 'model')` (`version=` aside):
/// the model, as a relation named as the model.
pub(super) fn dbt_ref(args: Rest<Value>, _kwargs: Kwargs) -> Result<Value, Error> {
    let name = args
        .iter()
        .rev()
        .find_map(|a| a.as_str().map(str::to_string))
        .unwrap_or_default();
    REFS.with(|r| r.borrow_mut().insert(name.to_lowercase()));
    Ok(Relation::value(true, "analytics", &name, &name))
}

/// dbt's `source('source', 'table')`: the relation `source.table`.
pub(super) fn dbt_source(source: String, table: String) -> Value {
    Relation::value(false, &source, &table, &format!("{source}.{table}"))
}

/// What `ref()` and `source()` give, as in dbt: a relation that prints as
/// its name and answers `.schema`, `.identifier`, `.is_table`, … (so
/// `dbt_utils.union_relations([ref('a'), ref('b')])` takes them).
#[derive(Debug)]
pub(super) struct Relation {
    /// A `ref()`ed model (whose columns lineage may know), not a source.
    pub(super) model: bool,
    pub(super) schema: String,
    pub(super) identifier: String,
    /// How it prints in the SQL.
    pub(super) text: String,
}

impl Relation {
    pub(super) fn value(model: bool, schema: &str, identifier: &str, text: &str) -> Value {
        Value::from_object(Relation {
            model,
            schema: schema.to_string(),
            identifier: identifier.to_string(),
            text: text.to_string(),
        })
    }
}

impl Object for Relation {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        Some(match key.as_str()? {
            "database" => Value::from("analytics"),
            "schema" => Value::from(self.schema.clone()),
            "identifier" | "name" | "table" => Value::from(self.identifier.clone()),
            "type" => Value::from("table"),
            "is_table" => Value::from(true),
            "is_view" | "is_cte" => Value::from(false),
            "metadata" => minijinja::context! { type => "BaseRelation" },
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(&["database", "schema", "identifier", "type", "metadata"])
    }

    fn call_method(
        self: &Arc<Self>,
        _: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "get" => Ok(args
                .first()
                .and_then(|key| self.get_value(key))
                .or_else(|| args.get(1).cloned())
                .unwrap_or(Value::from(()))),
            "render" => Ok(Value::from_safe_string(self.text.clone())),
            // `include(database=false)`, `quote(…)`, `incorporate(…)`: the
            // same relation, as far as its SQL name goes here.
            _ => Ok(Value::from_dyn_object(self.clone())),
        }
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// `adapter.get_columns_in_relation(relation)` offline: a `ref()`ed model's
/// output columns when lineage knows them, else none (and the render notes
/// that it asked, to be done again when they are known).
pub(super) fn columns_of(relation: Option<&Value>) -> Value {
    let model = relation
        .and_then(Value::as_object)
        .and_then(|o| o.downcast_ref::<Relation>())
        .filter(|r| r.model)
        .map(|r| r.identifier.to_lowercase());
    let Some(model) = model else {
        return Value::from(Vec::<Value>::new());
    };
    let known = UPSTREAM_COLUMNS.with(|c| c.borrow().get(&model).cloned());
    match known {
        Some(names) => Value::from(
            names
                .into_iter()
                .map(|name| Value::from_object(Column(name)))
                .collect::<Vec<_>>(),
        ),
        None => {
            WANTED_COLUMNS.with(|w| w.set(true));
            Value::from(Vec::<Value>::new())
        }
    }
}

/// A column as `get_columns_in_relation` gives it: `.name`, `.column`,
/// `.quoted`, `.data_type` (numeric: casts to it are transparent to the
/// comparison), `.is_string()` and the like.
#[derive(Debug)]
pub(super) struct Column(String);

impl Object for Column {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        Some(match key.as_str()? {
            "name" | "column" => Value::from(self.0.clone()),
            "quoted" => Value::from_safe_string(format!("\"{}\"", self.0)),
            "data_type" | "dtype" => Value::from("numeric"),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(&["name", "column", "quoted", "data_type", "dtype"])
    }

    fn call_method(
        self: &Arc<Self>,
        _: &mut State<'_, '_>,
        method: &str,
        _: &[Value],
    ) -> Result<Value, Error> {
        Ok(match method {
            "is_numeric" | "is_number" => Value::from(true),
            "string_size" | "numeric_precision" | "numeric_scale" => Value::from(0),
            _ if method.starts_with("is_") => Value::from(false),
            _ => Value::from(()),
        })
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
