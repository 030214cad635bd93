//! Cross-report drift: the same unregistered metric computed several ways.
//!
//! Runs after the parallel per-file stage, on the metric sites that have no
//! registry entry: sites are grouped by name (qualifiers stripped), then by
//! canonical form, and the majority rule of ML010 decides who is flagged.

use std::collections::HashMap;

use crate::canon::Expr;
use crate::finding::Finding;
use crate::judge::{explain, Counterpart};
use crate::registry::Registry;
use crate::rules::{InconsistentComputation, OtherVariant};
use crate::source::Range;

/// A place where a report computes a metric, as the cross-report views
/// (ML010, the inventory, `explain`) need it.
#[derive(Clone, Debug)]
pub struct MetricSite {
    pub path: String,
    pub output_name: String,
    pub range: Range,
    /// The computation without the report's slice, renamed columns followed
    /// to their sources.
    pub form: Expr,
    /// The same, with renamed columns read by the names the report reads.
    pub read_form: Expr,
    /// Base relations the site reads.
    pub sources: Vec<String>,
    /// Row conditions every aggregate of the site sees (its WHERE, through lineage).
    pub slice: Vec<Expr>,
    /// The registered metric the name stands for, if any, and whether it was
    /// named by a synonym.
    pub registered: Option<(String, bool)>,
    /// For a registered metric: the finding judging gave, as (code, message).
    pub verdict: Option<(&'static str, String)>,
    /// The template tag whose output is the whole site, when none of it is
    /// written in the file (a macro call's or an expression's output).
    pub generated_by: Option<String>,
    /// The dbt project the site's file belongs to: reports are compared with
    /// the other reports of their own project only.
    pub project: Option<std::path::PathBuf>,
}

/// The conditions every aggregate of `computation` shares.
pub fn common_conditions(computation: &Expr) -> Vec<Expr> {
    let mut common: Option<Vec<Expr>> = None;
    computation.walk(&mut |e| {
        if let Expr::Aggregate(agg) = e {
            let here: Vec<Expr> = agg.scope.iter().cloned().collect();
            common = Some(match common.take() {
                None => here,
                Some(previous) => previous.into_iter().filter(|c| here.contains(c)).collect(),
            });
        }
    });
    common.unwrap_or_default()
}

/// Whether a computation is a metric: it aggregates, and is not a date or id
/// picked from a group (`MAX(event_date)`, `MIN(campaign_id)`).
pub fn is_metric(form: &Expr) -> bool {
    form.has_aggregate() && !form.is_uncertain() && !is_dimension_pick(form)
}

fn is_dimension_pick(form: &Expr) -> bool {
    match form {
        Expr::Aggregate(_) => is_pick(form),
        // `coalesce(max(value) filter (where key = 'utm_source'), split_part(url, …))`:
        // an attribute pieced together from picks, not a measure.
        Expr::Function { .. } | Expr::Cast { .. } => {
            let (mut picks, mut measures) = (0, 0);
            form.walk(&mut |e| {
                if matches!(e, Expr::Aggregate(_)) {
                    if is_pick(e) {
                        picks += 1;
                    } else {
                        measures += 1;
                    }
                }
            });
            picks > 0 && measures == 0
        }
        _ => false,
    }
}

/// `min`/`max` of a column that names a dimension (`max(event_date)`), or of
/// any column under a condition: the pivot of key/value rows
/// (`max(case when key = 'utm_source' then value end)`).
fn is_pick(form: &Expr) -> bool {
    let Expr::Aggregate(agg) = form else {
        return false;
    };
    let Expr::Column(column) = &agg.arg else {
        return false;
    };
    let pick = matches!(
        agg.func,
        crate::canon::AggFunc::Min | crate::canon::AggFunc::Max
    );
    let words: Vec<&str> = column.split('_').collect();
    let dimension_word = |w: &&str| {
        matches!(
            *w,
            "date"
                | "day"
                | "week"
                | "month"
                | "year"
                | "time"
                | "ts"
                | "timestamp"
                | "at"
                | "id"
                | "key"
                | "name"
        )
    };
    pick && (!agg.filter.is_empty() || words.last().is_some_and(dimension_word))
}

/// The variants among sites of one name, largest first (ties in order of
/// first appearance), each shown by its first site's `read_form`. Two sites
/// are one variant when they compute the same from the same source columns
/// (`form`), or the same from the columns as the reports read them
/// (`read_form`: two connectors' staging models both define `spend`).
fn variants_of<'s>(sites: &[&'s MetricSite]) -> Vec<(&'s Expr, Vec<&'s MetricSite>)> {
    let mut parent: Vec<usize> = (0..sites.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut by_form: HashMap<&Expr, usize> = HashMap::new();
    let mut by_read_form: HashMap<&Expr, usize> = HashMap::new();
    for (i, site) in sites.iter().enumerate() {
        for first in [
            *by_form.entry(&site.form).or_insert(i),
            *by_read_form.entry(&site.read_form).or_insert(i),
        ] {
            let (a, b) = (root(&mut parent, first), root(&mut parent, i));
            // The earlier site stays the root, so variants keep their order.
            parent[a.max(b)] = a.min(b);
        }
    }
    let mut variants: Vec<(&Expr, Vec<&MetricSite>)> = Vec::new();
    let mut index_of_root: HashMap<usize, usize> = HashMap::new();
    for (i, site) in sites.iter().enumerate() {
        let r = root(&mut parent, i);
        match index_of_root.get(&r) {
            Some(&v) => variants[v].1.push(site),
            None => {
                index_of_root.insert(r, variants.len());
                variants.push((&sites[r].read_form, vec![site]));
            }
        }
    }
    variants.sort_by_key(|(_, members)| std::cmp::Reverse(members.len()));
    variants
}

/// ML010 findings for the drift sites of a whole run.
pub fn inconsistent_computations(sites: &[MetricSite], registry: &Registry) -> Vec<Finding> {
    let mut groups: HashMap<(Option<&std::path::Path>, String), Vec<&MetricSite>> = HashMap::new();
    for site in sites.iter().filter(|s| s.registered.is_none()) {
        let name = registry.vocabulary().group_name(&site.output_name);
        groups
            .entry((site.project.as_deref(), name))
            .or_default()
            .push(site);
    }
    let mut findings = Vec::new();
    for sites in groups.values() {
        let variants = variants_of(sites);
        if variants.len() < 2 {
            continue;
        }
        let total = sites.len();
        let majority = variants[0].1.len() * 2 > total;
        for (index, (form, members)) in variants.iter().enumerate() {
            let form = *form;
            if majority && index == 0 {
                continue;
            }
            // Compare with the majority, or with the largest other variant.
            let other_index = if index == 0 { 1 } else { 0 };
            let (other_form, other_members) = &variants[other_index];
            let counterpart = Counterpart {
                subject: if other_members.len() == 1 {
                    "1 other site".to_string()
                } else {
                    format!("{} other sites", other_members.len())
                },
                plural: other_members.len() > 1,
            };
            let differences: Vec<String> = explain(form, other_form, None, registry, &counterpart)
                .into_iter()
                .map(|d| d.text)
                .collect();
            let anchor = other_members[0];
            for site in members {
                let mut finding = InconsistentComputation::finding(
                    &site.path,
                    site.range,
                    &site.output_name,
                    form,
                    OtherVariant {
                        path: &anchor.path,
                        range: anchor.range,
                        form: other_form,
                        sites: other_members.len(),
                        majority,
                    },
                    &differences,
                );
                if let Some(tag) = &site.generated_by {
                    finding.note_generated_by(tag);
                }
                findings.push(finding);
            }
        }
    }
    findings
}
