//! A dbt project's metric YAML, read as the registry, is checked for the
//! mistakes a report can make: a definition that adds up a column of
//! per-row rates, or averages a ratio per row, is found at the definition
//! (ML005), since every query of the metric repeats it.

use assert_cmd::Command;
use serde_json::Value;

mod common;
use common::repository;

const PROJECT: (&str, &str) = ("dbt_project.yml", "name: ads\nversion: '1.0'\n");
const MODEL: (&str, &str) = (
    "models/ads__analytics__main.sql",
    "select date, sessions, engagement_rate, events_per_session, roas, revenue, spend from {{ source('ga4', 'daily') }}\n",
);

/// A legacy dbt metric over the model, as `dbt_metrics` declares it.
fn legacy_metric(name: &str, method: &str, expression: &str) -> String {
    format!(
        "  - name: {name}\n    label: {name}\n    model: ref('ads__analytics__main')\n    calculation_method: {method}\n    expression: {expression}\n    timestamp: date\n    time_grains: [month]\n"
    )
}

/// `check --format json`, with `args`, run inside a scratch repository of
/// `files`: its JSON.
fn check_in(files: &[(&str, &str)], args: &[&str]) -> Value {
    let dir = repository(files);
    let output = Command::cargo_bin("metriclint")
        .unwrap()
        .current_dir(dir.path())
        .args(["check", ".", "--isolated", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stdout)))
}

/// The findings of a [`check_in`] document, as (path, line, code, what
/// `field` says: `metric` or `message`).
fn found(doc: &Value, field: &str) -> Vec<(String, u64, String, String)> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["code"].as_str().unwrap().to_string(),
                f[field].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect()
}

/// The findings in a scratch repository of `files`, as (path, line, code,
/// metric).
fn findings_in(files: &[(&str, &str)]) -> Vec<(String, u64, String, String)> {
    found(&check_in(files, &[]), "metric")
}

fn row(path: &str, line: u64, code: &str, metric: &str) -> (String, u64, String, String) {
    (path.to_string(), line, code.to_string(), metric.to_string())
}

#[test]
fn a_legacy_metric_that_sums_rates_is_found_at_its_definition() {
    let metrics = format!(
        "version: 2\nmetrics:\n{}{}{}{}{}",
        legacy_metric("monthly_sessions", "sum", "sessions"),
        legacy_metric("monthly_engagement_rate", "sum", "engagement_rate"),
        legacy_metric("monthly_events_per_session", "sum", "events_per_session"),
        legacy_metric("monthly_avg_roas", "average", "roas"),
        legacy_metric("monthly_revenue", "sum", "revenue"),
    );
    let got = findings_in(&[PROJECT, MODEL, ("models/metrics.yml", &metrics)]);
    assert_eq!(
        got,
        vec![
            row("models/metrics.yml", 10, "ML005", "monthly_engagement_rate"),
            row("models/metrics.yml", 24, "ML005", "monthly_avg_roas"),
        ]
    );
}

/// Near misses: a ratio of totals as a derived metric, a `# noqa` on the
/// definition (never unused), and a MetricFlow measure summing a rate.
#[test]
fn ratios_of_totals_and_suppressed_definitions_are_not_found() {
    let derived = format!(
        "version: 2\nmetrics:\n{}{}  - name: engagement_rate\n    label: Engagement rate\n    calculation_method: derived\n    expression: \"{{{{ metric('engaged') }}}} / {{{{ metric('sessions') }}}}\"\n    timestamp: date\n    time_grains: [month]\n",
        legacy_metric("engaged", "sum", "engaged_sessions"),
        legacy_metric("sessions", "sum", "sessions"),
    );
    assert_eq!(
        findings_in(&[PROJECT, MODEL, ("models/metrics.yml", &derived)]),
        vec![]
    );

    let suppressed = format!(
        "version: 2\nmetrics:\n{}",
        legacy_metric("monthly_engagement_rate", "sum", "engagement_rate").replacen(
            '\n',
            "  # noqa: ML005\n",
            1
        )
    );
    assert_eq!(
        findings_in(&[PROJECT, MODEL, ("models/metrics.yml", &suppressed)]),
        vec![]
    );

    let metricflow = "semantic_models:\n  - name: ads\n    model: ref('ads__analytics__main')\n    defaults:\n      agg_time_dimension: date\n    entities:\n      - name: day\n        type: primary\n        expr: date\n    dimensions:\n      - name: date\n        type: time\n        type_params:\n          time_granularity: day\n    measures:\n      - name: engagement_rate_total\n        agg: sum\n        expr: engagement_rate\n      - name: sessions\n        agg: sum\nmetrics:\n  - name: engagement_rate_summed\n    label: Engagement rate\n    type: simple\n    type_params:\n      measure: engagement_rate_total\n  - name: total_sessions\n    label: Sessions\n    type: simple\n    type_params:\n      measure: sessions\n";
    let got = findings_in(&[PROJECT, MODEL, ("models/semantic.yml", metricflow)]);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(
        (got[0].2.as_str(), got[0].3.as_str()),
        ("ML005", "engagement_rate_summed")
    );
}

