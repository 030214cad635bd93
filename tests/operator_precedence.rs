//! ML013: a ratio added to or subtracted from its own denominator, where
//! parentheses are missing (`impressions - clicks / impressions`), in a
//! report's figure and in a dbt project's metric YAML read as the registry.

mod common;

/// (name of the figure, line) of the ML013 findings of `sql` as `report.sql`.
fn found_in(sql: &str) -> Vec<(String, u64)> {
    common::report_findings(sql)
        .iter()
        .filter(|f| f["code"] == "ML013")
        .map(|f| {
            (
                f["metric"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn a_ratio_beside_its_own_denominator_is_reported() {
    for (figure, reported) in [
        ("sum(impressions) - sum(clicks) / sum(impressions)", true),
        (
            "sum(impressions) - sum(clicks) / nullif(sum(impressions), 0)",
            true,
        ),
        ("sum(clicks) / sum(impressions) - sum(impressions)", true),
        ("count(*) - count(distinct user_id) / count(*)", true),
        (
            "sum(impressions) + 100 * sum(clicks) / sum(impressions)",
            true,
        ),
        ("sum(impressions) - sum(clicks) / sum(impressions) * 100", true),
        ("SUM(Impressions) - sum(clicks) / sum(impressions)", true),
        // Near misses: parentheses, a constant, another figure, no ratio.
        ("(sum(impressions) - sum(clicks)) / sum(impressions)", false),
        ("1 - sum(clicks) / sum(impressions)", false),
        ("100 - 100 * sum(clicks) / sum(impressions)", false),
        ("sum(spend) - sum(clicks) / sum(impressions)", false),
        ("sum(impressions) - sum(clicks)", false),
        ("sum(revenue) / sum(spend) - sum(cost) / sum(spend)", false),
        ("100 - sum(score) / 100", false),
        (
            "sum(case when kind = 'A' then 1 end) - sum(x) / sum(case when kind = 'a' then 1 end)",
            false,
        ),
        // Parentheses written around the ratio's own difference, as an
        // analyst's contribution margin (sales times its margin share,
        // minus costs) has them: read as written, not as rearranged.
        (
            "(sum(merch)) * ((((sum(merch)) - (sum(merch_cost))) / (sum(merch))) * 1) - ((sum(merch) * .1) + ((sum(merch)) * 0.0258))",
            false,
        ),
    ] {
        let sql =
            format!("select campaign_id,\n  {figure} as bounce_rate\nfrom ad_stats group by 1\n");
        let want = if reported {
            vec![("bounce_rate".to_string(), 2)]
        } else {
            vec![]
        };
        assert_eq!(found_in(&sql), want, "{figure}");
    }
}

#[test]
fn a_derived_metric_missing_its_parentheses_is_reported_at_its_definition() {
    let metric = |name: &str, expression: &str| {
        format!("  - name: {name}\n    label: {name}\n    model: ref('ads')\n    calculation_method: sum\n    expression: {expression}\n    timestamp: date\n    time_grains: [day]\n")
    };
    let derived = |expression: &str| {
        format!(
            "version: 2\nmetrics:\n{}{}  - name: bounce_rate\n    label: Bounce rate\n    calculation_method: derived\n    expression: \"{expression}\"\n    timestamp: date\n    time_grains: [day]\n",
            metric("impressions", "impressions"),
            metric("clicks", "clicks")
        )
    };
    for (expression, reported) in [
        (
            "{{ metric('impressions') }} - {{ metric('clicks') }} / {{ metric('impressions') }}",
            true,
        ),
        (
            "({{ metric('impressions') }} - {{ metric('clicks') }}) / {{ metric('impressions') }}",
            false,
        ),
    ] {
        let dir = common::repository(&[
            ("dbt_project.yml", "name: ads\nversion: '1.0'\n"),
            (
                "models/ads.sql",
                "select date, impressions, clicks from {{ source('ga', 'ads') }}\n",
            ),
            ("models/metrics.yml", &derived(expression)),
        ]);
        let doc = common::check_json(&dir);
        let codes: Vec<(&str, &str)> = doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["code"].as_str().unwrap(),
                    f["metric"].as_str().unwrap_or("-"),
                )
            })
            .collect();
        let want = if reported {
            vec![("ML013", "bounce_rate")]
        } else {
            vec![]
        };
        assert_eq!(codes, want, "{expression}");
    }
}

/// The help says the formula with its parentheses, the ratio's own way
/// round and with its own denominator (a `NULLIF` guard kept); the figure
/// stays in the inventory.
#[test]
fn the_help_writes_the_parentheses_the_formula_means() {
    let sql = "select sum(clicks) / nullif(sum(impressions), 0) - sum(impressions) as a,\n  sum(impressions) - sum(clicks) / nullif(sum(impressions), 0) as b\nfrom ad_stats\n";
    let registry = metriclint::registry::load_builtin("programmatic").unwrap();
    let findings = metriclint::check::check_text(
        "report.sql",
        sql,
        metriclint::dialect::Dialect::Generic,
        &registry,
    );
    let helps: Vec<&str> = findings
        .iter()
        .filter(|f| f.code == "ML013")
        .filter_map(|f| f.help.as_deref())
        .collect();
    assert_eq!(
        helps,
        vec![
            "add the parentheses, if this is what it means: (sum(clicks) - sum(impressions)) / nullif(sum(impressions), 0)",
            "add the parentheses, if this is what it means: (sum(impressions) - sum(clicks)) / nullif(sum(impressions), 0)",
        ]
    );
    let dir = common::repository(&[("report.sql", sql)]);
    let output = assert_cmd::Command::cargo_bin("metriclint")
        .unwrap()
        .args(["metrics", dir.path().to_str().unwrap(), "--isolated"])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(table.contains("2 metrics"), "{table}");
}
