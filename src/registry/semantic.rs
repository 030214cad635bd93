//! dbt Semantic Layer YAML read as a registry, in the legacy spec
//! (`semantic_models:` with measures, `metrics:` with `type_params`) and the
//! latest one (`models:` with `semantic_model:`, dimensions on `columns:`,
//! metrics beside them with their settings on the metric, simple metrics as
//! `agg` + `expr`), dbt's compiled `target/semantic_manifest.json`, and the
//! dbt_metrics package's spec that came before them (`metrics:` with
//! `calculation_method` and `expression`, or dbt 1.0's `type` and `sql`),
//! with MetricFlow's semantics:
//!
//! * a measure is an aggregate of its `expr` (default: its name) over its
//!   semantic model's `model: ref('…')`, which becomes the metric's source;
//!   `count` counts non-null values, `sum_boolean` counts true rows;
//! * a simple metric is its measure; a ratio metric divides two metrics (a
//!   zero guard is implied); a derived metric is an expression of metrics;
//! * a metric's `filter` applies to every input, an input's `filter` to that
//!   input only; `{{ Dimension('entity__dim') }}` is the dimension's `expr`;
//! * cumulative and conversion metrics are known by name but not comparable:
//!   their sites are never reported as mismatches.

use serde_yaml::Value;

use super::body::parse_expression;
use super::error::Issue;
use super::yaml_tree::Node;
use crate::canon::lower::{BaseColumns, Lowerer};
use crate::canon::{AggFunc, Expr, Factor, Number};

/// Whether a YAML document is Semantic Layer YAML rather than the native format.
pub fn is_semantic(value: &Value) -> bool {
    let Some(map) = value.as_mapping() else {
        return false;
    };
    if map.contains_key("semantic_models") {
        return true;
    }
    // The latest spec: semantics on the models themselves.
    let semantic_model = map
        .get("models")
        .and_then(Value::as_sequence)
        .is_some_and(|models| {
            models
                .iter()
                .any(|m| m.get("semantic_model").is_some() || m.get("metrics").is_some())
        });
    if semantic_model {
        return true;
    }
    map.get("metrics")
        .and_then(Value::as_sequence)
        .is_some_and(|metrics| {
            metrics.iter().any(|m| {
                m.get("type").is_some() || m.get("type_params").is_some() || is_dbt_metrics(m)
            })
        })
}

/// The dbt_metrics package's calculation methods (dbt 1.0 to 1.5), which
/// dbt 1.0 to 1.2 wrote as `type` (`expression` was `derived` then).
const DBT_METRICS_METHODS: &[&str] = &[
    "sum",
    "count",
    "count_distinct",
    "average",
    "min",
    "max",
    "median",
    "derived",
    "expression",
];

/// Whether a metric is written in the dbt_metrics package's spec.
fn is_dbt_metrics(metric: &Value) -> bool {
    metric.get("calculation_method").is_some()
        || (metric.get("sql").is_some()
            && text(metric.get("type"))
                .is_some_and(|t| DBT_METRICS_METHODS.contains(&t.to_lowercase().as_str())))
}

/// A dbt_metrics metric in the shape of MetricFlow's latest spec, in place
/// (so each keeps its position for messages): an aggregate method is the
/// metric's `agg` over its `expression`, `derived` an `expr` of the metrics
/// its `{{ metric('name') }}` calls name, and each of its `filters`
/// (`field`, `operator`, `value`, written into SQL as they stand) a
/// condition of its `filter`. Its `model` stays, as the metric's source.
fn from_dbt_metrics(mut value: Value) -> Value {
    let metrics = value.get_mut("metrics").and_then(Value::as_sequence_mut);
    for metric in metrics.into_iter().flatten() {
        if !is_dbt_metrics(metric) {
            continue;
        }
        let Some(map) = metric.as_mapping_mut() else {
            continue;
        };
        let method = text(map.get("calculation_method").or_else(|| map.get("type")))
            .unwrap_or_default()
            .to_lowercase();
        let expression = text(map.get("expression").or_else(|| map.get("sql"))).unwrap_or_default();
        for key in ["calculation_method", "expression", "type", "sql"] {
            map.remove(key);
        }
        let filters: Vec<Value> = map
            .get("filters")
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
            .filter_map(|f| {
                let part = |key: &str| text(f.get(key));
                Some(Value::String(format!(
                    "{} {} {}",
                    part("field")?,
                    part("operator")?,
                    part("value")?
                )))
            })
            .collect();
        if !filters.is_empty() {
            map.insert("filter".into(), Value::Sequence(filters));
        }
        if matches!(method.as_str(), "derived" | "expression") {
            let (expr, inputs) = metric_calls(&expression);
            map.insert("type".into(), "derived".into());
            map.insert("expr".into(), expr.into());
            let inputs = inputs
                .into_iter()
                .map(|name| {
                    let mut input = serde_yaml::Mapping::new();
                    input.insert("name".into(), name.into());
                    Value::Mapping(input)
                })
                .collect();
            map.insert("metrics".into(), Value::Sequence(inputs));
        } else {
            map.insert("agg".into(), method.into());
            map.insert("expr".into(), expression.into());
        }
    }
    value
}

