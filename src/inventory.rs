//! The metric inventory: every metric the checked reports compute, with its
//! registry status and its variants. Drives `metriclint metrics` and
//! `metriclint explain`.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde::Serialize;

use crate::canon::Expr;
use crate::names::Vocabulary;

/// Where a metric stands with the registry.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Status {
    Registered,
    Unregistered,
}

impl Status {
    pub fn describe(&self) -> String {
        match self {
            Status::Registered => "registered".to_string(),
            Status::Unregistered => "unregistered".to_string(),
        }
    }
}

/// One site of a variant.
#[derive(Clone, Debug, Serialize)]
pub struct SiteRef {
    pub path: String,
    pub line: u32,
    pub column: u32,
    /// The output name as written.
    pub name: String,
    /// Where the metric is defined: `sql` (a report) or `lookml` (a
    /// LookML measure).
    pub layer: &'static str,
}

/// One way a metric is computed, with every site that computes it so.
#[derive(Clone, Debug, Serialize)]
pub struct Variant {
    /// The canonical form, printed.
    pub form: String,
    /// For a registered metric: whether it is the agreed computation
    /// (`None` when it cannot be compared for sure, or nothing is agreed).
    pub matches_agreement: Option<bool>,
    /// For a registered metric that differs: what judging said (code, message).
    pub finding: Option<(String, String)>,
    /// The rows every site of the variant keeps (their WHERE's conditions,
    /// printed and joined by `and`), where all its sites keep the same
    /// ones: what sets two variants of one printed form apart.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slice: Option<String>,
    /// Whether every site keeps the same rows (`slice`, or all of them).
    #[serde(skip)]
    pub one_slice: bool,
    pub sites: Vec<SiteRef>,
}

/// One metric name found in the reports.
#[derive(Clone, Debug, Serialize)]
pub struct Entry {
    pub name: String,
    #[serde(flatten)]
    pub status: Status,
    /// For a registered metric: the synonyms some of its sites are named
    /// by (counted among its sites, not as metrics of their own).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub also_named: Vec<String>,
    pub sites: usize,
    /// How many of its sites each layer holds (`sql`, `lookml`).
    pub layers: std::collections::BTreeMap<&'static str, usize>,
    pub files: Vec<String>,
    pub variants: Vec<Variant>,
}

impl Entry {
    /// Its status, with the synonyms its sites also use: `registered
    /// (also click_through_rate)`.
    pub fn status_text(&self) -> String {
        if self.also_named.is_empty() {
            self.status.describe()
        } else {
            format!(
                "{} (also {})",
                self.status.describe(),
                self.also_named.join(", ")
            )
        }
    }

