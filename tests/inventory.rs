//! `metriclint metrics` and `metriclint explain` on the fixtures, as snapshots.

use assert_cmd::Command;

fn run(args: &[&str]) -> (i32, String) {
    let output = Command::cargo_bin("metriclint")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
    )
}

#[test]
fn inventory_table_of_the_drift_fixture() {
    let (code, text) = run(&["metrics", "fixtures/drift"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!(text);
}

#[test]
fn inventory_markdown_of_the_drift_fixture() {
    let (_, text) = run(&["metrics", "fixtures/drift", "--format", "markdown"]);
    insta::assert_snapshot!(text);
}

#[test]
fn inventory_json_lists_variants_with_forms_and_sites() {
    let (_, text) = run(&["metrics", "fixtures/drift", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["files"], 7);
    let ad_load = doc["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "ad_load")
        .unwrap();
    assert_eq!(ad_load["status"], "unregistered");
    assert_eq!(ad_load["sites"], 4);
    let variants = ad_load["variants"].as_array().unwrap();
    assert_eq!(variants.len(), 3);
    assert_eq!(variants[0]["form"], "sum(ad_impressions) / sum(pageviews)");
    assert_eq!(variants[0]["sites"].as_array().unwrap().len(), 2);
    assert_eq!(
        variants[0]["sites"][0]["path"],
        "fixtures/drift/models/engagement_daily.sql"
    );
    assert_eq!(variants[0]["sites"][0]["line"], 7);
}

#[test]
fn inventory_tells_registered_synonyms_and_drifting_metrics_apart() {
    let (_, text) = run(&[
        "metrics",
        "fixtures/adtech",
        "--registry",
        "fixtures/adtech/metrics.yaml",
    ]);
    insta::assert_snapshot!(text);
}

#[test]
fn explain_a_registered_metric() {
    let (code, text) = run(&["explain", "ctr", "fixtures/adtech"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!(text);
}

#[test]
fn explain_an_unregistered_metric_and_an_unknown_one() {
    let (code, text) = run(&["explain", "ad_load", "fixtures/drift"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!(text);
    let output = Command::cargo_bin("metriclint")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["explain", "ad_lod", "fixtures/drift"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("did you mean `ad_load`?"));
}
