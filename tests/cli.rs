//! End-to-end: the real binary on the bundled fixtures.

use assert_cmd::Command;
use serde_json::Value;

fn metriclint() -> Command {
    let mut cmd = Command::cargo_bin("metriclint").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1");
    cmd
}

/// Runs `check` with `args` and JSON output; returns (exit code, document).
fn check_json(args: &[&str]) -> (i32, Value) {
    let output = metriclint()
        .arg("check")
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stdout)));
    (output.status.code().unwrap(), doc)
}

/// Runs `check` on `dir` (no config) with the registry file `registry`.
fn check_with_registry(dir: &std::path::Path, registry: &std::path::Path) -> std::process::Output {
    metriclint()
        .args(["check", dir.to_str().unwrap(), "--isolated", "--registry"])
        .arg(registry)
        .output()
        .unwrap()
}

mod common;
/// A temporary project with `files` (path, text) written in it.
use common::repository as project;

/// [`project`] with a team registry that adopts the built-in pack as its
/// own (`extends: [programmatic]`), so that the pack's columns are the agreed
/// ones: the tests of lineage through dbt judge against it.
fn team_project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let mut with_registry = files.to_vec();
    with_registry.push(("metriclint.yaml", "registry: [metrics.yaml]\n"));
    with_registry.push((
        "metrics.yaml",
        "version: 1\nextends: [programmatic]\nmetrics: []\n",
    ));
    project(&with_registry)
}

/// A team registry that adopts the built-in pack as its own, in a temporary
/// folder (kept alive by the first element): (folder, path).
fn adopted_pack() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("metrics.yaml");
    std::fs::write(&path, "version: 1\nextends: [programmatic]\nmetrics: []\n").unwrap();
    let path = path.to_str().unwrap().to_string();
    (dir, path)
}

/// Each finding as (line, code).
fn line_codes(doc: &Value) -> Vec<(u64, String)> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let line = f["line"].as_u64().unwrap();
            (line, f["code"].as_str().unwrap().to_string())
        })
        .collect()
}

/// Each finding as (metric, or "-", code).
fn metric_codes(doc: &Value) -> Vec<(String, String)> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let metric = f["metric"].as_str().unwrap_or("-").to_string();
            (metric, f["code"].as_str().unwrap().to_string())
        })
        .collect()
}

/// Each finding as (file name, code).
fn file_codes(doc: &Value) -> Vec<(String, String)> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let path = f["path"].as_str().unwrap();
            let file = path.rsplit('/').next().unwrap().to_string();
            (file, f["code"].as_str().unwrap().to_string())
        })
        .collect()
}

/// (code, path, line, metric) of each finding, in output order.
fn findings(doc: &Value) -> Vec<(String, String, u64, String)> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["metric"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect()
}

fn row(code: &str, path: &str, line: u64, metric: &str) -> (String, String, u64, String) {
    (code.to_string(), path.to_string(), line, metric.to_string())
}

const BQ: &str = "fixtures/adtech/models/bigquery";
const SF: &str = "fixtures/adtech/models/snowflake";

fn adtech_with_team_registry() -> Vec<(String, String, u64, String)> {
    vec![
        row("ML005", &format!("{BQ}/campaign_ctr_rollup.sql"), 14, "ctr"),
        row("ML001", &format!("{BQ}/campaign_roas.sql"), 14, "roas"),
        row("ML011", &format!("{BQ}/creative_leaderboard.sql"), 8, "ctr"),
        row(
            "ML001",
            &format!("{BQ}/hourly_delivery_pacing.sql"),
            13,
            "ctr",
        ),
        row("ML001", &format!("{BQ}/ivt_monitoring.sql"), 11, "ivt_rate"),
        row(
            "ML001",
            &format!("{BQ}/publisher_yield.sql"),
            12,
            "fill_rate",
        ),
        row(
            "ML002",
            &format!("{BQ}/s2s_share_weekly.sql"),
            17,
            "s2s_share",
        ),
        row("ML005", &format!("{SF}/ctr_trend.sql"), 8, "ctr"),
        row("ML004", &format!("{SF}/delivery_summary.sql"), 11, "cpm"),
        row(
            "ML001",
            &format!("{SF}/exchange_win_rates.sql"),
            10,
            "win_rate",
        ),
        row("ML001", &format!("{SF}/finance_margin.sql"), 10, "margin"),
        row("ML003", &format!("{SF}/ivt_raw_check.sql"), 5, "ivt_rate"),
        row(
            "ML002",
            &format!("{SF}/s2s_partner_report.sql"),
            6,
            "s2s_share",
        ),
        row(
            "ML011",
            &format!("{SF}/viewability_report.sql"),
            8,
            "viewability_rate",
        ),
    ]
}

#[test]
fn adtech_fixture_against_the_team_registry_reports_exactly_the_planted_drifts() {
    let (code, doc) = check_json(&[
        "fixtures/adtech",
        "--registry",
        "fixtures/adtech/metrics.yaml",
    ]);
    assert_eq!(code, 1);
    assert_eq!(findings(&doc), adtech_with_team_registry());
    assert_eq!(doc["version"], 1);
    assert_eq!(
        doc["summary"],
        serde_json::json!({"files": 22, "findings": 14, "errors": 12, "warnings": 0, "infos": 2})
    );
}

#[test]
fn json_findings_have_specs_shape() {
    let (_, doc) = check_json(&[
        "fixtures/adtech",
        "--registry",
        "fixtures/adtech/metrics.yaml",
    ]);
    let first = &doc["findings"][3];
    assert_eq!(first["code"], "ML001");
    assert_eq!(first["rule"], "definition-mismatch");
    assert_eq!(first["severity"], "error");
    assert_eq!(first["path"], format!("{BQ}/hourly_delivery_pacing.sql"));
    assert_eq!(
        (first["line"].as_u64(), first["column"].as_u64()),
        (Some(13), Some(3))
    );
    // The span is `SUM(clicks) / COUNT(*)`: 22 characters from column 3.
    assert_eq!(
        (first["end_line"].as_u64(), first["end_column"].as_u64()),
        (Some(13), Some(25))
    );
    assert_eq!(first["metric"], "ctr");
    assert_eq!(first["found"], "sum(clicks) / count(*)");
    assert_eq!(first["expected"], "sum(clicks) / sum(impressions)");
    assert_eq!(
        first["message"],
        "ctr is computed as sum(clicks) / count(*), but the registry defines it as sum(clicks) / sum(impressions): the denominator is count(*) where the registry has sum(impressions)"
    );
    let related = &first["related"][0];
    assert_eq!(related["path"], "<built-in>/programmatic.yaml");
    assert_eq!(related["message"], "agreed definition");
    assert!(related["line"].as_u64().unwrap() > 1);
    // A team metric points into the team's registry.
    let ivt = &doc["findings"][4];
    assert_eq!(ivt["related"][0]["path"], "fixtures/adtech/metrics.yaml");
    assert_eq!(ivt["related"][0]["line"], 12);
    let keys: Vec<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for key in [
        "code",
        "rule",
        "severity",
        "path",
        "line",
        "column",
        "end_line",
        "end_column",
        "metric",
        "message",
        "found",
        "expected",
        "related",
    ] {
        assert!(keys.contains(&key), "missing {key}");
    }
}

#[test]
fn output_is_identical_across_runs() {
    let run = || {
        metriclint()
            .args(["check", "fixtures", "--format", "json"])
            .output()
            .unwrap()
            .stdout
    };
    assert_eq!(run(), run());
}

#[test]
fn built_in_pack_is_used_when_no_registry_is_given() {
    let (code, doc) = check_json(&["fixtures/adtech"]);
    assert_eq!(code, 1);
    // The team metrics (ivt_rate, margin) are unknown to the built-in pack, so
    // they are compared across reports instead (ML010); its s2s_share has no
    // test-traffic filter.
    let mut expected: Vec<_> = adtech_with_team_registry()
        .into_iter()
        .filter(|(_, p, _, m)| {
            m != "ivt_rate"
                && m != "margin"
                && !p.ends_with("s2s_share_weekly.sql")
                && !p.ends_with("hourly_delivery_pacing.sql")
        })
        .collect();
    expected.extend([
        // ctr over COUNT(*): the pack does not know the table's grain, the
        // repository does: five other reports divide by impressions.
        row(
            "ML010",
            &format!("{BQ}/hourly_delivery_pacing.sql"),
            13,
            "ctr",
        ),
        // ivt_rate: two sites divide by impressions, this one by measurable impressions.
        row("ML010", &format!("{BQ}/ivt_monitoring.sql"), 11, "ivt_rate"),
        // margin: one site each way, so both are flagged.
        row("ML010", &format!("{SF}/finance_margin.sql"), 10, "margin"),
        row(
            "ML010",
            &format!("{SF}/monthly_revenue_rollup.sql"),
            9,
            "margin",
        ),
    ]);
    expected.sort_by(|a, b| (&a.1, a.2).cmp(&(&b.1, b.2)));
    assert_eq!(findings(&doc), expected);
    let ivt = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "ML010" && f["metric"] == "ivt_rate")
        .unwrap();
    assert_eq!(
        ivt["message"],
        "ivt_rate is computed as sum(invalid_impressions) / sum(measurable_impressions) here, but as sum(invalid_impressions) / sum(impressions) in 2 other reports: the denominator is sum(measurable_impressions) where 2 other reports have sum(impressions)"
    );
    assert_eq!(ivt["severity"], "warning");
    assert!(ivt.get("expected").is_none());
    assert_eq!(
        ivt["related"][0]["path"],
        format!("{SF}/exec_dashboard_view.sql")
    );
}

#[test]
fn each_dialect_folder_checks_the_same_with_its_own_dialect() {
    for (folder, dialect) in [(BQ, "bigquery"), (SF, "snowflake")] {
        let (code, doc) = check_json(&[
            folder,
            "--dialect",
            dialect,
            "--registry",
            "fixtures/adtech/metrics.yaml",
        ]);
        assert_eq!(code, 1);
        let expected: Vec<_> = adtech_with_team_registry()
            .into_iter()
            .filter(|(_, p, _, _)| p.starts_with(folder))
            .collect();
        assert_eq!(findings(&doc), expected, "{dialect}");
    }
}

