//! What the integration tests share: a scratch repository, and the JSON
//! output of `check` over it as a new user runs it (no config, no registry).
// Each test crate uses the part it needs.
#![allow(dead_code)]

use assert_cmd::Command;
use serde_json::Value;

/// A scratch repository of `files` (path, text).
pub fn repository(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let to = dir.path().join(path);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::write(to, text).unwrap();
    }
    dir
}

/// The JSON document `check --isolated --format json` prints for `dir`.
pub fn check_json(dir: &tempfile::TempDir) -> Value {
    let output = Command::cargo_bin("metriclint")
        .unwrap()
        .args(["check", dir.path().to_str().unwrap(), "--isolated"])
        .args(["--format", "json"])
        .output()
        .unwrap();
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The findings (as JSON objects) of [`check_json`] over a scratch
/// repository of one file, `report.sql`, holding `sql`.
pub fn report_findings(sql: &str) -> Vec<Value> {
    let dir = repository(&[("report.sql", sql)]);
    check_json(&dir)["findings"].as_array().unwrap().clone()
}