/// `fixtures/dbt_metrics`: a legacy dbt metrics YAML with a precedence
/// mistake, a summed rate and an averaged ROAS among correct ratios of
/// totals, and a report computing the correct ones: exactly three findings.
#[test]
fn the_dbt_metrics_fixture_finds_exactly_its_planted_mistakes() {
    let output = Command::cargo_bin("metriclint")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "check",
            "fixtures/dbt_metrics",
            "--isolated",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&output.stdout).unwrap();
    let got = found(&doc, "metric");
    let yaml = "fixtures/dbt_metrics/models/metrics/ad_metrics.yml";
    assert_eq!(
        got,
        vec![
            row(yaml, 48, "ML013", "non_click_rate"),
            row(yaml, 56, "ML005", "monthly_engagement_rate"),
            row(yaml, 65, "ML005", "avg_roas"),
        ]
    );
}

/// Under a registry of the team's own, the project's metric YAML is not
/// the agreement but one more place a metric is defined: each definition
/// is judged against the registry's metric of its name, at the YAML (an
/// inverted CTR), besides its own mistakes. With no registry named the
/// YAML is the registry, and one that agrees is silent.
#[test]
fn under_a_team_registry_the_projects_metric_yaml_is_judged_against_it() {
    let metrics = |ctr: &str| {
        format!(
            "version: 2\nmetrics:\n{}{}  - name: ctr\n    label: CTR\n    calculation_method: derived\n    expression: \"{ctr}\"\n    timestamp: date\n    time_grains: [day]\n",
            legacy_metric("impressions", "sum", "impressions"),
            legacy_metric("clicks", "sum", "clicks"),
        )
    };
    const TEAM: (&str, &str) = (
        "team.yaml",
        "version: 1\nmetrics:\n  - name: ctr\n    sql: SUM(clicks) / NULLIF(SUM(impressions), 0)\n",
    );
    let run = |ctr: &str, args: &[&str]| {
        let yaml = metrics(ctr);
        let doc = check_in(&[PROJECT, MODEL, ("models/metrics.yml", &yaml), TEAM], args);
        found(&doc, "message")
    };
    const INVERTED: &str = "{{ metric('impressions') }} / {{ metric('clicks') }}";
    const AGREED: &str = "{{ metric('clicks') }} / {{ metric('impressions') }}";
    let found = run(INVERTED, &["--registry", "team.yaml"]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].0.as_str(), found[0].1, found[0].2.as_str()),
        ("models/metrics.yml", 17, "ML001")
    );
    assert!(
        found[0].3.starts_with("the dbt metric ctr is computed as")
            && found[0].3.contains("inverted"),
        "{found:?}"
    );
    assert_eq!(run(AGREED, &["--registry", "team.yaml"]), vec![]);
    // The YAML as the registry: it is the agreement itself.
    assert_eq!(run(AGREED, &[]), vec![]);
    assert_eq!(run(INVERTED, &["--registry", "dbt"]), vec![]);
}