#[test]
fn human_output_shows_the_snippet_the_finding_and_the_agreement() {
    let output = metriclint()
        .args([
            "check",
            "fixtures/adtech",
            "--registry",
            "fixtures/adtech/metrics.yaml",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8(output.stdout).unwrap();
    for expected in [
        "ML001 definition-mismatch",
        "ML011 non-canonical-name",
        "fixtures/adtech/models/bigquery/hourly_delivery_pacing.sql:13:3",
        "13 │   SUM(clicks) / COUNT(*) AS ctr,",
        "computed as sum(clicks) / count(*)",
        "agreed at <built-in>/programmatic.yaml:",
        "agreed at fixtures/adtech/metrics.yaml:12:10",
        "name it ctr",
        "ML002 filter-mismatch",
        "ML003 source-mismatch",
        "ML004 unit-mismatch",
        "ML005 ratio-aggregation-mismatch",
        "Checked 22 files in ",
        ": 14 findings (12 errors, 0 warnings, 2 infos).",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    // Exactly the planted findings, each with its code and snippet header.
    let headers: Vec<&str> = text.lines().filter(|l| l.starts_with("ML")).collect();
    let planted = adtech_with_team_registry();
    assert_eq!(headers.len(), planted.len(), "{text}");
    for (header, (code, path, line, _)) in headers.iter().zip(&planted) {
        assert!(header.starts_with(code.as_str()), "{header} vs {code}");
        assert!(
            text.contains(&format!("[{path}:{line}:")),
            "no snippet for {path}:{line}"
        );
    }
}

#[test]
fn broken_files_are_findings_and_never_hide_the_others() {
    let (code, doc) = check_json(&["fixtures/broken"]);
    assert_eq!(code, 1);
    assert_eq!(
        findings(&doc),
        vec![
            row("ML900", "fixtures/broken/garbage.sql", 1, "-"),
            row("ML001", "fixtures/broken/good_report.sql", 7, "roas"),
            row("ML900", "fixtures/broken/latin1.sql", 1, "-"),
            // The pack leaves ctr's denominator to the repository, and this
            // file's first statement computes the pack's own ctr.
            row("ML900", "fixtures/broken/mixed.sql", 9, "-"),
            row("ML010", "fixtures/broken/mixed.sql", 14, "ctr"),
        ]
    );
    let latin1 = &doc["findings"][2];
    assert!(latin1["message"].as_str().unwrap().contains("not UTF-8"));
    assert_eq!(latin1["metric"], Value::Null);
    assert!(latin1.get("expected").is_none());
}

#[test]
fn warnings_alone_exit_zero() {
    let (code, doc) = check_json(&["fixtures/broken/garbage.sql"]);
    assert_eq!(code, 0);
    assert_eq!(doc["summary"]["warnings"], 1);
}

#[test]
fn a_clean_folder_exits_zero_with_no_findings() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ok.sql"),
        "SELECT SUM(clicks) / NULLIF(SUM(impressions), 0) AS ctr FROM t;\n",
    )
    .unwrap();
    let output = metriclint().arg("check").arg(dir.path()).output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stdout).contains("Checked 1 file in "));
}

fn registry_error(yaml: &str) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("metrics.yaml");
    std::fs::write(&path, yaml).unwrap();
    let output = metriclint()
        .args(["check", "fixtures/adtech", "--registry"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        output.stdout.is_empty(),
        "nothing is checked with a bad registry"
    );
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn registry_with_a_typo_in_a_key_exits_2_pointing_at_the_line() {
    let (code, stderr) = registry_error(
        "version: 1\nmetrics:\n  - name: ctr\n    sqll: SUM(clicks) / SUM(impressions)\n",
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("unknown key `sqll` in metric"), "{stderr}");
    assert!(stderr.contains("metrics.yaml:4:5]"), "{stderr}");
    assert!(stderr.contains("did you mean `sql`?"), "{stderr}");
    assert!(stderr.contains("no report was checked"), "{stderr}");
}

#[test]
fn registry_with_a_duplicate_name_exits_2_pointing_at_the_line() {
    let (code, stderr) = registry_error("version: 1\nmetrics:\n  - name: ctr\n    sql: SUM(clicks) / SUM(impressions)\n  - name: ctr\n    sql: SUM(clicks) / COUNT(*)\n");
    assert_eq!(code, 2);
    assert!(stderr.contains("duplicate metric name `ctr`"), "{stderr}");
    assert!(stderr.contains("metrics.yaml:5:11]"), "{stderr}");
}

#[test]
fn registry_with_unparsable_sql_exits_2_pointing_at_the_line() {
    let (code, stderr) = registry_error(
        "version: 1\nmetrics:\n  - name: ctr\n    sql: SUM(clicks) / / SUM(impressions)\n",
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("cannot parse SQL expression"), "{stderr}");
    assert!(stderr.contains("metrics.yaml:4:24]"), "{stderr}");
}

#[test]
fn missing_registry_file_missing_path_and_bad_dialect_exit_2() {
    let out = metriclint()
        .args(["check", "fixtures", "--registry", "nope.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read registry file nope.yaml"));
    let out = metriclint()
        .args(["check", "no/such/folder"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("path not found: no/such/folder"));
    let out = metriclint()
        .args(["check", "fixtures", "--dialect", "oracle9"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bigquery"));
}

#[test]
fn help_documents_every_flag() {
    let out = metriclint().arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("check"));
    let out = metriclint().args(["check", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--registry <FILE>",
        "--dialect <NAME>",
        "--format <FORMAT>",
        "--color <WHEN>",
        "[PATHS]...",
        "snowflake",
        "Exit status",
    ] {
        assert!(help.contains(flag), "check --help lacks {flag}:\n{help}");
    }
}

#[test]
fn every_listed_dialect_is_accepted() {
    for dialect in [
        "generic",
        "ansi",
        "bigquery",
        "snowflake",
        "postgres",
        "redshift",
        "mysql",
        "duckdb",
        "databricks",
        "clickhouse",
        "mssql",
        "sqlite",
        "hive",
    ] {
        let (code, doc) = check_json(&["fixtures/broken/mixed.sql", "--dialect", dialect]);
        // The drift is a warning (ML010); the unparsable statement too.
        assert_eq!(code, 0, "{dialect}");
        assert_eq!(
            findings(&doc).last().unwrap(),
            &row("ML010", "fixtures/broken/mixed.sql", 14, "ctr"),
            "{dialect}"
        );
    }
}

#[test]
fn drift_fixture_flags_exactly_the_inconsistent_sites() {
    let (code, doc) = check_json(&["fixtures/drift"]);
    // ML010 is a warning: the run passes, the drift is shown.
    assert_eq!(code, 0);
    const D: &str = "fixtures/drift/models";
    assert_eq!(
        findings(&doc),
        vec![
            // avg_order_value: two reports divide by distinct orders, one
            // report (two sites) averages: the minority report is flagged.
            row(
                "ML010",
                &format!("{D}/commerce_marketing.sql"),
                4,
                "avg_order_value"
            ),
            row(
                "ML010",
                &format!("{D}/commerce_marketing.sql"),
                7,
                "active_users"
            ),
            row(
                "ML010",
                &format!("{D}/commerce_marketing.sql"),
                13,
                "avg_order_value"
            ),
            row("ML010", &format!("{D}/engagement_daily.sql"), 7, "ad_load"),
            row(
                "ML010",
                &format!("{D}/engagement_weekly.sql"),
                17,
                "ad_load"
            ),
            row("ML010", &format!("{D}/inventory_health.sql"), 5, "ad_load"),
            row("ML010", &format!("{D}/site_leaderboard.sql"), 6, "ad_load"),
        ]
    );
    let by_line = |path: &str, line: u64| {
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == format!("{D}/{path}") && f["line"] == line)
            .unwrap()
            .clone()
    };
    // The majority rule: the minority site points at a majority site.
    let minority = by_line("commerce_marketing.sql", 7);
    assert_eq!(
        minority["message"],
        "active_users is computed as count(user_id) here, but as count(distinct user_id) in 3 other reports: it computes count(user_id) where 3 other reports have count(distinct user_id)"
    );
    assert_eq!(
        minority["related"][0]["path"],
        format!("{D}/commerce_marketing.sql")
    );
    assert_eq!(minority["related"][0]["line"], 15);
    // No majority: each site points at a site of another variant.
    let leaderboard = by_line("site_leaderboard.sql", 6);
    assert_eq!(
        leaderboard["related"][0]["path"],
        format!("{D}/engagement_daily.sql")
    );
    assert!(leaderboard["message"]
        .as_str()
        .unwrap()
        .contains("the denominator is count(*) where 2 other reports have sum(pageviews)"));
}

#[test]
fn dbt_templates_are_rendered_offline_and_reported_where_written() {
    let pack = adopted_pack();
    let (code, doc) = check_json(&["fixtures/dbt", "--registry", pack.1.as_str()]);
    assert_eq!(code, 1);
    const D: &str = "fixtures/dbt/models/marts";
    assert_eq!(
        findings(&doc),
        vec![
            // Two models that ref each other.
            row("ML903", "fixtures/dbt/models/cycle/cycle_a.sql", 1, "-"),
            row("ML903", "fixtures/dbt/models/cycle/cycle_b.sql", 1, "-"),
            // A project macro that returns its SQL with `{% do return() %}`.
            row("ML001", &format!("{D}/advertiser_ratios.sql"), 6, "ctr"),
            row("ML901", &format!("{D}/broken_loop.sql"), 1, "-"),
            // Inside a package macro's expansion: reported at the macro call.
            row("ML001", &format!("{D}/campaign_ctr.sql"), 6, "cpm"),
            // dbt_utils is installed, but without generate_surrogate_key: noted once.
            row("ML902", &format!("{D}/campaign_daily.sql"), 18, "-"),
            row("ML001", &format!("{D}/campaign_daily.sql"), 25, "ctr"),
            // Through ref('exchange_daily'): event_rows is count(*) upstream.
            row("ML001", &format!("{D}/exchange_ctr.sql"), 7, "ctr"),
        ]
    );
    let upstream = &doc["findings"][7];
    assert_eq!(upstream["found"], "sum(clicks) / count(*)");
    // Text a macro wrote says so; text the user wrote does not.
    let generated = doc["findings"][4]["message"].as_str().unwrap();
    assert!(
        generated.ends_with("(in SQL generated by `{{ dbt_utils.safe_divide('sum(spend) * 1000', 'count(*)') }}`, not written in this file)"),
        "{generated}"
    );
    assert!(!doc["findings"][6]["message"]
        .as_str()
        .unwrap()
        .contains("generated by"));
    // Only the project's models are reports: macros/ and dbt_packages/ are not.
    assert_eq!(doc["summary"]["files"], 9);
    let ctr = &doc["findings"][6];
    assert_eq!(
        (ctr["column"].as_u64(), ctr["end_column"].as_u64()),
        (Some(5), Some(27))
    );
    let output = metriclint()
        .args(["check", "fixtures/dbt/models/marts/campaign_daily.sql"])
        .args(["--registry", pack.1.as_str()])
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("25 │     sum(clicks) / count(*) as ctr,"),
        "{text}"
    );
}

#[test]
fn reports_are_checked_against_dbt_semantic_layer_metrics() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("r.sql"),
        "SELECT SUM(clicks) / SUM(impressions) AS ctr FROM analytics.fct_ad_events;\n\
         SELECT SUM(clicks) / SUM(impressions) AS ctr FROM analytics.fct_ad_events WHERE is_test = false;\n\
         SELECT SUM(CASE WHEN integration_type = 's2s' THEN impressions END) / SUM(impressions) AS s2s_share FROM raw_events;\n\
         SELECT SUM(spend) / SUM(impressions) AS cpm FROM analytics.fct_ad_events;\n\
         SELECT SUM(spend) AS cumulative_spend FROM analytics.fct_ad_events;\n",
    )
    .unwrap();
    // The legacy and the latest spec of the same metrics judge alike.
    for registry in [
        "fixtures/dbt/semantic/ad_metrics.yml",
        "fixtures/dbt/semantic/ad_metrics_latest.yml",
        "fixtures/dbt/target/semantic_manifest.json",
    ] {
        let (code, doc) = check_json(&[dir.path().to_str().unwrap(), "--registry", registry]);
        assert_eq!(code, 1);
        let codes = line_codes(&doc);
        // Line 1 lacks the metric filter, line 3 reads another model, line 4
        // misses * 1000; line 5 is a cumulative metric: noted, never judged.
        assert_eq!(
            codes,
            vec![
                (1, "ML002".to_string()),
                (3, "ML003".to_string()),
                (4, "ML004".to_string()),
                (5, "ML012".to_string())
            ]
        );
        assert_eq!(doc["findings"][3]["severity"], "info");
        assert!(doc["findings"][3]["message"]
            .as_str()
            .unwrap()
            .starts_with("cumulative_spend is a cumulative metric in the registry"));
        assert_eq!(doc["findings"][0]["related"][0]["path"], registry);
    }
}