/// An expression with its `{{ metric('name') }}` calls written as the
/// names, and those names.
fn metric_calls(expression: &str) -> (String, Vec<String>) {
    let mut out = String::with_capacity(expression.len());
    let mut names = Vec::new();
    let mut rest = expression;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find("}}") else {
            rest = &rest[open..];
            break;
        };
        let call = rest[open + 2..open + close].trim();
        let name = call
            .strip_prefix("metric(")
            .and_then(|c| c.strip_suffix(')'))
            .map(|n| n.trim().trim_matches(['\'', '"']).to_lowercase());
        match name {
            Some(name) => {
                out.push_str(&name);
                if !names.contains(&name) {
                    names.push(name);
                }
            }
            None => out.push_str(&rest[open..open + close + 2]),
        }
        rest = &rest[open + close + 2..];
    }
    out.push_str(rest);
    (out, names)
}

/// One metric read from Semantic Layer YAML, before references are inlined.
pub struct SemanticMetric {
    pub name: String,
    pub label: Option<String>,
    pub description: Option<String>,
    pub source: Vec<String>,
    pub filter: Vec<Expr>,
    pub definition: Expr,
    pub body_text: String,
    /// Metrics it refers to by name.
    pub references: Vec<String>,
    /// Inputs with their own filter become hidden helper metrics.
    pub hidden: bool,
    /// The metric's type, when MetricFlow computes it beyond one SQL
    /// expression (cumulative, conversion).
    pub not_comparable: Option<String>,
    /// Where the metric is written (its `name`).
    pub node: Option<Node>,
}

#[derive(Clone)]
struct Measure {
    definition: Expr,
    source: Option<String>,
}

/// The dimensions and measures a project's Semantic Layer files define, for
/// the metrics of every file to use: dbt splits semantic models and the
/// metrics over them across files.
#[derive(Default)]
pub struct Definitions {
    dimensions: Vec<(String, String)>,
    measures: Vec<(String, Measure)>,
}

impl Definitions {
    /// Adds the dimensions and measures of one Semantic Layer document.
    pub fn add(&mut self, value: &Value, root: &Node) {
        let value = &from_dbt_metrics(from_manifest(value.clone()));
        let (dimensions, measures, _) = own_definitions(value, root, &mut Vec::new());
        self.dimensions.extend(dimensions);
        self.measures.extend(measures);
    }
}

fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A label or description, unless blank (dbt's manifest writes `""`).
fn prose(value: Option<&Value>) -> Option<String> {
    text(value).filter(|s| !s.trim().is_empty())
}

/// `ref('fct_ad_events')` is `fct_ad_events`.
fn model_name(model: &str) -> String {
    let inner = model
        .trim()
        .trim_start_matches("ref(")
        .trim_end_matches(')')
        .rsplit(',')
        .next()
        .unwrap_or(model);
    inner
        .trim()
        .trim_matches(['\'', '"'])
        .rsplit('.')
        .next()
        .unwrap_or(inner)
        .to_lowercase()
}

/// Replaces `{{ Dimension('entity__dim') }}` and friends with the dimension's
/// expression (or name), so the filter is plain SQL.
fn plain_filter(filter: &str, dimensions: &[(String, String)]) -> String {
    let mut out = String::new();
    let mut rest = filter;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find("}}") else {
            out.push_str(&rest[open..]);
            return out;
        };
        let inside = &rest[open + 2..open + close];
        let argument = inside.split(['\'', '"']).nth(1).unwrap_or("").to_string();
        let dim = argument
            .rsplit("__")
            .next()
            .unwrap_or(&argument)
            .to_string();
        let expr = dimensions
            .iter()
            .find(|(name, _)| *name == dim)
            .map(|(_, expr)| expr.clone())
            .unwrap_or(dim);
        out.push_str(&expr);
        rest = &rest[open + close + 2..];
    }
    out.push_str(rest);
    out
}

