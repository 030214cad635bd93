//! Output of `metriclint metrics` (the inventory) and `metriclint explain`.

use std::fmt::Write;

use serde::Serialize;

use crate::inventory::Entry;
use crate::registry::Metric;

/// The output formats of `metrics --format`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum InventoryFormat {
    /// An aligned table, drifting metrics first.
    #[default]
    Human,
    /// The same data, plus each variant's canonical form and sites.
    Json,
    /// A report to paste into a pull request or a wiki page.
    Markdown,
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn headline(entries: &[Entry], files: usize) -> String {
    let drifting = entries.iter().filter(|e| !e.is_consistent()).count();
    format!(
        "{} in {}: {} consistent, {} drifting.",
        plural(entries.len(), "metric", "metrics"),
        plural(files, "file", "files"),
        entries.len() - drifting,
        drifting
    )
}

/// The inventory as an aligned table.
pub fn human(entries: &[Entry], files: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", headline(entries, files));
    let width = entries
        .iter()
        .map(|e| e.name.len())
        .max()
        .unwrap_or(6)
        .max(6);
    let status_width = entries
        .iter()
        .map(|e| e.status_text().len())
        .max()
        .unwrap_or(6)
        .max(6);
    // Which layers hold the sites, where there is more than one.
    let layered = crate::inventory::spans_layers(entries);
    let layers = |text: String| {
        if layered {
            format!("  {text}")
        } else {
            String::new()
        }
    };
    for (title, consistent) in [("DRIFTING", false), ("CONSISTENT", true)] {
        let rows: Vec<&Entry> = entries
            .iter()
            .filter(|e| e.is_consistent() == consistent)
            .collect();
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{title}");
        let _ = writeln!(
            out,
            "  {:width$}  {:status_width$}  {:>5}  {:>8}  {:>5}{}",
            "metric",
            "status",
            "sites",
            "variants",
            "files",
            layers("in".to_string())
        );
        for e in rows {
            let _ = writeln!(
                out,
                "  {:width$}  {:status_width$}  {:>5}  {:>8}  {:>5}{}",
                e.name,
                e.status_text(),
                e.sites,
                e.variants.len(),
                e.files.len(),
                layers(e.layers_text())
            );
        }
    }
    out
}

#[derive(Serialize)]
struct JsonInventory<'a> {
    version: u32,
    files: usize,
    metrics: &'a [Entry],
}

/// The inventory as JSON.
pub fn json(entries: &[Entry], files: usize) -> String {
    let doc = JsonInventory {
        version: 1,
        files,
        metrics: entries,
    };
    let mut text = serde_json::to_string_pretty(&doc).expect("inventory serializes");
    text.push('\n');
    text
}

/// The inventory as Markdown.
pub fn markdown(entries: &[Entry], files: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Metric inventory\n\n{}\n", headline(entries, files));
    let layered = crate::inventory::spans_layers(entries);
    for (title, consistent) in [("Drifting", false), ("Consistent", true)] {
        let rows: Vec<&Entry> = entries
            .iter()
            .filter(|e| e.is_consistent() == consistent)
            .collect();
        if rows.is_empty() {
            continue;
        }
        let (in_head, in_rule) = if layered { (" in |", "---|") } else { ("", "") };
        let _ = writeln!(out, "## {title}\n\n| metric | status | sites | variants | files |{in_head}\n|---|---|---:|---:|---:|{in_rule}");
        for e in &rows {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} |{}",
                e.name,
                e.status_text(),
                e.sites,
                e.variants.len(),
                e.files.len(),
                if layered {
                    format!(" {} |", e.layers_text())
                } else {
                    String::new()
                }
            );
        }
        let _ = writeln!(out);
        if !consistent {
            for e in rows {
                let _ = writeln!(out, "### `{}`\n", e.name);
                for v in &e.variants {
                    let mark = match v.matches_agreement {
                        Some(true) => " (agreed)",
                        Some(false) => " (differs from the agreement)",
                        None => "",
                    };
                    let first = &v.sites[0];
                    let _ = writeln!(
                        out,
                        "- `{}`{mark}: {}, e.g. `{}:{}`",
                        v.form,
                        plural(v.sites.len(), "site", "sites"),
                        first.path,
                        first.line
                    );
                }
                let _ = writeln!(out);
            }
        }
    }
    out
}