#[test]
fn package_macros_that_dispatch_are_resolved() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/dbt");
    for item in [
        "dbt_project.yml",
        "dbt_packages/dbt_utils/dbt_project.yml",
        "dbt_packages/dbt_utils/macros/safe_divide.sql",
    ] {
        let to = dir.path().join(item);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(root.join(item), to).unwrap();
    }
    std::fs::create_dir(dir.path().join("models")).unwrap();
    std::fs::write(
        dir.path().join("models/m.sql"),
        "select {{ dbt_utils.percent_of('sum(clicks)', 'sum(impressions)') }} as ctr from t\n",
    )
    .unwrap();
    let (_, doc) = check_json(&[dir.path().to_str().unwrap()]);
    // dbt_utils.percent_of dispatches to default__percent_of: 100 * clicks / impressions.
    assert_eq!(findings(&doc).len(), 1);
    assert_eq!(doc["findings"][0]["code"], "ML004");
    assert_eq!(
        doc["findings"][0]["found"],
        "sum(clicks) * 100 / sum(impressions)"
    );
}

#[test]
fn drift_inside_a_macro_expansion_says_the_sql_is_generated() {
    let dir = tempfile::tempdir().unwrap();
    for (name, body) in [
        ("a.sql", "SELECT SUM(bounces) / SUM(visits) AS bounce_share FROM web"),
        ("b.sql", "SELECT SUM(bounces) / SUM(visits) AS bounce_share FROM web"),
        (
            "c.sql",
            "{% macro share(x) %}SUM({{ x }}) / COUNT(*){% endmacro %}\nSELECT {{ share('bounces') }} AS bounce_share FROM web",
        ),
    ] {
        std::fs::write(dir.path().join(name), body).unwrap();
    }
    let (code, doc) = check_json(&[dir.path().to_str().unwrap()]);
    // ML010 is a warning: it does not fail the check by default.
    assert_eq!(code, 0);
    let drift: Vec<_> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "ML010")
        .collect();
    assert_eq!(drift.len(), 1, "{doc:#}");
    assert!(drift[0]["path"].as_str().unwrap().ends_with("c.sql"));
    assert_eq!(
        (drift[0]["line"].as_u64(), drift[0]["column"].as_u64()),
        (Some(2), Some(8))
    );
    assert!(
        drift[0]["message"]
            .as_str()
            .unwrap()
            .ends_with("(in SQL generated by `{{ share('bounces') }}`, not written in this file)"),
        "{doc:#}"
    );
}

#[test]
fn a_render_error_inside_a_macro_names_the_macro_file_and_line() {
    let dir = project(&[
        ("dbt_project.yml", "name: shop\n"),
        (
            "macros/a_fine.sql",
            "{% macro fine() %}\n1\n{% endmacro %}\n",
        ),
        (
            "macros/b_broken.sql",
            "{# it's broken #}\n{% macro broken(x) %}\n  {{ 'a' + x }}\n{% endmacro %}\n",
        ),
        (
            "models/m.sql",
            "select\n  {{ fine() }} as one,\n  {{ broken(1) }} as two\nfrom t\n",
        ),
    ]);
    let (_, doc) = check_json(&[dir.path().to_str().unwrap()]);
    let finding = &doc["findings"][0];
    assert_eq!(finding["code"], "ML901", "{doc:#}");
    let message = finding["message"].as_str().unwrap();
    let expected = format!(
        ", in macro `broken` at {}:3",
        dir.path().join("macros/b_broken.sql").display()
    );
    assert!(message.ends_with(&expected), "{message}");
    // Reported at the model's call of the macro.
    assert_eq!(finding["line"], 3);
}

#[test]
fn staging_models_define_the_agreed_columns_but_ctes_are_followed() {
    let dir = team_project(&[
        ("dbt_project.yml", "name: shop\n"),
        (
            "models/stg_events.sql",
            "select campaign_id, imps as impressions, clk as clicks, cost_cents / 100.0 as spend,\n\
             coalesce(conv_value_micros, 0) / 1000000 as conversion_value\n\
             from {{ source('raw', 'events') }}\n",
        ),
        // Agreed: spend and conversion value as the staging model defines them.
        (
            "models/rpt_ok.sql",
            "select campaign_id,\n  sum(spend) * 1000 / nullif(sum(impressions), 0) as cpm,\n  sum(conversion_value) / nullif(sum(spend), 0) as roas\nfrom {{ ref('stg_events') }}\ngroup by 1\n",
        ),
        // Upstream aggregates are still followed: impressions is a row count.
        (
            "models/int_daily.sql",
            "select campaign_id, sum(clicks) as clicks, count(*) as impressions\nfrom {{ ref('stg_events') }}\ngroup by 1\n",
        ),
        (
            "models/rpt_rows.sql",
            "select sum(clicks) / nullif(sum(impressions), 0) as ctr\nfrom {{ ref('int_daily') }}\n",
        ),
        // Inside one report, a CTE redefining an agreed column is followed.
        (
            "models/rpt_cte.sql",
            "with e as (select clicks * 100 as clicks, impressions from {{ ref('stg_events') }})\nselect sum(clicks) / nullif(sum(impressions), 0) as ctr from e\n",
        ),
    ]);
    let (_, doc) = check_json(&[dir.path().to_str().unwrap()]);
    let got = file_codes(&doc);
    assert_eq!(
        got,
        vec![
            // `count(*) as impressions` is itself a drift of impressions.
            ("int_daily.sql".to_string(), "ML001".to_string()),
            ("rpt_cte.sql".to_string(), "ML004".to_string()),
            ("rpt_rows.sql".to_string(), "ML001".to_string()),
        ],
        "{doc:#}"
    );
}

