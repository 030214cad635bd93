//! Loading and validating registry files.
//!
//! serde_yaml reads the typed structure; the positioned tree of [`yaml_tree`]
//! says where each piece was written. Every problem found is collected (not
//! just the first), then reported together.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use miette::{NamedSource, SourceSpan};
use serde::Deserialize;
use sqlparser::ast;

use super::body::parse_expression;
use super::builtin;
use super::yaml_tree::{self, Node};
use super::{Metric, Origin, Registry, RegistryError, RegistryIssue, Unit};
use crate::canon::lower::{BaseColumns, Lowerer};
use crate::canon::{AggFunc, Expr, Factor, Number};

const TOP_LEVEL_KEYS: &[&str] = &["version", "extends", "metrics"];
const METRIC_KEYS: &[&str] = &[
    "name",
    "synonyms",
    "label",
    "description",
    "owner",
    "unit",
    "currency",
    "source",
    "filter",
    "sql",
    "agg",
    "expr",
    "numerator",
    "denominator",
    "compare",
];
const INLINE_KEYS: &[&str] = &["agg", "expr", "filter"];
const AGGS: &[&str] = &["sum", "count", "count_distinct", "average", "min", "max"];

#[derive(Deserialize)]
struct RawFile {
    version: Option<serde_yaml::Value>,
    #[serde(default)]
    extends: Vec<String>,
    #[serde(default)]
    metrics: Vec<RawMetric>,
    #[serde(flatten)]
    _unknown: BTreeMap<String, serde_yaml::Value>,
}

#[derive(Clone, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

#[derive(Deserialize)]
struct RawMetric {
    name: Option<String>,
    #[serde(default)]
    synonyms: Vec<String>,
    label: Option<String>,
    description: Option<String>,
    owner: Option<String>,
    unit: Option<String>,
    currency: Option<String>,
    source: Option<OneOrMany>,
    filter: Option<OneOrMany>,
    sql: Option<String>,
    agg: Option<String>,
    expr: Option<String>,
    numerator: Option<RawSide>,
    denominator: Option<RawSide>,
    compare: Option<String>,
    #[serde(flatten)]
    _unknown: BTreeMap<String, serde_yaml::Value>,
}

#[derive(Clone, Deserialize)]
#[serde(untagged)]
enum RawSide {
    Metric(String),
    Inline {
        agg: Option<String>,
        expr: Option<String>,
        filter: Option<OneOrMany>,
        #[serde(flatten)]
        _unknown: BTreeMap<String, serde_yaml::Value>,
    },
}

/// A YAML type error in the registry's own terms: serde names the types it
/// reads into (`struct RawMetric`), which mean nothing to the user.
fn in_plain_words(message: &str) -> String {
    const SAID: &[(&str, &str)] = &[
        (
            "expected struct RawMetric",
            "expected a metric: a mapping with `name:` and its definition (`sql:`, `agg:` and `expr:`, or `numerator:` and `denominator:`)",
        ),
        (
            "data did not match any variant of untagged enum RawSide",
            "a `numerator:` or `denominator:` is either a registered metric's name or a mapping with `agg:` and `expr:` (and an optional `filter:`)",
        ),
        (
            "data did not match any variant of untagged enum OneOrMany",
            "a `source:` or `filter:` is a string or a list of strings",
        ),
    ];
    SAID.iter()
        .fold(message.to_string(), |message, (serde, plain)| {
            message.replace(serde, plain)
        })
}

/// A registry file's text and the name it is shown under.
#[derive(Clone)]
struct Doc {
    path: String,
    text: String,
}

/// A metric as read from one file, before references are resolved.
struct Draft {
    /// A helper (a Semantic Layer input with its own filter), not a metric of its own.
    hidden: bool,
    metric: Metric,
    doc: usize,
    name_node: Node,
    /// `metric('x')` and numerator/denominator names, with where each is written.
    references: Vec<(String, Node)>,
    synonym_nodes: Vec<Node>,
    unit_node: Option<Node>,
    /// The numerator/denominator form carries no factor of its own.
    ratio_form: bool,
}

#[derive(Default)]
struct Loader {
    docs: Vec<Doc>,
    issues: Vec<RegistryIssue>,
    drafts: Vec<Draft>,
    /// Files and packs being loaded, to stop `extends` cycles.
    loading: Vec<String>,
    loaded: HashSet<String>,
    /// Semantic Layer documents, read once every file is loaded (a metric
    /// in one file may use a measure of another), each with the place among
    /// the drafts its metrics take.
    semantic: Vec<PendingSemantic>,
}

struct PendingSemantic {
    doc: usize,
    value: serde_yaml::Value,
    root: Node,
    at: usize,
}

/// Loads and merges registry files (each may `extends` others or built-in packs).
pub fn load_files(paths: &[PathBuf]) -> Result<Registry, RegistryError> {
    let mut loader = Loader::default();
    for path in paths {
        loader.load_path(path, None);
    }
    loader.finish()
}

/// Loads a registry from text, shown under `path` in messages.
pub fn load_str(path: &str, text: &str) -> Result<Registry, RegistryError> {
    let mut loader = Loader::default();
    loader.load_text(path.to_string(), text.to_string(), Path::new(path).parent());
    loader.finish()
}

