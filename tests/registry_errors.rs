//! Every registry error the README documents, one by one: what is said and where.

use metriclint::registry::{load_str, RegistryIssue};

fn issues(yaml: &str) -> Vec<RegistryIssue> {
    match load_str("metrics.yaml", yaml) {
        Ok(_) => panic!("expected registry errors for:\n{yaml}"),
        Err(e) => e.issues,
    }
}

/// The single issue of a registry, as (message, line, column, help).
#[track_caller]
fn only_issue(yaml: &str) -> (String, u32, u32, Option<String>) {
    let mut all = issues(yaml);
    assert_eq!(
        all.len(),
        1,
        "{:#?}",
        all.iter().map(|i| i.one_line()).collect::<Vec<_>>()
    );
    let i = all.pop().unwrap();
    (i.message, i.line, i.column, i.help)
}

const GOOD: &str = "version: 1
metrics:
  - name: clicks
    agg: sum
  - name: impressions
    agg: sum
  - name: ctr
    synonyms: [click_through_rate]
    unit: fraction
    sql: SUM(clicks) / NULLIF(SUM(impressions), 0)
";

#[test]
fn a_good_registry_loads() {
    let registry = load_str("metrics.yaml", GOOD).unwrap();
    assert_eq!(registry.len(), 3);
    let ctr = registry.get("ctr").unwrap();
    assert_eq!(ctr.definition.to_string(), "sum(clicks) / sum(impressions)");
    assert_eq!((ctr.origin.line, ctr.origin.column), (10, 10));
    assert!(registry.lookup("CLICK_THROUGH_RATE").is_some());
}

#[test]
fn unknown_key_with_did_you_mean() {
    let yaml = GOOD.replace("    sql: SUM", "    sqll: SUM");
    let all = issues(&yaml);
    let typo = all
        .iter()
        .find(|i| i.message.contains("unknown key `sqll`"))
        .expect("typo reported");
    assert_eq!((typo.line, typo.column), (10, 5));
    assert_eq!(typo.help.as_deref(), Some("did you mean `sql`?"));
}

#[test]
fn unknown_top_level_key() {
    let (message, line, column, help) = only_issue(&format!("{GOOD}metric:\n  - name: x\n"));
    assert_eq!(message, "unknown key `metric`");
    assert_eq!((line, column), (11, 1));
    assert_eq!(help.as_deref(), Some("did you mean `metrics`?"));
}

#[test]
fn duplicate_name() {
    let (message, line, column, help) = only_issue(&format!(
        "{GOOD}  - name: ctr\n    agg: sum\n    expr: clicks\n"
    ));
    assert_eq!(message, "duplicate metric name `ctr`");
    assert_eq!((line, column), (11, 11));
    assert_eq!(help.as_deref(), Some("first defined at line 7"));
}

#[test]
fn synonym_claimed_twice() {
    let yaml = format!(
        "{GOOD}  - name: ctr_v2\n    synonyms: [click_through_rate]\n    sql: SUM(clicks)\n"
    );
    let (message, line, column, _) = only_issue(&yaml);
    assert_eq!(
        message,
        "synonym `click_through_rate` is claimed by two metrics"
    );
    assert_eq!((line, column), (12, 16));
}

#[test]
fn synonym_that_is_another_metrics_name() {
    let yaml = GOOD.replace("[click_through_rate]", "[clicks]");
    let (message, line, _, _) = only_issue(&yaml);
    assert_eq!(
        message,
        "synonym `clicks` of `ctr` is the name of another metric"
    );
    assert_eq!(line, 8);
}

#[test]
fn unparsable_sql_points_into_the_expression() {
    let yaml = GOOD.replace("SUM(clicks) / NULLIF", "SUM(clicks) / / NULLIF");
    let (message, line, column, _) = only_issue(&yaml);
    assert!(
        message.starts_with("cannot parse SQL expression"),
        "{message}"
    );
    // `sql: ` starts the value at column 10; the second `/` is 14 characters in.
    assert_eq!((line, column), (10, 24));
}

