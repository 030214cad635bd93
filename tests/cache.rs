//! The cache of per-file results kept between runs (`.metriclint_cache/`):
//! runs that read it give exactly a fresh run's results, through edits,
//! additions, deletions and renames; a cache file that is corrupt or
//! truncated is ignored; `--no-cache`, `cache-dir` and `clean` do what they
//! say; concurrent runs do not trip over each other.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use assert_cmd::Command;
use metriclint::check::{CheckOptions, Memo};
use metriclint::registry::load_builtin;
use serde_json::Value;

mod common;
use common::copy_tree;

/// Every finding and metric site of a run, printed, in order; and how many
/// files the run took from the cache.
fn outcome(dir: &Path, cache: Option<&Path>) -> (Vec<String>, usize) {
    let registry = load_builtin("programmatic").unwrap();
    // A memo of its own per run, as each process has: what it reuses
    // comes from the cache folder only.
    let memo = cache.map(|folder| Arc::new(Memo::on_disk(folder.to_path_buf())));
    let options = CheckOptions {
        paths: vec![dir.to_path_buf()],
        inventory: true,
        memo: memo.clone(),
        ..Default::default()
    };
    let printed = common::printed(&metriclint::check::run(&options, &registry).unwrap());
    let recalled = memo.as_ref().map_or(0, |m| m.recalled());
    if let Some(memo) = memo {
        memo.persist().unwrap();
    }
    (printed, recalled)
}

#[test]
fn cached_runs_equal_fresh_runs_through_edits_adds_deletes_and_renames() {
    for fixture in [
        "fixtures/adtech",
        "fixtures/broken",
        "fixtures/lookml",
        "fixtures/drift",
        "fixtures/suppressions",
        "fixtures/dbt_ads",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        copy_tree(Path::new(fixture), &root);
        let cache = dir.path().join("cache");
        let same = |what: &str| -> usize {
            let (cached, recalled) = outcome(&root, Some(&cache));
            assert_eq!(cached, outcome(&root, None).0, "{fixture}: {what}");
            recalled
        };
        assert_eq!(same("first run"), 0, "{fixture}: a first run has no cache");
        let recalled = same("nothing changed");
        if fixture != "fixtures/dbt_ads" {
            assert!(recalled > 0, "{fixture}: nothing was read from the cache");
        }

        common::edit_add_rename_delete(&root, &mut |step| {
            same(step);
        });
    }
}

