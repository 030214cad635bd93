//! Where sites are found, and how their columns resolve.

use sqlparser::dialect::GenericDialect;

use super::*;
use crate::parse::parse_file;

/// (output name, line, canonical text) of every site named like a metric.
fn sites(sql: &str) -> Vec<(String, u32, String)> {
    let parsed = parse_file(sql, &GenericDialect {});
    assert!(parsed.failures.is_empty(), "{:?}", parsed.failures);
    let wanted = |n: &str| {
        ["ctr", "clicks", "impressions", "cpm", "spend", "volume"]
            .contains(&n.to_lowercase().as_str())
    };
    // Renamed columns are shown by their base name, to show lineage reached it.
    let base_columns = ["clicks", "impressions", "spend"].map(String::from).into();
    extract_sites(&parsed.statements, sql, &wanted)
        .into_iter()
        .map(|s| {
            let computation = s.computation.in_vocabulary(&base_columns).to_string();
            (s.output_name, s.range.start.line, computation)
        })
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
        // Output names given from outside, by position.
        (
            "SELECT 'web' AS channel, SUM(clicks) AS clicks FROM a UNION ALL SELECT 'app', SUM(clicks) / 2 FROM b UNION ALL SELECT 'ctv', COUNT(*) AS n FROM c",
            &["clicks", "clicks", "clicks"],
        ),
        ("INSERT INTO t (campaign_id, ctr) SELECT campaign_id, SUM(clicks) / COUNT(*) FROM e GROUP BY 1", &["ctr"]),
        ("CREATE VIEW v (campaign_id, ctr) AS SELECT campaign_id, SUM(clicks) / COUNT(*) FROM e GROUP BY 1", &["ctr"]),
        ("WITH t (campaign_id, spend) AS (SELECT campaign_id, SUM(cost) FROM e GROUP BY 1) SELECT 1 AS x FROM t", &["spend"]),
        ("SELECT x FROM (SELECT SUM(cost) FROM e) AS d (spend)", &["spend"]),
        // After a `*`, positions are unknown.
        ("INSERT INTO t (a, ctr) SELECT *, SUM(clicks) / COUNT(*) FROM e", &[]),
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
            "sum(clicks) filter (where is_test = false) / sum(impressions) filter (where is_test = false)"
                .to_string()
        )]
    );
    let derived = "SELECT SUM(d.clicks) AS clicks FROM (SELECT * FROM fct) AS d";
    assert_eq!(sites(derived)[0].2, "sum(clicks)");
}