#[test]
fn unparsable_expr_and_filter() {
    let yaml = "version: 1\nmetrics:\n  - name: spend\n    agg: sum\n    expr: spend +\n  - name: bids\n    agg: sum\n    filter: is_test = = false\n";
    let all = issues(yaml);
    assert_eq!(
        all.len(),
        2,
        "{:?}",
        all.iter().map(|i| i.one_line()).collect::<Vec<_>>()
    );
    assert_eq!(all[0].line, 5);
    assert_eq!(all[1].line, 8);
    assert!(all
        .iter()
        .all(|i| i.message.starts_with("cannot parse SQL expression")));
}

#[test]
fn unknown_metric_reference_with_did_you_mean() {
    let yaml = format!("{GOOD}  - name: cpc\n    sql: metric('spend') / metric('clciks')\n");
    let all = issues(&yaml);
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].message, "`cpc` refers to unknown metric `spend`");
    assert_eq!(all[1].message, "`cpc` refers to unknown metric `clciks`");
    assert_eq!(all[1].help.as_deref(), Some("did you mean `clicks`?"));
    assert_eq!(all[1].line, 12);
}

#[test]
fn unknown_numerator_metric() {
    let yaml =
        format!("{GOOD}  - name: win_rate\n    numerator: wins\n    denominator: impressions\n");
    let (message, line, column, _) = only_issue(&yaml);
    assert_eq!(message, "`win_rate` refers to unknown metric `wins`");
    assert_eq!((line, column), (12, 16));
}

#[test]
fn cycle_of_references() {
    let yaml = "version: 1\nmetrics:\n  - name: a\n    sql: metric('b') + 1\n  - name: b\n    sql: metric('c') * 2\n  - name: c\n    numerator: a\n    denominator: b\n";
    let (message, _, _, _) = only_issue(yaml);
    assert!(
        message.starts_with("cycle of metric references: a -> b -> c -> a"),
        "{message}"
    );
}

#[test]
fn body_forms_missing_or_doubled() {
    let (message, line, _, _) = only_issue("version: 1\nmetrics:\n  - name: x\n    unit: count\n");
    assert_eq!(message, "metric `x` has no definition");
    assert_eq!(line, 3);
    let (message, line, _, _) =
        only_issue("version: 1\nmetrics:\n  - name: x\n    sql: SUM(x)\n    agg: sum\n");
    assert_eq!(
        message,
        "metric `x` has more than one definition (sql, agg)"
    );
    assert_eq!(line, 5);
    let (message, _, _, _) =
        only_issue("version: 1\nmetrics:\n  - name: x\n    numerator: {agg: sum, expr: a}\n");
    assert_eq!(message, "metric `x` has no `denominator`");
}

#[test]
fn unknown_agg_and_unit_with_suggestions() {
    let (message, line, column, help) =
        only_issue("version: 1\nmetrics:\n  - name: x\n    agg: summ\n");
    assert_eq!(message, "unknown aggregation `summ`");
    assert_eq!((line, column), (4, 10));
    assert_eq!(help.as_deref(), Some("did you mean `sum`?"));
    let (message, _, _, help) =
        only_issue("version: 1\nmetrics:\n  - name: x\n    unit: percnt\n    agg: sum\n");
    assert_eq!(message, "unknown unit `percnt`");
    assert_eq!(help.as_deref(), Some("did you mean `percent`?"));
}

#[test]
fn unit_contradicting_the_body() {
    let yaml = "version: 1\nmetrics:\n  - name: ctr_pct\n    unit: percent\n    sql: SUM(clicks) / SUM(impressions)\n";
    let (message, line, _, help) = only_issue(yaml);
    assert_eq!(
        message,
        "`ctr_pct` has unit percent but its body computes ×1"
    );
    assert_eq!(line, 4);
    assert!(help.unwrap().contains("100 *"));
    // The numerator/denominator form is scaled by its unit instead.
    let ok = "version: 1\nmetrics:\n  - name: c\n    agg: sum\n  - name: i\n    agg: sum\n  - name: ctr_pct\n    unit: percent\n    numerator: c\n    denominator: i\n";
    let registry = load_str("r.yaml", ok).unwrap();
    assert_eq!(
        registry.get("ctr_pct").unwrap().definition.to_string(),
        "sum(c) * 100 / sum(i)"
    );
}

