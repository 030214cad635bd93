//! ML006 end to end: a ratio of whole numbers in a dialect that truncates
//! their division is found where the user wrote it; the same ratio made
//! exact, or in a dialect that divides exactly, is not.

use assert_cmd::Command;

/// The concise findings of `check --dialect <dialect> [args]` in a scratch
/// repository of `files`.
fn check(files: &[(&str, &str)], dialect: &str, args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let to = dir.path().join(path);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::write(to, text).unwrap();
    }
    let output = Command::cargo_bin("metriclint")
        .unwrap()
        .current_dir(dir.path())
        .args(["check", "--isolated", "--format", "concise"])
        .args(["--dialect", dialect])
        .args(args)
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned()
}

const DBT_PROJECT: (&str, &str) = ("dbt_project.yml", "name: ads\nversion: '1.0'\n");

/// The concise findings of `check --dialect <dialect>` on one file (in a
/// dbt project when it is under `models/`).
fn concise(path: &str, text: &str, dialect: &str) -> String {
    if path.starts_with("models/") {
        check(&[DBT_PROJECT, (path, text)], dialect, &[])
    } else {
        check(&[(path, text)], dialect, &[])
    }
}

#[test]
fn a_ratio_of_counts_truncates_where_the_dialect_truncates() {
    const REPORT: &str =
        "select campaign_id,\n  count(clicked_at) / count(*) as ctr\nfrom ad_events\ngroup by 1\n";
    for dialect in ["postgres", "redshift", "mssql", "sqlite"] {
        let out = concise("report.sql", REPORT, dialect);
        assert!(
            out.contains("report.sql:2:3: ML006 `count(clicked_at) / count(*)` divides a whole number by a whole number"),
            "{dialect}: {out}"
        );
    }
    for dialect in [
        "bigquery",
        "snowflake",
        "mysql",
        "databricks",
        "duckdb",
        "generic",
    ] {
        assert!(
            !concise("report.sql", REPORT, dialect).contains("ML006"),
            "{dialect}"
        );
    }
}

#[test]
fn a_decimal_side_keeps_the_fraction() {
    for exact in [
        "count(clicked_at)::numeric / count(*)",
        "1.0 * count(clicked_at) / count(*)",
        "cast(count(clicked_at) as decimal) / count(*)",
        "sum(clicks) / sum(impressions)",
    ] {
        let report = format!("select {exact} as ctr from ad_events\n");
        assert!(
            !concise("report.sql", &report, "postgres").contains("ML006"),
            "{exact}"
        );
    }
}

#[test]
fn a_templated_model_is_pointed_at_where_it_was_written() {
    const MODEL: &str = "{{ config(materialized='table') }}\nselect campaign_id,\n  sum(case when clicked then 1 else 0 end) / count(*) as ctr\nfrom {{ ref('ad_events') }}\ngroup by 1\n";
    let out = concise("models/ctr.sql", MODEL, "postgres");
    assert!(out.contains("models/ctr.sql:3:3: ML006"), "{out}");
}

#[test]
fn duckdb_floor_division_of_a_ratio_is_found() {
    const REPORT: &str = "select sum(clicks) // sum(impressions) as ctr from ad_events\n";
    let out = concise("report.sql", REPORT, "duckdb");
    assert!(
        out.contains("report.sql:1:8: ML006 `sum(clicks) // sum(impressions)` divides with `//`"),
        "{out}"
    );
    assert!(!concise(
        "report.sql",
        "select sum(clicks) / sum(impressions) as ctr from ad_events\n",
        "duckdb"
    )
    .contains("ML006"));
}

#[test]
fn columns_the_property_file_declares_integers_are_whole_numbers() {
    let out = check(
        &[
            DBT_PROJECT,
            (
                "models/schema.yml",
                "version: 2\nmodels:\n  - name: fct_ads\n    columns:\n      - name: clicks\n        data_type: integer\n      - name: impressions\n        data_type: bigint\n      - name: spend\n        data_type: numeric(18,2)\n",
            ),
            ("models/fct_ads.sql", "select * from {{ source('raw', 'ads') }}\n"),
            (
                "models/ad_report.sql",
                "select ad_id,\n  sum(clicks) / nullif(sum(impressions), 0) as ctr,\n  sum(spend) / nullif(sum(clicks), 0) as cpc\nfrom {{ ref('fct_ads') }}\ngroup by 1\n",
            ),
        ],
        "redshift",
        &[],
    );
    assert!(
        out.contains("models/ad_report.sql:2:3: ML006 `sum(clicks) / nullif(sum(impressions), 0)`"),
        "{out}"
    );
    assert_eq!(out.matches("ML006").count(), 1, "{out}");
}

#[test]
fn a_count_measure_of_the_teams_registry_is_a_whole_number() {
    let out = check(
        &[
            (
                "metrics.yaml",
                "version: 1\nextends: [programmatic]\nmetrics:\n  - name: sessions\n    unit: count\n    sql: SUM(sessions)\n",
            ),
            (
                "report.sql",
                "select day,\n  sum(sessions) / count(distinct user_id) as sessions_per_user,\n  sum(clicks) / sum(impressions) as ctr\nfrom events\ngroup by 1\n",
            ),
        ],
        "redshift",
        &["--registry", "metrics.yaml", "report.sql"],
    );
    // The team counts sessions (Redshift sums whole numbers into whole
    // numbers; Postgres may sum a bigint into a numeric, and is not asked
    // here); the pack's clicks and impressions name no column of this
    // repository.
    assert!(
        out.contains("report.sql:2:3: ML006 `sum(sessions) / count(DISTINCT user_id)`"),
        "{out}"
    );
    assert_eq!(out.matches("ML006").count(), 1, "{out}");
}

/// A fleet model splits a day's usage into hours, minutes and seconds:
/// `(minutes + seconds / 60) / 60` beside `(minutes + seconds / 60) % 60`.
/// A quotient the statement also takes the remainder of is whole on
/// purpose; the same division with no remainder beside it is still found.
#[test]
fn a_quotient_beside_its_remainder_is_whole_on_purpose() {
    const USAGE: &str = "with t as (select vehicle, count(*) as total_seconds, count(distinct trip_id) as total_minutes from pings group by 1)\n\
        select vehicle,\n  (total_minutes + total_seconds / 60) / 60 as total_hours,\n  (total_minutes + total_seconds / 60) % 60 as minutes,\n  total_seconds % 60 as seconds\nfrom t\n";
    let out = concise("usage.sql", USAGE, "mssql");
    assert!(!out.contains("ML006"), "{out}");
    let without_remainders = "with t as (select vehicle, count(*) as total_seconds, count(distinct trip_id) as total_minutes from pings group by 1)\n\
        select vehicle,\n  (total_minutes + total_seconds / 60) / 60 as total_hours\nfrom t\n";
    let out = concise("usage.sql", without_remainders, "mssql");
    assert!(out.contains("ML006"), "{out}");
}
