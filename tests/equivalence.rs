//! Table-driven tests of the canonical form: spellings that must be judged
//! equivalent to a definition, and near-misses that must not.

use metriclint::canon::Expr;
use metriclint::extract::extract_sites;
use metriclint::judge::{compare, Verdict};
use metriclint::parse::parse_file;
use sqlparser::dialect::GenericDialect;

/// The canonical form of `expr` as a report computes it over `from`.
fn site(expr: &str, from: &str) -> Expr {
    let sql = format!("SELECT {expr} AS m FROM {from}");
    let parsed = parse_file(&sql, &GenericDialect {});
    assert!(parsed.failures.is_empty(), "{sql}: {:?}", parsed.failures);
    let mut sites = extract_sites(&parsed.statements, &sql, &|name: &str| name == "m");
    assert_eq!(sites.len(), 1, "{sql}");
    sites.pop().unwrap().computation
}

/// The canonical form of a registry body.
fn definition(body: &str) -> Expr {
    let yaml = format!("version: 1\nmetrics:\n  - name: m\n    sql: \"{body}\"\n");
    let registry = metriclint::registry::load_str("test.yaml", &yaml).expect("valid registry");
    registry.get("m").unwrap().definition.clone()
}

fn verdict(report: &str, registry: &str) -> Verdict {
    compare(&site(report, "fct_ad_events AS e"), &definition(registry))
}

#[track_caller]
fn assert_all(cases: &[(&str, &str)], want_equivalent: bool) {
    for (report, registry) in cases {
        let v = verdict(report, registry);
        if want_equivalent {
            assert_eq!(
                v,
                Verdict::Equivalent,
                "`{report}` should match `{registry}`"
            );
        } else {
            assert!(
                matches!(v, Verdict::Different(_)),
                "`{report}` must differ from `{registry}`, got {v:?}"
            );
        }
    }
}

#[test]
fn identifier_case_and_quoting_are_seen_through() {
    assert_all(
        &[
            (
                "SUM(Clicks) / sum(IMPRESSIONS)",
                "SUM(clicks) / SUM(impressions)",
            ),
            (
                "SUM(\"clicks\") / SUM(\"Impressions\")",
                "SUM(clicks) / SUM(impressions)",
            ),
            (
                "sum(`clicks`) / Sum(`Impressions`)",
                "SUM(clicks) / SUM(impressions)",
            ),
        ],
        true,
    );
    assert_all(
        &[
            (
                "SUM(clicks_total) / SUM(impressions)",
                "SUM(clicks) / SUM(impressions)",
            ),
            (
                "SUM(clicks) / SUM(impression)",
                "SUM(clicks) / SUM(impressions)",
            ),
        ],
        false,
    );
}

#[test]
fn table_qualifiers_and_aliases_are_seen_through() {
    assert_all(
        &[
            (
                "SUM(e.clicks) / SUM(e.impressions)",
                "SUM(clicks) / SUM(impressions)",
            ),
            (
                "SUM(fct_ad_events.clicks) / SUM(e.impressions)",
                "SUM(clicks) / SUM(impressions)",
            ),
            (
                "SUM(E.Clicks) / SUM(impressions)",
                "SUM(clicks) / SUM(impressions)",
            ),
        ],
        true,
    );
    assert_all(
        &[(
            "SUM(e.clicks) / SUM(e.bids)",
            "SUM(clicks) / SUM(impressions)",
        )],
        false,
    );
}

#[test]
fn operand_order_of_commutative_operators_is_seen_through() {
    assert_all(
        &[
            (
                "1000 * SUM(spend) / SUM(impressions)",
                "SUM(spend) * 1000 / SUM(impressions)",
            ),
            (
                "SUM(spend) / SUM(impressions) * 1000",
                "SUM(spend) * 1000 / SUM(impressions)",
            ),
            (
                "SUM(spend) / (SUM(impressions) / 1000)",
                "SUM(spend) * 1000 / SUM(impressions)",
            ),
            (
                "(SUM(payout) + SUM(fees)) / SUM(revenue)",
                "(SUM(fees) + SUM(payout)) / SUM(revenue)",
            ),
            (
                "SUM(CASE WHEN b = 1 AND a = 2 THEN x END)",
                "SUM(CASE WHEN a = 2 AND b = 1 THEN x END)",
            ),
            (
                "SUM(CASE WHEN b = 1 OR a = 2 THEN x END)",
                "SUM(CASE WHEN a = 2 OR b = 1 THEN x END)",
            ),
            (
                "SUM(CASE WHEN 's2s' = integration_type THEN x END)",
                "SUM(CASE WHEN integration_type = 's2s' THEN x END)",
            ),
            (
                "SUM(CASE WHEN 5 < bid THEN x END)",
                "SUM(CASE WHEN bid > 5 THEN x END)",
            ),
        ],
        true,
    );
    // Subtraction and division do not commute.
    assert_all(
        &[
            (
                "SUM(impressions) / SUM(clicks)",
                "SUM(clicks) / SUM(impressions)",
            ),
            (
                "(SUM(payout) - SUM(revenue)) / SUM(revenue)",
                "(SUM(revenue) - SUM(payout)) / SUM(revenue)",
            ),
            (
                "SUM(CASE WHEN bid < 5 THEN x END)",
                "SUM(CASE WHEN bid > 5 THEN x END)",
            ),
            (
                "SUM(CASE WHEN a = 2 OR b = 1 THEN x END)",
                "SUM(CASE WHEN a = 2 AND b = 1 THEN x END)",
            ),
        ],
        false,
    );
}