/// A measure, or a simple metric of the latest spec: `agg` of `expr`
/// (default: the name). Gives the aggregate, the agg and the expr as written.
fn aggregate(
    spec: &Value,
    name: &str,
    what: &str,
    node: Option<&Node>,
    issues: &mut Vec<Issue>,
) -> Option<(Expr, String, String)> {
    let agg = text(spec.get("agg")).unwrap_or_default().to_lowercase();
    let expr_text = text(spec.get("expr")).unwrap_or_else(|| name.to_string());
    let arg = match parse_expression(&expr_text) {
        Ok(e) => Lowerer::new(&BaseColumns).lower(&e),
        Err((message, _)) => {
            issues.push(Issue::at(
                node,
                format!("cannot parse {what} `{name}` expr: {message}"),
            ));
            return None;
        }
    };
    let definition = match agg.as_str() {
        "sum" => Expr::aggregate(AggFunc::Sum, false, arg, Vec::new()),
        "count" => Expr::aggregate(AggFunc::Count, false, arg, Vec::new()),
        "count_distinct" => Expr::aggregate(AggFunc::Count, true, arg, Vec::new()),
        "average" | "avg" => Expr::aggregate(AggFunc::Avg, false, arg, Vec::new()),
        "min" => Expr::aggregate(AggFunc::Min, false, arg, Vec::new()),
        "max" => Expr::aggregate(AggFunc::Max, false, arg, Vec::new()),
        // Counts the rows where the boolean holds.
        "sum_boolean" => Expr::aggregate(AggFunc::Count, false, Expr::Star, vec![arg]),
        "median" | "percentile" => {
            Expr::aggregate(AggFunc::Other(agg.clone()), false, arg, Vec::new())
        }
        other => {
            issues.push(Issue::at(
                node,
                format!("unknown {what} agg `{other}` for `{name}`"),
            ));
            return None;
        }
    };
    Some((definition, agg, expr_text))
}

/// The dimensions and measures one document defines, and the metrics its
/// measures create (`create_metric: true`).
#[allow(clippy::type_complexity)]
fn own_definitions(
    value: &Value,
    root: &Node,
    issues: &mut Vec<Issue>,
) -> (
    Vec<(String, String)>,
    Vec<(String, Measure)>,
    Vec<SemanticMetric>,
) {
    let mut dimensions: Vec<(String, String)> = Vec::new();
    let mut measures: Vec<(String, Measure)> = Vec::new();
    let mut out = Vec::new();
    let semantic_models = value
        .get("semantic_models")
        .and_then(Value::as_sequence)
        .cloned()
        .unwrap_or_default();
    for (i, model) in semantic_models.iter().enumerate() {
        let node = root.get("semantic_models").and_then(|n| n.item(i)).cloned();
        let source = text(model.get("model")).map(|m| model_name(&m));
        for dim in model
            .get("dimensions")
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
        {
            if let Some(name) = text(dim.get("name")) {
                let expr = text(dim.get("expr")).unwrap_or_else(|| name.clone());
                dimensions.push((name, expr));
            }
        }
        for (j, measure) in model
            .get("measures")
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let measure_node = node
                .as_ref()
                .and_then(|n| n.get("measures"))
                .and_then(|n| n.item(j))
                .cloned();
            let Some(name) = text(measure.get("name")) else {
                continue;
            };
            let Some((definition, agg, expr_text)) =
                aggregate(measure, &name, "measure", measure_node.as_ref(), issues)
            else {
                continue;
            };
            if measure.get("create_metric").and_then(Value::as_bool) == Some(true) {
                out.push(SemanticMetric {
                    name: name.to_lowercase(),
                    label: None,
                    description: prose(measure.get("description")),
                    source: source.clone().into_iter().collect(),
                    filter: Vec::new(),
                    definition: definition.clone(),
                    body_text: format!("{agg}({expr_text})"),
                    references: Vec::new(),
                    hidden: false,
                    not_comparable: None,
                    node: measure_node.clone(),
                });
            }
            measures.push((
                name.to_lowercase(),
                Measure {
                    definition,
                    source: source.clone(),
                },
            ));
        }
    }

    (dimensions, measures, out)
}