#[test]
fn a_dbt_project_of_39_models_and_3_analyses_is_analysed_whole_and_its_drifts_found() {
    // With only the built-in pack, every planted drift is found too; the
    // pack leaves one (ctr over row counts) to the repository's majority.
    let (_, pack_only) = check_json(&["fixtures/dbt_ads"]);
    let planted: Vec<(String, u64)> = findings(&pack_only)
        .into_iter()
        .map(|(_, path, line, _)| (path, line))
        .collect();
    assert_eq!(planted.len(), 10, "{pack_only:#}");
    assert!(findings(&pack_only).contains(&row(
        "ML010",
        "fixtures/dbt_ads/models/marts/rpt_creative_performance.sql",
        8,
        "ctr"
    )));
    // A team that adopts the pack agrees on its columns: each drift gets its
    // own rule.
    let pack = adopted_pack();
    let (code, doc) = check_json(&["fixtures/dbt_ads", "--registry", pack.1.as_str()]);
    assert_eq!(code, 1);
    // Every model and analysis is analysed: nothing unrenderable, unparsable
    // or unknown. The installed package's model gives lineage, and is not
    // reported on.
    assert_eq!(doc["summary"]["files"], 42);
    let got: Vec<(String, u64, u64, String, String)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("fixtures/dbt_ads/")
                    .to_string(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
                f["code"].as_str().unwrap().to_string(),
                f["metric"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect();
    let expected = [
        ("analyses/fill_rate_by_tier.sql", 5, 5, "ML005", "fill_rate"),
        ("analyses/roas_readout.sql", 7, 5, "ML004", "roas"),
        (
            "models/marts/rpt_advertiser_summary.sql",
            11,
            5,
            "ML004",
            "ctr",
        ),
        (
            "models/marts/rpt_campaign_monthly.sql",
            9,
            5,
            "ML005",
            "ctr",
        ),
        (
            "models/marts/rpt_creative_performance.sql",
            8,
            5,
            "ML001",
            "ctr",
        ),
        ("models/marts/rpt_deal_pricing.sql", 10, 5, "ML004", "cpm"),
        (
            "models/marts/rpt_exchange_health.sql",
            10,
            5,
            "ML001",
            "win_rate",
        ),
        (
            "models/marts/rpt_exchange_quality.sql",
            7,
            5,
            "ML010",
            "ivt_rate",
        ),
        (
            "models/marts/rpt_marketing_dashboard.sql",
            8,
            5,
            "ML011",
            "ctr",
        ),
        (
            "models/marts/rpt_prebid_s2s.sql",
            8,
            5,
            "ML002",
            "s2s_share",
        ),
    ];
    let expected: Vec<(String, u64, u64, String, String)> = expected
        .iter()
        .map(|(p, l, c, code, m)| (p.to_string(), *l, *c, code.to_string(), m.to_string()))
        .collect();
    assert_eq!(got, expected, "{doc:#}");
}

#[test]
fn refs_resolve_within_their_own_dbt_project() {
    let dir = project(&[
        ("p1/dbt_project.yml", "name: p1\n"),
        ("p2/dbt_project.yml", "name: p2\n"),
        (
            "p1/models/stg.sql",
            "select integration as integration_type, imps as impressions from {{ source('raw', 'a') }}\n",
        ),
        (
            "p2/models/stg.sql",
            "select imps as impressions from {{ source('raw', 'b') }}\n",
        ),
        (
            "p1/models/rpt.sql",
            "select sum(case when integration_type = 's2s' then impressions else 0 end) / nullif(sum(impressions), 0) as s2s_share\nfrom {{ ref('stg') }}\nwhere integration_type = 's2s'\n",
        ),
    ]);
    let (p1, p2) = (dir.path().join("p1"), dir.path().join("p2"));
    // p1's rpt reads p1's stg, whichever order the projects are given in.
    for order in [[&p1, &p2], [&p2, &p1]] {
        let (_, doc) = check_json(&[order[0].to_str().unwrap(), order[1].to_str().unwrap()]);
        let codes: Vec<&str> = doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap())
            .collect();
        assert_eq!(codes, ["ML002"], "{doc:#}");
    }
}

#[test]
fn upstream_columns_made_by_uncomparable_sql_are_read_by_name_for_drift() {
    let dir = project(&[
        ("dbt_project.yml", "name: h\n"),
        (
            "models/stg.sql",
            "select lower(trim(exchange_name)) as exchange, win_cnt as wins, 1 as conversions\nfrom {{ source('raw', 'log') }}\n",
        ),
        (
            "models/a.sql",
            "select sum(case when exchange = 'xandr' then wins else 0 end) as xandr_wins, sum(conversions) as conversions\nfrom {{ ref('stg') }}\n",
        ),
        (
            "models/b.sql",
            "select sum(case when exchange = 'xandr' then wins else 0 end) as xandr_wins\nfrom {{ ref('stg') }}\n",
        ),
        (
            "models/c.sql",
            "select sum(case when exchange = 'xandr' then 1 else 0 end) as xandr_wins\nfrom {{ ref('stg') }}\n",
        ),
    ]);
    let (_, doc) = check_json(&[dir.path().to_str().unwrap()]);
    let got = file_codes(&doc);
    // `exchange` is the same column for the three reports, whatever made it;
    // `1 as conversions` in staging defines the column, it computes nothing.
    assert_eq!(got, [("c.sql".to_string(), "ML010".to_string())], "{doc:#}");
    let output = metriclint()
        .args(["metrics", dir.path().to_str().unwrap(), "--format", "json"])
        .output()
        .unwrap();
    let inventory: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let text = inventory.to_string();
    assert!(text.contains("xandr_wins"), "{inventory:#}");
}

#[test]
fn messages_name_columns_as_the_report_reads_them_not_as_staging_found_them() {
    let dir = team_project(&[
        ("dbt_project.yml", "name: p\n"),
        (
            "models/stg_bids.sql",
            "select bid_request_cnt as bid_requests, win_cnt as wins, bid_cnt as bids\nfrom {{ source('raw', 'bids') }}\n",
        ),
        (
            "models/rpt_wins.sql",
            "select sum(wins) / nullif(sum(bid_requests), 0) as win_rate\nfrom {{ ref('stg_bids') }}\n",
        ),
    ]);
    let (_, doc) = check_json(&[dir.path().to_str().unwrap()]);
    let messages: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert_eq!(messages.len(), 1, "{doc:#}");
    assert!(
        messages[0]
            .contains("the denominator is sum(bid_requests) where the registry has sum(bids)"),
        "{}",
        messages[0]
    );
    assert!(!messages[0].contains("bid_request_cnt"), "{}", messages[0]);
}

#[test]
fn unregistered_metrics_are_compared_within_their_own_dbt_project() {
    let ratio = |denominator: &str| {
        format!("select sum(ivt_impressions) / sum({denominator}) as ivt_share\nfrom raw.events\n")
    };
    let (measured, all) = (ratio("measurable_impressions"), ratio("impressions"));
    let dir = project(&[
        ("p1/dbt_project.yml", "name: p1\n"),
        ("p2/dbt_project.yml", "name: p2\n"),
        ("p1/models/a.sql", &all),
        ("p1/models/b.sql", &all),
        ("p2/models/c.sql", &measured),
    ]);
    let (_, doc) = check_json(&[dir.path().to_str().unwrap()]);
    assert_eq!(file_codes(&doc), vec![], "{doc:#}");
    // In one project, the odd one out is flagged.
    std::fs::write(dir.path().join("p1/models/c.sql"), &measured).unwrap();
    let (_, doc) = check_json(&[dir.path().to_str().unwrap()]);
    assert_eq!(
        file_codes(&doc),
        vec![("c.sql".to_string(), "ML010".to_string())],
        "{doc:#}"
    );
    assert!(doc["findings"][0]["path"].as_str().unwrap().contains("p1"));
}

#[test]
fn analyses_are_checked_from_the_projects_analysis_paths_and_never_ref_targets() {
    let dir = team_project(&[
        ("dbt_project.yml", "name: p\nanalysis-paths: [\"adhoc\"]\n"),
        (
            "models/stg.sql",
            "select imps as impressions, clicks from {{ source('raw', 'events') }}\n",
        ),
        // Same name as the model: a ref() still means the model.
        (
            "adhoc/stg.sql",
            "select sum(clicks) / count(*) as ctr from {{ ref('stg') }}\n",
        ),
        (
            "models/rpt.sql",
            "select sum(clicks) / nullif(sum(impressions), 0) as ctr from {{ ref('stg') }}\n",
        ),
        // Neither a model nor an analysis of the project: not a report.
        (
            "scripts/one_off.sql",
            "select sum(clicks) / count(*) as ctr from events\n",
        ),
    ]);
    let (_, doc) = check_json(&[dir.path().to_str().unwrap()]);
    assert_eq!(doc["summary"]["files"], 3, "{doc:#}");
    let got: Vec<(String, String)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let path = f["path"].as_str().unwrap();
            let shown = path.strip_prefix(dir.path().to_str().unwrap()).unwrap();
            (shown.to_string(), f["code"].as_str().unwrap().to_string())
        })
        .collect();
    assert_eq!(
        got,
        vec![("/adhoc/stg.sql".to_string(), "ML001".to_string())],
        "{doc:#}"
    );
}

