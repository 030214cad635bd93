//! The config file: discovery from a nested folder, what it sets, what the
//! command line overrides, and its errors.

use assert_cmd::Command;

fn run_in(dir: &str, args: &[&str]) -> (i32, String, String) {
    let output = Command::cargo_bin("metriclint")
        .unwrap()
        .current_dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir))
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

fn codes(concise: &str) -> Vec<String> {
    concise
        .lines()
        .map(|l| {
            let mut parts = l.splitn(4, ':');
            let path = parts.next().unwrap();
            let line = parts.next().unwrap();
            let code = parts.nth(1).unwrap().split_whitespace().next().unwrap();
            format!("{path}:{line} {code}")
        })
        .collect()
}

#[test]
fn config_is_found_from_a_nested_folder_and_applied() {
    // From the repo root, checking a folder below the config file.
    let (code, text, _) = run_in(
        ".",
        &["check", "fixtures/configured/models", "--format", "concise"],
    );
    assert_eq!(code, 1);
    // Legacy ML001 is ignored per file, ML011 globally, scratch/ is excluded;
    // the team registry (with clean_ctr) is used in Snowflake dialect.
    assert_eq!(
        codes(&text),
        vec!["fixtures/configured/models/daily.sql:4 ML001"]
    );
    // From inside the project, with no path: the working directory's config.
    let (code, text, _) = run_in(
        "fixtures/configured/models/legacy",
        &["check", ".", "--format", "concise"],
    );
    assert_eq!(code, 0, "{text}");
    assert!(text.is_empty());
}

#[test]
fn command_line_flags_override_the_config() {
    let (_, text, _) = run_in(
        ".",
        &[
            "check",
            "fixtures/configured",
            "--isolated",
            "--format",
            "concise",
        ],
    );
    assert_eq!(
        codes(&text),
        vec![
            "fixtures/configured/models/daily.sql:4 ML001",
            "fixtures/configured/models/legacy/old_pacing.sql:2 ML001",
            "fixtures/configured/models/synonyms.sql:1 ML011",
            "fixtures/configured/scratch/wip.sql:1 ML900",
        ]
    );
    // --registry replaces the config's registry: clean_ctr is unknown to the pack.
    let (_, settings, _) = run_in(
        ".",
        &[
            "check",
            "fixtures/configured/models",
            "--show-settings",
            "--dialect",
            "bigquery",
            "--fail-on",
            "warning",
        ],
    );
    assert!(
        settings.contains("dialect:   bigquery (--dialect)"),
        "{settings}"
    );
    assert!(
        settings.contains("fail-on:   warning (--fail-on)"),
        "{settings}"
    );
    assert!(
        settings.contains("config:    fixtures/configured/metriclint.yaml"),
        "{settings}"
    );
    assert!(
        settings
            .contains("registry:  metrics.yaml (fixtures/configured/metriclint.yaml) [35 metrics]"),
        "{settings}"
    );
    assert!(
        settings.contains("per-file:  models/legacy/*.sql ignores ML001"),
        "{settings}"
    );
}

#[test]
fn a_bad_config_exits_2_pointing_at_the_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("metriclint.yaml"),
        "dialect: snowflake\nrulez:\n  ignore: [ML011]\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("a.sql"), "SELECT 1 AS x;\n").unwrap();
    let output = Command::cargo_bin("metriclint")
        .unwrap()
        .current_dir(dir.path())
        .args(["check", "."])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unknown key `rulez`"), "{stderr}");
    assert!(stderr.contains("metriclint.yaml:2:1]"), "{stderr}");
    assert!(stderr.contains("did you mean `rules`?"), "{stderr}");
    assert!(stderr.contains("no report was checked"), "{stderr}");
    // --config names another file; --isolated ignores it.
    let ok = Command::cargo_bin("metriclint")
        .unwrap()
        .current_dir(dir.path())
        .args(["check", ".", "--isolated"])
        .output()
        .unwrap();
    assert_eq!(ok.status.code(), Some(0));
}
