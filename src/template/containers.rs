//! Lists and dicts that Jinja code may change in place, as dbt's Python
//! Jinja lets it (`{% do x.append(y) %}`), bounded so no template grows
//! without end.

use std::sync::{Arc, Mutex};

use super::relation::Relation;
use super::state::FROZEN_BUDGET;
use minijinja::value::{Enumerator, Kwargs, Object, ObjectRepr, Value, ValueKind};
use minijinja::{Error, ErrorKind, State};

/// `{% set x = … %}` to a list or dict (`[]`, `{}`, `a + b`) makes one that
/// `x.append(…)` (`x.update(…)`) changes, as in dbt's Python Jinja;
/// minijinja's cannot change. And `{% do e %}` takes any expression `e`, as
/// in Jinja.
pub(super) fn with_mutable_literal(tag: &str) -> std::borrow::Cow<'_, str> {
    let Some(inner) = tag
        .strip_prefix("{%")
        .map(|t| t.strip_prefix('-').unwrap_or(t))
        .and_then(|t| t.strip_suffix("%}"))
        .map(|t| t.strip_suffix('-').unwrap_or(t))
    else {
        return tag.into();
    };
    // `{% do x.append(y) if c %}`: Jinja's `do` takes any expression,
    // minijinja's only a call; a `set` evaluates any.
    if let Some(expr) = inner.trim_start().strip_prefix("do ") {
        let expr = expr.trim();
        let one_call = expr.ends_with(')')
            && expr
                .find('(')
                .and_then(|open| closing_bracket(&expr[open..]).map(|close| open + close))
                == Some(expr.len() - 1);
        if one_call || expr.is_empty() {
            return tag.into();
        }
        let open = if tag.starts_with("{%-") { "{%-" } else { "{%" };
        let close = if tag.ends_with("-%}") { "-%}" } else { "%}" };
        return format!("{open} set __dbt_done = ({expr}) {close}").into();
    }
    let Some(rest) = inner.trim_start().strip_prefix("set ") else {
        return tag.into();
    };
    let Some((name, value)) = rest.split_once('=') else {
        return tag.into();
    };
    let value = value.trim();
    let name = name.trim();
    let ident = |t: &str| !t.is_empty() && t.chars().all(|c| c.is_alphanumeric() || c == '_');
    let open = if tag.starts_with("{%-") { "{%-" } else { "{%" };
    let close = if tag.ends_with("-%}") { "-%}" } else { "%}" };
    // `{% set ns.attr = … %}`: a namespace must not hold itself (its
    // printout would never end).
    if let Some((namespace, attr)) = name.split_once('.') {
        if ident(namespace) && ident(attr) && !value.is_empty() && !value.starts_with('=') {
            return format!(
                "{open} set {namespace}.{attr} = __dbt_unless_holds({value}, {namespace}) {close}"
            )
            .into();
        }
        return tag.into();
    }
    // One name (not `a, b = …`), and a value (not `x == y` in a `set` block).
    if value.is_empty()
        || value.starts_with('=')
        || name.is_empty()
        || !name.chars().all(|c| c.is_alphanumeric() || c == '_')
    {
        return tag.into();
    }
    format!("{open} set {name} = __dbt_changeable({value}) {close}").into()
}

/// Where the bracket opening `text` closes (strings skipped).
pub(super) fn closing_bracket(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '[' | '{' | '(') => depth += 1,
            (None, ']' | '}' | ')') => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// A list or dict literal as Python has it: one that can change. Values