/// The built-in pack `name`.
pub fn load_builtin(name: &str) -> Result<Registry, RegistryError> {
    let mut loader = Loader::default();
    loader.load_pack(name, None);
    loader.finish()
}

/// Whether a file given as a registry is SQL: named `.sql`, or opening
/// (after comments) with a statement's first word, where YAML would have a
/// key.
fn holds_sql(path: &str, text: &str) -> bool {
    if path.to_lowercase().ends_with(".sql") {
        return true;
    }
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with("--") && !l.starts_with('#'))
        .unwrap_or_default();
    let word: String = first
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect::<String>()
        .to_lowercase();
    let after = first[word.len()..].chars().next();
    matches!(word.as_str(), "select" | "with" | "create" | "insert")
        && after.is_none_or(char::is_whitespace)
}

fn suggestion(word: &str, candidates: &[&str]) -> Option<String> {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(word, c), *c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c.to_string())
}

/// How to write a name that is not snake_case as one: lower case, words
/// joined by `_`, a letter first (`7d_reach` is `reach_7d`).
fn snake_case_help(name: &str) -> String {
    let mut snake = name.to_lowercase().replace([' ', '-'], "_");
    if snake.starts_with(|c: char| c.is_ascii_digit()) {
        if let Some((lead, rest)) = snake.split_once('_') {
            snake = format!("{rest}_{lead}");
        }
    }
    if is_snake_case(&snake) {
        format!("write it as `{snake}`")
    } else {
        "a name is lower-case letters, digits and `_`, starting with a letter".to_string()
    }
}