/// dbt's compiled `target/semantic_manifest.json` in the shape of the YAML
/// it came from: a semantic model's `node_relation` is its `model`, and a
/// `filter` of `where_filters` is the list of their SQL templates, and the
/// metrics `create_metric` asks for are already listed. YAML input has none
/// of these and passes through unchanged.
fn from_manifest(mut value: Value) -> Value {
    fn filters_as_lists(value: &mut Value) {
        match value {
            Value::Mapping(map) => {
                for (key, child) in map.iter_mut() {
                    let wheres = child.get("where_filters").and_then(Value::as_sequence);
                    if key.as_str() == Some("filter") && wheres.is_some() {
                        let templates: Vec<Value> = wheres
                            .into_iter()
                            .flatten()
                            .filter_map(|w| w.get("where_sql_template").cloned())
                            .collect();
                        *child = Value::Sequence(templates);
                    } else {
                        filters_as_lists(child);
                    }
                }
            }
            Value::Sequence(items) => items.iter_mut().for_each(filters_as_lists),
            _ => {}
        }
    }
    filters_as_lists(&mut value);
    if let Some(models) = value
        .get_mut("semantic_models")
        .and_then(Value::as_sequence_mut)
    {
        for model in models.iter_mut() {
            let alias = model
                .get("node_relation")
                .and_then(|r| r.get("alias"))
                .and_then(Value::as_str)
                .map(str::to_string);
            let (Some(alias), Some(map)) = (alias, model.as_mapping_mut()) else {
                continue;
            };
            if !map.contains_key("model") {
                map.insert("model".into(), Value::String(format!("ref('{alias}')")));
            }
            let measures = map.get_mut("measures").and_then(Value::as_sequence_mut);
            for measure in measures.into_iter().flatten() {
                if let Some(measure) = measure.as_mapping_mut() {
                    measure.remove("create_metric");
                }
            }
        }
    }
    value
}