#[test]
fn yaml_syntax_and_type_errors_have_positions() {
    let (message, line, _, _) = only_issue("version: 1\nmetrics:\n  - name: x\n    agg: [sum\n");
    assert!(!message.is_empty());
    assert!(line >= 4, "{line}");
    let all = issues("version: 1\nmetrics:\n  - name: x\n    synonyms: 3\n    agg: sum\n");
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].line, 4);
}

#[test]
fn version_and_empty_files() {
    let (message, ..) = only_issue("metrics: []\n");
    assert_eq!(message, "missing `version: 1`");
    let (message, line, ..) = only_issue("version: 2\nmetrics: []\n");
    assert!(message.starts_with("unsupported registry version"));
    assert_eq!(line, 1);
    let (message, ..) = only_issue("");
    assert!(message.contains("empty"), "{message}");
}

#[test]
fn names_must_be_snake_case() {
    let (message, _, _, help) =
        only_issue("version: 1\nmetrics:\n  - name: Click Rate\n    agg: sum\n    expr: clicks\n");
    assert_eq!(message, "metric name `Click Rate` is not snake_case");
    assert_eq!(help.as_deref(), Some("write it as `click_rate`"));
    // A name that starts with a digit gets a name that starts with a letter.
    let (message, _, _, help) =
        only_issue("version: 1\nmetrics:\n  - name: 7d_reach\n    sql: COUNT(*)\n");
    assert_eq!(message, "metric name `7d_reach` is not snake_case");
    assert_eq!(help.as_deref(), Some("write it as `reach_7d`"));
    let (_, _, _, help) = only_issue("version: 1\nmetrics:\n  - name: 'ctr%'\n    sql: COUNT(*)\n");
    assert_eq!(
        help.as_deref(),
        Some("a name is lower-case letters, digits and `_`, starting with a letter")
    );
}

#[test]
fn extends_the_built_in_pack_and_overrides_it() {
    let yaml = "version: 1\nextends: [programmatic]\nmetrics:\n  - name: ctr\n    sql: SUM(clicks) / SUM(viewable_impressions)\n";
    let registry = load_str("metrics.yaml", yaml).unwrap();
    assert!(registry.len() > 20);
    assert_eq!(
        registry.get("ctr").unwrap().definition.to_string(),
        "sum(clicks) / sum(viewable_impressions)"
    );
    assert_eq!(registry.get("ctr").unwrap().origin.path, "metrics.yaml");
    assert!(registry
        .get("cpm")
        .unwrap()
        .origin
        .path
        .starts_with("<built-in>"));
    let (message, _, _, help) = only_issue("version: 1\nextends: [programatic]\nmetrics: []\n");
    assert_eq!(message, "unknown built-in pack or file `programatic`");
    assert_eq!(help.as_deref(), Some("did you mean `programmatic`?"));
}

#[test]
fn the_built_in_pack_is_valid_and_complete() {
    let registry = metriclint::registry::load_builtin("programmatic").unwrap();
    for name in [
        "impressions",
        "clicks",
        "spend",
        "revenue",
        "ctr",
        "cpc",
        "cpm",
        "ecpm",
        "cpa",
        "roas",
        "conversion_rate",
        "fill_rate",
        "win_rate",
        "bid_rate",
        "s2s_share",
        "viewability_rate",
        "vcr",
        "render_rate",
        "timeout_rate",
        "take_rate",
    ] {
        let metric = registry
            .get(name)
            .unwrap_or_else(|| panic!("{name} missing"));
        assert!(
            metric.description.as_deref().is_some_and(|d| d.len() > 20),
            "{name} lacks a description"
        );
    }
    assert_eq!(
        registry.get("cpm").unwrap().definition.to_string(),
        "sum(spend) * 1000 / sum(impressions)"
    );
}