fn is_snake_case(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z'))
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl Loader {
    fn issue(
        &mut self,
        doc: usize,
        node: Option<&Node>,
        message: String,
        label: &str,
        help: Option<String>,
    ) {
        let d = &self.docs[doc];
        let (span, line, column) = match node {
            Some(n) => (
                Some(SourceSpan::from((n.mark.offset, n.text_len(&d.text)))),
                n.mark.line,
                n.mark.column,
            ),
            None => (None, 1, 1),
        };
        self.issues.push(RegistryIssue {
            message,
            source_code: Some(NamedSource::new(d.path.clone(), d.text.clone())),
            span,
            label: label.to_string(),
            help,
            path: d.path.clone(),
            line,
            column,
        });
    }

    /// An issue at an exact offset inside a scalar (for SQL errors).
    fn issue_at(
        &mut self,
        doc: usize,
        node: &Node,
        inner: Option<(u32, u32)>,
        message: String,
        label: &str,
    ) {
        let d = &self.docs[doc];
        let value_len = node.text_len(&d.text);
        let plain_one_line = node
            .as_scalar()
            .map(|s| d.text[node.mark.offset..].starts_with(s) && !s.contains('\n'))
            .unwrap_or(false);
        let (offset, len, column) = match inner {
            Some((1, col)) if plain_one_line => {
                let col_offset = node
                    .as_scalar()
                    .unwrap_or("")
                    .char_indices()
                    .nth(col.saturating_sub(1) as usize)
                    .map(|(i, _)| i)
                    .unwrap_or(value_len);
                (node.mark.offset + col_offset, 1, node.mark.column + col - 1)
            }
            _ => (node.mark.offset, value_len, node.mark.column),
        };
        self.issues.push(RegistryIssue {
            message,
            source_code: Some(NamedSource::new(d.path.clone(), d.text.clone())),
            span: Some(SourceSpan::from((offset, len))),
            label: label.to_string(),
            help: None,
            path: d.path.clone(),
            line: node.mark.line,
            column,
        });
    }

    fn load_path(&mut self, path: &Path, from: Option<(usize, &Node)>) {
        let shown = path.display().to_string();
        let key = std::fs::canonicalize(path)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| shown.clone());
        if self.loading.contains(&key) {
            if let Some((doc, node)) = from {
                self.issue(
                    doc,
                    Some(node),
                    format!("`extends` cycle: {shown} extends itself"),
                    "extended again here",
                    None,
                );
            }
            return;
        }
        if !self.loaded.insert(key.clone()) {
            return;
        }
        match yaml_tree::read_bounded(path) {
            Ok(text) => {
                self.loading.push(key);
                self.load_text(shown, text, path.parent());
                self.loading.pop();
            }
            Err(e) => {
                let message = format!("cannot read registry file {shown}: {e}");
                match from {
                    Some((doc, node)) => {
                        self.issue(doc, Some(node), message, "extended here", None)
                    }
                    None => self.issues.push(RegistryIssue {
                        message,
                        source_code: None,
                        span: None,
                        label: String::new(),
                        help: (e.kind() == std::io::ErrorKind::NotFound)
                            .then(|| "pass an existing file to --registry".to_string()),
                        path: shown,
                        line: 1,
                        column: 1,
                    }),
                }
            }
        }
    }

    fn load_pack(&mut self, name: &str, from: Option<(usize, &Node)>) {
        let Some(pack) = builtin::find(name) else {
            if let Some((doc, node)) = from {
                let names: Vec<&str> = builtin::PACKS.iter().map(|p| p.name).collect();
                let help = suggestion(name, &names).map(|s| format!("did you mean `{s}`?"));
                self.issue(
                    doc,
                    Some(node),
                    format!("unknown built-in pack or file `{name}`"),
                    "not found",
                    help,
                );
            }
            return;
        };
        let key = format!("builtin:{}", pack.name);
        if !self.loaded.insert(key) {
            return;
        }
        self.load_text(
            builtin::display_path(pack.name),
            pack.source.to_string(),
            None,
        );
    }

    fn load_text(&mut self, path: String, text: String, dir: Option<&Path>) {
        let doc = self.docs.len();
        self.docs.push(Doc { path, text });
        let text = self.docs[doc].text.clone();
        if let Some(offset) = yaml_tree::too_deep(&text) {
            let at = crate::source::LineIndex::new(&text).position(offset);
            let node = Node {
                mark: yaml_tree::Mark::at(&text, at.line as usize, at.column as usize),
                kind: yaml_tree::NodeKind::Alias,
            };
            let message = format!(
                "the YAML nests `[` or `{{` deeper than {} levels",
                yaml_tree::MAX_FLOW_DEPTH
            );
            self.issue(doc, Some(&node), message, "too deep", None);
            return;
        }

        // A report given where a registry goes (`--registry models/x.sql`).
        if holds_sql(&self.docs[doc].path, &text) {
            self.issue(
                doc,
                None,
                format!("{} holds SQL, not a registry", self.docs[doc].path),
                "here",
                Some("--registry takes a YAML registry (`version: 1` and `metrics:`) or a dbt Semantic Layer file; the SQL reports to check are the PATHS".to_string()),
            );
            return;
        }
        // dbt Semantic Layer YAML is a registry too.
        if let Ok(value) = serde_yaml::from_str::<serde_yaml::Value>(&text) {
            if super::semantic::is_semantic(&value) {
                self.load_semantic(doc, &value, &text);
                return;
            }
        }
        let raw: RawFile = match serde_yaml::from_str(&text) {
            Ok(raw) => raw,
            Err(e) => {
                let message = e.to_string();
                let message = match message.find(" at line ") {
                    Some(at) => message[..at].to_string(),
                    None => message,
                };
                let node = yaml_tree::error_mark(&text, &e).map(|mark| Node {
                    mark,
                    kind: yaml_tree::NodeKind::Alias,
                });
                let message = if message.contains("expected struct RawFile") {
                    format!(
                        "the registry must be a YAML mapping with `version: 1` and `metrics:`, not {}",
                        message
                            .strip_prefix("invalid type: ")
                            .and_then(|m| m.split(", expected").next())
                            .unwrap_or("this")
                    )
                } else if message.contains("repetition limit exceeded") {
                    "its YAML aliases expand to too much (repetition limit exceeded): a registry needs no alias of an alias".to_string()
                } else if message.contains("invalid type: unit value") || text.trim().is_empty() {
                    "the registry file is empty; expected `version: 1` and `metrics:`".to_string()
                } else {
                    in_plain_words(&message)
                };
                self.issue(doc, node.as_ref(), message, "here", None);
                return;
            }
        };
        let root = match yaml_tree::parse(&text) {
            Ok(Some(root)) => root,
            Ok(None) => {
                let message = "the registry file is empty; expected `version: 1` and `metrics:`";
                self.issue(doc, None, message.to_string(), "", None);
                return;
            }
            Err(e) => {
                let message = e.to_string();
                self.issue(doc, None, message, "here", None);
                return;
            }
        };

        for key in root.keys() {
            let name = key.as_scalar().unwrap_or("");
            if !TOP_LEVEL_KEYS.contains(&name) {
                let help = suggestion(name, TOP_LEVEL_KEYS)
                    .map(|s| format!("did you mean `{s}`?"))
                    .or_else(|| Some(format!("top-level keys are {}", TOP_LEVEL_KEYS.join(", "))));
                self.issue(
                    doc,
                    Some(key),
                    format!("unknown key `{name}`"),
                    "unknown key",
                    help,
                );
            }
        }
        match (&raw.version, root.get("version")) {
            (Some(serde_yaml::Value::Number(n)), _) if n.as_u64() == Some(1) => {}
            (None, _) => self.issue(
                doc,
                None,
                "missing `version: 1`".to_string(),
                "",
                Some("add `version: 1` at the top of the file".to_string()),
            ),
            (Some(_), node) => self.issue(
                doc,
                node,
                "unsupported registry version; this metriclint reads `version: 1`".to_string(),
                "unsupported",
                None,
            ),
        }

        if let Some(extends) = root.get("extends") {
            for (i, target) in raw.extends.iter().enumerate() {
                let node = extends.item(i).cloned().unwrap_or_else(|| extends.clone());
                if builtin::find(target).is_some() {
                    self.load_pack(target, Some((doc, &node)));
                } else {
                    let path = dir
                        .map(|d| d.join(target))
                        .unwrap_or_else(|| PathBuf::from(target));
                    if path.exists() {
                        self.load_path(&path, Some((doc, &node)));
                    } else {
                        self.load_pack(target, Some((doc, &node)));
                    }
                }
            }
        }

        let Some(metrics_node) = root.get("metrics") else {
            return;
        };
        for (i, raw_metric) in raw.metrics.into_iter().enumerate() {
            let Some(node) = metrics_node.item(i).cloned() else {
                continue;
            };
            self.read_metric(doc, raw_metric, &node);
        }
    }

    fn load_semantic(&mut self, doc: usize, value: &serde_yaml::Value, text: &str) {
        let Ok(Some(root)) = yaml_tree::parse(text) else {
            self.issue(
                doc,
                None,
                "cannot read the Semantic Layer YAML".to_string(),
                "here",
                None,
            );
            return;
        };
        self.semantic.push(PendingSemantic {
            doc,
            value: value.clone(),
            root,
            at: self.drafts.len(),
        });
    }

    /// Reads the Semantic Layer documents, each with the measures and
    /// dimensions of all of them, their metrics where their files stood.
    fn read_semantic(&mut self) {
        let pending = std::mem::take(&mut self.semantic);
        let mut project = super::semantic::Definitions::default();
        for p in &pending {
            project.add(&p.value, &p.root);
        }
        // From the last, so the places of earlier ones stay put.
        for p in pending.into_iter().rev() {
            let drafts_before = std::mem::take(&mut self.drafts);
            self.read_semantic_doc(p.doc, &p.value, &p.root, &project);
            let read = std::mem::replace(&mut self.drafts, drafts_before);
            self.drafts.splice(p.at..p.at, read);
        }
    }

    fn read_semantic_doc(
        &mut self,
        doc: usize,
        value: &serde_yaml::Value,
        root: &Node,
        project: &super::semantic::Definitions,
    ) {
        let root = root.clone();
        let mut issues = Vec::new();
        let metrics = super::semantic::read(value, &root, project, &mut issues);
        for issue in issues {
            self.issue(doc, issue.node.as_ref(), issue.message, "here", None);
        }
        for m in metrics {
            let node = m.node.clone().unwrap_or_else(|| root.clone());
            let origin = Origin {
                path: self.docs[doc].path.clone(),
                line: node.mark.line,
                column: node.mark.column,
            };
            self.drafts.push(Draft {
                hidden: m.hidden,
                metric: Metric {
                    name: m.name,
                    synonyms: Vec::new(),
                    label: m.label,
                    description: m.description,
                    owner: None,
                    unit: None,
                    currency: None,
                    source: m.source,
                    filter: m.filter,
                    body_text: m.body_text,
                    agreed: m.definition.clone(),
                    constrained: Default::default(),
                    definition: m.definition,
                    origin,
                    not_comparable: m.not_comparable,
                    compare_reports: false,
                    source_is_semantic_model: true,
                },
                doc,
                name_node: node.clone(),
                references: m
                    .references
                    .into_iter()
                    .map(|r| (r, node.clone()))
                    .collect(),
                synonym_nodes: Vec::new(),
                unit_node: None,
                ratio_form: true,
            });
        }
    }

    fn read_metric(&mut self, doc: usize, raw: RawMetric, node: &Node) {
        let errors_before = self.issues.len();
        let mut unknown_keys = false;
        for key in node.keys() {
            let name = key.as_scalar().unwrap_or("");
            if !METRIC_KEYS.contains(&name) {
                let help = suggestion(name, METRIC_KEYS).map(|s| format!("did you mean `{s}`?"));
                self.issue(
                    doc,
                    Some(key),
                    format!("unknown key `{name}` in metric"),
                    "unknown key",
                    help,
                );
                unknown_keys = true;
            }
        }
        let Some(name) = raw.name.clone() else {
            self.issue(
                doc,
                Some(node),
                "metric has no `name`".to_string(),
                "this metric",
                None,
            );
            return;
        };
        let name_node = node.get("name").cloned().unwrap_or_else(|| node.clone());
        if !is_snake_case(&name) {
            self.issue(
                doc,
                Some(&name_node),
                format!("metric name `{name}` is not snake_case"),
                "not snake_case",
                Some(snake_case_help(&name)),
            );
        }

        let unit_node = node.get("unit").cloned();
        let unit = match raw.unit.as_deref() {
            None => None,
            Some(text) => match Unit::parse(text) {
                Some(u) => Some(u),
                None => {
                    let names: Vec<&str> = Unit::NAMES.iter().map(|(n, _)| *n).collect();
                    let help = suggestion(text, &names)
                        .map(|s| format!("did you mean `{s}`?"))
                        .or_else(|| Some(format!("units are {}", names.join(", "))));
                    self.issue(
                        doc,
                        unit_node.as_ref(),
                        format!("unknown unit `{text}`"),
                        "unknown unit",
                        help,
                    );
                    None
                }
            },
        };

        let compare_reports = match raw.compare.as_deref() {
            None | Some("definition") => false,
            Some("reports") => true,
            Some(other) => {
                self.issue(
                    doc,
                    node.get("compare"),
                    format!("unknown `compare: {other}`"),
                    "unknown value",
                    Some("`compare` is `definition` (the default) or `reports`".to_string()),
                );
                false
            }
        };

        let currency = raw.currency.as_deref().and_then(|text| {
            let code = text.trim();
            let problem = if code.len() != 3 || !code.chars().all(|c| c.is_ascii_alphabetic()) {
                Some((
                    format!("`currency: {text}` is no currency code"),
                    "write an ISO 4217 code such as `USD` or `EUR`",
                ))
            } else if unit == Some(Unit::Count) {
                Some((
                    format!("metric `{name}` counts (`unit: count`), so it has no currency"),
                    "remove `currency`, or give the metric a money unit",
                ))
            } else {
                None
            };
            match problem {
                Some((message, help)) => {
                    self.issue(
                        doc,
                        node.get("currency"),
                        message,
                        "here",
                        Some(help.to_string()),
                    );
                    None
                }
                None => Some(code.to_uppercase()),
            }
        });

        let filter = match raw.filter {
            Some(f) => self.read_filter(doc, node.get("filter"), f.into_vec()),
            None => Vec::new(),
        };

        let forms: Vec<&str> = [
            ("sql", raw.sql.is_some()),
            ("agg", raw.agg.is_some()),
            (
                "numerator",
                raw.numerator.is_some() || raw.denominator.is_some(),
            ),
        ]
        .iter()
        .filter(|(_, present)| *present)
        .map(|(n, _)| *n)
        .collect();
        let mut references = Vec::new();
        let (definition, body_node, body_text, ratio_form) = match forms.as_slice() {
            // A misspelt body key was reported already.
            [] if unknown_keys => return,
            [] => {
                let help = if raw.expr.is_some() {
                    "`expr` needs an `agg` (sum, count, count_distinct, average, min, max)"
                } else {
                    "give one of `sql`, `agg` + `expr`, or `numerator` + `denominator`"
                };
                self.issue(
                    doc,
                    Some(&name_node),
                    format!("metric `{name}` has no definition"),
                    "no body",
                    Some(help.to_string()),
                );
                return;
            }
            ["sql"] => {
                if raw.expr.is_some() {
                    self.issue(
                        doc,
                        node.entry("expr").map(|(k, _)| k),
                        "`expr` belongs with `agg`, not with `sql`".to_string(),
                        "remove this",
                        None,
                    );
                }
                let body_node = node.get("sql").cloned().unwrap_or_else(|| node.clone());
                let text = raw.sql.clone().unwrap_or_default();
                let Some(expr) = self.read_sql(doc, &body_node, &text) else {
                    return;
                };
                let lowered = Lowerer::for_registry(&BaseColumns).lower(&expr);
                collect_references(&lowered, &body_node, &mut references);
                (lowered, body_node, text, false)
            }
            ["agg"] => {
                let body_node = node.get("agg").cloned().unwrap_or_else(|| node.clone());
                let expr_node = node
                    .get("expr")
                    .cloned()
                    .unwrap_or_else(|| body_node.clone());
                let agg = raw.agg.clone().unwrap_or_default();
                let expr = raw.expr.clone().unwrap_or_else(|| name.clone());
                let Some(lowered) =
                    self.read_aggregate(doc, &body_node, &agg, &expr_node, &expr, Vec::new())
                else {
                    return;
                };
                let text = format!("{}({expr})", agg.to_uppercase());
                (lowered, body_node, text, false)
            }
            ["numerator"] => {
                // A key written with nothing after it (`numerator: # …`) is
                // in the tree but null: as missing as an absent one.
                let sides = node
                    .get("numerator")
                    .zip(node.get("denominator"))
                    .zip(raw.numerator.clone().zip(raw.denominator.clone()));
                let Some(((num_node, den_node), (num_raw, den_raw))) = sides else {
                    let missing = if raw.numerator.is_none() {
                        "numerator"
                    } else {
                        "denominator"
                    };
                    self.issue(
                        doc,
                        Some(&name_node),
                        format!("metric `{name}` has no `{missing}`"),
                        "incomplete ratio",
                        Some("a ratio needs both `numerator` and `denominator`".to_string()),
                    );
                    return;
                };
                let (num_node, den_node) = (num_node.clone(), den_node.clone());
                let num = self.read_side(doc, &num_node, num_raw, &mut references);
                let den = self.read_side(doc, &den_node, den_raw, &mut references);
                let (Some((num, num_text)), Some((den, den_text))) = (num, den) else {
                    return;
                };
                let scale = match unit {
                    Some(Unit::Percent) => Number::int(100),
                    Some(Unit::PerMille) => Number::int(1000),
                    _ => Number::ONE,
                };
                let definition = Expr::product(scale, vec![Factor::mul(num), Factor::div(den)]);
                let key = node
                    .entry("numerator")
                    .map(|(k, _)| k.clone())
                    .unwrap_or(num_node);
                (definition, key, format!("{num_text} / {den_text}"), true)
            }
            several => {
                let node_of = node.entry(several[1]).map(|(k, _)| k.clone());
                self.issue(
                    doc,
                    node_of.as_ref(),
                    format!(
                        "metric `{name}` has more than one definition ({})",
                        several.join(", ")
                    ),
                    "second body",
                    Some(
                        "keep exactly one of `sql`, `agg` + `expr`, `numerator` + `denominator`"
                            .to_string(),
                    ),
                );
                return;
            }
        };
        if self.issues.len() > errors_before {
            return;
        }
        let source = raw
            .source
            .map(|s| s.into_vec())
            .unwrap_or_default()
            .into_iter()
            .map(|s| {
                s.rsplit('.')
                    .next()
                    .unwrap_or(&s)
                    .trim_matches(['"', '`'])
                    .to_lowercase()
            })
            .collect();
        let synonym_nodes = match node.get("synonyms") {
            Some(list) => (0..raw.synonyms.len())
                .map(|i| list.item(i).cloned().unwrap_or_else(|| list.clone()))
                .collect(),
            None => Vec::new(),
        };
        let origin = Origin {
            path: self.docs[doc].path.clone(),
            line: body_node.mark.line,
            column: body_node.mark.column,
        };
        self.drafts.push(Draft {
            hidden: false,
            metric: Metric {
                name: name.to_lowercase(),
                synonyms: raw.synonyms.iter().map(|s| s.to_lowercase()).collect(),
                label: raw.label,
                description: raw.description,
                owner: raw.owner,
                unit,
                currency,
                source,
                filter,
                body_text,
                agreed: definition.clone(),
                constrained: Default::default(),
                definition,
                origin,
                not_comparable: None,
                compare_reports,
                source_is_semantic_model: false,
            },
            doc,
            name_node,
            references,
            synonym_nodes,
            unit_node,
            ratio_form,
        });
    }

    fn read_sql(&mut self, doc: usize, node: &Node, text: &str) -> Option<ast::Expr> {
        match parse_expression(text) {
            Ok(expr) => Some(expr),
            Err((message, at)) => {
                self.issue_at(
                    doc,
                    node,
                    at,
                    format!("cannot parse SQL expression: {message}"),
                    "here",
                );
                None
            }
        }
    }

    fn read_filter(
        &mut self,
        doc: usize,
        node: Option<&Node>,
        predicates: Vec<String>,
    ) -> Vec<Expr> {
        let mut out = Vec::new();
        for (i, text) in predicates.iter().enumerate() {
            let Some(node) = node.map(|n| n.item(i).unwrap_or(n).clone()) else {
                continue;
            };
            if let Some(expr) = self.read_sql(doc, &node, text) {
                out.push(Lowerer::new(&BaseColumns).lower(&expr));
            }
        }
        match Expr::and(out) {
            Expr::And(parts) => parts,
            Expr::Bool(true) => Vec::new(),
            single => vec![single],
        }
    }

    fn read_aggregate(
        &mut self,
        doc: usize,
        agg_node: &Node,
        agg: &str,
        expr_node: &Node,
        expr: &str,
        filter: Vec<Expr>,
    ) -> Option<Expr> {
        let (func, distinct) = match agg {
            "sum" => (AggFunc::Sum, false),
            "count" => (AggFunc::Count, false),
            "count_distinct" => (AggFunc::Count, true),
            "average" => (AggFunc::Avg, false),
            "min" => (AggFunc::Min, false),
            "max" => (AggFunc::Max, false),
            other => {
                let help = suggestion(other, AGGS)
                    .or_else(|| (other == "avg").then(|| "average".to_string()))
                    .map(|s| format!("did you mean `{s}`?"))
                    .or_else(|| Some(format!("`agg` is one of {}", AGGS.join(", "))));
                self.issue(
                    doc,
                    Some(agg_node),
                    format!("unknown aggregation `{other}`"),
                    "unknown aggregation",
                    help,
                );
                return None;
            }
        };
        let parsed = self.read_sql(doc, expr_node, expr)?;
        let arg = match Lowerer::new(&BaseColumns).lower(&parsed) {
            // `agg: count, expr: 1` counts rows, like COUNT(*).
            Expr::Number(_) if func == AggFunc::Count && !distinct => Expr::Star,
            other => other,
        };
        Some(Expr::aggregate(func, distinct, arg, filter))
    }

    fn read_side(
        &mut self,
        doc: usize,
        node: &Node,
        side: RawSide,
        references: &mut Vec<(String, Node)>,
    ) -> Option<(Expr, String)> {
        match side {
            RawSide::Metric(name) => {
                references.push((name.to_lowercase(), node.clone()));
                Some((Expr::MetricRef(name.to_lowercase()), name))
            }
            RawSide::Inline {
                agg, expr, filter, ..
            } => {
                for key in node.keys() {
                    let k = key.as_scalar().unwrap_or("");
                    if !INLINE_KEYS.contains(&k) {
                        let help =
                            suggestion(k, INLINE_KEYS).map(|s| format!("did you mean `{s}`?"));
                        self.issue(
                            doc,
                            Some(key),
                            format!("unknown key `{k}` in inline aggregate"),
                            "unknown key",
                            help,
                        );
                    }
                }
                let Some(agg) = agg else {
                    self.issue(
                        doc,
                        Some(node),
                        "inline aggregate has no `agg`".to_string(),
                        "here",
                        None,
                    );
                    return None;
                };
                let Some(expr) = expr else {
                    self.issue(
                        doc,
                        Some(node),
                        "inline aggregate has no `expr`".to_string(),
                        "here",
                        None,
                    );
                    return None;
                };
                let filter = match filter {
                    Some(f) => self.read_filter(doc, node.get("filter"), f.into_vec()),
                    None => Vec::new(),
                };
                let agg_node = node.get("agg").cloned().unwrap_or_else(|| node.clone());
                let expr_node = node.get("expr").cloned().unwrap_or_else(|| node.clone());
                let lowered =
                    self.read_aggregate(doc, &agg_node, &agg, &expr_node, &expr, filter)?;
                Some((lowered.clone(), lowered.to_string()))
            }
        }
    }

    fn finish(mut self) -> Result<Registry, RegistryError> {
        self.read_semantic();
        // A later file (the user's) overrides an earlier one (what it extends);
        // inside one file a name may appear once.
        let mut by_name: HashMap<String, usize> = HashMap::new();
        let mut keep: Vec<Option<Draft>> = Vec::new();
        for draft in std::mem::take(&mut self.drafts) {
            let name = draft.metric.name.clone();
            if let Some(&earlier) = by_name.get(&name) {
                let previous = keep[earlier].as_ref().expect("kept");
                if previous.doc == draft.doc {
                    let first = format!("first defined at line {}", previous.name_node.mark.line);
                    self.issue(
                        draft.doc,
                        Some(&draft.name_node),
                        format!("duplicate metric name `{name}`"),
                        "defined again here",
                        Some(first),
                    );
                    continue;
                }
                keep[earlier] = None;
            }
            by_name.insert(name, keep.len());
            keep.push(Some(draft));
        }
        let drafts: Vec<Draft> = keep.into_iter().flatten().collect();
        let index: HashMap<String, usize> = drafts
            .iter()
            .enumerate()
            .map(|(i, d)| (d.metric.name.clone(), i))
            .collect();

        // Synonyms: one owner each, never another metric's name.
        let mut owner: HashMap<String, usize> = HashMap::new();
        for (i, draft) in drafts.iter().enumerate() {
            for (s, synonym) in draft.metric.synonyms.iter().enumerate() {
                let node = draft.synonym_nodes.get(s).unwrap_or(&draft.name_node);
                if let Some(&other) = index.get(synonym) {
                    if other != i {
                        self.issue(
                            draft.doc,
                            Some(node),
                            format!(
                                "synonym `{synonym}` of `{}` is the name of another metric",
                                draft.metric.name
                            ),
                            "already a metric name",
                            None,
                        );
                    }
                } else if let Some(&first) = owner.get(synonym) {
                    if first != i {
                        let help = format!(
                            "`{synonym}` is already a synonym of `{}`",
                            drafts[first].metric.name
                        );
                        self.issue(
                            draft.doc,
                            Some(node),
                            format!("synonym `{synonym}` is claimed by two metrics"),
                            "claimed again here",
                            Some(help),
                        );
                    }
                } else {
                    owner.insert(synonym.clone(), i);
                }
            }
        }

        // References must exist.
        let names: Vec<&str> = drafts.iter().map(|d| d.metric.name.as_str()).collect();
        let mut missing = Vec::new();
        for draft in &drafts {
            for (reference, node) in &draft.references {
                if !index.contains_key(reference) {
                    let help =
                        suggestion(reference, &names).map(|s| format!("did you mean `{s}`?"));
                    missing.push((
                        draft.doc,
                        node.clone(),
                        format!(
                            "`{}` refers to unknown metric `{reference}`",
                            draft.metric.name
                        ),
                        help,
                    ));
                }
            }
        }
        for (doc, node, message, help) in missing {
            self.issue(doc, Some(&node), message, "unknown metric", help);
        }
        if !self.issues.is_empty() {
            return Err(RegistryError {
                issues: self.issues,
            });
        }

        // Inline references in dependency order, reporting cycles.
        let mut resolved: Vec<Option<Expr>> = vec![None; drafts.len()];
        let mut state = vec![0u8; drafts.len()]; // 0 new, 1 visiting, 2 done
        for i in 0..drafts.len() {
            let mut path = Vec::new();
            if let Err(cycle) = resolve(i, &drafts, &index, &mut resolved, &mut state, &mut path) {
                let draft = &drafts[cycle[0]];
                let names: Vec<&str> = cycle
                    .iter()
                    .map(|&j| drafts[j].metric.name.as_str())
                    .collect();
                let node = draft
                    .references
                    .first()
                    .map(|(_, n)| n.clone())
                    .unwrap_or_else(|| draft.name_node.clone());
                self.issue(
                    draft.doc,
                    Some(&node),
                    format!(
                        "cycle of metric references: {} -> {}",
                        names.join(" -> "),
                        names[0]
                    ),
                    "cycle",
                    None,
                );
                break;
            }
        }
        if !self.issues.is_empty() {
            return Err(RegistryError {
                issues: self.issues,
            });
        }

        // A composed metric is judged by the units of the metrics it reads,
        // not by the constants inside their bodies (`spend:
        // SUM(spend_micros) / 1e6` read by a per-mille CPM).
        let units: HashMap<String, Option<Unit>> = drafts
            .iter()
            .map(|d| (d.metric.name.clone(), d.metric.unit))
            .collect();
        let mut metrics = Vec::with_capacity(drafts.len());
        for (i, mut draft) in drafts.into_iter().enumerate() {
            let own_body = draft.metric.definition.clone();
            draft.metric.definition = resolved[i].take().expect("resolved");
            draft.metric.agreed = draft
                .metric
                .definition
                .clone()
                .with_filter(&draft.metric.filter);
            draft.metric.constrained = draft.metric.agreed.filtered_columns();
            self.check_scale(&draft, &own_body, &units);
            if !draft.hidden {
                metrics.push(draft.metric);
            }
        }
        if !self.issues.is_empty() {
            return Err(RegistryError {
                issues: self.issues,
            });
        }
        Ok(Registry::from_metrics(metrics))
    }

    /// The body is the complete formula, so its constant factor must agree
    /// with the unit: the factor of its own body (`own_body`, with its
    /// `metric('…')` references unread), times the scale each metric it
    /// reads has by its unit (a percent's 100), over those it divides by.
    fn check_scale(
        &mut self,
        draft: &Draft,
        own_body: &Expr,
        units: &HashMap<String, Option<Unit>>,
    ) {
        let Some(unit) = draft.metric.unit else {
            return;
        };
        let is_ratio =
            |e: &Expr| matches!(e, Expr::Product(p) if p.factors.iter().any(|f| f.inverse));
        if draft.ratio_form || !is_ratio(&draft.metric.definition) {
            return;
        }
        let unit_scale = |unit: Option<Unit>| match unit {
            Some(Unit::Percent) => Number::int(100),
            Some(Unit::PerMille) => Number::int(1000),
            _ => Number::ONE,
        };
        let (mut scale, numerator, denominator) = own_body.as_ratio();
        let mut composed = false;
        // Each factor's scale by the units of the metrics in it: one
        // metric's, or the one scale all the terms of a sum share
        // (`metric('a_pct') + metric('b_pct')` is in percent once).
        let factor_scale = |e: &Expr| -> Option<Option<Number>> {
            let mut scales = Vec::new();
            e.walk(&mut |inner| {
                if let Expr::MetricRef(name) = inner {
                    scales.push(unit_scale(units.get(name).copied().flatten()));
                }
            });
            match scales.split_first() {
                None => Some(None),
                Some((first, rest)) if rest.iter().all(|s| s == first) => Some(Some(first.clone())),
                // Terms in different units: no one scale to judge by.
                Some(_) => None,
            }
        };
        for (part, divides) in [(&numerator, false), (&denominator, true)] {
            let factors: Vec<&Expr> = match part {
                Expr::Product(p) => p.factors.iter().map(|f| &f.expr).collect(),
                other => vec![other],
            };
            for factor in factors {
                let Some(found) = factor_scale(factor) else {
                    return;
                };
                let Some(found) = found else { continue };
                composed = true;
                let found = if divides { found.recip() } else { Some(found) };
                if let Some(scaled) = found.and_then(|f| scale.mul(&f)) {
                    scale = scaled;
                }
            }
        }
        if !composed {
            scale = draft.metric.definition.as_ratio().0;
        }
        let wanted = match unit {
            Unit::Fraction => Number::ONE,
            Unit::Percent => Number::int(100),
            Unit::PerMille => Number::int(1000),
            _ => return,
        };
        if scale != wanted {
            let node = draft
                .unit_node
                .clone()
                .unwrap_or_else(|| draft.name_node.clone());
            let help = match unit {
                Unit::Fraction => {
                    format!("the body multiplies by {scale}; drop the factor or change the unit")
                }
                _ => format!(
                    "a {} body includes its factor: write `{wanted} * …`",
                    unit.name()
                ),
            };
            self.issue(
                draft.doc,
                Some(&node),
                format!(
                    "`{}` has unit {} but its body computes ×{scale}",
                    draft.metric.name,
                    unit.name()
                ),
                "contradicts the body",
                Some(help),
            );
        }
    }
}

