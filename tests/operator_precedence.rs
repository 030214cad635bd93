//! ML013: a ratio added to or subtracted from its own denominator, where
//! parentheses are missing (`impressions - clicks / impressions`), in a
//! report's figure and in a dbt project's metric YAML read as the registry.

mod common;

/// (name of the figure, line) of the ML013 findings of `sql` as `report.sql`.
fn found_in(sql: &str) -> Vec<(String, u64)> {
    let dir = common::repository(&[("report.sql", sql)]);
    let doc = common::check_json(&dir);
    doc["findings"]
        .as_array()
        .unwrap()
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
        // Near misses: parentheses, a constant, another figure, no ratio.
        ("(sum(impressions) - sum(clicks)) / sum(impressions)", false),
        ("1 - sum(clicks) / sum(impressions)", false),
        ("100 - 100 * sum(clicks) / sum(impressions)", false),
        ("sum(spend) - sum(clicks) / sum(impressions)", false),
        ("sum(impressions) - sum(clicks)", false),
        ("sum(revenue) / sum(spend) - sum(cost) / sum(spend)", false),
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