#[test]
fn dbt_semantic_layer_yaml_is_a_registry() {
    let root = env!("CARGO_MANIFEST_DIR");
    let path = std::path::PathBuf::from(format!("{root}/fixtures/dbt/semantic/ad_metrics.yml"));
    let registry = metriclint::registry::load_files(&[path]).expect("semantic layer loads");
    let def = |name: &str| {
        registry
            .get(name)
            .unwrap_or_else(|| panic!("{name}"))
            .agreed
            .to_string()
    };
    assert_eq!(def("impressions"), "sum(impressions)");
    assert_eq!(def("clicks"), "sum(clicks)");
    // A metric filter applies to every input, through Dimension('…').
    assert_eq!(def("ctr"), "sum(clicks) filter (where is_test = false) / sum(impressions) filter (where is_test = false)");
    // An input filter applies to that input only, through the dimension's expr.
    assert_eq!(
        def("s2s_share"),
        "sum(impressions) filter (where integration_type = 's2s') / sum(impressions)"
    );
    assert_eq!(def("cpm"), "sum(spend) * 1000 / sum(impressions)");
    assert_eq!(registry.get("ctr").unwrap().source, vec!["fct_ad_events"]);
    assert_eq!(
        registry.get("impressions").unwrap().source,
        vec!["fct_ad_events"]
    );
    // Helpers for filtered inputs are not metrics of their own.
    assert!(registry.metrics().iter().all(|m| !m.name.starts_with("__")));
    // Cumulative metrics are known by name, never compared.
    assert!(registry
        .get("cumulative_spend")
        .unwrap()
        .definition
        .is_uncertain());
}

#[test]
fn semantic_layer_errors_point_at_the_metric() {
    let yaml = "semantic_models:\n  - name: m\n    model: ref('t')\n    measures:\n      - name: x\n        agg: summ\nmetrics:\n  - name: y\n    type: simple\n    type_params:\n      measure: nope\n";
    let all = issues(yaml);
    let messages: Vec<(u32, &str)> = all.iter().map(|i| (i.line, i.message.as_str())).collect();
    assert_eq!(
        messages,
        vec![
            (5, "unknown measure agg `summ` for `x`"),
            (8, "metric `y` uses unknown measure `nope`")
        ]
    );
}

#[test]
fn legacy_latest_and_manifest_semantic_layers_give_the_same_registry() {
    use metriclint::registry::load_files;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/dbt/semantic");
    let legacy = load_files(&[root.join("ad_metrics.yml")]).unwrap();
    let latest = load_files(&[root.join("ad_metrics_latest.yml")]).unwrap();
    // What `dbt parse` compiles the legacy file to.
    let manifest = load_files(&[root.join("../target/semantic_manifest.json")]).unwrap();
    let summary = |r: &metriclint::registry::Registry| -> Vec<String> {
        let mut rows: Vec<String> = r
            .metrics()
            .iter()
            .map(|m| {
                format!(
                    "{} | {} | {:?} | {:?}",
                    m.name, m.agreed, m.source, m.not_comparable
                )
            })
            .collect();
        rows.sort();
        rows
    };
    let legacy_rows = summary(&legacy);
    assert_eq!(legacy_rows, summary(&latest));
    assert_eq!(legacy_rows, summary(&manifest));
    // What the two files agree on, spelled out: MetricFlow's semantics, with
    // dimensions resolved through their `expr` and the model as the source.
    assert_eq!(
        legacy_rows,
        [
            "clicks | sum(clicks) | [\"fct_ad_events\"] | None",
            "cpm | sum(spend) * 1000 / sum(impressions) | [\"fct_ad_events\"] | None",
            "ctr | sum(clicks) filter (where is_test = false) / sum(impressions) filter (where is_test = false) | [\"fct_ad_events\"] | None",
            "cumulative_spend | cumulative metric | [] | Some(\"cumulative\")",
            "impressions | sum(impressions) | [\"fct_ad_events\"] | None",
            "media_spend | sum(spend) | [\"fct_ad_events\"] | None",
            "s2s_share | sum(impressions) filter (where integration_type = 's2s') / sum(impressions) | [\"fct_ad_events\"] | None",
        ]
    );
}