/// put into a changeable list or dict are changeable too (`{relation: []}`
/// then `d[relation].append(c)`).
pub(super) fn changeable(value: Value) -> Value {
    // Only Jinja's own lists and maps, and what `+` makes of lists (not
    // relations, columns, stand-ins).
    let plain = value.kind() == ValueKind::Iterable
        || value.as_object().is_none_or(|o| {
            o.downcast_ref::<Vec<Value>>().is_some()
                || o.downcast_ref::<std::collections::BTreeMap<Value, Value>>()
                    .is_some()
        });
    if !plain {
        return value;
    }
    match value.kind() {
        ValueKind::Seq | ValueKind::Iterable => match value.try_iter() {
            Ok(items) => {
                Value::from_object(MutableList(Mutex::new(items.map(changeable).collect())))
            }
            Err(_) => value,
        },
        ValueKind::Map => {
            let mut pairs = Vec::new();
            if let Ok(keys) = value.try_iter() {
                for key in keys {
                    let item = value.get_item(&key).unwrap_or_default();
                    pairs.push((key, changeable(item)));
                }
            }
            Value::from_object(MutableDict(Mutex::new(pairs)))
        }
        _ => value,
    }
}

/// The most items a list a template builds may hold.
pub(super) const MAX_LIST_ITEMS: usize = 1_000_000;

/// A list that templates change in place (`append`, `extend`, …).
#[derive(Debug, Default)]
pub(super) struct MutableList(Mutex<Vec<Value>>);

impl MutableList {
    pub(super) fn items(&self) -> Vec<Value> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

impl Object for MutableList {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let items = self.items();
        let index = key.as_i64()?;
        let index = if index < 0 {
            items.len().checked_sub(index.unsigned_abs() as usize)?
        } else {
            index as usize
        };
        items.get(index).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.items())
    }

    fn call_method(
        self: &Arc<Self>,
        _: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        // Arguments are read, and items compared, before the list is
        // locked: an argument may be (or hold) the list itself.
        let me = Arc::as_ptr(self) as *const ();
        let incoming = |values: Vec<Value>| -> Vec<Value> {
            values
                .into_iter()
                .map(|v| without_cycle(changeable(v), me))
                .collect()
        };
        let current = self.items();
        let position = |value: &Value| current.iter().position(|v| v == value);
        let change = |f: &mut dyn FnMut(&mut Vec<Value>)| -> Result<(), Error> {
            let mut items = self
                .0
                .lock()
                .map_err(|_| Error::new(ErrorKind::InvalidOperation, "list in use"))?;
            f(&mut items);
            // Rendering is bounded in work (fuel) and output; a list that
            // doubles in a loop is bounded here.
            if items.len() > MAX_LIST_ITEMS {
                items.truncate(MAX_LIST_ITEMS);
                return Err(Error::new(
                    ErrorKind::InvalidOperation,
                    format!("a list grows past {MAX_LIST_ITEMS} items"),
                ));
            }
            Ok(())
        };
        match (method, args) {
            ("append", [value]) => {
                let mut new = incoming(vec![value.clone()]);
                change(&mut |items| items.append(&mut new))?;
            }
            ("extend", [values]) => {
                let mut new = incoming(values.try_iter()?.collect());
                change(&mut |items| items.append(&mut new))?;
            }
            ("insert", [at, value]) => {
                let mut new = incoming(vec![value.clone()]);
                change(&mut |items| {
                    let at = at.as_usize().unwrap_or(items.len()).min(items.len());
                    items.splice(at..at, new.drain(..));
                })?;
            }
            ("pop", rest) => {
                let mut popped = Value::from(());
                change(&mut |items| {
                    let at = match rest.first() {
                        Some(i) => i.as_usize().filter(|&i| i < items.len()),
                        None => items.len().checked_sub(1),
                    };
                    if let Some(at) = at {
                        popped = items.remove(at);
                    }
                })?;
                return Ok(popped);
            }
            ("remove", [value]) => {
                if let Some(at) = position(value) {
                    change(&mut |items| {
                        if at < items.len() {
                            items.remove(at);
                        }
                    })?;
                }
            }
            ("clear", []) => change(&mut |items| items.clear())?,
            ("sort", rest) => {
                // `sort()`, `sort(reverse=true)`.
                let reverse = rest
                    .last()
                    .filter(|v| v.is_kwargs())
                    .and_then(|v| Kwargs::try_from(v.clone()).ok())
                    .and_then(|k| k.get::<Option<bool>>("reverse").ok().flatten())
                    .unwrap_or(false);
                change(&mut |items| {
                    items.sort();
                    if reverse {
                        items.reverse();
                    }
                })?
            }
            ("reverse", []) => change(&mut |items| items.reverse())?,
            ("index", [value]) => return Ok(Value::from(position(value))),
            ("count", [value]) => {
                return Ok(Value::from(current.iter().filter(|v| *v == value).count()))
            }
            ("copy", []) => return Ok(Value::from_object(MutableList(Mutex::new(current)))),
            _ => return Err(Error::from(ErrorKind::UnknownMethod)),
        }
        Ok(Value::from(""))
    }
}

