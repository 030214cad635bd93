//! A process that checks again and again (the language server, `check
//! --watch`) reuses what earlier runs found in files that did not change.
//! Its results must be exactly a fresh run's: over copies of the bundled
//! fixtures, with files edited, added, deleted and renamed between runs.

use std::path::Path;
use std::sync::Arc;

use metriclint::check::{CheckOptions, Memo};
use metriclint::registry::load_builtin;

mod common;
use common::copy_tree;

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
    common::printed(&metriclint::check::run(&options, registry).unwrap())
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

        common::edit_add_rename_delete(root, &mut |step| {
            same(step);
        });
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