/// With no registry named, the YAML is the registry beside the built-in
/// pack, which still knows what a CTR divides: a definition of `ctr` that
/// divides impressions by clicks is ML001 at the YAML. Other columns than
/// the pack's (`link_clicks`) are the project's to agree on.
#[test]
fn a_pack_rate_defined_inverted_in_the_yaml_is_found() {
    let metrics = |ctr: &str| {
        format!(
            "version: 2\nmetrics:\n{}{}{}  - name: ctr\n    label: CTR\n    calculation_method: derived\n    expression: \"{ctr}\"\n    timestamp: date\n    time_grains: [day]\n",
            legacy_metric("impressions", "sum", "impressions"),
            legacy_metric("clicks", "sum", "clicks"),
            legacy_metric("link_clicks", "sum", "link_clicks"),
        )
    };
    for (ctr, want) in [
        (
            "{{ metric('impressions') }} / {{ metric('clicks') }}",
            vec![row("models/metrics.yml", 24, "ML001", "ctr")],
        ),
        (
            "{{ metric('clicks') }} / {{ metric('impressions') }}",
            vec![],
        ),
        (
            "{{ metric('link_clicks') }} / {{ metric('impressions') }}",
            vec![],
        ),
    ] {
        let yaml = metrics(ctr);
        assert_eq!(
            findings_in(&[PROJECT, MODEL, ("models/metrics.yml", &yaml)]),
            want,
            "{ctr}"
        );
    }
}

/// A `# noqa` in the metric YAML that silences nothing is unused (ML020),
/// whether or not the file has other findings.
#[test]
fn an_unused_noqa_in_the_metric_yaml_is_reported() {
    let metrics = format!(
        "version: 2\nmetrics:\n{}",
        legacy_metric("monthly_sessions", "sum", "sessions").replacen('\n', "  # noqa: ML005\n", 1)
    );
    assert_eq!(
        findings_in(&[PROJECT, MODEL, ("models/metrics.yml", &metrics)]),
        vec![row("models/metrics.yml", 3, "ML020", "-")]
    );
}

