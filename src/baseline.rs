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

/// A finding's path relative to the baseline's folder, so the baseline works
/// from any working directory.
fn relative_path(path: &str, base: &Path) -> String {
    let absolute = std::fs::canonicalize(path).ok();
    // A baseline's folder that does not exist yet (`--write-baseline
    // ci/baseline.json` makes it) is where it will be.
    let base = std::fs::canonicalize(base).ok().or_else(|| {
        let here = std::fs::canonicalize(std::env::current_dir().ok()?).ok()?;
        Some(here.join(base))
    });
    let (Some(absolute), Some(base)) = (absolute, base) else {
        return path.to_string();
    };
    // Up from the baseline's folder to the nearest folder both are under,
    // then down to the file (`../reports/a.sql` for a baseline in `ci/`).
    let (to, from): (Vec<_>, Vec<_>) =
        (absolute.components().collect(), base.components().collect());
    let common = to.iter().zip(&from).take_while(|(a, b)| a == b).count();
    if common == 0 {
        return path.to_string();
    }
    let mut parts: Vec<String> = vec!["..".to_string(); from.len() - common];
    parts.extend(
        to[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}

fn entry(f: &Finding, base: &Path) -> Entry {
    let content = f.found.as_deref().unwrap_or(&f.message);
    let path = relative_path(&f.path, base);
    Entry {
        fingerprint: fingerprint(&[&path, f.code, f.metric.as_deref().unwrap_or(""), content]),
        path,
        code: f.code.to_string(),
        metric: f.metric.clone(),
    }
}

/// The folder a baseline file's paths are relative to.
fn folder(file: &Path) -> &Path {
    file.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

impl Baseline {
    /// The baseline of `findings`, to be written to `file`.
    pub fn of(findings: &[Finding], file: &Path) -> Baseline {
        Baseline {
            version: 1,
            findings: findings.iter().map(|f| entry(f, folder(file))).collect(),
        }
    }

    /// Writes the baseline to `path`, making its folder if need be.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let mut text = serde_json::to_string_pretty(self).expect("baseline serializes");
        text.push('\n');
        if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(folder)?;
        }
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

    /// The findings not in the baseline read from `file`, and how many were.
    pub fn filter(&self, findings: Vec<Finding>, file: &Path) -> (Vec<Finding>, usize) {
        let mut budget: HashMap<&Entry, usize> = HashMap::new();
        for e in &self.findings {
            *budget.entry(e).or_default() += 1;
        }
        let mut known = 0;
        let mut new = Vec::new();
        for f in findings {
            let e = entry(&f, folder(file));
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