/// `value`, or when it holds the container at `container` (putting it there
/// would make a circle no printout ends), a copy of it where that container
/// is none.
pub(super) fn without_cycle(value: Value, container: *const ()) -> Value {
    /// The container an object is, by address, with its contents: a
    /// changeable list or dict, or any other (a `namespace()` may hold one).
    fn contents(value: &Value) -> Option<(*const (), Vec<Value>, bool)> {
        let object = value.as_object()?;
        if let Some(list) = object.downcast_ref::<MutableList>() {
            return Some((list as *const MutableList as *const (), list.items(), true));
        }
        if let Some(dict) = object.downcast_ref::<MutableDict>() {
            let items = dict
                .entries()
                .into_iter()
                .flat_map(|(k, v)| [k, v])
                .collect();
            return Some((dict as *const MutableDict as *const (), items, true));
        }
        let address = object as *const minijinja::value::DynObject as *const ();
        let items: Vec<Value> = match value.kind() {
            ValueKind::Map => value
                .try_iter()
                .ok()?
                .map(|k| value.get_item(&k).unwrap_or_default())
                .collect(),
            ValueKind::Seq => value.try_iter().ok()?.collect(),
            _ => return None,
        };
        Some((address, items, false))
    }
    // Each changeable container is looked into once, however often it is
    // shared; other objects (whose identity is not known) only so deep and
    // so often, past which the value is taken to hold it.
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![(value.clone(), 0usize)];
    let mut budget = 10_000usize;
    let mut holds = false;
    while let Some((next, depth)) = stack.pop() {
        budget = budget.saturating_sub(1);
        if budget == 0 || depth > 32 {
            holds = true;
            break;
        }
        if let Some((address, items, ours)) = contents(&next) {
            if address == container {
                holds = true;
                break;
            }
            if seen.insert(address) {
                let depth = if ours { depth } else { depth + 1 };
                stack.extend(items.into_iter().map(|item| (item, depth)));
            }
        }
    }
    if !holds {
        return value;
    }
    fn frozen(value: &Value, container: *const (), depth: usize) -> Value {
        let Some(object) = value.as_object() else {
            return value.clone();
        };
        if depth > 32 || FROZEN_BUDGET.with(|b| b.replace(b.get().saturating_sub(1))) == 0 {
            return Value::from(());
        }
        if let Some(list) = object.downcast_ref::<MutableList>() {
            if std::ptr::eq(list as *const MutableList as *const (), container) {
                return Value::from(());
            }
            return Value::from(
                list.items()
                    .iter()
                    .map(|v| frozen(v, container, depth + 1))
                    .collect::<Vec<_>>(),
            );
        }
        if let Some(dict) = object.downcast_ref::<MutableDict>() {
            if std::ptr::eq(dict as *const MutableDict as *const (), container) {
                return Value::from(());
            }
            let map: std::collections::BTreeMap<Value, Value> = dict
                .entries()
                .iter()
                .map(|(k, v)| (k.clone(), frozen(v, container, depth + 1)))
                .collect();
            return Value::from(map);
        }
        // Another map (a `namespace()`): a copy.
        if value.kind() == ValueKind::Map && object.downcast_ref::<Relation>().is_none() {
            let map: std::collections::BTreeMap<Value, Value> = value
                .try_iter()
                .map(|keys| {
                    keys.map(|k| {
                        let v = value.get_item(&k).unwrap_or_default();
                        (k, frozen(&v, container, depth + 1))
                    })
                    .collect()
                })
                .unwrap_or_default();
            return Value::from(map);
        }
        value.clone()
    }
    FROZEN_BUDGET.with(|b| b.set(10_000));
    frozen(&value, container, 0)
}