#[test]
fn render_prints_the_sql_metriclint_reads_and_fails_on_template_errors() {
    let dir = project(&[
        ("dbt_project.yml", "name: p\nvars:\n  days: 7\n"),
        (
            "macros/ratio.sql",
            "{% macro ratio(a, b) %}{{ return(dbt.safe_divide(a, b)) }}{% endmacro %}\n",
        ),
        (
            "models/rpt.sql",
            "select {{ ratio('sum(clicks)', 'sum(impressions)') }} as ctr\nfrom {{ ref('stg') }}\nwhere d > {{ var('days') }} and {{ missing_macro() }}\n",
        ),
        ("models/broken.sql", "select 1\n{% if %}\n"),
    ]);
    let output = metriclint()
        .args([
            "render",
            dir.path().join("models/rpt.sql").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "select ( sum(clicks) ) / nullif( ( sum(impressions) ), 0) as ctr\nfrom stg\nwhere d > 7 and __jinja_missing_macro\n"
    );
    assert!(String::from_utf8_lossy(&output.stderr)
        .contains("macro `missing_macro` is defined nowhere"));
    let output = metriclint()
        .args([
            "render",
            dir.path().join("models/broken.sql").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("broken.sql:2:"));
}

#[test]
fn a_source_mismatch_names_what_the_report_reads_not_its_whole_lineage() {
    // A team registry that requires every report's spend to come from the
    // event fact table (a Semantic Layer's model does not: see
    // `a_semantic_models_model_is_where_it_computes_not_what_every_model_reads`).
    let dir = tempfile::tempdir().unwrap();
    let registry = dir.path().join("metrics.yaml");
    std::fs::write(
        &registry,
        "version: 1\nmetrics:\n  - name: spend\n    sql: sum(spend)\n    source: fct_ad_events\n",
    )
    .unwrap();
    let (_, doc) = check_json(&["fixtures/dbt_ads", "--registry", registry.to_str().unwrap()]);
    let message = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "ML003" && f["path"].as_str().unwrap().ends_with("roas_readout.sql"))
        .map(|f| f["message"].as_str().unwrap().to_string())
        .expect("an ML003 in roas_readout.sql");
    assert_eq!(
        message,
        "spend is computed from fct_campaign_daily (and 17 relations upstream of it), but the registry says it comes from fct_ad_events"
    );
}

#[test]
fn project_scoped_vars_win_and_vars_holding_jinja_are_rendered() {
    let dir = team_project(&[
        (
            "dbt_project.yml",
            "name: ads\nvars:\n  window: 30\n  ads:\n    window: 7\n    events: \"{{ ref('stg_events') }}\"\n",
        ),
        (
            "models/stg_events.sql",
            "select campaign, sum(clicks) as clicks, count(*) as impressions\nfrom {{ source('raw', 'events') }}\ngroup by 1\n",
        ),
        (
            "models/rpt.sql",
            "select sum(clicks) / nullif(sum(impressions), 0) as ctr\nfrom {{ var('events') }}\nwhere d > {{ var('window') }}\n",
        ),
    ]);
    let output = metriclint()
        .args([
            "render",
            dir.path().join("models/rpt.sql").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "select sum(clicks) / nullif(sum(impressions), 0) as ctr\nfrom stg_events\nwhere d > 7\n"
    );
    // The ref() inside the var is a ref of the model: lineage follows it to
    // the staging model's count(*), a drift in both.
    let (_, doc) = check_json(&[dir.path().to_str().unwrap()]);
    assert_eq!(
        file_codes(&doc),
        vec![
            ("rpt.sql".to_string(), "ML001".to_string()),
            ("stg_events.sql".to_string(), "ML001".to_string()),
        ],
        "{doc:#}"
    );
}

#[test]
fn installed_packages_models_give_lineage_and_are_not_reported() {
    let dir = team_project(&[
        ("dbt_project.yml", "name: ads_reporting\n"),
        ("dbt_packages/ads_source/dbt_project.yml", "name: ads_source\n"),
        (
            "dbt_packages/ads_source/macros/cols.sql",
            "{% macro event_columns() %}{{ return(['clicks', 'impressions']) }}{% endmacro %}\n",
        ),
        // The package's staging model: its own drift is not the project's to fix.
        (
            "dbt_packages/ads_source/models/stg_ads__events.sql",
            "select campaign_id, sum(clicks) as clicks, count(*) as impressions\nfrom {{ source('ads', 'events') }}\ngroup by 1\n",
        ),
        (
            "dbt_packages/ads_source/models/stg_ads__rollup.sql",
            "select campaign_id, {{ ads_source.event_columns() | join(', ') }}\nfrom {{ ref('stg_ads__events') }}\n",
        ),
        (
            "models/rpt_ctr.sql",
            "select sum(clicks) / nullif(sum(impressions), 0) as ctr\nfrom {{ ref('stg_ads__rollup') }}\n",
        ),
    ]);
    let (_, doc) = check_json(&[dir.path().to_str().unwrap()]);
    // Only the project's model is reported, judged through the package's
    // models down to their count(*).
    assert_eq!(doc["summary"]["files"], 1, "{doc:#}");
    assert_eq!(
        file_codes(&doc),
        vec![("rpt_ctr.sql".to_string(), "ML001".to_string())],
        "{doc:#}"
    );
    let message = doc["findings"][0]["message"].as_str().unwrap();
    assert!(message.contains("count(*)"), "{message}");
}

#[test]
fn unregistered_metrics_agree_by_source_column_or_by_the_name_reports_read() {
    let dir = team_project(&[
        ("dbt_project.yml", "name: p\n"),
        // Two connectors' staging models define `spend` and `clicks` each
        // their own way.
        (
            "models/stg_google.sql",
            "select day, cost_micros / 1000000.0 as spend, clicks from {{ source('google', 'stats') }}\n",
        ),
        (
            "models/stg_meta.sql",
            "select day, spend_usd as spend, link_clicks as clicks from {{ source('meta', 'insights') }}\n",
        ),
        // Same formula over the names both define: one metric.
        (
            "models/rpt_google.sql",
            "select day, sum(spend) / nullif(sum(clicks), 0) as blended_cost from {{ ref('stg_google') }} group by 1\n",
        ),
        (
            "models/rpt_meta.sql",
            "select day, sum(spend) / nullif(sum(clicks), 0) as blended_cost from {{ ref('stg_meta') }} group by 1\n",
        ),
        // Same raw column under another name: the same metric too.
        (
            "models/rpt_meta_raw.sql",
            "select day, sum(spend_usd) / nullif(sum(link_clicks), 0) as blended_cost from {{ source('meta', 'insights') }} group by 1\n",
        ),
        // Near miss: another denominator, in either terms.
        (
            "models/rpt_odd.sql",
            "select day, sum(spend) / nullif(count(*), 0) as blended_cost from {{ ref('stg_meta') }} group by 1\n",
        ),
    ]);
    let (_, doc) = check_json(&[dir.path().to_str().unwrap()]);
    assert_eq!(
        file_codes(&doc),
        vec![("rpt_odd.sql".to_string(), "ML010".to_string())],
        "{doc:#}"
    );
    let message = doc["findings"][0]["message"].as_str().unwrap();
    assert!(
        message.contains(
            "sum(spend) / count(*) here, but as sum(spend) / sum(clicks) in 3 other reports"
        ),
        "{message}"
    );
}

#[test]
fn columns_named_for_base_metrics_and_constant_staging_columns_are_no_drift() {
    let dir = project(&[
        ("dbt_project.yml", "name: p\n"),
        // A connector's staging model fills columns the source lacks with
        // constants, through a CTE.
        (
            "models/stg_ads.sql",
            "with fields as (\n  select cast(null as int) as paid_clicks, cast(null as int) as earned_clicks,\n    cast(null as int) as imps, 0 as conv, cast(null as numeric) as cost_micros\n  from {{ source('ads', 'report') }}\n)\nselect coalesce(paid_clicks, 0) + coalesce(earned_clicks, 0) as clicks,\n  coalesce(imps, 0) as impressions, conv as total_conversions, cost_micros / 1000000.0 as cost\nfrom fields\n",
        ),
        (
            "models/rpt_ads.sql",
            "select\n  sum(clicks) / nullif(sum(impressions), 0) as ctr,\n  sum(total_conversions) as total_conversions,\n  sum(cost) / nullif(sum(clicks), 0) as cpc,\n  sum(clicks) / nullif(sum(total_conversions), 0) as cpa\nfrom {{ ref('stg_ads') }}\n",
        ),
    ]);
    let (_, doc) = check_json(&[dir.path().to_str().unwrap()]);
    // Only the near miss: cpa divides clicks, not spend, by conversions.
    let got = metric_codes(&doc);
    assert_eq!(
        got,
        vec![("cpa".to_string(), "ML001".to_string())],
        "{doc:#}"
    );
    let message = doc["findings"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("the numerator is sum(clicks) where the built-in pack has sum(spend)"),
        "{message}"
    );
}

#[test]
fn a_model_unioning_upstream_models_by_their_columns_is_rendered_with_them() {
    // A package macro in the shape of dbt_utils.union_relations: it asks the
    // warehouse for each relation's columns, which offline are the upstream
    // models' outputs once they are known.
    let union_macro = "{% macro union_all(relations, include=[]) %}\n\
        {%- if not execute %}{{ return('') }}{% endif -%}\n\
        {%- set superset = {} -%}{%- set by_relation = {} -%}\n\
        {%- for relation in relations -%}\n\
          {%- do by_relation.update({relation: []}) -%}\n\
          {%- for col in adapter.get_columns_in_relation(relation) if not include or col.column in include -%}\n\
            {%- do by_relation[relation].append(col.column) -%}{%- do superset.update({col.column: col}) -%}\n\
          {%- endfor -%}\n\
        {%- endfor -%}\n\
        {%- if not superset -%}{{ exceptions.raise_compiler_error('no columns found to union') }}{%- endif -%}\n\
        {%- for relation in relations %}\n\
        select '{{ relation.identifier }}' as platform\n\
          {%- for name in superset.keys() %}, {{ name if name in by_relation[relation] else 'null' }} as {{ name }}{% endfor %}\n\
        from {{ relation }}{% if not loop.last %} union all{% endif %}\n\
        {%- endfor %}\n\
        {% endmacro %}\n";
    let dir = team_project(&[
        ("dbt_project.yml", "name: p\n"),
        ("dbt_packages/unions/dbt_project.yml", "name: unions\n"),
        ("dbt_packages/unions/macros/union_all.sql", union_macro),
        (
            "models/google.sql",
            "select day, clicks, impressions from {{ source('google', 'stats') }}\n",
        ),
        (
            "models/meta.sql",
            "select day, link_clicks as clicks, count(*) over () as impressions, reach from {{ source('meta', 'insights') }}\n",
        ),
        (
            "models/all_platforms.sql",
            "with unioned as (\n{{ unions.union_all([ref('google'), ref('meta')], include=['clicks', 'impressions']) }}\n)\nselect platform, sum(clicks) / nullif(sum(impressions), 0) as ctr\nfrom unioned\ngroup by 1\n",
        ),
    ]);
    let (_, doc) = check_json(&[dir.path().to_str().unwrap()]);
    // Rendered with the upstream columns: no template error, and the ratio
    // read through the union, where the two branches define impressions
    // differently (not comparable: no finding).
    let codes: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(
        !codes.contains(&"ML901") && !codes.contains(&"ML900"),
        "{doc:#}"
    );
    assert_eq!(doc["summary"]["files"], 3);
    // The same union over two models that agree is judged, and passes.
    std::fs::write(
        dir.path().join("models/meta.sql"),
        "select day, link_clicks as clicks, impressions from {{ source('meta', 'insights') }}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("models/all_platforms.sql"),
        "with unioned as (\n{{ unions.union_all([ref('google'), ref('meta')], include=['clicks', 'impressions']) }}\n)\nselect platform, sum(clicks) / count(*) as ctr\nfrom unioned\ngroup by 1\n",
    )
    .unwrap();
    let (_, doc) = check_json(&[dir.path().to_str().unwrap()]);
    assert_eq!(
        file_codes(&doc),
        vec![("all_platforms.sql".to_string(), "ML001".to_string())],
        "{doc:#}"
    );
}

#[test]
fn a_synonym_of_a_base_metric_reached_through_a_rename_is_that_metric() {
    let dir = project(&[
        ("dbt_project.yml", "name: p\n"),
        (
            "models/stg.sql",
            "select cost_in_usd as cost, imps as impressions from {{ source('ads', 'stats') }}\n",
        ),
        (
            "models/mart.sql",
            "select sum(cost) * 1000 / nullif(sum(impressions), 0) as cpm from {{ ref('stg') }}\n",
        ),
    ]);
    let (_, doc) = check_json(&[dir.path().to_str().unwrap()]);
    assert_eq!(file_codes(&doc), vec![], "{doc:#}");
}

#[test]
fn installed_packages_see_the_installing_projects_vars_and_any_spelling_of_their_path() {
    let dir = project(&[
        (
            "dbt_project.yml",
            "name: root\nvars:\n  ads_pkg:\n    ads_pkg__unique: true\n",
        ),
        (
            "dbt_packages/ads_pkg/dbt_project.yml",
            "name: ads_pkg\nvars:\n  ads_pkg:\n    ads_pkg__unique: false\n",
        ),
        (
            "dbt_packages/ads_pkg/models/ads_rollup.sql",
            "select sum(clicks) as clicks,\n  {% if var('ads_pkg__unique') %}sum(unique_impressions){% else %}sum(impressions){% endif %} as impressions\nfrom {{ source('ads', 'events') }}\n",
        ),
        (
            "models/mart.sql",
            "select sum(clicks) / nullif(sum(impressions), 0) as ctr from {{ ref('ads_rollup') }}\n",
        ),
    ]);
    // The root's var (true) wins over the package's own (false): the mart
    // divides by unique impressions.
    // A team registry that adopts the pack: its columns are the agreed ones.
    let registry = dir.path().join("metrics.yaml");
    std::fs::write(
        &registry,
        "version: 1\nextends: [programmatic]\nmetrics: []\n",
    )
    .unwrap();
    let registry = registry.to_str().unwrap();
    let (_, doc) = check_json(&[dir.path().to_str().unwrap(), "--registry", registry]);
    assert_eq!(
        file_codes(&doc),
        vec![("mart.sql".to_string(), "ML001".to_string())],
        "{doc:#}"
    );
    // Named on the command line, a package's model is reported, by an
    // absolute path or through `..`.
    let model = dir
        .path()
        .join("dbt_packages/ads_pkg/models/ads_rollup.sql");
    let roundabout = dir
        .path()
        .join("models/../dbt_packages/ads_pkg/models/ads_rollup.sql");
    for path in [model, roundabout] {
        let (_, doc) = check_json(&[path.to_str().unwrap(), "--registry", registry]);
        assert_eq!(doc["summary"]["files"], 1, "{doc:#}");
        assert_eq!(
            file_codes(&doc),
            vec![("ads_rollup.sql".to_string(), "ML001".to_string())],
            "{doc:#}"
        );
    }
}

#[test]
fn packages_calling_each_other_without_end_are_a_template_error_not_a_crash() {
    let dir = project(&[
        ("dbt_project.yml", "name: p\n"),
        ("dbt_packages/a/dbt_project.yml", "name: a\n"),
        ("dbt_packages/b/dbt_project.yml", "name: b\n"),
        ("dbt_packages/a/macros/x.sql", "{% macro x() %}{{ b.y() }}{% endmacro %}\n"),
        ("dbt_packages/b/macros/y.sql", "{% macro y() %}{{ a.x() }}{% endmacro %}\n"),
        ("models/m.sql", "select {{ a.x() }} from t\n"),
        // A namespace holding itself, or a dict that holds it.
        (
            "models/namespaces.sql",
            "{% set ns = namespace(x=1) %}{% set ns.me = ns %}{% set d = {} %}{% set ns2 = namespace(d=d) %}{% do d.update({'ns': ns2}) %}select {{ ns.x }} as x, {{ d | length }} as n, {{ (ns.me is none) | lower }} as cut from t\n",
        ),
        // A list or dict holding itself.
        (
            "models/lists.sql",
            "{% set l = [1] %}{% do l.append(l) %}{% do l.extend(l) %}{% set d = {} %}{% do d.update({'d': d}) %}select {{ l | length }} as n, {{ d | length }} as d from t\n",
        ),
    ]);
    let (code, doc) = check_json(&[dir.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(
        file_codes(&doc),
        vec![("m.sql".to_string(), "ML901".to_string())],
        "{doc:#}"
    );
    let message = doc["findings"][0]["message"].as_str().unwrap();
    assert!(message.contains("without end"), "{message}");
}

#[test]
fn a_left_joined_models_filters_apply_to_its_own_columns_only() {
    let registry = "version: 1\nmetrics:\n  - name: ctr\n    filter: is_test = false\n    sql: SUM(clicks) / SUM(impressions)\n  - name: fill_rate\n    filter: is_test = false\n    sql: SUM(filled_requests) / SUM(ad_requests)\n";
    let dir = project(&[
        ("dbt_project.yml", "name: p\n"),
        ("metrics.yaml", registry),
        (
            "models/supply.sql",
            "select publisher_id, ad_requests, filled_requests from raw.supply\nwhere region = 'eu' and not is_test\n",
        ),
        (
            "models/delivery.sql",
            "select publisher_id, impressions, clicks from raw.delivery\n",
        ),
        (
            "models/rpt.sql",
            "select\n  sum(d.clicks) / sum(d.impressions) as ctr,\n  sum(s.filled_requests) / sum(s.ad_requests) as fill_rate\nfrom {{ ref('delivery') }} as d\nleft join {{ ref('supply') }} as s on d.publisher_id = s.publisher_id\n",
        ),
    ]);
    let registry_path = dir.path().join("metrics.yaml");
    let (_, doc) = check_json(&[
        dir.path().join("models").to_str().unwrap(),
        "--registry",
        registry_path.to_str().unwrap(),
    ]);
    // Delivery's rows are all kept: ctr lacks the test-traffic filter. Supply's
    // filter holds for its own columns (its region is the report's slice).
    let got = metric_codes(&doc);
    assert_eq!(
        got,
        vec![("ctr".to_string(), "ML002".to_string())],
        "{doc:#}"
    );
}

#[test]
fn a_column_of_one_registered_metric_renamed_to_another_is_still_the_first() {
    let dir = project(&[
        ("dbt_project.yml", "name: p\n"),
        (
            "models/stg.sql",
            "select revenue as spend, revenue as media_cost, impressions, spend_usd from {{ source('ads', 'stats') }}\n",
        ),
        (
            "models/mart.sql",
            "select\n  sum(spend) * 1000 / nullif(sum(impressions), 0) as cpm,\n  sum(media_cost) / nullif(sum(impressions), 0) * 1000 as cost_per_mille,\n  sum(spend_usd) * 1000 / nullif(sum(impressions), 0) as cpm_usd\nfrom {{ ref('stg') }}\n",
        ),
    ]);
    let (_, doc) = check_json(&[dir.path().to_str().unwrap()]);
    let got = line_codes(&doc);
    // Revenue is no spend, under either name; `spend_usd` is spend in USD.
    assert_eq!(
        got,
        vec![(2, "ML001".to_string()), (3, "ML001".to_string())],
        "{doc:#}"
    );
}

#[test]
fn a_metric_compared_by_reports_is_never_judged_against_its_body() {
    let dir = project(&[
        (
            "metrics.yaml",
            "version: 1\nmetrics:\n  - name: ad_load\n    compare: reports\n    sql: SUM(ad_impressions) / SUM(pageviews)\n",
        ),
        ("a.sql", "select sum(ad_impressions) / sum(pageviews) as ad_load from s"),
        ("b.sql", "select sum(ad_impressions) / sum(pageviews) as ad_load from s where x = 1"),
        ("c.sql", "select sum(ad_slots) / sum(pageviews) as ad_load from s"),
    ]);
    let registry = dir.path().join("metrics.yaml");
    let (code, doc) = check_json(&[
        dir.path().to_str().unwrap(),
        "--registry",
        registry.to_str().unwrap(),
    ]);
    // The minority report, against the other reports (a warning), not ML001.
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(
        file_codes(&doc),
        vec![("c.sql".to_string(), "ML010".to_string())],
        "{doc:#}"
    );
    // Any other value is a registry error.
    let (code, message) = registry_error(
        "version: 1\nmetrics:\n  - name: ad_load\n    compare: sometimes\n    sql: SUM(a) / SUM(b)\n",
    );
    assert_eq!(code, 2);
    assert!(message.contains("compare: sometimes"), "{message}");
}

#[test]
fn a_model_that_refs_itself_is_a_cycle_of_one() {
    let dir = project(&[
        (
            "dbt_project.yml",
            "name: shop\nversion: '1'\nmodel-paths: [models]\n",
        ),
        (
            "models/orders.sql",
            "select id, sum(amount) as revenue from {{ ref('orders') }} group by 1",
        ),
        (
            "models/daily.sql",
            "select day, sum(revenue) as revenue from {{ ref('orders') }} group by 1",
        ),
    ]);
    let (_, doc) = check_json(&[dir.path().to_str().unwrap(), "--isolated"]);
    let codes = file_codes(&doc);
    assert!(
        codes.contains(&("orders.sql".to_string(), "ML903".to_string())),
        "{codes:?}"
    );
    assert!(
        !codes.contains(&("daily.sql".to_string(), "ML903".to_string())),
        "{codes:?}"
    );
}

#[test]
fn registry_files_are_read_bounded_and_errors_say_why() {
    let dir = project(&[("a.sql", "select 1 as x")]);
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, [0xff, 0xfe, b'\n']).unwrap();
    let output = check_with_registry(dir.path(), &bad);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    // (miette wraps long messages: compared without the wrapping.)
    let unwrapped: String = stderr
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '│')
        .collect();
    assert!(
        unwrapped.contains("notUTF-8text(invalidbyteatline1,column1)"),
        "{stderr}"
    );
    assert!(!stderr.contains("pass an existing file"), "{stderr}");
    // A report given as the registry.
    let output = check_with_registry(dir.path(), &dir.path().join("a.sql"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("a.sql holds SQL, not a registry"),
        "{stderr}"
    );
    if std::path::Path::new("/dev/zero").exists() {
        let output = metriclint()
            .args(["check", dir.path().to_str().unwrap(), "--isolated"])
            .args(["--registry", "/dev/zero"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("larger than 16 MiB"), "{stderr}");
    }
}

#[test]
fn snippets_are_drawn_from_what_was_checked_not_the_file_on_disk() {
    let dir = project(&[(
        "report.sql",
        "select 1 as unrelated_column_on_disk from t\n",
    )]);
    let output = metriclint()
        .current_dir(dir.path())
        .args(["check", "--stdin-filename", "report.sql", "--isolated"])
        .args(["--format", "human"])
        .write_stdin("select 1000 * sum(clicks) / sum(impressions) as ctr from t\n")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("ML004"), "{stdout}");
    assert!(
        stdout.contains("1000 * sum(clicks) / sum(impressions)"),
        "{stdout}"
    );
    assert!(!stdout.contains("unrelated_column_on_disk"), "{stdout}");
}

#[test]
fn a_registry_error_on_a_non_ascii_character_is_drawn_not_a_crash() {
    let dir = project(&[("s.sql", "select 1 as x")]);
    let registry = dir.path().join("r.yaml");
    std::fs::write(
        &registry,
        "version: 1\nmetrics:\n  - name: clicks\n    agg: sum\n  - name: ctr\n    sql: SUM(clicks) / ¤ \n",
    )
    .unwrap();
    let output = check_with_registry(dir.path(), &registry);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot parse SQL expression"), "{stderr}");
}

/// With a registry `filter`, a message shows the forms without the filter
/// both apply (it would repeat in every aggregate), and the help says the
/// filter and the source once, where the agreement is.
#[test]
fn a_registered_filter_is_said_once_in_the_help_not_in_every_aggregate() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("metrics.yaml"),
        "version: 1\nmetrics:\n  - name: ctr\n    unit: fraction\n    sql: SUM(clicks) / NULLIF(SUM(impressions), 0)\n    filter: is_test = false\n    source: fct_ad_events\n",
    )
    .unwrap();
    // The report's output in `format`, read as one run of words (the human
    // output wraps lines), and the exit code.
    let check = |report: &str, format: &str| {
        std::fs::write(dir.path().join("report.sql"), report).unwrap();
        let out = Command::cargo_bin("metriclint")
            .unwrap()
            .current_dir(dir.path())
            .args([
                "check",
                "report.sql",
                "--isolated",
                "--registry",
                "metrics.yaml",
            ])
            .args(["--format", format])
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout)
            .replace('│', " ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        (out.status.code(), text)
    };
    let (code, text) = check(
        "select campaign_id, sum(clicks) / count(*) as ctr from fct_ad_events where is_test = false group by 1\n",
        "human",
    );
    assert_eq!(code, Some(1));
    assert!(
        text.contains("ctr is computed as sum(clicks) / count(*), but the registry defines it as sum(clicks) / sum(impressions)"),
        "{text}"
    );
    assert!(!text.contains("filter (where"), "{text}");
    assert!(
        text.contains("over rows where is_test = false, from fct_ad_events"),
        "{text}"
    );
    // A report that leaves the filter out is told so, filter and all.
    let (_, text) = check(
        "select campaign_id, sum(clicks) / sum(impressions) as ctr from fct_ad_events group by 1\n",
        "concise",
    );
    assert!(text.contains("ML002"), "{text}");
    assert!(text.contains("is_test = false"), "{text}");
}

/// Dune and devstats queries take parameters as `{{2. Start date}}` or
/// `{{period:c.created_at}}`, holes Jinja cannot read: outside dbt they are
/// names, and the query around them is checked (its inverted CTR found, at
/// the line and column written). Inside a dbt project the same hole is a
/// template error, as dbt would report it.
#[test]
fn other_tools_query_parameters_are_names_outside_dbt() {
    const QUERY: &str = "select sum(impressions) / nullif(sum(clicks), 0) as ctr\nfrom ads\nwhere day >= timestamp '{{2. Start date}}' and {{period:day}}\n";
    let dir = project(&[("dune/ctr.sql", QUERY)]);
    let (_, doc) = check_json(&[dir.path().join("dune").to_str().unwrap(), "--isolated"]);
    assert_eq!(
        file_codes(&doc),
        vec![("ctr.sql".to_string(), "ML001".to_string())],
        "{doc:#}"
    );
    assert_eq!(doc["findings"][0]["line"], 1, "{doc:#}");
    assert_eq!(doc["findings"][0]["column"], 8, "{doc:#}");
    let dir = project(&[("dbt_project.yml", "name: p\n"), ("models/ctr.sql", QUERY)]);
    let (_, doc) = check_json(&[dir.path().to_str().unwrap(), "--isolated"]);
    assert_eq!(
        file_codes(&doc),
        vec![("ctr.sql".to_string(), "ML901".to_string())],
        "{doc:#}"
    );
}

/// A registry in the dbt_metrics package's spec judges reports as the
/// Semantic Layer's does, and findings point back into its file.
#[test]
fn reports_are_checked_against_dbt_metrics_package_metrics() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("r.sql"),
        "SELECT SUM(spend) / SUM(impressions) AS cpm FROM analytics.fct_ad_events;\n\
         SELECT SUM(CASE WHEN integration_type = 's2s' THEN impressions END) / SUM(impressions) AS s2s_share FROM raw_events;\n\
         SELECT AVG(bid_price) AS avg_bid, COUNT(DISTINCT user_id) AS reach FROM analytics.fct_ad_events;\n",
    )
    .unwrap();
    let registry = "fixtures/dbt/semantic/ad_metrics_dbt_metrics.yml";
    let (code, doc) = check_json(&[dir.path().to_str().unwrap(), "--registry", registry]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(
        line_codes(&doc),
        vec![(1, "ML004".to_string()), (2, "ML003".to_string())],
        "{doc:#}"
    );
    let related = &doc["findings"][0]["related"][0];
    assert_eq!(related["path"], registry, "{doc:#}");
    assert_eq!(related["line"], 55, "{doc:#}");
}

