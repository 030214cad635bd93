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

/// Copies the folder `from` (a bundled fixture) to `to`, recursively.
pub fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Every finding and metric site of a check, printed, in order: what runs
/// that must agree (with and without a memo or cache) are compared on.
pub fn printed(result: &metriclint::check::CheckResult) -> Vec<String> {
    let mut printed: Vec<String> = result
        .findings
        .iter()
        .map(|f| {
            format!(
                "{} {}:{}:{} {} {:?} {:?}",
                f.code,
                f.path,
                f.range.start.line,
                f.range.start.column,
                f.message,
                f.related,
                f.fix
            )
        })
        .collect();
    printed.extend(result.sites.iter().map(|s| {
        format!(
            "site {}:{}:{} {} = {} {:?}",
            s.path, s.range.start.line, s.range.start.column, s.output_name, s.form, s.verdict
        )
    }));
    printed.push(format!(
        "files {} skipped {} suppressed {}",
        result.files, result.skipped_statements, result.suppressed
    ));
    printed
}

/// Changes the repository at `root` step by step as a user would between
/// runs, calling `same(step)` after each: a report edited (a drift added),
/// a report added, renamed and deleted, an original report deleted.
pub fn edit_add_rename_delete(root: &std::path::Path, same: &mut dyn FnMut(&str)) {
    let report = walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
        .find(|e| e.path().extension().is_some_and(|x| x == "sql"))
        .unwrap()
        .into_path();
    let mut text = std::fs::read_to_string(&report).unwrap_or_default();
    text.push_str(
        "\n;\nselect campaign_id, avg(clicks / impressions) as ctr from events group by 1\n",
    );
    std::fs::write(&report, text).unwrap();
    same("a report edited");
    same("nothing changed after the edit");

    // A report added, computing what the others compute another way.
    std::fs::write(
        root.join("added.sql"),
        "select campaign_id, sum(clicks) * 100 / sum(impressions) as ctr from events group by 1\n",
    )
    .unwrap();
    same("a report added");

    std::fs::rename(root.join("added.sql"), root.join("renamed.sql")).unwrap();
    same("a report renamed");
    std::fs::remove_file(root.join("renamed.sql")).unwrap();
    same("a report deleted");
    same("back to a set of files checked before");
    std::fs::remove_file(&report).unwrap();
    same("an original report deleted");
}