#[test]
fn errors_after_non_ascii_text_point_at_the_right_place() {
    let (message, line, column, _) = only_issue("# ✓✓✓✓✓✓ données\nversion: 0\n");
    assert!(message.contains("version"), "{message}");
    assert_eq!((line, column), (2, 10));
    let (message, line, column, _) =
        only_issue("# ✓✓✓✓✓✓\nversion: 1\nmetrics:\n  - name: ctr # clic é\n    sql: [unclosed\n");
    assert!(message.contains("sql"), "{message}");
    assert_eq!(line, 5, "{message}");
    assert!(column >= 10, "{column}");
}

#[test]
fn deep_nesting_is_rejected_at_once_with_its_position() {
    let yaml = format!("version: 1\nmetrics: []\nx: {}\n", "[".repeat(100_000));
    let (message, line, column, _) = only_issue(&yaml);
    assert!(message.contains("deeper than 64 levels"), "{message}");
    assert_eq!((line, column), (3, 68));
}

#[test]
fn an_alias_bomb_is_reported_at_its_first_alias() {
    let mut yaml =
        String::from("version: 1\na: &a [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]\n");
    for (name, of) in [
        ("b", "a"),
        ("c", "b"),
        ("d", "c"),
        ("e", "d"),
        ("f", "e"),
        ("g", "f"),
    ] {
        let aliases = vec![format!("*{of}"); 9].join(",");
        yaml.push_str(&format!("{name}: &{name} [{aliases}]\n"));
    }
    yaml.push_str("metrics: []\n");
    let (message, line, column, _) = only_issue(&yaml);
    assert!(message.contains("aliases expand to too much"), "{message}");
    assert_eq!((line, column), (3, 8));
}

#[test]
fn a_registry_that_is_no_mapping_says_what_a_registry_is() {
    let (message, _, _, _) = only_issue("just some words\n");
    assert!(
        message.starts_with("the registry must be a YAML mapping with `version: 1` and `metrics:`"),
        "{message}"
    );
    // A report given where the registry goes says so, whatever its YAML.
    for sql in [
        "select sum(clicks) from t\n",
        "-- daily CTR\nWITH d AS (SELECT 1 AS x)\nSELECT x FROM d\n",
    ] {
        let (message, _, _, help) = only_issue(sql);
        assert!(message.ends_with("holds SQL, not a registry"), "{message}");
        assert!(
            help.is_some_and(|h| h.contains("the SQL reports to check are the PATHS")),
            "{sql}"
        );
    }
    // Near miss: a key that begins like a statement is YAML.
    assert!(issues("selection: 1\n")
        .iter()
        .all(|i| !i.message.contains("holds SQL")));
}

#[test]
fn a_control_character_is_placed_where_it_is() {
    let (message, line, column, _) =
        only_issue("version: 1\nmetrics:\n  - name: a\u{0}b\n    agg: sum\n");
    assert!(message.contains("control characters"), "{message}");
    assert_eq!((line, column), (3, 12));
}

/// Found by the fuzzer: a ratio side with nothing after its key but a
/// comment is null in the YAML; it is missing, not a crash.
#[test]
fn a_ratio_side_left_empty_is_missing() {
    for (yaml, missing) in [
        (
            "version: 1\nmetrics:\n  - name: cvr\n    numerator: # conversions\n    denominator: clicks\n",
            "numerator",
        ),
        (
            "version: 1\nmetrics:\n  - name: cvr\n    numerator: conversions\n    denominator:\n",
            "denominator",
        ),
    ] {
        let (message, line, column, _) = only_issue(yaml);
        assert_eq!(message, format!("metric `cvr` has no `{missing}`"));
        assert_eq!((line, column), (3, 11), "at the metric's name");
    }
}