/// A semantic model of ad events with two measures, for the Semantic Layer
/// tests below.
const AD_EVENTS_SEMANTIC_MODELS: &str = "semantic_models:\n  - name: ad_events\n    model: ref('fct_ad_events')\n    measures:\n      - name: spend\n        agg: sum\n      - name: impressions\n        agg: sum\n";

/// A per-mille CPM derived from the two measures, in a file of its own.
const CPM_OF_TWO_MEASURES: &str = "metrics:\n  - name: cpm\n    type: derived\n    type_params:\n      expr: spend_metric * 1000 / impressions_metric\n      metrics:\n        - name: spend_metric\n        - name: impressions_metric\n  - name: spend_metric\n    type: simple\n    type_params:\n      measure: spend\n  - name: impressions_metric\n    type: simple\n    type_params:\n      measure: impressions\n";

/// `--registry dbt` (or `registry: [dbt]` in the config) reads the dbt
/// project's Semantic Layer YAML under its model paths, all files together.
#[test]
fn registry_dbt_is_the_projects_semantic_layer() {
    let files: &[(&str, &str)] = &[
        ("dbt_project.yml", "name: ads\nversion: '1.0'\n"),
        ("models/semantic/ad_events.yml", AD_EVENTS_SEMANTIC_MODELS),
        ("models/semantic/metrics.yml", CPM_OF_TWO_MEASURES),
        (
            "models/schema.yml",
            "version: 2\nmodels:\n  - name: fct_ad_events\n",
        ),
        (
            "models/report.sql",
            "select sum(spend) / sum(impressions) as cpm from {{ ref('fct_ad_events') }}\n",
        ),
        ("models/fct_ad_events.sql", "select * from raw_events\n"),
    ];
    let dir = project(files);
    let (_, doc) = check_json(&[
        dir.path().to_str().unwrap(),
        "--isolated",
        "--registry",
        "dbt",
    ]);
    assert_eq!(
        file_codes(&doc),
        vec![("report.sql".to_string(), "ML004".to_string())],
        "{doc:#}"
    );
    assert!(
        doc["findings"][0]["related"][0]["path"]
            .as_str()
            .unwrap()
            .ends_with("models/semantic/metrics.yml"),
        "{doc:#}"
    );
    // From the config too.
    std::fs::write(dir.path().join("metriclint.yaml"), "registry: [dbt]\n").unwrap();
    let (_, doc) = check_json(&[dir.path().to_str().unwrap()]);
    assert_eq!(
        file_codes(&doc),
        vec![("report.sql".to_string(), "ML004".to_string())],
        "{doc:#}"
    );
    // Run from the root of a repository that holds the project in a folder.
    let nested: Vec<(String, &str)> = files
        .iter()
        .map(|(path, text)| (format!("transform/{path}"), *text))
        .collect();
    let nested: Vec<(&str, &str)> = nested.iter().map(|(p, t)| (p.as_str(), *t)).collect();
    let repository = project(&nested);
    let (_, doc) = check_json(&[
        repository.path().to_str().unwrap(),
        "--isolated",
        "--registry",
        "dbt",
    ]);
    assert_eq!(
        file_codes(&doc),
        vec![("report.sql".to_string(), "ML004".to_string())],
        "{doc:#}"
    );
    // A project without Semantic Layer YAML says so.
    let bare = project(&files[..1]);
    let output = metriclint()
        .args(["check", bare.path().to_str().unwrap(), "--isolated"])
        .args(["--registry", "dbt"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("has no Semantic Layer YAML"), "{stderr}");
}

/// With no registry named, a dbt project's Semantic Layer is the registry
/// for the metrics it defines, and the built-in pack judges the rest as it
/// does alone (an inverted CTR, which the Semantic Layer does not define).
/// A Semantic Layer that cannot be read leaves the pack alone in force, and
/// says so.
#[test]
fn a_dbt_projects_semantic_layer_is_the_default_registry_beside_the_pack() {
    let semantic_models = AD_EVENTS_SEMANTIC_MODELS;
    let metrics = CPM_OF_TWO_MEASURES;
    let files = |metrics: &'static str| -> Vec<(&'static str, &'static str)> {
        vec![
            ("dbt_project.yml", "name: ads\nversion: '1.0'\n"),
            ("models/semantic/ad_events.yml", semantic_models),
            ("models/semantic/metrics.yml", metrics),
            (
                "models/report.sql",
                "select sum(spend) / sum(impressions) as cpm from {{ ref('fct_ad_events') }}\n",
            ),
            (
                "models/ctr_report.sql",
                "select sum(impressions) / sum(clicks) as ctr from {{ ref('fct_ad_events') }}\n",
            ),
            ("models/fct_ad_events.sql", "select * from raw_events\n"),
        ]
    };
    let related_of = |doc: &Value, file: &str| -> String {
        let finding = doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"].as_str().unwrap().ends_with(file))
            .unwrap_or_else(|| panic!("no finding in {file}: {doc:#}"));
        finding["related"][0]["path"].as_str().unwrap().to_string()
    };
    let dir = project(&files(metrics));
    let (_, doc) = check_json(&[dir.path().to_str().unwrap(), "--isolated"]);
    let mut codes = file_codes(&doc);
    codes.sort();
    assert_eq!(
        codes,
        vec![
            ("ctr_report.sql".to_string(), "ML001".to_string()),
            ("report.sql".to_string(), "ML004".to_string()),
        ],
        "{doc:#}"
    );
    assert!(
        related_of(&doc, "/report.sql").ends_with("models/semantic/metrics.yml"),
        "{doc:#}"
    );
    assert!(
        related_of(&doc, "ctr_report.sql").starts_with("<built-in>/"),
        "{doc:#}"
    );
    let settings = metriclint()
        .args([
            "check",
            dir.path().to_str().unwrap(),
            "--isolated",
            "--show-settings",
        ])
        .output()
        .unwrap();
    let settings = String::from_utf8_lossy(&settings.stdout);
    assert!(
        settings.contains("registry:  the dbt Semantic Layer of ")
            && settings
                .contains("(2 files), with the built-in pack programmatic for other metrics"),
        "{settings}"
    );

    // Near miss: a run over this project and another has no one agreement:
    // the pack judges alone, whichever path comes first.
    let other = project(&[
        ("dbt_project.yml", "name: other\nversion: '1.0'\n"),
        ("models/b.sql", "select sum(spend) as spend from raw.ads\n"),
    ]);
    for paths in [[dir.path(), other.path()], [other.path(), dir.path()]] {
        let (_, doc) = check_json(&[
            paths[0].to_str().unwrap(),
            paths[1].to_str().unwrap(),
            "--isolated",
        ]);
        assert!(
            related_of(&doc, "/report.sql").starts_with("<built-in>/"),
            "{doc:#}"
        );
        assert!(
            !file_codes(&doc).iter().any(|(f, _)| f == "b.sql"),
            "{doc:#}"
        );
    }

    // Near miss: a Semantic Layer that cannot be read (a metric of a
    // measure no semantic model has) is no registry; the pack judges alone.
    let broken = project(&files(
        "metrics:\n  - name: cpm\n    type: simple\n    type_params:\n      measure: no_such_measure\n",
    ));
    let output = metriclint()
        .args(["check", broken.path().to_str().unwrap(), "--isolated"])
        .args(["--format", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("warning: the dbt Semantic Layer of ")
            && stderr.contains("the built-in pack programmatic alone is in force"),
        "{stderr}"
    );
    let doc: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(
        related_of(&doc, "/report.sql").starts_with("<built-in>/"),
        "{doc:#}"
    );
}

/// `fixtures/dbt_semantic`: a dbt project whose Semantic Layer spans two
/// YAML files (the default registry, no `--registry` given), a macro called
/// through the project's own name, and a package macro missing from the
/// installed package (its model still analysed, the macro reported once).
#[test]
fn the_semantic_layer_fixture_finds_what_its_readme_says() {
    let (code, doc) = check_json(&["fixtures/dbt_semantic", "--isolated"]);
    assert_eq!(code, 1, "{doc:#}");
    let ours = |path: &str| {
        path.trim_start_matches("fixtures/dbt_semantic/")
            .to_string()
    };
    let found: Vec<(String, String, u64, String)> = findings(&doc)
        .into_iter()
        .map(|(code, path, line, metric)| (code, ours(&path), line, metric))
        .collect();
    let expected = [
        ("ML004", "analyses/cpm_readout.sql", 3, "cpm"),
        ("ML001", "models/marts/campaign_report.sql", 4, "ctr"),
        ("ML902", "models/staging/stg_ad_stats.sql", 11, "-"),
    ];
    let expected: Vec<(String, String, u64, String)> = expected
        .iter()
        .map(|(c, p, l, m)| (c.to_string(), p.to_string(), *l, m.to_string()))
        .collect();
    assert_eq!(found, expected, "{doc:#}");
    assert_eq!(doc["summary"]["files"], 6, "{doc:#}");
    // The project's own macro, called as `media.extract_url_parameter`,
    // rendered: no template error, and the staging model is analysed.
    let rendered = metriclint()
        .args([
            "render",
            "fixtures/dbt_semantic/models/staging/stg_ad_stats.sql",
        ])
        .output()
        .unwrap();
    let rendered = String::from_utf8_lossy(&rendered.stdout);
    assert!(
        rendered.contains(
            "nullif(split_part(split_part(final_url, 'utm_source=', 2), '&', 1), '') as utm_source"
        ),
        "{rendered}"
    );
}

/// `fixtures/notebooks`: queries a notebook fills with Python's string
/// formatting (`{table}`, `'{start_date}'`, `%(campaign)s`) are analysed;
/// the inverted CTR among them is found.
#[test]
fn the_notebook_fixture_reads_python_holes_as_names() {
    let (code, doc) = check_json(&["fixtures/notebooks", "--isolated"]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(
        findings(&doc),
        vec![(
            "ML001".to_string(),
            "fixtures/notebooks/queries/campaign_ctr.sql".to_string(),
            4,
            "ctr".to_string()
        )],
        "{doc:#}"
    );
    assert_eq!(doc["summary"]["files"], 3, "{doc:#}");
}

/// A Semantic Layer measure's `expr` names a column of its semantic model.
/// Fivetran's ad reporting maps each platform's columns to its own names
/// (Amazon's `cost` is `spend`) in models the semantic model does not read:
/// their `SUM(cost) AS spend` is no drift from `spend: sum(spend)`. A report
/// reading the semantic model itself, which has `spend`, still is; and a
/// ratio inverted or at another scale is judged wherever it is computed.
#[test]
fn a_semantic_measures_column_is_its_models_not_every_models() {
    let dir = project(&[
        ("dbt_project.yml", "name: ads\nversion: '1.0'\n"),
        (
            "models/semantic.yml",
            "semantic_models:\n  - name: ad_report\n    model: ref('ad_report')\n    measures:\n      - name: spend\n        agg: sum\n        create_metric: true\n      - name: impressions\n        agg: sum\n        create_metric: true\nmetrics:\n  - name: cpm\n    type: ratio\n    type_params:\n      numerator: spend\n      denominator: impressions\n",
        ),
        ("models/stg_ads.sql", "select * from raw.ads\n"),
        ("models/stg_amazon_keywords.sql", "select * from raw.amazon_keywords\n"),
        (
            "models/ad_report.sql",
            "select ad_id, sum(spend) as spend, sum(cost_in_local_currency) as cost, sum(impressions) as impressions from {{ ref('stg_ads') }} group by 1\n",
        ),
        (
            "models/keyword_report.sql",
            "select keyword_id, sum(cost) as spend from {{ ref('stg_amazon_keywords') }} group by 1\n",
        ),
        (
            "analyses/spend_from_the_ad_report.sql",
            "select sum(cost) as spend from {{ ref('ad_report') }}\n",
        ),
        (
            "analyses/keyword_cpm.sql",
            "select sum(cost) / sum(impressions) as cpm from {{ ref('stg_amazon_keywords') }}\n",
        ),
        (
            "analyses/keyword_cpm_of_clicks.sql",
            "select sum(clicks) / sum(impressions) as cpm from {{ ref('stg_amazon_keywords') }}\n",
        ),
        (
            "analyses/keyword_cpm_inverted.sql",
            "select sum(impressions) / sum(cost) as cpm from {{ ref('stg_amazon_keywords') }}\n",
        ),
        (
            "analyses/keyword_cpm_per_mille.sql",
            "select sum(cost) * 1000 / sum(impressions) as cpm from {{ ref('stg_amazon_keywords') }}\n",
        ),
    ]);
    let (_, doc) = check_json(&[
        dir.path().to_str().unwrap(),
        "--isolated",
        "--registry",
        "dbt",
    ]);
    let mut codes = file_codes(&doc);
    codes.sort();
    assert_eq!(
        codes,
        vec![
            ("keyword_cpm_inverted.sql".to_string(), "ML001".to_string()),
            ("keyword_cpm_per_mille.sql".to_string(), "ML001".to_string()),
            (
                "spend_from_the_ad_report.sql".to_string(),
                "ML001".to_string()
            ),
        ],
        "{doc:#}"
    );
    // With the pack beside the Semantic Layer (no registry named), `clicks`
    // is a metric of its own: a CPM of clicks is another figure, found.
    let (_, doc) = check_json(&[dir.path().to_str().unwrap(), "--isolated"]);
    let codes = file_codes(&doc);
    assert!(
        codes.contains(&("keyword_cpm_of_clicks.sql".to_string(), "ML001".to_string())),
        "{doc:#}"
    );
    assert!(
        !codes
            .iter()
            .any(|(file, _)| file == "keyword_report.sql" || file == "keyword_cpm.sql"),
        "{doc:#}"
    );
}

/// Fivetran's ad reporting package defines `clicks` in its Semantic Layer
/// over the ad report; its account and campaign reports total clicks from
/// their own models, at their own grain, and are no source drift. A report
/// that reads the raw table, bypassing every model, is.
#[test]
fn a_semantic_models_model_is_where_it_computes_not_what_every_model_reads() {
    let dir = project(&[
        ("dbt_project.yml", "name: ads\nversion: '1.0'\n"),
        (
            "models/semantic.yml",
            "semantic_models:\n  - name: ad_report\n    model: ref('ad_report')\n    measures:\n      - name: clicks\n        agg: sum\n        create_metric: true\n",
        ),
        ("models/stg_ad_stats.sql", "select * from raw.ad_stats\n"),
        ("models/stg_account_stats.sql", "select * from raw.account_stats\n"),
        (
            "models/ad_report.sql",
            "select ad_id, sum(clicks) as clicks from {{ ref('stg_ad_stats') }} group by 1\n",
        ),
        (
            "models/account_report.sql",
            "select account_id, sum(clicks) as clicks from {{ ref('stg_account_stats') }} group by 1\n",
        ),
        (
            "analyses/raw_clicks.sql",
            "select sum(clicks) as clicks from raw.account_stats\n",
        ),
        // A macro missing from the packages stands for some relation: no
        // proof of another source.
        (
            "analyses/unioned_clicks.sql",
            "with base as (\n    {{ fivetran_utils.union_connections(connection_dictionary='x') }}\n)\nselect sum(clicks) as clicks from base\n",
        ),
        // A folder named `dbt` is no registry file.
        ("dbt/README.md", "notes\n"),
    ]);
    let check = |paths: &[&str]| -> Vec<(String, String)> {
        let output = metriclint()
            .current_dir(dir.path())
            .args(["check"])
            .args(paths)
            .args(["--isolated", "--registry", "dbt", "--format", "json"])
            .output()
            .unwrap();
        let doc: Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&output.stderr)));
        file_codes(&doc)
            .into_iter()
            .filter(|(_, code)| code != "ML902")
            .collect()
    };
    assert_eq!(
        check(&["."]),
        vec![("raw_clicks.sql".to_string(), "ML003".to_string())]
    );
    // The account report alone (a pre-commit hook, an editor) is judged
    // alike: the model it reads is not among the files checked.
    assert_eq!(check(&["models/account_report.sql"]), vec![]);
}