fn collect_references(expr: &Expr, node: &Node, out: &mut Vec<(String, Node)>) {
    expr.walk(&mut |e| {
        if let Expr::MetricRef(name) = e {
            out.push((name.clone(), node.clone()));
        }
    });
}

/// Resolves draft `i`'s definition, inlining references; `Err` holds a cycle.
fn resolve(
    i: usize,
    drafts: &[Draft],
    index: &HashMap<String, usize>,
    resolved: &mut Vec<Option<Expr>>,
    state: &mut Vec<u8>,
    path: &mut Vec<usize>,
) -> Result<(), Vec<usize>> {
    match state[i] {
        2 => return Ok(()),
        1 => {
            let start = path.iter().position(|&j| j == i).unwrap_or(0);
            return Err(path[start..].to_vec());
        }
        _ => {}
    }
    state[i] = 1;
    path.push(i);
    for (reference, _) in &drafts[i].references {
        if let Some(&j) = index.get(reference) {
            resolve(j, drafts, index, resolved, state, path)?;
        }
    }
    path.pop();
    let inlined = drafts[i]
        .metric
        .definition
        .clone()
        .rewrite(&mut |e| match e {
            Expr::MetricRef(name) => {
                let j = index[&name];
                let body = resolved[j].clone().expect("dependency resolved first");
                body.with_filter(&drafts[j].metric.filter)
            }
            other => other,
        });
    resolved[i] = Some(inlined);
    state[i] = 2;
    Ok(())
}
