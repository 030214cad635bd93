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
            "--registry",
            "rules/programmatic.yaml",
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

fn metriclint_in(dir: &std::path::Path) -> Command {
    let mut cmd = Command::cargo_bin("metriclint").unwrap();
    cmd.current_dir(dir).env("NO_COLOR", "1");
    cmd
}

/// Writes `text` to `path` under `dir`, making its folders.
fn write_file(dir: &std::path::Path, path: &str, text: &str) {
    let to = dir.join(path);
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::write(to, text).unwrap();
}

/// `check . --baseline baseline.json --format concise` in `dir`.
fn check_against_baseline(dir: &std::path::Path) -> std::process::Output {
    metriclint_in(dir)
        .args([
            "check",
            ".",
            "--baseline",
            "baseline.json",
            "--format",
            "concise",
        ])
        .output()
        .unwrap()
}

#[test]
fn baseline_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.sql");
    let original = "SELECT\n  SUM(revenue) / NULLIF(SUM(spend), 0) AS roas,\n  SUM(spend) * 1000 / SUM(impressions) AS cpm\nFROM fct;\n";
    std::fs::write(&report, original).unwrap();
    let out = metriclint_in(dir.path())
        .args(["check", ".", "--write-baseline", "baseline.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "recording a baseline succeeds");
    let baseline: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("baseline.json")).unwrap())
            .unwrap();
    assert_eq!(baseline["findings"].as_array().unwrap().len(), 1);
    // An unrelated edit moves the site down two lines: still known.
    std::fs::write(
        &report,
        format!("-- Finance view\n-- owner: finance\n{original}"),
    )
    .unwrap();
    let out = check_against_baseline(dir.path());
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // A new drift in another metric is reported.
    let drifted = original.replace(
        "SUM(spend) * 1000 / SUM(impressions)",
        "SUM(spend) / SUM(impressions)",
    );
    std::fs::write(&report, drifted).unwrap();
    let out = check_against_baseline(dir.path());
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.starts_with("report.sql:3:3: ML004"), "{text}");
}

#[test]
fn stdin_is_checked_under_its_name_with_the_folder_as_context() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let sql = "SELECT COUNT(user_id) AS active_users FROM analytics.fct_sessions;\n";
    let out = Command::cargo_bin("metriclint")
        .unwrap()
        .current_dir(root)
        .args([
            "check",
            "fixtures/drift",
            "--stdin-filename",
            "fixtures/drift/models/new_report.sql",
            "--format",
            "concise",
        ])
        .write_stdin(sql)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    // Only the buffer is reported, and it drifts from the five other sites.
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.starts_with("fixtures/drift/models/new_report.sql:1:8: ML010 active_users is computed as count(user_id) here, but as count(distinct user_id) in 4 other reports"), "{text}");
}

#[test]
fn pre_commit_changed_file_is_judged_against_the_whole_project() {
    let dir = tempfile::tempdir().unwrap();
    let models = dir.path().join("models");
    std::fs::create_dir(&models).unwrap();
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/drift/models");
    for entry in std::fs::read_dir(&fixture).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), models.join(entry.file_name())).unwrap();
    }
    std::fs::write(dir.path().join("metriclint.yaml"), "include: [models/]\n").unwrap();
    // pre-commit passes only the changed file.
    let out = metriclint_in(dir.path())
        .args([
            "check",
            "models/site_leaderboard.sql",
            "--format",
            "concise",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        text.starts_with("models/site_leaderboard.sql:6:3: ML010 ad_load is computed as sum(ad_impressions) / count(*) here, but as sum(ad_impressions) / sum(pageviews) in 2 other reports"),
        "{text}"
    );
    // Without the project as context, the file alone shows no drift.
    let alone = metriclint_in(dir.path())
        .args([
            "check",
            "models/site_leaderboard.sql",
            "--isolated",
            "--format",
            "concise",
        ])
        .output()
        .unwrap();
    assert!(
        alone.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&alone.stdout)
    );
}

#[test]
fn the_config_extends_the_qualifier_vocabulary() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("r.sql"),
        "SELECT SUM(clicks) / COUNT(*) AS fy_ctr_reported FROM t;\n",
    )
    .unwrap();
    // By default `fy_ctr_reported` is no metric the registry knows.
    let out = metriclint_in(dir.path())
        .args(["check", ".", "--format", "concise"])
        .output()
        .unwrap();
    assert!(out.stdout.is_empty());
    std::fs::write(
        dir.path().join("metriclint.yaml"),
        "registry: [programmatic]\nnames:\n  qualifier-prefixes: [fy]\n  qualifier-suffixes: [reported]\n",
    )
    .unwrap();
    let out = metriclint_in(dir.path())
        .args(["check", ".", "--format", "concise"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("r.sql:1:8: ML001 fy_ctr_reported (registered as ctr) is computed as sum(clicks) / count(*)"), "{text}");
    std::fs::write(
        dir.path().join("metriclint.yaml"),
        "names:\n  qualifier-prefix: [fy]\n",
    )
    .unwrap();
    let out = metriclint_in(dir.path())
        .args(["check", "."])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean `qualifier-prefixes`?"));
}