/// `check --format json` in `dir` with `args`; returns the document (its
/// timing left out) and the exit code.
fn check_json(dir: &Path, args: &[&str]) -> (Value, i32, String) {
    let output = Command::cargo_bin("metriclint")
        .unwrap()
        .current_dir(dir)
        .args(["check", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    let mut doc: Value = serde_json::from_slice(&output.stdout).unwrap();
    if let Some(summary) = doc.get_mut("summary").and_then(Value::as_object_mut) {
        summary.remove("elapsed_ms");
    }
    (
        doc,
        output.status.code().unwrap(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A copy of the ad-tech fixture, a project of its own (its config file
/// marks the root).
fn adtech() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repo");
    copy_tree(Path::new("fixtures/adtech"), &root);
    std::fs::write(root.join("metriclint.yaml"), "registry: metrics.yaml\n").unwrap();
    (dir, root)
}

/// `metriclint clean` run in `root`.
fn clean(root: &Path) -> std::process::Output {
    Command::cargo_bin("metriclint")
        .unwrap()
        .current_dir(root)
        .arg("clean")
        .output()
        .unwrap()
}

fn cache_files(folder: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(folder)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "bin"))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn the_cache_is_kept_at_the_project_root_and_git_ignored() {
    let (_dir, root) = adtech();
    let fresh = check_json(&root, &["--no-cache"]);
    assert!(
        !root.join(".metriclint_cache").exists(),
        "--no-cache wrote a cache"
    );
    let first = check_json(&root, &[]);
    let folder = root.join(".metriclint_cache");
    assert_eq!(cache_files(&folder).len(), 1, "one cache file per run");
    let ignore = std::fs::read_to_string(folder.join(".gitignore")).unwrap();
    assert!(ignore.lines().any(|l| l == "*"), "{ignore}");
    let second = check_json(&root, &[]);
    assert_eq!(first, fresh);
    assert_eq!(second, fresh);
    // A path below the root keeps its cache at the root too.
    let below = check_json(&root, &["models"]);
    assert_eq!(below.0, check_json(&root, &["models", "--no-cache"]).0);
    assert!(!root.join("models/.metriclint_cache").exists());
}

#[test]
fn a_corrupt_or_truncated_cache_file_is_ignored() {
    let (_dir, root) = adtech();
    let fresh = check_json(&root, &["--no-cache"]);
    let _ = check_json(&root, &[]);
    let folder = root.join(".metriclint_cache");
    let cache = cache_files(&folder).pop().unwrap();
    let bytes = std::fs::read(&cache).unwrap();
    for (what, damaged) in [
        ("truncated", bytes[..bytes.len() / 2].to_vec()),
        ("empty", Vec::new()),
        ("garbage", b"not a metriclint cache at all".repeat(50)),
        ("one byte changed", {
            let mut changed = bytes.clone();
            let middle = changed.len() / 2;
            changed[middle] = changed[middle].wrapping_add(1);
            changed
        }),
        (
            "bytes flipped",
            bytes.iter().map(|b| b ^ 0x5a).collect::<Vec<u8>>(),
        ),
    ] {
        std::fs::write(&cache, &damaged).unwrap();
        let (doc, code, stderr) = check_json(&root, &[]);
        assert_eq!((doc, code), (fresh.0.clone(), fresh.1), "{what}");
        assert!(!stderr.contains("cache"), "{what}: {stderr}");
        // The run wrote a sound cache back: the next one reads it.
        assert_eq!(check_json(&root, &[]).0, fresh.0, "{what}: after rewrite");
    }
}

#[test]
fn cache_dir_in_the_config_moves_the_cache_and_clean_removes_it() {
    let (_dir, root) = adtech();
    std::fs::write(
        root.join("metriclint.yaml"),
        "registry: metrics.yaml\ncache-dir: build/lint-cache\n",
    )
    .unwrap();
    let fresh = check_json(&root, &["--no-cache"]);
    assert_eq!(check_json(&root, &[]).0, fresh.0);
    let folder = root.join("build/lint-cache");
    assert_eq!(cache_files(&folder).len(), 1);
    assert!(!root.join(".metriclint_cache").exists());
    let settings = |args: &[&str]| {
        let output = Command::cargo_bin("metriclint")
            .unwrap()
            .current_dir(&root)
            .args(["check", "--show-settings"])
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    assert!(
        settings(&[]).contains("build/lint-cache"),
        "{}",
        settings(&[])
    );
    assert!(settings(&["--no-cache"]).contains("cache:     off (--no-cache)"));

    let clean = || clean(&root);
    let removed = clean();
    assert!(removed.status.success());
    assert!(!folder.exists(), "clean left the cache");
    assert!(String::from_utf8_lossy(&removed.stderr).contains("removed the cache"));
    // Nothing to remove is no error.
    assert!(clean().status.success());
    // Near miss: a folder that is not a metriclint cache is never removed.
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("notes.txt"), "mine").unwrap();
    let refused = clean();
    assert_eq!(refused.status.code(), Some(2));
    assert!(folder.join("notes.txt").exists());
}

#[test]
fn concurrent_runs_share_one_cache_safely() {
    let (_dir, root) = adtech();
    let fresh = check_json(&root, &["--no-cache"]);
    let runs: Vec<_> = (0..4)
        .map(|_| {
            let root = root.clone();
            std::thread::spawn(move || check_json(&root, &[]))
        })
        .collect();
    for run in runs {
        let (doc, code, stderr) = run.join().unwrap();
        assert_eq!((doc, code), (fresh.0.clone(), fresh.1), "{stderr}");
    }
    assert_eq!(check_json(&root, &[]).0, fresh.0);
    // No temporary file is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(root.join(".metriclint_cache"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_named_file_outside_any_project_keeps_its_cache_in_its_folder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("sub")).unwrap();
    std::fs::write(
        dir.path().join("sub/a.sql"),
        "select sum(clicks) / sum(impressions) as ctr from t\n",
    )
    .unwrap();
    let (doc, code, _) = check_json(dir.path(), &["sub/a.sql"]);
    let (fresh, fresh_code, _) = check_json(dir.path(), &["sub/a.sql", "--no-cache"]);
    assert_eq!((doc, code), (fresh, fresh_code));
    assert_eq!(
        cache_files(&dir.path().join("sub/.metriclint_cache")).len(),
        1
    );
    assert!(!dir.path().join(".metriclint_cache").exists());
}

#[test]
fn a_cache_dir_that_is_no_folder_of_its_own_is_never_written_nor_cleaned() {
    let (_dir, root) = adtech();
    let fresh = check_json(&root, &["--no-cache"]);
    let gitignore_before = std::fs::read_to_string(root.join(".gitignore")).ok();
    for cache_dir in [".", "models", ".."] {
        std::fs::write(
            root.join("metriclint.yaml"),
            format!("registry: metrics.yaml\ncache-dir: {cache_dir}\n"),
        )
        .unwrap();
        let (doc, code, stderr) = check_json(&root, &[]);
        assert_eq!((doc, code), (fresh.0.clone(), fresh.1), "{cache_dir}");
        assert!(
            stderr.contains("cannot write the cache") && stderr.contains("folder of its own"),
            "{cache_dir}: {stderr}"
        );
        let folder = root.join(cache_dir);
        assert!(cache_files(&folder).is_empty(), "{cache_dir}");
        assert_eq!(
            std::fs::read_to_string(folder.join(".gitignore")).ok(),
            if cache_dir == "." {
                gitignore_before.clone()
            } else {
                None
            },
            "{cache_dir}: a .gitignore was written"
        );
        assert_eq!(clean(&root).status.code(), Some(2), "{cache_dir}");
        assert!(
            root.join("metrics.yaml").exists(),
            "{cache_dir}: clean removed the project"
        );
        assert!(
            root.join("models").exists(),
            "{cache_dir}: clean removed the models"
        );
    }
    // Near miss: a cache folder of its own that someone put a file in is
    // emptied of its cache, and the file kept.
    std::fs::write(
        root.join("metriclint.yaml"),
        "registry: metrics.yaml\ncache-dir: lint-cache\n",
    )
    .unwrap();
    let _ = check_json(&root, &[]);
    std::fs::write(root.join("lint-cache/notes.txt"), "mine").unwrap();
    assert!(clean(&root).status.success());
    assert!(cache_files(&root.join("lint-cache")).is_empty());
    assert!(root.join("lint-cache/notes.txt").exists());
}

/// The cross-report findings (ML010) are kept too, for a run in which no
/// file changed: an edit that changes them, the files' names the same,
/// must be seen, in one process (a memo) as across processes (the cache).
#[test]
fn the_cross_report_stage_sees_an_edit_under_the_same_names() {
    let distinct =
        "select day, count(distinct account) as active_accounts from transfers group by 1\n";
    let rows = "select day, count(account) as active_accounts from transfers group by 1\n";
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repo");
    std::fs::create_dir_all(&root).unwrap();
    for name in ["a.sql", "b.sql", "c.sql", "d.sql"] {
        std::fs::write(root.join(name), distinct).unwrap();
    }
    let cache = dir.path().join("cache");
    let memo = Arc::new(Memo::default());
    let in_one_process = |root: &Path| {
        let options = CheckOptions {
            paths: vec![root.to_path_buf()],
            inventory: true,
            memo: Some(memo.clone()),
            ..Default::default()
        };
        let registry = load_builtin("programmatic").unwrap();
        common::printed(&metriclint::check::run(&options, &registry).unwrap())
    };
    let ml010 = |printed: &[String]| printed.iter().filter(|l| l.starts_with("ML010")).count();
    for round in 0..2 {
        let (cached, _) = outcome(&root, Some(&cache));
        assert_eq!(cached, outcome(&root, None).0, "round {round}");
        assert_eq!(in_one_process(&root), cached, "round {round}");
        assert_eq!(ml010(&cached), 0);
    }
    std::fs::write(root.join("d.sql"), rows).unwrap();
    let (cached, _) = outcome(&root, Some(&cache));
    assert_eq!(cached, outcome(&root, None).0, "after the edit");
    assert_eq!(
        in_one_process(&root),
        cached,
        "after the edit, in one process"
    );
    assert_eq!(ml010(&cached), 1, "{cached:#?}");
    // And back: the first state's findings again.
    std::fs::write(root.join("d.sql"), distinct).unwrap();
    let (cached, _) = outcome(&root, Some(&cache));
    assert_eq!(ml010(&cached), 0);
    assert_eq!(in_one_process(&root), cached);
}

/// A report folder's `metadata.yaml` (`deprecated: true`) takes its reports
/// out of the comparison: written or removed, the files checked the same,
/// the cross-report findings must follow it.
#[test]
fn the_cross_report_stage_sees_a_report_folder_deprecated_or_not() {
    let distinct =
        "select day, count(distinct account) as active_accounts from transfers group by 1\n";
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repo");
    std::fs::create_dir_all(root.join("x")).unwrap();
    for name in ["a.sql", "b.sql", "c.sql"] {
        std::fs::write(root.join(name), distinct).unwrap();
    }
    std::fs::write(
        root.join("x/d.sql"),
        "select day, count(account) as active_accounts from transfers group by 1\n",
    )
    .unwrap();
    let cache = dir.path().join("cache");
    let ml010 = |printed: &[String]| printed.iter().filter(|l| l.starts_with("ML010")).count();
    let same = |what: &str| {
        let (cached, _) = outcome(&root, Some(&cache));
        assert_eq!(cached, outcome(&root, None).0, "{what}");
        ml010(&cached)
    };
    assert_eq!(same("first run"), 1);
    assert_eq!(same("nothing changed"), 1);
    std::fs::write(root.join("x/metadata.yaml"), "deprecated: true\n").unwrap();
    assert_eq!(same("the folder deprecated"), 0);
    assert_eq!(same("nothing changed since"), 0);
    std::fs::remove_file(root.join("x/metadata.yaml")).unwrap();
    assert_eq!(same("no longer deprecated"), 1);
}
