//! A process that checks again and again (the language server, `check
//! --watch`) reuses what earlier runs found in files that did not change.
//! Its results must be exactly a fresh run's: over copies of the bundled
//! fixtures, with files edited, added, deleted and renamed between runs.

use std::path::Path;
use std::sync::Arc;

use metriclint::check::{CheckOptions, Memo};
use metriclint::registry::load_builtin;

/// Every finding and metric site of a run, printed, in order.
fn outcome(
    dir: &Path,
    memo: Option<&Arc<Memo>>,
    registry: &metriclint::registry::Registry,
) -> Vec<String> {
    let options = CheckOptions {
        paths: vec![dir.to_path_buf()],
        inventory: true,
        memo: memo.cloned(),
        ..Default::default()
    };
    let result = metriclint::check::run(&options, registry).unwrap();
    let mut printed: Vec<String> = result
        .findings
        .iter()
        .map(|f| {
            format!(
                "{} {}:{}:{} {}",
                f.code, f.path, f.range.start.line, f.range.start.column, f.message
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

fn copy_tree(from: &Path, to: &Path) {
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

#[test]
fn remembered_runs_equal_fresh_runs_through_edits_adds_deletes_and_renames() {
    let registry = load_builtin("programmatic").unwrap();
    for fixture in [
        "fixtures/adtech",
        "fixtures/broken",
        "fixtures/lookml",
        "fixtures/drift",
    ] {
        let dir = tempfile::tempdir().unwrap();
        copy_tree(Path::new(fixture), dir.path());
        let root = dir.path();
        let memo = Arc::new(Memo::default());
        let same = |what: &str| {
            assert_eq!(
                outcome(root, Some(&memo), &registry),
                outcome(root, None, &registry),
                "{fixture}: {what}"
            );
        };
        same("first run");
        same("nothing changed");
        let recalled = memo.recalled();
        assert!(recalled > 0, "{fixture}: nothing was reused");

        // An edit: a drift added to one report.
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

        // A report added, computing what the others compute another way.
        std::fs::write(
            root.join("added.sql"),
            "select campaign_id, sum(clicks) * 100 / sum(impressions) as ctr from events group by 1\n",
        )
        .unwrap();
        same("a report added");

        // A report renamed, then deleted.
        std::fs::rename(root.join("added.sql"), root.join("renamed.sql")).unwrap();
        same("a report renamed");
        std::fs::remove_file(root.join("renamed.sql")).unwrap();
        same("a report deleted");
        std::fs::remove_file(&report).unwrap();
        same("an original report deleted");
    }
}

/// Another registry is other settings: nothing kept under the first is
/// reused under the second.
#[test]
fn what_was_kept_under_other_settings_is_not_reused() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(Path::new("fixtures/adtech"), dir.path());
    let memo = Arc::new(Memo::default());
    let pack = load_builtin("programmatic").unwrap();
    let team = metriclint::registry::load_files(&[dir.path().join("metrics.yaml")]).unwrap();
    let _ = outcome(dir.path(), Some(&memo), &pack);
    let before = memo.recalled();
    assert_eq!(
        outcome(dir.path(), Some(&memo), &team),
        outcome(dir.path(), None, &team)
    );
    assert_eq!(memo.recalled(), before, "reused under another registry");
    // Near miss: under the same registry again, files are reused, even as
    // loaded anew (as the language server loads it for every check).
    let again = metriclint::registry::load_files(&[dir.path().join("metrics.yaml")]).unwrap();
    let _ = outcome(dir.path(), Some(&memo), &again);
    assert!(memo.recalled() > before);
}