/// An Oracle script's `ALTER INDEX … REBUILD` holds no query and so no
/// metric: that the dialect cannot parse it is counted in the summary, not
/// reported. A query that does not parse is still ML900, and the file's
/// other statements are still checked.
#[test]
fn statements_without_a_query_that_do_not_parse_are_counted_not_reported() {
    let dir = project(&[(
        "maintenance.sql",
        "ALTER INDEX ix_events REBUILD NOPARALLEL;\nALTER INDEX ix_clicks REBUILD NOPARALLEL;\nselect sum(clicks) as clicks frm events;\nselect campaign_id, avg(clicks / impressions) as ctr from events group by 1;\n",
    )]);
    let output = metriclint()
        .current_dir(dir.path())
        .args(["check", ".", "--isolated", "--format", "json"])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&output.stdout).unwrap();
    let codes: Vec<(&str, u64)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["code"].as_str().unwrap(), f["line"].as_u64().unwrap()))
        .collect();
    assert_eq!(codes, vec![("ML900", 3), ("ML005", 4)], "{doc}");
    assert_eq!(doc["summary"]["skipped_statements"], 2);
    let human = metriclint()
        .current_dir(dir.path())
        .args(["check", ".", "--isolated"])
        .output()
        .unwrap();
    let human = String::from_utf8(human.stdout).unwrap();
    assert!(
        human.contains("2 statements with no query in them did not parse and went unchecked."),
        "{human}"
    );
}