/// A dict that templates change in place (`update`, `setdefault`, …).
#[derive(Debug, Default)]
pub(super) struct MutableDict(Mutex<Vec<(Value, Value)>>);

impl MutableDict {
    pub(super) fn entries(&self) -> Vec<(Value, Value)> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// Keys are compared before the dict is locked: a key may be (or hold)
    /// the dict itself.
    pub(super) fn position(&self, key: &Value) -> Option<usize> {
        self.entries().iter().position(|(k, _)| k == key)
    }

    pub(super) fn set(&self, key: Value, value: Value) {
        let me = self as *const MutableDict as *const ();
        let (key, value) = (without_cycle(key, me), without_cycle(value, me));
        let at = self.position(&key);
        if let Ok(mut entries) = self.0.lock() {
            match at.filter(|&i| i < entries.len()) {
                Some(i) => entries[i].1 = value,
                None => entries.push((key, value)),
            }
        }
    }
}

impl Object for MutableDict {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.entries()
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.entries().into_iter().map(|(k, _)| k).collect())
    }

    fn call_method(
        self: &Arc<Self>,
        _: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match (method, args) {
            ("update", [other]) => {
                for key in other.try_iter()? {
                    let value = other.get_item(&key)?;
                    self.set(key, changeable(value));
                }
            }
            ("setdefault", [key, rest @ ..]) => {
                if let Some(found) = self.get_value(key) {
                    return Ok(found);
                }
                let value = changeable(rest.first().cloned().unwrap_or(Value::from(())));
                self.set(key.clone(), value.clone());
                return Ok(value);
            }
            ("pop", [key, rest @ ..]) => {
                let found = self.position(key);
                let mut entries = self
                    .0
                    .lock()
                    .map_err(|_| Error::new(ErrorKind::InvalidOperation, "dict in use"))?;
                return Ok(match found.filter(|&i| i < entries.len()) {
                    Some(i) => entries.remove(i).1,
                    None => rest.first().cloned().unwrap_or_default(),
                });
            }
            ("get", [key, rest @ ..]) => {
                return Ok(self
                    .get_value(key)
                    .or_else(|| rest.first().cloned())
                    .unwrap_or(Value::from(())))
            }
            ("keys", []) => {
                return Ok(Value::from(
                    self.entries()
                        .into_iter()
                        .map(|(k, _)| k)
                        .collect::<Vec<_>>(),
                ))
            }
            ("values", []) => {
                return Ok(Value::from(
                    self.entries()
                        .into_iter()
                        .map(|(_, v)| v)
                        .collect::<Vec<_>>(),
                ))
            }
            ("items", []) => {
                return Ok(Value::from(
                    self.entries()
                        .into_iter()
                        .map(|(k, v)| Value::from(vec![k, v]))
                        .collect::<Vec<_>>(),
                ))
            }
            ("copy", []) => return Ok(Value::from_object(MutableDict(Mutex::new(self.entries())))),
            ("clear", []) => {
                if let Ok(mut entries) = self.0.lock() {
                    entries.clear();
                }
            }
            _ => return Err(Error::from(ErrorKind::UnknownMethod)),
        }
        Ok(Value::from(""))
    }
}
