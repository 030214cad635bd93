//! Baselines: adopt metriclint on a repo that already drifts, and fail CI only
//! on new drift.
//!
//! A baseline records each finding by path, code, metric and a fingerprint of
//! its content (the canonical form found, or the message), never by line, so
//! unrelated edits above a site do not invalidate it. The same finding twice
//! in a file is recorded twice.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::finding::Finding;
use crate::report::machine::fingerprint;

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Entry {
    pub path: String,
    pub code: String,
    pub metric: Option<String>,
    pub fingerprint: String,
}

#[derive(Serialize, Deserialize, Debug, Default)]
pub struct Baseline {
    pub version: u32,
    pub findings: Vec<Entry>,
}

fn entry(f: &Finding) -> Entry {
    let content = f.found.as_deref().unwrap_or(&f.message);
    Entry {
        path: f.path.clone(),
        code: f.code.to_string(),
        metric: f.metric.clone(),
        fingerprint: fingerprint(&[&f.path, f.code, f.metric.as_deref().unwrap_or(""), content]),
    }
}

impl Baseline {
    pub fn of(findings: &[Finding]) -> Baseline {
        Baseline {
            version: 1,
            findings: findings.iter().map(entry).collect(),
        }
    }

    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let mut text = serde_json::to_string_pretty(self).expect("baseline serializes");
        text.push('\n');
        std::fs::write(path, text)
    }

    pub fn read(path: &Path) -> Result<Baseline, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read baseline {}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| {
            format!(
                "baseline {} is not a metriclint baseline: {e}",
                path.display()
            )
        })
    }

    /// The findings not in the baseline, and how many were.
    pub fn filter(&self, findings: Vec<Finding>) -> (Vec<Finding>, usize) {
        let mut budget: HashMap<&Entry, usize> = HashMap::new();
        for e in &self.findings {
            *budget.entry(e).or_default() += 1;
        }
        let mut known = 0;
        let mut new = Vec::new();
        for f in findings {
            let e = entry(&f);
            match budget.get_mut(&e) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    known += 1;
                }
                _ => new.push(f),
            }
        }
        (new, known)
    }
}