/// A currency code dropped from a name finds a registered metric that is
/// money (`spend_usd` is spend); of any other metric it names another
/// figure (`emissions_bal_usd` is no token amount `emissions_bal`).
#[test]
fn a_currency_code_finds_only_money_metrics() {
    let registry = load_str(
        "metrics.yaml",
        "version: 1
metrics:
  - name: spend
    unit: currency
    sql: SUM(spend)
  - name: emissions_bal
    sql: SUM(day_rate * pct_votes)
",
    )
    .unwrap();
    assert_eq!(
        registry.lookup("spend_usd").map(|(m, _)| m.name.as_str()),
        Some("spend")
    );
    assert_eq!(
        registry
            .lookup("weekly_spend_usd")
            .map(|(m, _)| m.name.as_str()),
        Some("spend")
    );
    assert!(registry.lookup("emissions_bal_usd").is_none());
    assert_eq!(
        registry
            .lookup("weekly_emissions_bal")
            .map(|(m, _)| m.name.as_str()),
        Some("emissions_bal")
    );
}

/// The dbt_metrics package's spec, which came before the Semantic Layer
/// (dbt 1.3 to 1.5, and dbt 1.0's `type` and `sql`), reads with the same
/// semantics: a method over an expression, each filter a condition, a
/// derived metric the metrics it calls.
#[test]
fn the_dbt_metrics_packages_spec_is_a_registry() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/dbt/semantic");
    let registry = metriclint::registry::load_files(&[root.join("ad_metrics_dbt_metrics.yml")])
        .expect("the dbt_metrics spec loads");
    let mut rows: Vec<String> = registry
        .metrics()
        .iter()
        .map(|m| format!("{} | {} | {:?}", m.name, m.agreed, m.source))
        .collect();
    rows.sort();
    assert_eq!(
        rows,
        [
            "avg_bid | avg(bid_price) | [\"fct_ad_events\"]",
            "clean_clicks | sum(clicks) filter (where is_test = false) | [\"fct_ad_events\"]",
            "cpm | sum(spend) * 1000 / sum(impressions) | [\"fct_ad_events\"]",
            "impressions | sum(impressions) | [\"fct_ad_events\"]",
            "media_spend | sum(spend) | [\"fct_ad_events\"]",
            "reach | count(distinct user_id) | [\"fct_ad_events\"]",
            "s2s_impressions | sum(impressions) filter (where integration_type = 's2s') | [\"fct_ad_events\"]",
            "s2s_share | sum(impressions) filter (where integration_type = 's2s') / sum(impressions) | [\"fct_ad_events\"]",
        ]
    );
    // Errors still point into the file: a derived metric calling a metric
    // nobody defines.
    let yaml = "version: 2\nmetrics:\n  - name: a\n    model: ref('t')\n    calculation_method: sum\n    expression: x\n  - name: b\n    calculation_method: derived\n    expression: \"{{ metric('a') }} / {{ metric('nope') }}\"\n";
    let all = issues(yaml);
    assert_eq!(
        all.len(),
        1,
        "{:?}",
        all.iter().map(|i| &i.message).collect::<Vec<_>>()
    );
    assert_eq!(all[0].line, 7, "{}", all[0].message);
    assert!(all[0].message.contains("nope"), "{}", all[0].message);
}

/// dbt splits semantic models and the metrics over them across files: given
/// as several registries, in any order, they read as one.
#[test]
fn a_semantic_layer_split_across_files_reads_as_one() {
    use metriclint::registry::load_files;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/dbt/semantic");
    let whole: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(root.join("ad_metrics.yml")).unwrap())
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let part = |key: &str| {
        let mut map = serde_yaml::Mapping::new();
        map.insert(key.into(), whole[key].clone());
        let path = dir.path().join(format!("{key}.yml"));
        std::fs::write(&path, serde_yaml::to_string(&map).unwrap()).unwrap();
        path
    };
    let (models, metrics) = (part("semantic_models"), part("metrics"));
    let rows = |r: &metriclint::registry::Registry| -> Vec<String> {
        let mut rows: Vec<String> = r
            .metrics()
            .iter()
            .map(|m| format!("{} | {} | {:?}", m.name, m.agreed, m.source))
            .collect();
        rows.sort();
        rows
    };
    let expected = rows(&load_files(&[root.join("ad_metrics.yml")]).unwrap());
    assert_eq!(
        rows(&load_files(&[metrics.clone(), models.clone()]).unwrap()),
        expected
    );
    assert_eq!(
        rows(&load_files(&[models, metrics.clone()]).unwrap()),
        expected
    );
    // The metrics alone name measures nobody defines.
    assert!(load_files(&[metrics]).is_err());
}