#[test]
fn computed_columns_fold_through_lineage() {
    let cases = [
        // Re-aggregating pre-aggregated sums is the sum.
        (
            "WITH d AS (SELECT day, SUM(clicks) AS c, SUM(impressions) AS i FROM fct GROUP BY day)\n\
             SELECT SUM(c) / SUM(i) AS ctr FROM d",
            "sum(clicks) / sum(impressions)",
        ),
        // SUM of COUNT is a count; MIN of MIN, MAX of MAX fold too.
        ("WITH d AS (SELECT COUNT(*) AS n FROM fct GROUP BY day) SELECT SUM(n) AS clicks FROM d", "count(*)"),
        ("WITH d AS (SELECT MAX(spend) AS m FROM fct GROUP BY day) SELECT MAX(m) AS spend FROM d", "max(spend)"),
        // AVG of AVG and AVG of SUM are other numbers: kept nested.
        ("WITH d AS (SELECT AVG(spend) AS a FROM fct GROUP BY day) SELECT AVG(a) AS spend FROM d", "avg(avg(spend))"),
        ("WITH d AS (SELECT SUM(spend) AS s FROM fct GROUP BY day) SELECT AVG(s) AS spend FROM d", "avg(sum(spend))"),
        ("WITH d AS (SELECT COUNT(DISTINCT u) AS n FROM fct GROUP BY day) SELECT SUM(n) AS clicks FROM d", "sum(count(distinct u))"),
        // A row-level ratio over pre-aggregated rows is the ratio of the aggregates.
        (
            "SELECT d.c / NULLIF(d.i, 0) AS ctr FROM (SELECT SUM(clicks) AS c, SUM(impressions) AS i FROM fct) AS d",
            "sum(clicks) / sum(impressions)",
        ),
        // Through a chain of CTEs, with the filter of the first one carried along.
        (
            "WITH live AS (SELECT * FROM fct WHERE is_test = false),\n\
             daily AS (SELECT day, SUM(clicks) AS clicks, SUM(impressions) AS imps FROM live GROUP BY day)\n\
             SELECT SUM(clicks) / SUM(imps) AS ctr FROM daily",
            "sum(clicks) filter (where is_test = false) / sum(impressions) filter (where is_test = false)",
        ),
        // UNION branches that agree resolve; ones that differ stay unknown.
        (
            "WITH u AS (SELECT SUM(clicks) AS c FROM a UNION ALL SELECT SUM(clicks) AS c FROM b) SELECT SUM(c) AS clicks FROM u",
            "sum(clicks)",
        ),
        (
            "WITH u AS (SELECT SUM(clicks) AS c FROM a UNION ALL SELECT COUNT(*) AS c FROM b) SELECT SUM(c) AS clicks FROM u",
            "derived column c differs across UNION branches",
        ),
        // Legs: one table totalled twice under the same conditions, once by
        // the token bought and once by the token sold, holds each trade
        // twice; halving their union is the total.
        (
            "WITH legs AS (\n\
               SELECT token_bought AS token, SUM(amount_usd) AS volume FROM trades WHERE project = 'b' GROUP BY 1\n\
               UNION ALL\n\
               SELECT token_sold AS token, SUM(amount_usd) AS volume FROM trades WHERE project = 'b' GROUP BY 1)\n\
             SELECT token, SUM(volume) / 2 AS volume FROM legs GROUP BY 1",
            "sum(amount_usd) filter (where project = 'b')",
        ),
        // Summed without halving, the legs count each trade twice.
        (
            "WITH legs AS (\n\
               SELECT token_bought AS token, SUM(amount_usd) AS volume FROM trades GROUP BY 1\n\
               UNION ALL\n\
               SELECT token_sold AS token, SUM(amount_usd) AS volume FROM trades GROUP BY 1)\n\
             SELECT token, SUM(volume) AS volume FROM legs GROUP BY 1",
            "sum(amount_usd) * 2",
        ),
    ];
    for (sql, want) in cases {
        let found = sites(sql);
        let last = found.last().unwrap_or_else(|| panic!("no site in {sql}"));
        assert!(
            last.2.contains(want),
            "{sql}\n  got  {}\n  want {want}",
            last.2
        );
    }
}

#[test]
fn where_and_inner_join_conditions_reach_the_aggregates() {
    let found = sites("SELECT SUM(e.clicks) AS clicks FROM fct AS e JOIN dim AS d ON d.id = e.id AND d.channel = 'ctv' WHERE e.is_test = false");
    assert_eq!(
        found[0].2,
        "sum(clicks) filter (where channel = 'ctv' and is_test = false)"
    );
    // A LEFT JOIN's ON clause drops no rows of the left side.
    let found = sites("SELECT SUM(e.clicks) AS clicks FROM fct AS e LEFT JOIN dim AS d ON d.id = e.id AND d.channel = 'ctv'");
    assert_eq!(found[0].2, "sum(clicks)");
    // HAVING is not a row condition.
    let found = sites("SELECT SUM(clicks) AS clicks FROM fct GROUP BY day HAVING SUM(clicks) > 10");
    assert_eq!(found[0].2, "sum(clicks)");
}