#[test]
fn numeric_casts_are_transparent() {
    assert_all(
        &[
            (
                "CAST(SUM(clicks) AS FLOAT64) / SUM(impressions)",
                "SUM(clicks) / SUM(impressions)",
            ),
            (
                "SUM(clicks)::float / SUM(impressions)::numeric(18, 4)",
                "SUM(clicks) / SUM(impressions)",
            ),
            (
                "CAST(SUM(clicks) AS DOUBLE PRECISION) / SUM(impressions)",
                "SUM(clicks) / SUM(impressions)",
            ),
            (
                "SAFE_CAST(SUM(clicks) AS NUMERIC) / SUM(impressions)",
                "SUM(clicks) / SUM(impressions)",
            ),
            (
                "TRY_CAST(SUM(clicks) AS DECIMAL(38, 9)) / SUM(impressions)",
                "SUM(clicks) / SUM(impressions)",
            ),
            (
                "1.0 * SUM(clicks) / SUM(impressions)",
                "SUM(clicks) / SUM(impressions)",
            ),
            (
                "SUM(clicks) * 1.0 / SUM(impressions)",
                "SUM(clicks) / SUM(impressions)",
            ),
        ],
        true,
    );
    // A cast to a non-numeric type is kept, and a different factor is a difference.
    assert_all(
        &[
            (
                "SUM(clicks) * 1.5 / SUM(impressions)",
                "SUM(clicks) / SUM(impressions)",
            ),
            (
                "COUNT(DISTINCT CAST(user_id AS VARCHAR))",
                "COUNT(DISTINCT user_id)",
            ),
        ],
        false,
    );
}

#[test]
fn count_star_and_count_one_are_one_count() {
    assert_all(
        &[
            ("SUM(clicks) / COUNT(1)", "SUM(clicks) / COUNT(*)"),
            ("COUNT(*)", "COUNT(1)"),
            ("count('x')", "COUNT(*)"),
            ("SUM(1)", "COUNT(*)"),
        ],
        true,
    );
    assert_all(
        &[
            ("COUNT(clicks)", "COUNT(*)"),
            ("COUNT(DISTINCT 1)", "COUNT(*)"),
            ("COUNT(DISTINCT user_id)", "COUNT(user_id)"),
            ("SUM(2)", "COUNT(*)"),
        ],
        false,
    );
}

#[test]
fn redundant_parentheses_are_seen_through() {
    assert_all(
        &[
            (
                "((SUM(clicks)) / (SUM(impressions)))",
                "SUM(clicks) / SUM(impressions)",
            ),
            (
                "(SUM(spend) * 1000) / SUM(impressions)",
                "SUM(spend) * 1000 / SUM(impressions)",
            ),
            (
                "SUM((revenue)) - (SUM(payout))",
                "SUM(revenue) - SUM(payout)",
            ),
            ("((SUM(a) + SUM(b)) + SUM(c))", "SUM(a) + (SUM(b) + SUM(c))"),
        ],
        true,
    );
    // Parentheses that change grouping are not redundant.
    assert_all(
        &[
            ("SUM(a) - (SUM(b) - SUM(c))", "SUM(a) - SUM(b) - SUM(c)"),
            (
                "SUM(spend) / SUM(impressions) * SUM(x)",
                "SUM(spend) / (SUM(impressions) * SUM(x))",
            ),
        ],
        false,
    );
}

#[test]
fn literal_spellings_are_one_value() {
    assert_all(
        &[
            (
                "SUM(spend) * 1000.0 / SUM(impressions)",
                "SUM(spend) * 1000 / SUM(impressions)",
            ),
            (
                "SUM(spend) * 1e3 / SUM(impressions)",
                "SUM(spend) * 1000 / SUM(impressions)",
            ),
            ("SUM(spend_micros) / 1e6", "SUM(spend_micros) / 1000000"),
            (
                "SUM(spend_micros) * 0.000001",
                "SUM(spend_micros) / 1000000",
            ),
            (
                "SUM(CASE WHEN tier = 1.0 THEN x END)",
                "SUM(CASE WHEN tier = 1 THEN x END)",
            ),
        ],
        true,
    );
    assert_all(
        &[
            (
                "SUM(spend) * 100 / SUM(impressions)",
                "SUM(spend) * 1000 / SUM(impressions)",
            ),
            ("SUM(spend_micros) / 1e5", "SUM(spend_micros) / 1000000"),
            (
                "SUM(CASE WHEN tier = '1' THEN x END)",
                "SUM(CASE WHEN tier = 1 THEN x END)",
            ),
        ],
        false,
    );
}