/// `check --watch` checks, then checks again when a report changes: the
/// drift found first is gone once the report is fixed, and back when it
/// returns.
#[test]
fn watch_checks_again_when_a_report_changes() {
    use std::io::BufRead;
    let drift = "select campaign_id, avg(clicks / impressions) as ctr from events group by 1\n";
    let fixed = "select campaign_id, sum(clicks) / nullif(sum(impressions), 0) as ctr from events group by 1\n";
    let dir = project(&[("reports/ctr.sql", drift)]);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_metriclint"))
        .args(["check", ".", "--isolated", "--watch", "--color", "never"])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let (sender, summaries) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            if line.starts_with("Checked ") && sender.send(line).is_err() {
                return;
            }
        }
    });
    let next = || {
        summaries
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("no summary within a minute")
    };
    let first = next();
    assert!(first.contains("1 finding"), "{first}");
    // A file's time of change may not move within its clock's resolution:
    // the size changes too.
    std::fs::write(dir.path().join("reports/ctr.sql"), fixed).unwrap();
    let second = next();
    assert!(second.contains("no findings"), "{second}");
    std::fs::write(dir.path().join("reports/ctr.sql"), drift).unwrap();
    let third = next();
    assert!(third.contains("1 finding"), "{third}");
    child.kill().unwrap();
    let _ = child.wait();
}

#[test]
fn a_parse_error_at_a_template_tag_quotes_the_tag_not_its_stand_in() {
    let dir = project(&[
        ("dbt_project.yml", "name: shop\nversion: '1.0'\n"),
        ("models/at_tag.sql", "select a b {{ var('tbl') }} from t\n"),
        ("models/written.sql", "select a b c from {{ var('tbl') }}\n"),
    ]);
    let doc = common::check_json(&dir);
    let messages: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "ML900")
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        messages,
        [
            "cannot parse this statement as generic SQL: Expected: end of statement, found: `{{ var('tbl') }}` (a template tag)",
            "cannot parse this statement as generic SQL: Expected: end of statement, found: c",
        ]
    );
}