/// Reads a Semantic Layer document (YAML of either spec, or dbt's
/// `semantic_manifest.json`).
pub fn read(
    value: &Value,
    root: &Node,
    project: &Definitions,
    issues: &mut Vec<Issue>,
) -> Vec<SemanticMetric> {
    let value = &from_dbt_metrics(from_manifest(value.clone()));
    let (mut dimensions, mut measures, mut out) = own_definitions(value, root, issues);
    // The document's own come first: a name it defines is its own.
    dimensions.extend(project.dimensions.iter().cloned());
    measures.extend(project.measures.iter().cloned());
    // The latest spec: a model with semantics on it is the semantic model;
    // its columns give the dimensions, its `metrics` the metrics over it.
    let mut model_metrics: Vec<(Value, Option<Node>, String)> = Vec::new();
    let models = value
        .get("models")
        .and_then(Value::as_sequence)
        .cloned()
        .unwrap_or_default();
    for (i, model) in models.iter().enumerate() {
        let node = root.get("models").and_then(|n| n.item(i)).cloned();
        let semantic = model.get("semantic_model");
        let enabled = match semantic {
            Some(Value::Bool(b)) => *b,
            Some(m @ Value::Mapping(_)) => m.get("enabled").and_then(Value::as_bool) != Some(false),
            _ => model.get("metrics").is_some(),
        };
        let Some(model_name) = text(model.get("name")) else {
            continue;
        };
        if !enabled {
            continue;
        }
        for column in model
            .get("columns")
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
        {
            let (Some(column_name), Some(dim)) =
                (text(column.get("name")), column.get("dimension"))
            else {
                continue;
            };
            let name = text(dim.get("name")).unwrap_or_else(|| column_name.clone());
            let expr = text(dim.get("expr")).unwrap_or(column_name);
            dimensions.push((name, expr));
        }
        // Metrics sit beside `semantic_model:`, or (early docs) inside it.
        let places = [
            (
                model.get("metrics"),
                node.as_ref().and_then(|n| n.get("metrics")),
            ),
            (
                semantic.and_then(|s| s.get("metrics")),
                node.as_ref()
                    .and_then(|n| n.get("semantic_model"))
                    .and_then(|n| n.get("metrics")),
            ),
        ];
        for (list, list_node) in places {
            for (j, metric) in list
                .and_then(Value::as_sequence)
                .into_iter()
                .flatten()
                .enumerate()
            {
                let metric_node = list_node.and_then(|n| n.item(j)).cloned();
                model_metrics.push((metric.clone(), metric_node, model_name.to_lowercase()));
            }
        }
    }

    let parse_filter = |value: Option<&Value>,
                        issues: &mut Vec<Issue>,
                        node: Option<&Node>|
     -> Vec<Expr> {
        let list: Vec<String> = match value {
            Some(Value::Sequence(items)) => items.iter().filter_map(|v| text(Some(v))).collect(),
            Some(v) => text(Some(v)).into_iter().collect(),
            None => Vec::new(),
        };
        let mut out = Vec::new();
        for f in list {
            match parse_expression(&plain_filter(&f, &dimensions)) {
                Ok(e) => out.push(Lowerer::new(&BaseColumns).lower(&e)),
                Err((message, _)) => issues.push(Issue::at(
                    node,
                    format!("cannot parse filter `{f}`: {message}"),
                )),
            }
        }
        crate::canon::conjuncts(out)
    };

    let top_level = value
        .get("metrics")
        .and_then(Value::as_sequence)
        .cloned()
        .unwrap_or_default();
    let metrics = top_level
        .into_iter()
        .enumerate()
        .map(|(i, m)| {
            // A dbt_metrics metric names its model itself.
            let model = text(m.get("model")).map(|model| model_name(&model));
            (
                m,
                root.get("metrics").and_then(|n| n.item(i)).cloned(),
                model,
            )
        })
        .chain(
            model_metrics
                .into_iter()
                .map(|(m, node, model)| (m, node, Some(model))),
        );
    for (metric, node, model_source) in metrics {
        let metric = &metric;
        let name_node = node
            .as_ref()
            .and_then(|n| n.get("name"))
            .cloned()
            .or(node.clone());
        let Some(name) = text(metric.get("name")).map(|n| n.to_lowercase()) else {
            issues.push(Issue::at(node.as_ref(), "metric has no `name`".to_string()));
            continue;
        };
        let kind = text(metric.get("type"))
            .unwrap_or_else(|| "simple".to_string())
            .to_lowercase();
        // The latest spec puts the type's settings on the metric itself.
        let params = metric
            .get("type_params")
            .cloned()
            .unwrap_or_else(|| metric.clone());
        let filter = parse_filter(metric.get("filter"), issues, node.as_ref());
        let mut references = Vec::new();
        let mut helpers = Vec::new();
        // An input: a metric (or measure) name, with its own filter if any.
        let mut input =
            |spec: Option<&Value>, role: &str, issues: &mut Vec<Issue>| -> Option<Expr> {
                let (input_name, input_filter) = match spec? {
                    Value::String(s) => (s.to_lowercase(), Vec::new()),
                    other => (
                        text(other.get("name"))?.to_lowercase(),
                        parse_filter(other.get("filter"), issues, node.as_ref()),
                    ),
                };
                if input_filter.is_empty() {
                    references.push(input_name.clone());
                    return Some(Expr::MetricRef(input_name));
                }
                let helper = format!("__{name}_{role}");
                helpers.push(SemanticMetric {
                    name: helper.clone(),
                    label: None,
                    description: None,
                    source: Vec::new(),
                    filter: input_filter,
                    definition: Expr::MetricRef(input_name.clone()),
                    body_text: input_name.clone(),
                    references: vec![input_name],
                    hidden: true,
                    not_comparable: None,
                    node: node.clone(),
                });
                references.push(helper.clone());
                Some(Expr::MetricRef(helper))
            };
        let (definition, body_text, source) = match kind.as_str() {
            "simple" => {
                let measure_name = match params.get("measure") {
                    Some(Value::String(s)) => Some(s.to_lowercase()),
                    Some(m) => text(m.get("name")).map(|s| s.to_lowercase()),
                    None => None,
                };
                let latest = measure_name.is_none() && metric.get("agg").is_some();
                if latest {
                    let Some((definition, agg, expr_text)) =
                        aggregate(metric, &name, "metric", node.as_ref(), issues)
                    else {
                        continue;
                    };
                    out.push(SemanticMetric {
                        name,
                        label: prose(metric.get("label")),
                        description: prose(metric.get("description")),
                        source: model_source.into_iter().collect(),
                        filter,
                        definition,
                        body_text: format!("{agg}({expr_text})"),
                        references: Vec::new(),
                        hidden: false,
                        not_comparable: None,
                        node: name_node,
                    });
                    continue;
                }
                let Some(measure_name) = measure_name else {
                    issues.push(Issue::at(
                        node.as_ref(),
                        format!("simple metric `{name}` names no measure"),
                    ));
                    continue;
                };
                let Some((_, measure)) = measures.iter().find(|(n, _)| *n == measure_name) else {
                    issues.push(Issue::at(
                        node.as_ref(),
                        format!("metric `{name}` uses unknown measure `{measure_name}`"),
                    ));
                    continue;
                };
                let measure_filter = params
                    .get("measure")
                    .map(|m| parse_filter(m.get("filter"), issues, node.as_ref()))
                    .unwrap_or_default();
                (
                    measure.definition.clone().with_filter(&measure_filter),
                    format!("measure {measure_name}"),
                    measure.source.clone().into_iter().collect(),
                )
            }
            "ratio" => {
                let (Some(num), Some(den)) = (
                    input(params.get("numerator"), "numerator", issues),
                    input(params.get("denominator"), "denominator", issues),
                ) else {
                    issues.push(Issue::at(
                        node.as_ref(),
                        format!("ratio metric `{name}` needs a numerator and a denominator"),
                    ));
                    continue;
                };
                (
                    Expr::product(Number::ONE, vec![Factor::mul(num), Factor::div(den)]),
                    "ratio".to_string(),
                    Vec::new(),
                )
            }
            "derived" => {
                let Some(expr_text) = text(params.get("expr")) else {
                    issues.push(Issue::at(
                        node.as_ref(),
                        format!("derived metric `{name}` has no expr"),
                    ));
                    continue;
                };
                // Inputs may be renamed with `alias`; the expr names them so.
                let mut aliases: Vec<(String, Expr)> = Vec::new();
                for (k, m) in params
                    .get("metrics")
                    .or_else(|| params.get("input_metrics"))
                    .and_then(Value::as_sequence)
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    let alias = text(m.get("alias"))
                        .or_else(|| text(m.get("name")))
                        .unwrap_or_default()
                        .to_lowercase();
                    if let Some(e) = input(Some(m), &format!("input{k}"), issues) {
                        aliases.push((alias, e));
                    }
                }
                let parsed = match parse_expression(&expr_text) {
                    Ok(e) => Lowerer::new(&BaseColumns).lower(&e),
                    Err((message, _)) => {
                        issues.push(Issue::at(
                            node.as_ref(),
                            format!("cannot parse derived metric `{name}` expr: {message}"),
                        ));
                        continue;
                    }
                };
                let inlined = parsed.rewrite(&mut |e| match e {
                    Expr::Column(c) => aliases
                        .iter()
                        .find(|(a, _)| *a == c)
                        .map(|(_, e)| e.clone())
                        .unwrap_or(Expr::Column(c)),
                    other => other,
                });
                (inlined, expr_text, Vec::new())
            }
            "cumulative" | "conversion" => (
                Expr::Opaque(format!("{kind} metric")),
                format!("{kind} metric"),
                Vec::new(),
            ),
            other => {
                issues.push(Issue::at(
                    node.as_ref(),
                    format!("unknown metric type `{other}` for `{name}`"),
                ));
                continue;
            }
        };
        out.extend(helpers);
        let not_comparable =
            matches!(kind.as_str(), "cumulative" | "conversion").then(|| kind.clone());
        out.push(SemanticMetric {
            name,
            label: prose(metric.get("label")),
            description: prose(metric.get("description")),
            source,
            filter,
            definition,
            body_text,
            references,
            hidden: false,
            not_comparable,
            node: name_node,
        });
    }
    // A metric built from others reads their model, when they all read one.
    for _ in 0..4 {
        let known: Vec<(String, Vec<String>)> = out
            .iter()
            .map(|m| (m.name.clone(), m.source.clone()))
            .collect();
        for metric in out
            .iter_mut()
            .filter(|m| m.source.is_empty() && !m.references.is_empty())
        {
            let sources: std::collections::BTreeSet<&Vec<String>> = metric
                .references
                .iter()
                .filter_map(|r| known.iter().find(|(n, _)| n == r).map(|(_, s)| s))
                .collect();
            if let [only] = sources.into_iter().collect::<Vec<_>>().as_slice() {
                metric.source = (*only).clone();
            }
        }
    }
    out
}