#[test]
fn zero_guards_on_the_denominator_are_seen_through() {
    assert_all(
        &[
            (
                "SUM(clicks) / NULLIF(SUM(impressions), 0)",
                "SUM(clicks) / SUM(impressions)",
            ),
            (
                "SAFE_DIVIDE(SUM(clicks), SUM(impressions))",
                "SUM(clicks) / NULLIF(SUM(impressions), 0)",
            ),
            (
                "DIV0(SUM(clicks), SUM(impressions))",
                "SUM(clicks) / SUM(impressions)",
            ),
            (
                "DIV0NULL(SUM(clicks), SUM(impressions))",
                "SUM(clicks) / SUM(impressions)",
            ),
            (
                "SUM(clicks) / NULLIF(SUM(impressions), 0.0)",
                "SUM(clicks) / SUM(impressions)",
            ),
            (
                "COALESCE(SUM(clicks), 0) / SUM(impressions)",
                "SUM(clicks) / SUM(impressions)",
            ),
        ],
        true,
    );
    assert_all(
        &[
            // NULLIF with another value is not a zero guard.
            (
                "SUM(clicks) / NULLIF(SUM(impressions), 1)",
                "SUM(clicks) / SUM(impressions)",
            ),
            (
                "SAFE_DIVIDE(SUM(impressions), SUM(clicks))",
                "SUM(clicks) / SUM(impressions)",
            ),
        ],
        false,
    );
}

#[test]
fn metric_references_are_inlined() {
    let yaml = "version: 1\nmetrics:\n  - name: spend\n    agg: sum\n  - name: impressions\n    agg: sum\n  - name: cpm\n    sql: metric('spend') * 1000 / NULLIF(metric('impressions'), 0)\n  - name: imps_per_dollar\n    numerator: impressions\n    denominator: spend\n";
    let registry = metriclint::registry::load_str("r.yaml", yaml).unwrap();
    let cpm = &registry.get("cpm").unwrap().definition;
    assert_eq!(
        compare(&site("1000 * SUM(spend) / SUM(impressions)", "t"), cpm),
        Verdict::Equivalent
    );
    let ratio = &registry.get("imps_per_dollar").unwrap().definition;
    assert_eq!(ratio.to_string(), "sum(impressions) / sum(spend)");
}

#[test]
fn unsupported_constructs_are_unknown_never_different() {
    let unknown = [
        "SUM(clicks) OVER (PARTITION BY day) / SUM(impressions) OVER (PARTITION BY day)",
        "(SELECT SUM(clicks) FROM other) / SUM(impressions)",
        // Row-level ratio over rows whose grain we cannot see.
        "clicks / impressions",
    ];
    for report in unknown {
        let v = verdict(report, "SUM(clicks) / SUM(impressions)");
        assert!(
            matches!(v, Verdict::Unknown(_)),
            "`{report}` should be unknown, got {v:?}"
        );
    }
}

#[test]
fn differences_name_the_part_that_differs() {
    match verdict(
        "SUM(clicks) / COUNT(*)",
        "SUM(clicks) / NULLIF(SUM(impressions), 0)",
    ) {
        Verdict::Different(d) => assert_eq!(
            d,
            vec!["the denominator is count(*) where the registry has sum(impressions)"]
        ),
        other => panic!("{other:?}"),
    }
    match verdict(
        "SUM(spend) / SUM(impressions)",
        "SUM(spend) * 1000 / SUM(impressions)",
    ) {
        Verdict::Different(d) => {
            assert_eq!(d, vec!["the scale is ×1 where the registry has ×1000"])
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn canonical_text_reads_like_sql() {
    let cases = [
        (
            "1000 * SUM(e.spend) / NULLIF(SUM(e.impressions), 0)",
            "sum(spend) * 1000 / sum(impressions)",
        ),
        ("SUM(spend_micros) / 1e6", "sum(spend_micros) / 1000000"),
        (
            "(SUM(revenue) - SUM(payout)) / SUM(revenue)",
            "(sum(revenue) - sum(payout)) / sum(revenue)",
        ),
        (
            "SUM(CASE WHEN integration_type = 's2s' THEN impressions ELSE 0 END)",
            "sum(impressions) filter (where integration_type = 's2s')",
        ),
        ("COUNT(DISTINCT user_id)", "count(distinct user_id)"),
        ("COUNTIF(is_click)", "count(*) filter (where is_click)"),
    ];
    for (sql, text) in cases {
        assert_eq!(site(sql, "t").to_string(), text, "{sql}");
    }
}