/// Terms of one sum in percent are in percent once.
#[test]
fn a_sum_of_percents_is_in_percent_once() {
    let registry = "version: 1\nmetrics:\n  - name: a_pct\n    unit: percent\n    sql: SUM(a) * 100 / NULLIF(SUM(n), 0)\n  - name: b_pct\n    unit: percent\n    sql: SUM(b) * 100 / NULLIF(SUM(n), 0)\n  - name: rows\n    sql: COUNT(*)\n  - name: both\n    unit: percent\n    sql: (metric('a_pct') + metric('b_pct')) / NULLIF(metric('rows'), 0)\n";
    assert!(metriclint::registry::load_str("metrics.yaml", registry).is_ok());
}

/// A metric composed of metrics is judged by their units, not by the
/// constants inside their bodies: `spend: SUM(spend_micros) / 1e6` (currency)
/// read by a per-mille CPM that writes its own `* 1000`. Every unit of the
/// parts read into every unit of the whole loads with the factor those units
/// call for, and is refused with any other.
#[test]
fn composed_metrics_are_judged_by_the_units_they_compose() {
    // (unit, body of the numerator, its scale by its unit)
    let parts = [
        ("currency", "SUM(spend_micros) / 1e6", 1.0),
        ("fraction", "SUM(clicks) / NULLIF(SUM(impressions), 0)", 1.0),
        (
            "percent",
            "SUM(clicks) * 100 / NULLIF(SUM(impressions), 0)",
            100.0,
        ),
        (
            "per_mille",
            "SUM(clicks) * 1000 / NULLIF(SUM(impressions), 0)",
            1000.0,
        ),
    ];
    let wholes = [("fraction", 1.0), ("percent", 100.0), ("per_mille", 1000.0)];
    for (part_unit, part_body, part_scale) in parts {
        for (whole_unit, whole_scale) in wholes {
            let factor: f64 = whole_scale / part_scale;
            let registry = |factor: f64| {
                format!(
                    "version: 1\nmetrics:\n  - name: part\n    unit: {part_unit}\n    sql: {part_body}\n  - name: rows\n    sql: COUNT(*)\n  - name: whole\n    unit: {whole_unit}\n    sql: metric('part') * {factor} / NULLIF(metric('rows'), 0)\n"
                )
            };
            let agreed = registry(factor);
            assert!(
                metriclint::registry::load_str("metrics.yaml", &agreed).is_ok(),
                "{part_unit} into {whole_unit}:\n{agreed}"
            );
            let wrong = registry(factor * 10.0);
            let message = issues(&wrong)
                .iter()
                .map(|i| i.message.clone())
                .collect::<Vec<_>>()
                .join("\n");
            assert!(
                message.contains(&format!(
                    "`whole` has unit {whole_unit} but its body computes"
                )),
                "{part_unit} into {whole_unit}, a factor too many: {message}"
            );
        }
    }
}

#[test]
fn a_value_of_the_wrong_shape_is_said_in_the_registrys_terms() {
    for (yaml, said) in [
        (
            "version: 1\nmetrics: [3]\n",
            "metrics[0]: invalid type: integer `3`, expected a metric: a mapping with `name:`",
        ),
        (
            "version: 1\nmetrics:\n  - name: cvr\n    numerator: [1]\n    denominator: clicks\n",
            "metrics[0]: a `numerator:` or `denominator:` is either a registered metric's name or a mapping with `agg:` and `expr:`",
        ),
        (
            "version: 1\nmetrics:\n  - name: c\n    sql: sum(x)\n    source: {a: 1}\n",
            "metrics[0]: a `source:` or `filter:` is a string or a list of strings",
        ),
        // Near miss: serde's own words where they are already plain.
        (
            "version: 1\nmetrics:\n  - name: [c]\n    sql: sum(x)\n",
            "metrics[0].name: invalid type: sequence, expected a string",
        ),
    ] {
        let (message, _, _, _) = only_issue(yaml);
        assert!(message.starts_with(said), "{message}");
        assert!(!message.contains("Raw"), "{message}");
    }
}