#[test]
fn globs_are_gitignore_style_and_ml020_obeys_the_rules() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("models/sub")).unwrap();
    let drift = "SELECT SUM(clicks) / COUNT(*) AS ctr FROM t; -- noqa: ML004\n";
    std::fs::write(dir.path().join("models/a.sql"), drift).unwrap();
    std::fs::write(dir.path().join("models/sub/b.sql"), drift).unwrap();
    // A folder without a slash, and `*` that stays within its folder.
    std::fs::write(
        dir.path().join("metriclint.yaml"),
        "registry: [programmatic]\ninclude: [models]\nper-file-ignores:\n  'models/*.sql': [ML001]\nrules:\n  ignore: [ML020]\n",
    )
    .unwrap();
    let out = metriclint_in(dir.path())
        .args(["check", ".", "--format", "concise"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(codes(&text), vec!["models/sub/b.sql:1 ML001"], "{text}");
}

#[test]
fn a_baseline_works_from_any_working_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("models")).unwrap();
    std::fs::write(
        dir.path().join("models/r.sql"),
        "SELECT SUM(clicks) / COUNT(*) AS ctr FROM t;\n",
    )
    .unwrap();
    let out = metriclint_in(dir.path())
        .args(["check", ".", "--write-baseline", "baseline.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    // From a subfolder, and with an absolute path: the same finding is known.
    let out = metriclint_in(&dir.path().join("models"))
        .args(["check", ".", "--baseline", "../baseline.json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let absolute = dir.path().to_str().unwrap().to_string();
    let out = metriclint_in(std::path::Path::new("/"))
        .args(["check", &absolute, "--baseline"])
        .arg(dir.path().join("baseline.json"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn paths_under_different_config_files_are_each_checked_with_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let write = |path: &str, text: &str| write_file(dir.path(), path, text);
    // Team a ignores ML001; team b does not.
    write(
        "a/metriclint.yaml",
        "registry: [programmatic]\nrules:\n  ignore: [ML001]\n",
    );
    write(
        "b/metriclint.yaml",
        "registry: [programmatic]\nfail-on: error\n",
    );
    let drift = "select sum(clicks) / count(*) as ctr from events\n";
    write("a/r.sql", drift);
    write("b/r.sql", drift);
    let output = metriclint_in(dir.path())
        .args(["check", "a", "b", "--format", "concise"])
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(codes(&text), vec!["b/r.sql:1 ML001"], "{text}");
    // Either order: a's config never applies to b, nor b's to a.
    let output = metriclint_in(dir.path())
        .args(["check", "b", "a", "--format", "json"])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(doc["summary"]["files"], 2);
    assert_eq!(doc["findings"].as_array().unwrap().len(), 1, "{doc:#}");
    assert_eq!(doc["findings"][0]["path"], "b/r.sql");
}

#[test]
fn config_vars_override_the_projects_and_reach_plain_jinja_sql() {
    let dir = tempfile::tempdir().unwrap();
    let write = |path: &str, text: &str| write_file(dir.path(), path, text);
    write(
        "metriclint.yaml",
        "vars:\n  denominator: impressions\n  table: events\n",
    );
    write(
        "dbt/dbt_project.yml",
        "name: p\nvars:\n  denominator: 'count(*)'\n",
    );
    // With the project's own var this would divide by count(*).
    write(
        "dbt/models/rpt.sql",
        "select sum(clicks) / nullif(sum({{ var('denominator') }}), 0) as ctr from {{ var('table') }}\n",
    );
    write(
        "adhoc/q.sql",
        "select sum(clicks) / nullif(sum({{ var('denominator') }}), 0) as ctr from {{ var('table') }}\n",
    );
    let output = metriclint_in(dir.path())
        .args(["check", ".", "--format", "json"])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(doc["summary"]["files"], 2, "{doc:#}");
    assert_eq!(doc["findings"], serde_json::json!([]), "{doc:#}");
    let output = metriclint_in(dir.path())
        .args(["render", "adhoc/q.sql"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "select sum(clicks) / nullif(sum(impressions), 0) as ctr from events\n"
    );
}

#[test]
fn under_several_configs_each_file_fails_by_its_own_fail_on() {
    let dir = tempfile::tempdir().unwrap();
    let write = |path: &str, text: &str| write_file(dir.path(), path, text);
    // A warning (an unparsable statement) fails a, not b.
    write("a/metriclint.yaml", "fail-on: warning\n");
    write("b/metriclint.yaml", "fail-on: error\n");
    write("b/bad.sql", "select from where;\n");
    let code = |args: &[&str]| {
        metriclint_in(dir.path())
            .args(["check"])
            .args(args)
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(code(&["a", "b"]), Some(0));
    assert_eq!(code(&["b", "a"]), Some(0));
    write("a/bad.sql", "select from where;\n");
    assert_eq!(code(&["a", "b"]), Some(1));
    assert_eq!(code(&["b", "a"]), Some(1));
    // The command line decides for all.
    assert_eq!(code(&["b", "a", "--fail-on", "error"]), Some(0));
}

/// `baseline:` in the config does what `--baseline` does, its path relative
/// to the config's folder, from any working folder.
#[test]
fn a_baseline_named_in_the_config_hides_known_findings() {
    let dir = tempfile::tempdir().unwrap();
    let original = "SELECT\n  SUM(revenue) / NULLIF(SUM(spend), 0) AS roas\nFROM fct;\n";
    write_file(dir.path(), "reports/report.sql", original);
    let out = metriclint_in(dir.path())
        .args(["check", ".", "--write-baseline", "ci/baseline.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    write_file(
        dir.path(),
        "metriclint.yaml",
        "baseline: ci/baseline.json\n",
    );
    // Run from a subfolder: the baseline is found from the config's folder.
    let out = metriclint_in(&dir.path().join("reports"))
        .args(["check", ".", "--format", "concise"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // A new finding is still reported.
    write_file(
        dir.path(),
        "reports/report.sql",
        &format!("{original}SELECT SUM(spend) / SUM(impressions) AS cpm FROM fct;\n"),
    );
    let out = metriclint_in(&dir.path().join("reports"))
        .args(["check", ".", "--format", "concise"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.contains("ML004"), "{text}");
    // A baseline the config names that does not exist is an error, not a pass.
    write_file(dir.path(), "metriclint.yaml", "baseline: ci/missing.json\n");
    let out = metriclint_in(dir.path())
        .args(["check", "."])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// Two projects, each with its own config and `baseline:`: each project's
/// findings are held against its own baseline.
#[test]
fn each_configs_baseline_holds_its_own_files() {
    let dir = tempfile::tempdir().unwrap();
    let report = "SELECT SUM(revenue) / NULLIF(SUM(spend), 0) AS roas FROM fct;\n";
    for project in ["proj_a", "proj_b"] {
        write_file(dir.path(), &format!("{project}/report.sql"), report);
        let out = metriclint_in(&dir.path().join(project))
            .args(["check", ".", "--write-baseline", "baseline.json"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        write_file(
            dir.path(),
            &format!("{project}/metriclint.yaml"),
            "baseline: baseline.json\n",
        );
    }
    let out = metriclint_in(dir.path())
        .args(["check", "proj_a", "proj_b", "--format", "concise"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // A new finding in the second project is still reported.
    write_file(
        dir.path(),
        "proj_b/report.sql",
        &format!("{report}SELECT SUM(spend) / SUM(impressions) AS cpm FROM fct;\n"),
    );
    let out = metriclint_in(dir.path())
        .args(["check", "proj_a", "proj_b", "--format", "concise"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        text.starts_with("proj_b/report.sql") && text.contains("ML004"),
        "{text}"
    );
}

/// `layers:` says which definitions a run checks: `[sql]` leaves LookML
/// views out, `[lookml]` SQL reports; an unknown layer is a config error.
#[test]
fn the_config_chooses_the_layers_checked() {
    let dir = tempfile::tempdir().unwrap();
    write_file(
        dir.path(),
        "report.sql",
        "select sum(impressions) / sum(clicks) as ctr from ads\n",
    );
    write_file(
        dir.path(),
        "ads.view.lkml",
        "view: ads {\n  measure: cpc { type: number sql: SUM(${TABLE}.clicks) / SUM(${TABLE}.spend) ;; }\n}\n",
    );
    let files = |layers: &str| {
        write_file(dir.path(), "metriclint.yaml", layers);
        let output = metriclint_in(dir.path())
            .args(["check", ".", "--format", "concise"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        let mut files: Vec<String> = text
            .lines()
            .filter_map(|l| l.split(':').next().map(str::to_string))
            .collect();
        files.dedup();
        (
            output.status.code(),
            files,
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    assert_eq!(files("").1, vec!["ads.view.lkml", "report.sql"]);
    assert_eq!(files("layers: [sql]\n").1, vec!["report.sql"]);
    assert_eq!(files("layers: [lookml]\n").1, vec!["ads.view.lkml"]);
    let (code, _, stderr) = files("layers: [tableau]\n");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("unknown layer `tableau`"), "{stderr}");
}