/// Under a team registry that extends the pack without defining a metric
/// (as `init` writes it), the pack knows no project's columns: jaffle-shop's
/// `revenue` of `product_price` is no drift from the pack's `revenue`; a
/// CTR defined inverted still is.
#[test]
fn under_an_extended_pack_the_yaml_keeps_its_own_columns() {
    let metrics = format!(
        "version: 2\nmetrics:\n{}{}{}{}  - name: ctr\n    label: CTR\n    calculation_method: derived\n    expression: \"{{{{ metric('impressions') }}}} / {{{{ metric('clicks') }}}}\"\n    timestamp: date\n    time_grains: [day]\n",
        legacy_metric("revenue", "sum", "product_price"),
        legacy_metric("impressions", "sum", "impressions"),
        legacy_metric("clicks", "sum", "clicks"),
        legacy_metric("spend", "sum", "spend"),
    );
    let dir = repository(&[
        PROJECT,
        MODEL,
        ("models/metrics.yml", &metrics),
        (
            "team.yaml",
            "version: 1\nextends: [programmatic]\nmetrics: []\n",
        ),
    ]);
    let output = Command::cargo_bin("metriclint")
        .unwrap()
        .current_dir(dir.path())
        .args([
            "check",
            ".",
            "--isolated",
            "--registry",
            "team.yaml",
            "--format",
            "concise",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(text.matches(": ML").count(), 1, "{text}");
    assert!(
        text.contains("models/metrics.yml:31:11: ML001 the dbt metric ctr"),
        "{text}"
    );
}

/// Under a registry of the team's own that has no metric of its name, a
/// metric of the project's YAML is one more figure of its name: compared
/// with the reports that compute it (ML010 across SQL and YAML), and listed
/// by the inventory in its own layer. One computed as the reports compute
/// it is silent.
#[test]
fn an_unregistered_yaml_metric_is_compared_with_the_reports() {
    const TEAM: (&str, &str) = (
        "team.yaml",
        "version: 1\nmetrics:\n  - name: ctr\n    sql: SUM(clicks) / NULLIF(SUM(impressions), 0)\n",
    );
    const ORDERS: (&str, &str) = (
        "models/orders.sql",
        "select order_id, customer_id, amount, order_date from {{ source('shop', 'orders') }}\n",
    );
    let report = |name: &str| {
        (
            format!("models/{name}.sql"),
            "select order_date, sum(amount) / count(distinct order_id) as average_order_value from {{ ref('orders') }} group by 1\n".to_string(),
        )
    };
    let yaml = |expression: &str| {
        format!(
            "version: 2\nmetrics:\n  - name: average_order_value\n    label: AOV\n    model: ref('orders')\n    calculation_method: derived\n    expression: \"{expression}\"\n    timestamp: order_date\n    time_grains: [day]\n{}{}",
            "  - name: revenue\n    label: revenue\n    model: ref('orders')\n    calculation_method: sum\n    expression: amount\n    timestamp: order_date\n    time_grains: [day]\n",
            "  - name: orders\n    label: orders\n    model: ref('orders')\n    calculation_method: count_distinct\n    expression: order_id\n    timestamp: order_date\n    time_grains: [day]\n  - name: customers\n    label: customers\n    model: ref('orders')\n    calculation_method: count_distinct\n    expression: customer_id\n    timestamp: order_date\n    time_grains: [day]\n",
        )
    };
    let (a, b) = (report("aov_by_customer"), report("aov_weekly"));
    // The project, the two reports, the YAML and the team's registry.
    fn files<'f>(
        reports: [&'f (String, String); 2],
        yaml: &'f str,
        orders: (&'f str, &'f str),
        team: (&'f str, &'f str),
    ) -> Vec<(&'f str, &'f str)> {
        let [a, b] = reports;
        vec![
            PROJECT,
            orders,
            (&a.0, &a.1),
            (&b.0, &b.1),
            ("models/metrics.yml", yaml),
            team,
        ]
    }
    let run = |expression: &str| {
        let yaml = yaml(expression);
        let doc = check_in(
            &files([&a, &b], &yaml, ORDERS, TEAM),
            &["--registry", "team.yaml"],
        );
        found(&doc, "metric")
    };
    let drifted = run("{{ metric('revenue') }} / {{ metric('customers') }}");
    assert_eq!(
        drifted,
        vec![(
            "models/metrics.yml".to_string(),
            3,
            "ML010".to_string(),
            "average_order_value".to_string()
        )]
    );
    assert_eq!(
        run("{{ metric('revenue') }} / {{ metric('orders') }}"),
        vec![],
        "near miss: the YAML computes it as the reports do"
    );
    // The inventory lists the YAML's figure in its layer.
    let yaml = yaml("{{ metric('revenue') }} / {{ metric('customers') }}");
    let dir = repository(&files([&a, &b], &yaml, ORDERS, TEAM));
    let output = Command::cargo_bin("metriclint")
        .unwrap()
        .current_dir(dir.path())
        .args(["metrics", ".", "--isolated", "--registry", "team.yaml"])
        .args(["--format", "json"])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&output.stdout).unwrap();
    let aov = doc["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "average_order_value")
        .unwrap();
    assert_eq!(aov["layers"], serde_json::json!({"sql": 2, "dbt": 1}));
    let explained = Command::cargo_bin("metriclint")
        .unwrap()
        .current_dir(dir.path())
        .args(["explain", "average_order_value", ".", "--isolated"])
        .args(["--registry", "team.yaml"])
        .output()
        .unwrap();
    let explained = String::from_utf8_lossy(&explained.stdout);
    assert!(
        explained.contains("3 sites (2 SQL, 1 dbt)")
            && explained.contains("models/metrics.yml:3:11  average_order_value  (dbt metric)"),
        "{explained}"
    );
}

/// The inventory lists the YAML's definitions of registered metrics as
/// `check` judged them at the YAML: one that agrees matches the agreement,
/// one that differs carries its finding, and one of a metric the team
/// takes from the pack is the project's (no match either way).
#[test]
fn the_inventory_lists_registered_yaml_metrics_as_check_judged_them() {
    const TEAM: (&str, &str) = (
        "team.yaml",
        "version: 1\nextends: [programmatic]\nmetrics:\n  - name: revenue\n    sql: SUM(amount)\n  - name: customers\n    sql: COUNT(DISTINCT user_id)\n",
    );
    let yaml = format!(
        "version: 2\nmetrics:\n{}{}{}",
        legacy_metric("revenue", "sum", "amount"),
        legacy_metric("customers", "count_distinct", "customer_id"),
        legacy_metric("spend", "sum", "media_cost"),
    );
    let dir = repository(&[PROJECT, MODEL, ("models/metrics.yml", &yaml), TEAM]);
    let run = |command: &str| {
        let output = Command::cargo_bin("metriclint")
            .unwrap()
            .current_dir(dir.path())
            .args([command, ".", "--isolated", "--registry", "team.yaml"])
            .args(["--format", "json"])
            .output()
            .unwrap();
        serde_json::from_slice::<Value>(&output.stdout).unwrap()
    };
    let checked = found(&run("check"), "metric");
    assert_eq!(
        checked,
        vec![(
            "models/metrics.yml".to_string(),
            10,
            "ML001".to_string(),
            "customers".to_string()
        )]
    );
    let inventory = run("metrics");
    let variant = |name: &str| {
        let metric = inventory["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == name)
            .unwrap_or_else(|| panic!("{name} not listed: {inventory}"));
        assert_eq!(metric["layers"], serde_json::json!({"dbt": 1}), "{name}");
        metric["variants"][0].clone()
    };
    assert_eq!(variant("revenue")["matches_agreement"], true);
    assert_eq!(variant("customers")["matches_agreement"], false);
    assert_eq!(variant("customers")["finding"][0], "ML001");
    assert_eq!(variant("spend")["matches_agreement"], Value::Null);
}

/// `layers:` without `dbt` leaves the project's metric YAML unchecked: no
/// finding at a definition, no `# noqa` there called unused; with `dbt`
/// (or with no `layers`), its mistakes are found.
#[test]
fn the_dbt_layer_is_checked_only_when_the_config_names_it() {
    let metrics = format!(
        "version: 2\nmetrics:\n{}",
        legacy_metric("engagement_rate_summed", "sum", "engagement_rate")
    );
    // The findings at the YAML of a configured run (not `--isolated`).
    let yaml_findings = |config: &str, metrics: &str| {
        let dir = repository(&[
            PROJECT,
            MODEL,
            ("models/metrics.yml", metrics),
            ("metriclint.yaml", config),
        ]);
        let output = Command::cargo_bin("metriclint")
            .unwrap()
            .current_dir(dir.path())
            .args(["check", ".", "--format", "json"])
            .output()
            .unwrap();
        let doc: Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)));
        found(&doc, "metric")
            .into_iter()
            .filter(|(path, ..)| path.ends_with(".yml"))
            .map(|(_, _, code, metric)| (code, metric))
            .collect::<Vec<_>>()
    };
    let summed = vec![("ML005".to_string(), "engagement_rate_summed".to_string())];
    assert_eq!(yaml_findings("layers: [sql]\n", &metrics), vec![]);
    assert_eq!(yaml_findings("layers: [sql, dbt]\n", &metrics), summed);
    assert_eq!(yaml_findings("dialect: generic\n", &metrics), summed);
    // A `# noqa` in YAML left unchecked is not an unused one (ML020); in
    // YAML checked, it silences its finding.
    let silenced = metrics.replace(
        "- name: engagement_rate_summed",
        "- name: engagement_rate_summed  # noqa: ML005",
    );
    assert_eq!(yaml_findings("layers: [sql]\n", &silenced), vec![]);
    assert_eq!(yaml_findings("layers: [sql, dbt]\n", &silenced), vec![]);
}

