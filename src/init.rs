//! `metriclint init`: a first registry, written from what the reports compute.
//!
//! One entry per metric found: the variant most sites use becomes the
//! definition (its canonical form, printed back as SQL), the source is set
//! when every site of that variant reads the same relation, and a comment
//! above the entry lists the other variants, so the team can decide.

use std::fmt::Write;

use crate::drift::MetricSite;
use crate::inventory::{self, Status};
use crate::registry::Registry;

/// A YAML single-quoted scalar.
fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// A registry name from an output name: lowercase snake_case.
fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for c in name.trim().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_matches('_').to_string();
    match out.chars().next() {
        Some(c) if c.is_ascii_lowercase() => out,
        _ => format!("m_{out}"),
    }
}

/// The text of a starter registry for `sites`.
pub fn starter_registry(sites: &[MetricSite], registry: &Registry, files: usize) -> String {
    let entries = inventory::build(sites, registry.vocabulary());
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Metric registry written by `metriclint init` from {files} report files."
    );
    let _ = writeln!(
        out,
        "# Each definition is the computation most sites use; the comments list the"
    );
    let _ = writeln!(
        out,
        "# other variants found. Agree on each one, add descriptions, units, owners and"
    );
    let _ = writeln!(
        out,
        "# filters, then commit this file and pass it with --registry."
    );
    let _ = writeln!(out, "version: 1");
    let _ = writeln!(out, "metrics:");
    let mut written = Vec::new();
    for entry in &entries {
        // A synonym's sites belong to the metric it names.
        if let Status::SynonymOf { .. } = entry.status {
            continue;
        }
        let name = snake_case(&entry.name);
        if written.contains(&name) {
            continue;
        }
        written.push(name.clone());
        // Variants by computation alone (the agreement is being decided anew):
        // the most sites first; on a tie, the one the current registry agrees with.
        let mut variants: Vec<inventory::Variant> = Vec::new();
        for variant in &entry.variants {
            match variants.iter_mut().find(|v| v.form == variant.form) {
                Some(v) => {
                    v.sites.extend(variant.sites.iter().cloned());
                    v.matches_agreement = v.matches_agreement.or(variant.matches_agreement);
                }
                None => variants.push(variant.clone()),
            }
        }
        variants.sort_by_key(|v| {
            (
                std::cmp::Reverse(v.sites.len()),
                v.matches_agreement != Some(true),
            )
        });
        let chosen = &variants[0];
        let _ = writeln!(out);
        for other in &variants[1..] {
            let site = &other.sites[0];
            let _ = writeln!(
                out,
                "  # also computed as {}: {} site{}, e.g. {}:{}",
                other.form,
                other.sites.len(),
                if other.sites.len() == 1 { "" } else { "s" },
                site.path,
                site.line
            );
        }
        let _ = writeln!(out, "  - name: {name}");
        if let Some(metric) = registry.get(&entry.name) {
            if let Some(d) = &metric.description {
                let _ = writeln!(out, "    description: {}", quoted(d.trim()));
            }
            if !metric.synonyms.is_empty() {
                let list: Vec<String> = metric.synonyms.iter().map(|s| quoted(s)).collect();
                let _ = writeln!(out, "    synonyms: [{}]", list.join(", "));
            }
        }
        let shown: Vec<String> = chosen
            .sites
            .iter()
            .map(|s| s.name.to_lowercase())
            .filter(|n| *n != name)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        if !shown.is_empty() {
            let _ = writeln!(out, "    # named in the reports: {}", shown.join(", "));
        }
        let chosen_sites: Vec<&MetricSite> = sites
            .iter()
            .filter(|s| {
                chosen.sites.iter().any(|c| {
                    c.path == s.path
                        && c.line == s.range.start.line
                        && c.column == s.range.start.column
                })
            })
            .collect();
        let sources: std::collections::BTreeSet<&[String]> =
            chosen_sites.iter().map(|s| s.sources.as_slice()).collect();
        if let [[relation]] = sources.into_iter().collect::<Vec<_>>().as_slice() {
            let _ = writeln!(out, "    source: {relation}");
        }
        // Conditions every site of the chosen variant applies become the
        // filter (one site alone says nothing about what is agreed).
        let mut filter: Option<Vec<crate::canon::Expr>> = None;
        for site in chosen_sites.iter().filter(|_| chosen_sites.len() > 1) {
            filter = Some(match filter.take() {
                None => site.slice.clone(),
                Some(previous) => previous
                    .into_iter()
                    .filter(|c| site.slice.contains(c))
                    .collect(),
            });
        }
        let filter: Vec<String> = filter
            .unwrap_or_default()
            .iter()
            .map(|c| quoted(&c.to_string()))
            .collect();
        if !filter.is_empty() {
            let _ = writeln!(out, "    filter: [{}]", filter.join(", "));
        }
        let _ = writeln!(out, "    sql: {}", quoted(&chosen.form));
    }
    out
}

/// A registry in the native format with the definitions of `registry` (read
/// from dbt Semantic Layer YAML, say): what `init --from-dbt` writes.
pub fn native_registry(registry: &Registry, from: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Metric registry written by `metriclint init --from-dbt` from {from}."
    );
    let _ = writeln!(
        out,
        "# Definitions are MetricFlow's, flattened to SQL; edit and commit."
    );
    let _ = writeln!(out, "version: 1");
    let _ = writeln!(out, "metrics:");
    for metric in registry.metrics() {
        let _ = writeln!(out);
        if metric.definition.is_uncertain() {
            let _ = writeln!(
                out,
                "  # {}: {}, not comparable in SQL; left out",
                metric.name, metric.body_text
            );
            continue;
        }
        let _ = writeln!(out, "  - name: {}", metric.name);
        if let Some(label) = &metric.label {
            let _ = writeln!(out, "    label: {}", quoted(label));
        }
        if let Some(d) = &metric.description {
            let _ = writeln!(out, "    description: {}", quoted(d.trim()));
        }
        if !metric.source.is_empty() {
            let _ = writeln!(out, "    source: {}", metric.source.join(", "));
        }
        if !metric.filter.is_empty() {
            let list: Vec<String> = metric
                .filter
                .iter()
                .map(|f| quoted(&f.to_string()))
                .collect();
            let _ = writeln!(out, "    filter: [{}]", list.join(", "));
        }
        let _ = writeln!(out, "    sql: {}", quoted(&metric.definition.to_string()));
    }
    out
}
