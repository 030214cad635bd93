//! Where sites are found, and how their columns resolve.

use sqlparser::dialect::GenericDialect;

use super::*;
use crate::parse::parse_file;

/// (output name, line, canonical text) of every site named like a metric.
fn sites(sql: &str) -> Vec<(String, u32, String)> {
    let parsed = parse_file(sql, &GenericDialect {});
    assert!(parsed.failures.is_empty(), "{:?}", parsed.failures);
    let wanted = |n: &str| {
        ["ctr", "clicks", "impressions", "cpm", "spend"].contains(&n.to_lowercase().as_str())
    };
    extract_sites(&parsed.statements, sql, &wanted)
        .into_iter()
        .map(|s| (s.output_name, s.range.start.line, s.computation.to_string()))
        .collect()
}

fn names(sql: &str) -> Vec<String> {
    sites(sql).into_iter().map(|(n, _, _)| n).collect()
}

#[test]
fn finds_sites_in_every_kind_of_select() {
    let cases: &[(&str, &[&str])] = &[
        (
            "SELECT SUM(clicks) / SUM(impressions) AS ctr FROM t",
            &["ctr"],
        ),
        (
            "WITH a AS (SELECT SUM(clicks) AS clicks FROM t) SELECT 1 AS x FROM a",
            &["clicks"],
        ),
        (
            "SELECT x FROM (SELECT SUM(spend) AS spend FROM t) AS d",
            &["spend"],
        ),
        (
            "SELECT x FROM t WHERE y IN (SELECT SUM(spend) AS spend FROM u)",
            &["spend"],
        ),
        (
            "SELECT SUM(clicks) AS clicks FROM t UNION ALL SELECT SUM(clicks) AS clicks FROM u",
            &["clicks", "clicks"],
        ),
        (
            "CREATE VIEW v AS SELECT SUM(spend) AS spend FROM t",
            &["spend"],
        ),
        (
            "CREATE TABLE v AS SELECT SUM(spend) AS spend FROM t",
            &["spend"],
        ),
        (
            "INSERT INTO v SELECT SUM(spend) AS spend FROM t",
            &["spend"],
        ),
        (
            "SELECT day, (SELECT SUM(spend) AS spend FROM u) AS s FROM t",
            &["spend"],
        ),
    ];
    for (sql, want) in cases {
        assert_eq!(names(sql), *want, "{sql}");
    }
}

#[test]
fn bare_columns_and_unnamed_expressions_are_not_sites() {
    assert!(names("SELECT clicks, e.spend, ctr AS ctr FROM t AS e").is_empty());
    assert!(names("SELECT SUM(clicks) FROM t").is_empty());
    assert!(names("SELECT SUM(clicks) AS clicks_total FROM t").is_empty());
    assert!(names("SELECT id, ANY_VALUE(ctr) AS ctr FROM t GROUP BY id").is_empty());
    // Picking another column is a computation.
    assert_eq!(
        names("SELECT id, ANY_VALUE(clicks) AS ctr FROM t GROUP BY id"),
        vec!["ctr"]
    );
}

#[test]
fn output_names_match_case_insensitively_and_unquoted() {
    assert_eq!(
        names("SELECT SUM(clicks) AS \"CTR\", SUM(spend) AS `Spend` FROM t"),
        vec!["CTR", "Spend"]
    );
}

#[test]
fn columns_resolve_through_pass_through_ctes_and_derived_tables() {
    let sql = "WITH live AS (SELECT * FROM fct WHERE is_test = false),\n\
               renamed AS (SELECT clicks AS c, impressions FROM live)\n\
               SELECT SUM(r.c) / SUM(r.impressions) AS ctr FROM renamed AS r";
    assert_eq!(
        sites(sql),
        vec![(
            "ctr".to_string(),
            3,
            "sum(clicks) / sum(impressions)".to_string()
        )]
    );
    let derived = "SELECT SUM(d.clicks) AS clicks FROM (SELECT * FROM fct) AS d";
    assert_eq!(sites(derived)[0].2, "sum(clicks)");
}

#[test]
fn computed_cte_columns_stay_opaque_until_lineage_is_modelled() {
    let sql = "WITH d AS (SELECT SUM(clicks) AS c, SUM(impressions) AS i FROM fct)\n\
               SELECT SUM(c) / SUM(i) AS ctr FROM d";
    let found = sites(sql);
    assert_eq!(found.len(), 1);
    assert!(found[0].2.contains("derived column c"), "{found:?}");
}

#[test]
fn sources_name_the_base_relations() {
    let sql = "WITH live AS (SELECT * FROM analytics.fct_ad_events)\n\
               SELECT SUM(l.spend) AS spend FROM live AS l JOIN dim_campaign AS c ON l.id = c.id";
    let parsed = parse_file(sql, &GenericDialect {});
    let found = extract_sites(&parsed.statements, sql, &|n: &str| n == "spend");
    assert_eq!(found[0].sources, vec!["dim_campaign", "fct_ad_events"]);
}

#[test]
fn spans_cover_the_whole_expression() {
    let sql = "SELECT\n  SUM(clicks) / COUNT(*) AS ctr,\n  (SUM(spend)) * 1000 / SUM(impressions) cpm\nFROM t";
    let parsed = parse_file(sql, &GenericDialect {});
    let found = extract_sites(&parsed.statements, sql, &|n: &str| n == "ctr" || n == "cpm");
    let index = LineIndex::new(sql);
    let texts: Vec<&str> = found
        .iter()
        .map(|s| &sql[index.offset(s.range.start)..index.offset(s.range.end)])
        .collect();
    assert_eq!(
        texts,
        vec![
            "SUM(clicks) / COUNT(*)",
            "(SUM(spend)) * 1000 / SUM(impressions)"
        ]
    );
}