/// A model of the legacy `dbt_metrics` package's kind, `select * from {{
/// metrics.calculate(metric('…'), …) }}`, needs dbt's graph of metric
/// nodes: it renders as a relation's name and parses, with no template
/// error; another package's macro that fails the same way still is one.
#[test]
fn a_dbt_metrics_calculate_model_parses_without_the_graph() {
    let raising = "{% macro calculate(metric_list, grain, dimensions=[], secondary_calculations=[], start_date=None, end_date=None, where=None) %}{{ exceptions.raise_compiler_error('No metric or metrics provided') }}{% endmacro %}\n";
    let model = "select *\nfrom {{ metrics.calculate(\n    metric('roas'),\n    grain='month',\n    dimensions=[],\n    secondary_calculations=[]\n) }}\n";
    let codes = |package: &str| {
        let doc = check_in(
            &[
                PROJECT,
                (
                    &format!("dbt_packages/{package}/dbt_project.yml"),
                    &format!("name: '{package}'\nversion: '1.0'\n"),
                ),
                (
                    &format!("dbt_packages/{package}/macros/calculate.sql"),
                    raising,
                ),
                (
                    "models/monthly_roas.sql",
                    &model.replace("metrics.", &format!("{package}.")),
                ),
            ],
            &[],
        );
        found(&doc, "message")
            .into_iter()
            .map(|(_, _, code, _)| code)
            .collect::<Vec<_>>()
    };
    assert_eq!(codes("metrics"), Vec::<String>::new());
    assert_eq!(codes("other_metrics"), ["ML901"]);
}