/// One metric's story: the agreement, then every site grouped by variant.
pub fn explain(name: &str, metric: Option<&Metric>, entries: &[&Entry]) -> String {
    let mut out = String::new();
    match metric {
        Some(m) => {
            let title = m
                .label
                .as_deref()
                .map(|l| format!(" ({l})"))
                .unwrap_or_default();
            let _ = writeln!(out, "{}{title}", m.name);
            if let Some(d) = &m.description {
                let _ = writeln!(out, "  {}", d.trim());
            }
            let _ = writeln!(out, "  definition: {}", m.body_text.trim());
            let _ = writeln!(out, "  canonical:  {}", m.definition);
            let filter = if m.filter.is_empty() {
                "none".to_string()
            } else {
                m.filter
                    .iter()
                    .map(|f| f.to_string())
                    .collect::<Vec<_>>()
                    .join(" and ")
            };
            let _ = writeln!(out, "  filter:     {filter}");
            let source = if m.source.is_empty() {
                "any".to_string()
            } else {
                m.source.join(", ")
            };
            let _ = writeln!(out, "  source:     {source}");
            let _ = writeln!(
                out,
                "  unit:       {}",
                m.unit.map(|u| u.name()).unwrap_or("not set")
            );
            let _ = writeln!(
                out,
                "  owner:      {}",
                m.owner.as_deref().unwrap_or("not set")
            );
            if !m.synonyms.is_empty() {
                let _ = writeln!(out, "  synonyms:   {}", m.synonyms.join(", "));
            }
            let _ = writeln!(out, "  agreed at:  {}", m.origin);
        }
        None => {
            let _ = writeln!(
                out,
                "{name}\n  not in the registry: the reports are compared with each other"
            );
        }
    }
    let sites: usize = entries.iter().map(|e| e.sites).sum();
    let variants: usize = entries.iter().map(|e| e.variants.len()).sum();
    if sites == 0 {
        let _ = writeln!(out, "\nNo report computes it.");
        return out;
    }
    let layered = crate::inventory::spans_layers(entries.iter().copied())
        || entries.iter().any(|e| e.layers.keys().any(|l| *l != "sql"));
    let by_layer = if layered {
        let mut layers: std::collections::BTreeMap<&str, usize> = Default::default();
        for entry in entries {
            for (layer, n) in &entry.layers {
                *layers.entry(layer).or_default() += n;
            }
        }
        let listed: Vec<String> = crate::inventory::in_order(&layers)
            .iter()
            .map(|(layer, n)| format!("{n} {}", crate::inventory::layer_name(layer)))
            .collect();
        format!(" ({})", listed.join(", "))
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "\n{}{by_layer} in the checked reports, {}:",
        plural(sites, "site", "sites"),
        plural(variants, "variant", "variants")
    );
    for entry in entries {
        if !entry.also_named.is_empty() {
            let _ = writeln!(
                out,
                "\n  (some sites name it {}, a synonym: see each site's name)",
                entry.also_named.join(", ")
            );
        }
        for v in &entry.variants {
            let (mark, note) = match (v.matches_agreement, &v.finding) {
                (Some(true), _) => ("✓", "matches the agreement".to_string()),
                (Some(false), Some((code, _))) => {
                    ("✗", format!("{code}, differs from the agreement"))
                }
                (Some(false), None) => ("✗", "differs from the agreement".to_string()),
                (None, _) if metric.is_some() => ("?", "cannot be compared for sure".to_string()),
                (None, _) => ("•", "no agreement yet".to_string()),
            };
            // Two variants that print alike differ in the rows they keep.
            let alike = entry.variants.iter().filter(|o| o.form == v.form).count() > 1;
            let rows = match (&v.slice, alike, v.one_slice) {
                (_, false, _) => String::new(),
                (Some(slice), true, _) => format!(" over rows where {slice}"),
                (None, true, true) => " over all its rows".to_string(),
                (None, true, false) => " over each report's own rows".to_string(),
            };
            let _ = writeln!(
                out,
                "\n  {mark} {}{rows}  ({note}; {})",
                v.form,
                plural(v.sites.len(), "site", "sites")
            );
            if let Some((_, message)) = &v.finding {
                let _ = writeln!(out, "      {message}");
            }
            for s in &v.sites {
                let layer = match s.layer {
                    "lookml" => "  (LookML measure)",
                    "dbt" => "  (dbt metric)",
                    _ => "",
                };
                let _ = writeln!(
                    out,
                    "      {}:{}:{}  {}{layer}",
                    s.path, s.line, s.column, s.name
                );
            }
        }
    }
    out
}
