//! `modules.itertools`: the parts of Python's `itertools` that dbt macros
//! loop over (`product`, `chain`, `combinations`, `permutations`), each
//! giving a list (of tuples, as lists) where Python gives an iterator.

use std::sync::Arc;

use minijinja::value::{Object, Value};
use minijinja::{Error, ErrorKind, State};

use super::python_call::{error, split_args};

/// How many tuples one call may make: templates loop over small lists.
const MAX_ITEMS: usize = 100_000;

/// How many pools `product` may multiply (its iterables times `repeat`).
const MAX_POOLS: usize = 64;

/// The `itertools` module.
#[derive(Debug)]
pub struct PythonItertools;

impl PythonItertools {
    pub fn value() -> Value {
        Value::from_object(PythonItertools)
    }
}

impl Object for PythonItertools {
    fn call_method(
        self: &Arc<Self>,
        _: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let (positional, named) = split_args(args)?;
        let items = |value: &Value| -> Result<Vec<Value>, Error> {
            Ok(value
                .try_iter()
                .map_err(|_| error(format!("itertools.{method}(): {value} is not iterable")))?
                .collect())
        };
        let tuples: Vec<Vec<Value>> = match method {
            "chain" => {
                let mut out = Vec::new();
                for iterable in &positional {
                    out.extend(items(iterable)?);
                }
                return Ok(Value::from(out));
            }
            "product" => {
                let repeat = named.get::<Option<usize>>("repeat")?.unwrap_or(1);
                // Pools of one item each make no more tuples however many:
                // bounded by the pools, not only by the tuples.
                if repeat > MAX_POOLS || repeat.saturating_mul(positional.len()) > MAX_POOLS {
                    return Err(error("itertools.product(): too many pools".into()));
                }
                let pools: Vec<Vec<Value>> =
                    positional.iter().map(items).collect::<Result<_, _>>()?;
                let pools: Vec<&Vec<Value>> = (0..repeat).flat_map(|_| pools.iter()).collect();
                let mut out: Vec<Vec<Value>> = vec![Vec::new()];
                for pool in pools {
                    let mut next = Vec::new();
                    for prefix in &out {
                        for item in pool {
                            if next.len() >= MAX_ITEMS {
                                return Err(error("itertools.product(): too many items".into()));
                            }
                            let mut tuple = prefix.clone();
                            tuple.push(item.clone());
                            next.push(tuple);
                        }
                    }
                    out = next;
                }
                out
            }
            "combinations" | "permutations" => {
                let pool =
                    items(positional.first().ok_or_else(|| {
                        error(format!("itertools.{method}() needs an iterable"))
                    })?)?;
                let r = match positional.get(1) {
                    Some(r) => usize::try_from(r.clone()).ok(),
                    None => named.get::<Option<usize>>("r")?,
                };
                let r = match (method, r) {
                    ("combinations", None) => {
                        return Err(error("itertools.combinations() needs r".into()))
                    }
                    (_, Some(r)) => r,
                    (_, None) => pool.len(),
                };
                // Python gives nothing for more positions than items.
                let mut out = Vec::new();
                if r <= pool.len() {
                    pick(
                        &pool,
                        r,
                        method == "permutations",
                        &mut Vec::new(),
                        &mut out,
                    )?;
                }
                out
            }
            _ => {
                return Err(Error::new(
                    ErrorKind::UnknownMethod,
                    format!("itertools has no {method}() metriclint renders"),
                ))
            }
        };
        Ok(Value::from(
            tuples.into_iter().map(Value::from).collect::<Vec<Value>>(),
        ))
    }
}

/// Every choice of `r` positions of `pool`, in Python's order: increasing
/// positions for combinations, any order of distinct ones for permutations.
fn pick(
    pool: &[Value],
    r: usize,
    any_order: bool,
    chosen: &mut Vec<usize>,
    out: &mut Vec<Vec<Value>>,
) -> Result<(), Error> {
    if chosen.len() == r {
        if out.len() >= MAX_ITEMS {
            return Err(error("itertools: too many items".into()));
        }
        out.push(chosen.iter().map(|&i| pool[i].clone()).collect());
        return Ok(());
    }
    let start = if any_order {
        0
    } else {
        chosen.last().map_or(0, |&last| last + 1)
    };
    // Positions left must still fill the rest (no dead-end prefixes).
    let end = if any_order {
        pool.len()
    } else {
        (pool.len() + 1).saturating_sub(r - chosen.len())
    };
    for i in start..end {
        if any_order && chosen.contains(&i) {
            continue;
        }
        chosen.push(i);
        pick(pool, r, any_order, chosen, out)?;
        chosen.pop();
    }
    Ok(())
}