#[test]
fn sources_name_the_base_relations() {
    let sql = "WITH live AS (SELECT * FROM analytics.fct_ad_events)\n\
               SELECT SUM(l.spend) AS spend FROM live AS l JOIN dim_campaign AS c ON l.id = c.id";
    let parsed = parse_file(sql, &GenericDialect {});
    let found = extract_sites(&parsed.statements, sql, &|n: &str| n == "spend");
    // The figure reads the events, not the dimension joined to them; a
    // relation keeps its schema (another schema's table is another table).
    assert_eq!(found[0].sources, vec!["analytics.fct_ad_events"]);
    // A column whose relation is not known for sure (unqualified, in a
    // join): every relation of the query stands for it.
    let sql = "SELECT SUM(spend) AS spend FROM analytics.fct_ad_events AS l JOIN dim_campaign AS c ON l.id = c.id";
    let parsed = parse_file(sql, &GenericDialect {});
    let found = extract_sites(&parsed.statements, sql, &|n: &str| n == "spend");
    assert_eq!(
        found[0].sources,
        vec!["analytics.fct_ad_events", "dim_campaign"]
    );
    // Columns of both sides: both.
    let sql = "SELECT SUM(l.spend * c.rate) AS spend FROM fct AS l JOIN dim AS c ON l.id = c.id";
    let parsed = parse_file(sql, &GenericDialect {});
    let found = extract_sites(&parsed.statements, sql, &|n: &str| n == "spend");
    assert_eq!(found[0].sources, vec!["dim", "fct"]);
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

/// The text each site's range covers.
fn covered(sql: &str, dialect: &dyn sqlparser::dialect::Dialect) -> Vec<String> {
    let parsed = parse_file(sql, dialect);
    assert!(parsed.failures.is_empty(), "{sql}: {:?}", parsed.failures);
    let found = extract_sites(&parsed.statements, sql, &|n: &str| {
        ["ctr", "cpc", "win_rate"].contains(&n)
    });
    let index = LineIndex::new(sql);
    found
        .iter()
        .map(|s| sql[index.offset(s.range.start)..index.offset(s.range.end)].to_string())
        .collect()
}

#[test]
fn spans_skip_comments_and_keep_leading_casts_and_signs() {
    let cases = [
        (
            "SELECT SUM(clicks) / COUNT(*) /* rows, not imps */ AS ctr FROM t",
            "SUM(clicks) / COUNT(*)",
        ),
        (
            "SELECT SUM(spend) / COUNT(*) -- per row\n  AS cpc FROM t",
            "SUM(spend) / COUNT(*)",
        ),
        (
            "SELECT SUM(clicks) / COUNT(*) -- computed as\n ctr FROM t",
            "SUM(clicks) / COUNT(*)",
        ),
        (
            "SELECT\n  SUM(spend) / SUM(clicks) -- in €\n    cpc\nFROM t",
            "SUM(spend) / SUM(clicks)",
        ),
        (
            "SELECT CAST(SUM(clicks) AS FLOAT) / COUNT(*) AS ctr FROM t",
            "CAST(SUM(clicks) AS FLOAT) / COUNT(*)",
        ),
        (
            "SELECT a, TRY_CAST(SUM(clicks) AS FLOAT) / COUNT(*) AS ctr FROM t",
            "TRY_CAST(SUM(clicks) AS FLOAT) / COUNT(*)",
        ),
        (
            "SELECT (CAST(SUM(clicks) AS FLOAT)) / COUNT(*) AS ctr FROM t",
            "(CAST(SUM(clicks) AS FLOAT)) / COUNT(*)",
        ),
        (
            "SELECT -SUM(wins) / -SUM(bids) AS win_rate FROM t",
            "-SUM(wins) / -SUM(bids)",
        ),
        (
            "SELECT x,\n  - - SUM(wins) / SUM(bids) AS win_rate FROM t",
            "- - SUM(wins) / SUM(bids)",
        ),
        (
            "SELECT -- note -\n  SUM(wins) / SUM(bids) AS win_rate FROM t",
            "SUM(wins) / SUM(bids)",
        ),
        (
            "SELECT SUM(clicks) / COUNT(*) AS 'ctr' FROM t",
            "SUM(clicks) / COUNT(*)",
        ),
    ];
    for (sql, want) in cases {
        assert_eq!(
            covered(sql, &GenericDialect {}),
            vec![want.to_string()],
            "{sql}"
        );
    }
    let tsql = "SELECT ctr = SUM(clicks) * 1.0 / COUNT(*) FROM t";
    assert_eq!(
        covered(tsql, &sqlparser::dialect::MsSqlDialect {}),
        vec!["SUM(clicks) * 1.0 / COUNT(*)".to_string()]
    );
}

#[test]
fn union_branches_are_legs_only_over_the_same_rows() {
    // Partitions (another table, another condition, a UNION that drops
    // duplicates) hold each row once: their union is no multiple.
    let partitions = [
        "WITH u AS (SELECT SUM(amount_usd) AS v FROM trades_a UNION ALL SELECT SUM(amount_usd) AS v FROM trades_b) SELECT SUM(v) AS volume FROM u",
        "WITH u AS (SELECT SUM(amount_usd) AS v FROM trades WHERE chain = 'a' UNION ALL SELECT SUM(amount_usd) AS v FROM trades WHERE chain = 'b') SELECT SUM(v) AS volume FROM u",
        "WITH u AS (SELECT x AS k, SUM(amount_usd) AS v FROM trades GROUP BY 1 UNION SELECT y AS k, SUM(amount_usd) AS v FROM trades GROUP BY 1) SELECT SUM(v) AS volume FROM u",
        // Rows, not totals: the outer total is of each branch's rows.
        "WITH u AS (SELECT x AS k, amount_usd AS v FROM trades UNION ALL SELECT y AS k, amount_usd AS v FROM trades) SELECT SUM(v) AS volume FROM u",
    ];
    for sql in partitions {
        let found = sites(sql);
        let last = found.last().unwrap_or_else(|| panic!("no site in {sql}"));
        assert!(!last.2.contains("* 2"), "{sql}\n  got {}", last.2);
    }
}

#[test]
fn legs_labelled_apart_are_each_sides_own_rows() {
    // A wallet's sells and its buys, each branch labelled with its side:
    // per wallet, no trade is counted twice. Labelled alike (or not at
    // all), the branches are copies of one trade's row.
    let legs = |sells: &str, buys: &str| {
        format!(
            "WITH t AS (SELECT seller AS wallet, '{sells}' AS side, COUNT(*) AS n FROM trades GROUP BY 1, 2 \
             UNION ALL SELECT buyer AS wallet, '{buys}' AS side, COUNT(*) AS n FROM trades GROUP BY 1, 2) \
             SELECT wallet, SUM(n) AS volume FROM t GROUP BY 1"
        )
    };
    let last = |sql: &str| sites(sql).last().expect("a site").2.clone();
    assert_eq!(last(&legs("Sells", "Buys")), "count(*)");
    assert_eq!(last(&legs("Trade", "Trade")), "count(*) * 2");
}

#[test]
fn fixed_intervals_are_one_window_in_any_unit() {
    let window = |interval: &str| {
        let sql = format!(
            "SELECT SUM(CASE WHEN ts >= NOW() - {interval} THEN clicks END) AS clicks FROM fct"
        );
        sites(&sql)[0].2.clone()
    };
    let day = window("INTERVAL '1' DAY");
    for same in [
        "INTERVAL '24' HOUR",
        "INTERVAL '1440' MINUTE",
        "INTERVAL '1 day'",
        "INTERVAL '24 hours'",
        "INTERVAL 1 DAY",
    ] {
        assert_eq!(window(same), day, "{same}");
    }
    assert_eq!(window("INTERVAL '7' DAY"), window("INTERVAL '1' WEEK"));
    // Near misses: another length; months have none fixed.
    for other in ["INTERVAL '25' HOUR", "INTERVAL '2' DAY"] {
        assert_ne!(window(other), day, "{other}");
    }
    assert_ne!(window("INTERVAL '1' MONTH"), window("INTERVAL '30' DAY"));
}