    /// Where its sites are, by layer: `SQL 12, LookML 2`.
    pub fn layers_text(&self) -> String {
        in_order(&self.layers)
            .iter()
            .map(|(layer, n)| format!("{} {n}", layer_name(layer)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Computed one way, and (when registered) the agreed way.
    pub fn is_consistent(&self) -> bool {
        self.variants.len() == 1 && self.variants[0].matches_agreement != Some(false)
    }
}

/// Every metric of a run, by name; consistent ones and drifting ones alike.
pub fn build(sites: &crate::drift::Sites, vocabulary: &Vocabulary) -> Vec<Entry> {
    build_for(sites, vocabulary, &|_| true)
}

/// The name a site is listed under: its registered metric's, or the name
/// its unregistered figures are grouped by.
pub fn listed_name(site: &crate::drift::MetricSite, vocabulary: &Vocabulary) -> String {
    match &site.registered {
        Some((metric, _)) => metric.to_string(),
        None => vocabulary.group_name(
            &site.output_name,
            crate::drift::sums_across_slices(&site.form),
        ),
    }
}

/// [`build`], for the metrics whose listed name `wanted` accepts only (a
/// language server shows one document's metrics).
pub fn build_for(
    sites: &crate::drift::Sites,
    vocabulary: &Vocabulary,
    wanted: &dyn Fn(&str) -> bool,
) -> Vec<Entry> {
    let mut entries: Vec<Entry> = Vec::new();
    // Where each entry, file and variant is, by key: a run of 20,000
    // reports puts thousands of files and forms under one metric, and
    // scanning them for each site was quadratic.
    let mut entry_at: HashMap<(String, Status), usize> = HashMap::new();
    let mut files_of: Vec<HashSet<Arc<str>>> = Vec::new();
    let mut variant_at: Vec<HashMap<(String, Option<bool>), usize>> = Vec::new();
    // Sites share their names, forms and slices (see
    // `drift::SiteInterner`): each is named and printed once, by where it
    // is held, not once per site (a server asks for one document's metrics
    // among 20,000 reports' on every edit).
    let mut names: HashMap<(*const str, *const Expr), Option<String>> = HashMap::new();
    let mut forms: HashMap<*const Expr, String> = HashMap::new();
    let mut slices: HashMap<*const [Expr], Option<String>> = HashMap::new();
    for site in sites {
        // A synonym's site is a site of its metric: one entry, one count.
        let name = match &site.registered {
            Some((metric, _)) => Some(metric.to_string()),
            None => names
                .entry((Arc::as_ptr(&site.output_name), Arc::as_ptr(&site.form)))
                .or_insert_with(|| {
                    crate::drift::is_metric(&site.form).then(|| listed_name(site, vocabulary))
                })
                .clone(),
        };
        let Some(name) = name.filter(|name| wanted(name)) else {
            continue;
        };
        let status = match &site.registered {
            Some(_) => Status::Registered,
            None => Status::Unregistered,
        };
        let index = *entry_at
            .entry((name.clone(), status.clone()))
            .or_insert_with(|| {
                entries.push(Entry {
                    name,
                    status,
                    also_named: Vec::new(),
                    sites: 0,
                    layers: Default::default(),
                    files: Vec::new(),
                    variants: Vec::new(),
                });
                files_of.push(HashSet::new());
                variant_at.push(HashMap::new());
                entries.len() - 1
            });
        let entry = &mut entries[index];
        entry.sites += 1;
        if matches!(site.registered, Some((_, true))) {
            let named = site.output_name.to_lowercase();
            if !entry.also_named.contains(&named) {
                entry.also_named.push(named);
            }
        }
        if files_of[index].insert(site.path.clone()) {
            entry.files.push(site.path.to_string());
        }
        let form = forms
            .entry(Arc::as_ptr(&site.form))
            .or_insert_with(|| site.form.to_string())
            .clone();
        let matches_agreement = match (&site.registered, site.verdict.as_deref()) {
            (None, _) => None,
            (Some(_), Some((code, _))) if *code != "ML011" => Some(false),
            (Some(_), _) if is_uncertain(&site.form) || site.left_to_reports => None,
            (Some(_), _) => Some(true),
        };
        let layer = layer_of(&site.path);
        *entry.layers.entry(layer).or_default() += 1;
        let site_ref = SiteRef {
            path: site.path.to_string(),
            line: site.range.start.line,
            column: site.range.start.column,
            name: site.output_name.to_string(),
            layer,
        };
        // A site that differs only in its filter has the same form without
        // its slice; the verdict keeps it a variant of its own.
        let slice = slices
            .entry(Arc::as_ptr(&site.slice))
            .or_insert_with(|| {
                (!site.slice.is_empty()).then(|| {
                    site.slice
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(" and ")
                })
            })
            .clone();
        let at = variant_at[index]
            .get(&(form.clone(), matches_agreement))
            .copied();
        match at.map(|at| &mut entry.variants[at]) {
            Some(variant) => {
                if variant.slice != slice {
                    variant.slice = None;
                    variant.one_slice = false;
                }
                variant.sites.push(site_ref);
            }
            None => {
                variant_at[index].insert((form.clone(), matches_agreement), entry.variants.len());
                entry.variants.push(Variant {
                    form,
                    matches_agreement,
                    finding: site
                        .verdict
                        .as_deref()
                        .filter(|(code, _)| *code != "ML011")
                        .map(|(code, message)| (code.to_string(), message.clone())),
                    slice,
                    one_slice: true,
                    sites: vec![site_ref],
                });
            }
        }
    }
    for entry in &mut entries {
        entry
            .variants
            .sort_by_key(|v| std::cmp::Reverse(v.sites.len()));
    }
    entries.sort_by(|a, b| {
        a.name
            .cmp(&b.name)
            .then(a.status.describe().cmp(&b.status.describe()))
    });
    entries
}

/// Sites by layer, SQL first (most sites are reports).
pub fn in_order<'l>(layers: &std::collections::BTreeMap<&'l str, usize>) -> Vec<(&'l str, usize)> {
    let mut layers: Vec<(&str, usize)> = layers.iter().map(|(l, n)| (*l, *n)).collect();
    layers.sort_by_key(|(layer, _)| *layer != "sql");
    layers
}

/// The layer a site's file defines metrics in: `lookml` for a LookML
/// view, `dbt` for a dbt project's metric YAML, `sql` for a report.
pub fn layer_of(path: &str) -> &'static str {
    let path = std::path::Path::new(path);
    if crate::lookml::is_lookml(path) {
        "lookml"
    } else if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("yml") || e.eq_ignore_ascii_case("yaml"))
    {
        "dbt"
    } else {
        "sql"
    }
}

/// A layer as people call it: `SQL`, `LookML`, `dbt`.
pub fn layer_name(layer: &str) -> &str {
    match layer {
        "sql" => "SQL",
        "lookml" => "LookML",
        other => other,
    }
}

/// Whether the entries' sites are in more than one layer (SQL and LookML):
/// then the inventory says which layer each metric's sites are in.
pub fn spans_layers<'e>(entries: impl IntoIterator<Item = &'e Entry>) -> bool {
    let mut seen: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
    for entry in entries {
        seen.extend(entry.layers.keys());
    }
    seen.len() > 1
}

fn is_uncertain(form: &Expr) -> bool {
    form.is_uncertain()
}
