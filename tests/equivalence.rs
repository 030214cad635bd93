//! Table-driven tests of the comparison engine: spellings that must be judged
//! equivalent to the agreement, and near-misses that must not, each with the
//! exact code it must get, across dialects.

use metriclint::check::check_text;
use metriclint::dialect::Dialect;
use metriclint::extract::extract_sites;
use metriclint::parse::parse_file;
use metriclint::registry::{load_str, Registry};
use sqlparser::dialect::GenericDialect;

const REGISTRY: &str = r#"
version: 1
metrics:
  - name: impressions
    agg: sum
  - name: clicks
    agg: sum
  - name: spend
    unit: currency
    agg: sum
  - name: ctr
    unit: fraction
    sql: SUM(clicks) / NULLIF(SUM(impressions), 0)
  - name: clean_ctr
    unit: fraction
    filter: is_test = false
    sql: SUM(clicks) / SUM(impressions)
  - name: ctr_pct
    unit: percent
    sql: 100 * SUM(clicks) / SUM(impressions)
  - name: cpm
    unit: currency
    sql: SUM(spend) * 1000 / NULLIF(SUM(impressions), 0)
  - name: s2s_share
    unit: fraction
    filter: [is_test = false]
    sql: SUM(CASE WHEN integration_type = 's2s' THEN impressions ELSE 0 END) / SUM(impressions)
  - name: spend_usd
    unit: currency
    sql: SUM(spend_micros) / 1e6
  - name: reach
    unit: count
    agg: count_distinct
    expr: user_id
  - name: avg_bid_price
    unit: currency
    agg: average
    expr: bid_price
  - name: max_bid
    agg: max
    expr: bid_price
  - name: vcr
    unit: fraction
    numerator: {agg: sum, expr: video_completions}
    denominator: {agg: sum, expr: video_starts}
  - name: us_conversions
    agg: sum
    expr: conversions
    filter: country IN ('US', 'CA')
  - name: uk_conversions
    agg: sum
    expr: conversions
    filter: SUBSTR(country_code, 1, 2) = 'GB'
  - name: win_rate
    unit: fraction
    source: fct_auctions
    sql: SUM(wins) / NULLIF(SUM(bids), 0)
  - name: desktop_share
    unit: fraction
    sql: COUNT(CASE WHEN device_type = 'desktop' THEN 1 END) / COUNT(*)
  - name: margin
    unit: fraction
    sql: (SUM(revenue) - SUM(payout)) / SUM(revenue)
  - name: daily_avg_ctr
    unit: fraction
    sql: AVG(clicks / NULLIF(impressions, 0))
  - name: dau
    sql: COUNT(CASE WHEN is_dau THEN 1 END)
"#;

fn registry() -> Registry {
    load_str("metrics.yaml", REGISTRY).expect("test registry is valid")
}

/// The code metriclint gives the single site of `sql`, or "ok" when none.
fn code(registry: &Registry, dialect: Dialect, sql: &str) -> String {
    let findings = check_text("report.sql", sql, dialect, registry);
    // ML009 is about an operation, not the site: a share whose numerator
    // and denominator are written alike is also a value divided by itself.
    let codes: Vec<&str> = findings
        .iter()
        .map(|f| f.code)
        .filter(|code| *code != "ML009")
        .collect();
    assert!(
        !codes.contains(&"ML900"),
        "{sql} does not parse as {dialect}: {findings:?}"
    );
    match codes.as_slice() {
        [] => "ok".to_string(),
        [one] => one.to_string(),
        several => panic!("{sql}: several findings {several:?}"),
    }
}

use Dialect::{
    BigQuery as BQ, ClickHouse as CH, Databricks as DBX, DuckDb as DUCK, Generic as GEN,
    MsSql as TSQL, MySql as MY, Postgres as PG, Redshift as RS, Snowflake as SF,
};

/// (dialect, report SQL) pairs that must be equivalent to the agreement.
const EQUIVALENT: &[(Dialect, &str)] = &[
    // SUBSTRING, with commas or FROM … FOR, is SUBSTR.
    (GEN, "SELECT SUM(conversions) AS uk_conversions FROM fct WHERE SUBSTRING(country_code, 1, 2) = 'GB'"),
    (PG, "SELECT SUM(conversions) AS uk_conversions FROM fct WHERE SUBSTRING(country_code FROM 1 FOR 2) = 'GB'"),
    // A sum of a flag counts the rows where it holds; a flag compared with
    // 1 or cast to a boolean is the flag.
    (GEN, "SELECT SUM(CAST(is_dau AS INT)) AS dau FROM fct"),
    (BQ, "SELECT COUNTIF(is_dau = 1) AS dau FROM fct"),
    (GEN, "SELECT COUNT(CASE WHEN CAST(is_dau AS BOOLEAN) THEN 1 END) AS dau FROM fct"),
    // Case, quoting, qualifiers, aliases.
    (GEN, "SELECT SUM(Clicks) / sum(IMPRESSIONS) AS ctr FROM fct"),
    (PG, "SELECT SUM(\"clicks\") / SUM(\"Impressions\") AS \"CTR\" FROM fct"),
    (BQ, "SELECT SUM(`clicks`) / SUM(e.`impressions`) AS ctr FROM `proj.ds.fct` AS e"),
    (TSQL, "SELECT SUM([clicks]) / SUM([impressions]) AS [ctr] FROM fct"),
    (GEN, "SELECT SUM(e.clicks) / SUM(e.impressions) AS ctr FROM fct AS e"),
    (GEN, "SELECT SUM(fct.clicks) / SUM(e.impressions) AS ctr FROM fct e"),
    (SF, "SELECT SUM(E.CLICKS) / SUM(E.IMPRESSIONS) CTR FROM FCT E"),
    // Operand order and grouping.
    (GEN, "SELECT 1000 * SUM(spend) / SUM(impressions) AS cpm FROM fct"),
    (GEN, "SELECT SUM(spend) / SUM(impressions) * 1000 AS cpm FROM fct"),
    (GEN, "SELECT SUM(spend) / (SUM(impressions) / 1000) AS cpm FROM fct"),
    (GEN, "SELECT (SUM(spend) * 1000) / SUM(impressions) AS cpm FROM fct"),
    (GEN, "SELECT SUM(clicks) * 100 / SUM(impressions) AS ctr_pct FROM fct"),
    // A constant factor inside the sum is the same as outside the ratio.
    (GEN, "SELECT SUM(clicks * 100) / SUM(impressions) AS ctr_pct FROM fct"),
    (GEN, "SELECT (SUM(clicks) / SUM(impressions)) * 100 AS ctr_pct FROM fct"),
    (GEN, "SELECT SUM(spend * 1000) / SUM(impressions) AS cpm FROM fct"),
    (GEN, "SELECT (SUM(revenue) - SUM(payout)) / SUM(revenue) AS margin FROM fct"),
    (GEN, "SELECT (-SUM(payout) + SUM(revenue)) / SUM(revenue) AS margin FROM fct"),
    (GEN, "SELECT SUM(CASE WHEN 's2s' = integration_type THEN impressions ELSE 0 END) / SUM(impressions) AS s2s_share FROM fct WHERE NOT is_test"),
    // Parentheses and literal spellings.
    (GEN, "SELECT ((SUM(clicks)) / (SUM(impressions))) AS ctr FROM fct"),
    (GEN, "SELECT SUM(spend) * 1000.0 / SUM(impressions) AS cpm FROM fct"),
    (GEN, "SELECT SUM(spend) * 1e3 / SUM(impressions) AS cpm FROM fct"),
    (GEN, "SELECT SUM(spend_micros) / 1000000 AS spend_usd FROM fct"),
    (GEN, "SELECT SUM(spend_micros) * 0.000001 AS spend_usd FROM fct"),
    (GEN, "SELECT SUM(spend_micros) / 1e6 AS spend_usd FROM fct"),
    // A platform's column mapped to the agreed name in a CTE, plainly or
    // through a numeric cast (a rename either way).
    (GEN, "WITH t AS (SELECT swipes AS clicks, impressions FROM snap) SELECT SUM(clicks) / SUM(impressions) AS ctr FROM t"),
    (GEN, "WITH t AS (SELECT CAST(swipes AS INT) AS clicks, impressions FROM snap) SELECT SUM(clicks) / SUM(impressions) AS ctr FROM t"),
    // A column named for a base metric with a word that only says it is a
    // total reads as that metric.
    (GEN, "SELECT SUM(total_clicks) / SUM(impressions) AS ctr FROM fct"),
    // A filter inside what an INNER JOIN brings in keeps rows out.
    (GEN, "SELECT SUM(f.clicks) / SUM(f.impressions) AS clean_ctr FROM fct AS f JOIN (SELECT id, is_test FROM accounts WHERE is_test = false) AS a ON f.account_id = a.id"),
    // Numeric casts.
    (BQ, "SELECT CAST(SUM(clicks) AS FLOAT64) / SUM(impressions) AS ctr FROM fct"),
    (BQ, "SELECT SAFE_CAST(SUM(clicks) AS NUMERIC) / SUM(impressions) AS ctr FROM fct"),
    (PG, "SELECT SUM(clicks)::numeric / SUM(impressions)::numeric AS ctr FROM fct"),
    (SF, "SELECT SUM(clicks)::float / NULLIF(SUM(impressions), 0)::float AS ctr FROM fct"),
    (TSQL, "SELECT TRY_CAST(SUM(clicks) AS DECIMAL(18, 4)) / SUM(impressions) AS ctr FROM fct"),
    (RS, "SELECT CAST(SUM(clicks) AS DOUBLE PRECISION) / SUM(impressions) AS ctr FROM fct"),
    (GEN, "SELECT 1.0 * SUM(clicks) / SUM(impressions) AS ctr FROM fct"),
    (DUCK, "SELECT SUM(clicks) * 1.0 / SUM(impressions) AS ctr FROM fct"),
    // COUNT(*) and COUNT(1).
    (GEN, "SELECT COUNT(CASE WHEN device_type = 'desktop' THEN 1 END) / COUNT(1) AS desktop_share FROM fct"),
    (GEN, "SELECT SUM(CASE WHEN device_type = 'desktop' THEN 1 ELSE 0 END) / COUNT(*) AS desktop_share FROM fct"),
    (BQ, "SELECT COUNTIF(device_type = 'desktop') / COUNT(*) AS desktop_share FROM fct"),
    (SF, "SELECT COUNT_IF(device_type = 'desktop') / COUNT(*) AS desktop_share FROM fct"),
    // (Postgres divides integers by truncating: one side cast, or ML006.)
    (PG, "SELECT COUNT(*) FILTER (WHERE device_type = 'desktop')::numeric / COUNT(*) AS desktop_share FROM fct"),
    (CH, "SELECT countIf(device_type = 'desktop') / count() AS desktop_share FROM fct"),
    (MY, "SELECT SUM(IF(device_type = 'desktop', 1, 0)) / COUNT(*) AS desktop_share FROM fct"),
    // Division guards.
    (GEN, "SELECT SUM(clicks) / SUM(impressions) AS ctr FROM fct"),
    (BQ, "SELECT SAFE_DIVIDE(SUM(clicks), SUM(impressions)) AS ctr FROM fct"),
    (BQ, "SELECT IEEE_DIVIDE(SUM(clicks), SUM(impressions)) AS ctr FROM fct"),
    (SF, "SELECT DIV0(SUM(clicks), SUM(impressions)) AS ctr FROM fct"),
    (SF, "SELECT DIV0NULL(SUM(clicks), SUM(impressions)) AS ctr FROM fct"),
    (DBX, "SELECT try_divide(SUM(clicks), SUM(impressions)) AS ctr FROM fct"),
    (GEN, "SELECT CASE WHEN SUM(impressions) = 0 THEN NULL ELSE SUM(clicks) / SUM(impressions) END AS ctr FROM fct"),
    (GEN, "SELECT CASE WHEN SUM(impressions) > 0 THEN SUM(clicks) / SUM(impressions) ELSE 0 END AS ctr FROM fct"),
    (GEN, "SELECT CASE WHEN SUM(impressions) IS NOT NULL AND SUM(impressions) != 0 THEN CAST(SUM(clicks) / SUM(impressions) AS FLOAT) ELSE NULL END AS ctr FROM fct"),
    (GEN, "SELECT COALESCE(SUM(clicks) / NULLIF(SUM(impressions), 0), 0) AS ctr FROM fct"),
    (SF, "SELECT ZEROIFNULL(SUM(clicks)) / SUM(impressions) AS ctr FROM fct"),
    (RS, "SELECT NVL(SUM(clicks), 0) / SUM(impressions) AS ctr FROM fct"),
    (MY, "SELECT IFNULL(SUM(clicks), 0) / SUM(impressions) AS ctr FROM fct"),
    (GEN, "SELECT CASE WHEN SUM(clicks) IS NULL THEN 0 ELSE SUM(clicks) END / SUM(impressions) AS ctr FROM fct"),
    (TSQL, "SELECT ISNULL(SUM(clicks), 0) / NULLIF(SUM(impressions), 0) AS ctr FROM fct"),
    // Conditional aggregates.
    (GEN, "SELECT SUM(CASE WHEN integration_type = 's2s' THEN impressions END) / SUM(impressions) AS s2s_share FROM fct WHERE is_test = false"),
    (PG, "SELECT SUM(impressions) FILTER (WHERE integration_type = 's2s') / SUM(impressions) AS s2s_share FROM fct WHERE is_test = false"),
    (BQ, "SELECT SUM(IF(integration_type = 's2s', impressions, 0)) / SUM(impressions) AS s2s_share FROM fct WHERE is_test = false"),
    (SF, "SELECT SUM(IFF(integration_type = 's2s', impressions, 0)) / SUM(impressions) AS s2s_share FROM fct WHERE is_test = false"),
    (CH, "SELECT sumIf(impressions, integration_type = 's2s') / sum(impressions) AS s2s_share FROM fct WHERE is_test = false"),
    (TSQL, "SELECT SUM(IIF(integration_type = 's2s', impressions, 0)) / SUM(impressions) AS s2s_share FROM fct WHERE NOT is_test"),
    // The registered filter, in WHERE or inside every aggregate, in any spelling.
    (GEN, "SELECT SUM(clicks) / SUM(impressions) AS clean_ctr FROM fct WHERE is_test = false"),
    (GEN, "SELECT SUM(clicks) / SUM(impressions) AS clean_ctr FROM fct WHERE NOT is_test"),
    (GEN, "SELECT SUM(clicks) / SUM(impressions) AS clean_ctr FROM fct WHERE is_test IS FALSE"),
    (GEN, "SELECT SUM(clicks) / SUM(impressions) AS clean_ctr FROM fct WHERE is_test <> true"),
    (GEN, "SELECT SUM(clicks) / SUM(impressions) AS clean_ctr FROM fct WHERE false = is_test AND event_date >= '2026-01-01'"),
    (PG, "SELECT SUM(clicks) FILTER (WHERE NOT is_test) / SUM(impressions) FILTER (WHERE NOT is_test) AS clean_ctr FROM fct"),
    (GEN, "SELECT SUM(CASE WHEN is_test = false THEN clicks END) / SUM(CASE WHEN NOT is_test THEN impressions END) AS clean_ctr FROM fct"),
    (GEN, "SELECT SUM(conversions) AS us_conversions FROM fct WHERE country IN ('CA', 'US')"),
    (GEN, "SELECT SUM(conversions) AS us_conversions FROM fct WHERE country IN ('US', 'CA', 'US')"),
    (GEN, "SELECT SUM(CASE WHEN country IN ('US', 'CA') THEN conversions ELSE 0 END) AS us_conversions FROM fct"),
    // The report's slice: WHERE on columns the definition does not constrain; HAVING.
    (GEN, "SELECT SUM(clicks) / SUM(impressions) AS ctr FROM fct WHERE event_date BETWEEN '2026-01-01' AND '2026-01-31' AND campaign_id = 7"),
    (GEN, "SELECT SUM(clicks) / SUM(impressions) AS ctr FROM fct WHERE is_test = false"),
    (GEN, "SELECT campaign_id, SUM(clicks) / SUM(impressions) AS ctr FROM fct GROUP BY campaign_id HAVING SUM(impressions) > 1000"),
    (GEN, "SELECT SUM(clicks) / SUM(impressions) AS clean_ctr FROM fct AS e JOIN dim AS d ON d.id = e.campaign_id WHERE d.channel = 'ctv' AND NOT e.is_test"),
    // Lineage through CTEs, derived tables, UNION.
    (GEN, "WITH d AS (SELECT day, SUM(clicks) AS clicks, SUM(impressions) AS imps FROM fct GROUP BY day) SELECT SUM(clicks) / SUM(imps) AS ctr FROM d"),
    (GEN, "WITH live AS (SELECT * FROM fct WHERE is_test = false) SELECT SUM(clicks) / SUM(impressions) AS clean_ctr FROM live"),
    (GEN, "WITH live AS (SELECT * FROM fct WHERE is_test = false), d AS (SELECT day, SUM(clicks) AS c, SUM(impressions) AS i FROM live GROUP BY day) SELECT SUM(c) / SUM(i) AS clean_ctr FROM d"),
    (GEN, "SELECT t.c / NULLIF(t.i, 0) AS ctr FROM (SELECT SUM(clicks) AS c, SUM(impressions) AS i FROM fct) AS t"),
    (GEN, "WITH d AS (SELECT COUNT(DISTINCT user_id) AS reach FROM fct) SELECT reach FROM d"),
    (GEN, "WITH u AS (SELECT SUM(clicks) AS c, SUM(impressions) AS i FROM a UNION ALL SELECT SUM(clicks) AS c, SUM(impressions) AS i FROM b) SELECT SUM(c) / SUM(i) AS ctr FROM u"),
    (GEN, "WITH d AS (SELECT MAX(bid_price) AS m FROM fct GROUP BY day) SELECT MAX(m) AS max_bid FROM d"),
    (GEN, "WITH d AS (SELECT SUM(CASE WHEN integration_type = 's2s' THEN impressions ELSE 0 END) AS s2s, SUM(impressions) AS imps FROM fct WHERE NOT is_test GROUP BY day) SELECT SUM(s2s) / SUM(imps) AS s2s_share FROM d"),
    // Guards written with IF / IFF / IIF, and Snowflake's NULLIFZERO.
    (SF, "SELECT IFF(SUM(impressions) = 0, 0, SUM(clicks) / SUM(impressions)) AS ctr FROM fct"),
    (BQ, "SELECT IF(SUM(impressions) > 0, SUM(clicks) / SUM(impressions), NULL) AS ctr FROM fct"),
    (TSQL, "SELECT IIF(SUM(impressions) = 0, NULL, SUM(clicks) * 1.0 / SUM(impressions)) AS ctr FROM fct"),
    (SF, "SELECT SUM(clicks) / NULLIFZERO(SUM(impressions)) AS ctr FROM fct"),
    // More casts, rounding for display, COALESCE inside a sum, a negated difference.
    (SF, "SELECT SUM(clicks)::DECFLOAT / SUM(impressions) AS ctr FROM fct"),
    (MY, "SELECT CAST(SUM(clicks) AS SIGNED) / SUM(impressions) AS ctr FROM fct"),
    // Sized number types (Dune's uint256, ClickHouse's Float64).
    (GEN, "SELECT SUM(CAST(clicks AS UINT256)) / SUM(impressions) AS ctr FROM fct"),
    (CH, "SELECT SUM(CAST(clicks AS Float64)) / SUM(CAST(impressions AS UInt64)) AS ctr FROM fct"),
    (GEN, "SELECT ROUND(SUM(clicks) / NULLIF(SUM(impressions), 0), 4) AS ctr FROM fct"),
    (GEN, "SELECT SUM(COALESCE(clicks, 0)) / SUM(impressions) AS ctr FROM fct"),
    (SF, "SELECT SUM(NVL(clicks, '0')) / SUM(impressions) AS ctr FROM fct"),
    (GEN, "SELECT -(SUM(payout) - SUM(revenue)) / SUM(revenue) AS margin FROM fct"),
    // A staging CTE renames raw columns to the agreed names; an abbreviation is followed back.
    (GEN, "WITH events AS (SELECT campaign_id, clk AS clicks, imps AS impressions FROM raw.ad_events) SELECT SUM(clicks) / NULLIF(SUM(impressions), 0) AS ctr FROM events"),
    (GEN, "WITH e AS (SELECT clicks AS c, impressions AS i FROM fct) SELECT SUM(c) / SUM(i) AS ctr FROM e"),
    // Picking one value per group after a fan-out join.
    (GEN, "WITH c AS (SELECT campaign_id, SUM(clicks) AS clicks, SUM(impressions) AS impressions FROM fct GROUP BY 1) SELECT c.campaign_id, ANY_VALUE(c.clicks) / ANY_VALUE(c.impressions) AS ctr FROM c JOIN dim AS d ON d.id = c.campaign_id GROUP BY 1"),
    // Qualified names are the metric.
    (GEN, "SELECT SUM(clicks) / SUM(impressions) AS daily_ctr FROM fct GROUP BY day"),
    (GEN, "SELECT SUM(spend) AS total_spend_usd FROM fct"),
    (GEN, "SELECT campaign_id, SUM(clicks) / SUM(impressions) AS ctr_by_campaign FROM fct GROUP BY 1"),
    // Words that change the meaning make another metric: not judged against ctr.
    (GEN, "SELECT SUM(clicks) / COUNT(*) AS ctr_delta FROM fct"),
    (GEN, "SELECT SUM(spend) / COUNT(*) AS avg_spend FROM fct"),
    // Statement shapes.
    (GEN, "CREATE VIEW v AS SELECT SUM(clicks) / SUM(impressions) AS ctr FROM fct"),
    (SF, "CREATE OR REPLACE TABLE t AS SELECT DIV0(SUM(clicks), SUM(impressions)) AS ctr FROM fct"),
    (GEN, "INSERT INTO t SELECT SUM(clicks) / SUM(impressions) AS ctr FROM fct"),
    (GEN, "SELECT SUM(clicks) / SUM(impressions) AS ctr FROM fct UNION ALL SELECT SUM(clicks) / SUM(impressions) AS ctr FROM fct2"),
    // Other aggregates and forms.
    (GEN, "SELECT COUNT(DISTINCT user_id) AS reach FROM fct"),
    (CH, "SELECT uniqExact(user_id) AS reach FROM fct"),
    (GEN, "SELECT AVG(bid_price) AS avg_bid_price FROM fct"),
    (GEN, "SELECT SUM(video_completions) / NULLIF(SUM(video_starts), 0) AS vcr FROM fct"),
    (GEN, "SELECT AVG(clicks / impressions) AS daily_avg_ctr FROM fct"),
    (GEN, "SELECT SUM(e.win_count) AS clicks FROM (SELECT clicks AS win_count FROM fct) AS e"),
    (GEN, "SELECT SUM(wins) / SUM(bids) AS win_rate FROM analytics.fct_auctions"),
    (BQ, "SELECT SUM(wins) / SUM(bids) AS win_rate FROM `proj.analytics.fct_auctions`"),
    (GEN, "WITH a AS (SELECT * FROM fct_auctions) SELECT SUM(wins) / SUM(bids) AS win_rate FROM a"),
];

/// (dialect, report SQL, code) near-misses that must get exactly that code.
const NEAR_MISSES: &[(Dialect, &str, &str)] = &[
    (GEN, "SELECT SUM(conversions) AS uk_conversions FROM fct WHERE SUBSTRING(country_code, 2, 2) = 'GB'", "ML002"),
    // A row-level ratio is its grain's ratio of totals: inverted, or at
    // another scale, whatever the grain.
    (GEN, "SELECT impressions / NULLIF(clicks, 0) AS ctr FROM daily_stats", "ML001"),
    (GEN, "SELECT 100.0 * clicks / NULLIF(impressions, 0) AS ctr FROM daily_stats", "ML004"),
    // Near misses of the clipped and inner-group shapes judged unknown.
    (GEN, "SELECT GREATEST(SUM(spend), SUM(payout)) AS spend FROM fct", "ML001"),
    (GEN, "SELECT CASE WHEN SUM(spend) < 0 THEN 0 ELSE SUM(payout) END AS spend FROM fct", "ML001"),
    // A null-to-zero CASE over another total is that total.
    (GEN, "SELECT CASE WHEN SUM(spend) IS NULL THEN 0 ELSE SUM(payout) END AS spend FROM fct", "ML001"),
    (GEN, "SELECT COUNT(CASE WHEN is_click = 1 THEN 1 END) AS clicks FROM ev", "ML001"),
    // A sum of another flag counts other rows.
    (GEN, "SELECT SUM(CAST(is_wau AS INT)) AS dau FROM fct", "ML001"),
    // Formula: another column, another aggregate, another operation.
    (GEN, "SELECT SUM(clicks) / COUNT(*) AS ctr FROM fct", "ML001"),
    // A default of one is no zero: each missing value counts a click.
    (SF, "SELECT SUM(NVL(clicks, '1')) / SUM(impressions) AS ctr FROM fct", "ML001"),
    // A filter inside what a LEFT JOIN brings in keeps none of the left
    // side's rows out.
    (GEN, "SELECT SUM(f.clicks) / SUM(f.impressions) AS clean_ctr FROM fct AS f LEFT JOIN (SELECT id FROM accounts WHERE is_test = false) AS a ON f.account_id = a.id", "ML002"),
    // Windows and running figures are other columns.
    (GEN, "SELECT SUM(clicks_30d) / SUM(impressions) AS ctr FROM fct", "ML001"),
    (GEN, "SELECT SUM(cumulative_clicks) / SUM(impressions) AS ctr FROM fct", "ML001"),
    // A CTE that computes the agreed column, rather than renaming one, is
    // followed.
    (GEN, "WITH t AS (SELECT swipes + clicks AS clicks, impressions FROM snap) SELECT SUM(clicks) / SUM(impressions) AS ctr FROM t", "ML001"),
    (GEN, "SELECT SUM(clicks) / SUM(viewable_impressions) AS ctr FROM fct", "ML001"),
    (GEN, "SELECT SUM(impressions) / SUM(clicks) AS ctr FROM fct", "ML001"),
    (GEN, "SELECT COUNT(clicks) / SUM(impressions) AS ctr FROM fct", "ML001"),
    (GEN, "SELECT MAX(clicks) / SUM(impressions) AS ctr FROM fct", "ML001"),
    (GEN, "SELECT COUNT(user_id) AS reach FROM fct", "ML001"),
    (GEN, "SELECT COUNT(DISTINCT session_id) AS reach FROM fct", "ML001"),
    (GEN, "SELECT SUM(spend) / SUM(impressions) AS avg_bid_price FROM fct", "ML001"),
    (GEN, "SELECT (SUM(payout) - SUM(revenue)) / SUM(revenue) AS margin FROM fct", "ML001"),
    (GEN, "SELECT (SUM(revenue) - SUM(spend)) / SUM(revenue) AS margin FROM fct", "ML001"),
    (GEN, "SELECT SUM(revenue) - SUM(payout) / SUM(revenue) AS margin FROM fct", "ML013"),
    (GEN, "SELECT SUM(clicks) / NULLIF(SUM(impressions), 1) AS ctr FROM fct", "ML001"),
    (BQ, "SELECT SAFE_DIVIDE(SUM(impressions), SUM(clicks)) AS ctr FROM fct", "ML001"),
    (GEN, "SELECT CASE WHEN SUM(impressions) = 0 THEN 1 ELSE SUM(clicks) / SUM(impressions) END AS ctr FROM fct", "ML001"),
    (GEN, "SELECT CASE WHEN SUM(clicks) = 0 THEN 0 ELSE SUM(clicks) / SUM(impressions) END AS ctr FROM fct", "ML001"),
    (GEN, "SELECT COUNT(CASE WHEN device_type = 'desktop' THEN 1 ELSE 0 END) / COUNT(*) AS desktop_share FROM fct", "ML001"),
    (GEN, "SELECT AVG(CASE WHEN device_type = 'desktop' THEN 1 ELSE 0 END) AS desktop_share FROM fct", "ML001"),
    // AVG of AVG is not a fold; SUM of COUNT DISTINCT is not a count distinct.
    (GEN, "WITH d AS (SELECT AVG(bid_price) AS a FROM fct GROUP BY day) SELECT AVG(a) AS avg_bid_price FROM d", "ML001"),
    (GEN, "WITH d AS (SELECT COUNT(DISTINCT user_id) AS u FROM fct GROUP BY day) SELECT SUM(u) AS reach FROM d", "ML001"),
    (GEN, "WITH d AS (SELECT SUM(bid_price) AS s FROM fct GROUP BY day) SELECT AVG(s) AS avg_bid_price FROM d", "ML001"),
    // Filters: missing, extra, on one side only, different values.
    (GEN, "SELECT SUM(clicks) / SUM(impressions) AS clean_ctr FROM fct", "ML002"),
    (GEN, "SELECT SUM(clicks) / SUM(impressions) AS clean_ctr FROM fct WHERE is_test = true", "ML002"),
    (GEN, "SELECT SUM(CASE WHEN NOT is_test THEN clicks END) / SUM(impressions) AS clean_ctr FROM fct", "ML002"),
    (GEN, "SELECT SUM(CASE WHEN integration_type = 's2s' THEN impressions END) / SUM(impressions) AS s2s_share FROM fct", "ML002"),
    (GEN, "SELECT SUM(CASE WHEN integration_type = 's2s' THEN impressions END) / SUM(impressions) AS s2s_share FROM fct WHERE NOT is_test AND integration_type = 's2s'", "ML002"),
    (GEN, "SELECT SUM(CASE WHEN integration_type = 'S2S' THEN impressions END) / SUM(impressions) AS s2s_share FROM fct WHERE NOT is_test", "ML002"),
    (GEN, "SELECT SUM(CASE WHEN integration_type = 's2s' THEN impressions END) / SUM(CASE WHEN integration_type = 's2s' THEN impressions END) AS s2s_share FROM fct WHERE NOT is_test", "ML002"),
    (GEN, "SELECT SUM(conversions) AS us_conversions FROM fct WHERE country IN ('US')", "ML002"),
    (GEN, "SELECT SUM(conversions) AS us_conversions FROM fct WHERE country IN ('US', 'CA', 'MX')", "ML002"),
    (GEN, "SELECT SUM(conversions) AS us_conversions FROM fct", "ML002"),
    (GEN, "SELECT SUM(conversions) AS us_conversions FROM fct WHERE country NOT IN ('US', 'CA')", "ML002"),
    (GEN, "SELECT SUM(clicks) / SUM(CASE WHEN device_type = 'ctv' THEN impressions END) AS ctr FROM fct", "ML002"),
    (GEN, "SELECT COUNT(CASE WHEN device_type = 'mobile' THEN 1 END) / COUNT(*) AS desktop_share FROM fct", "ML002"),
    (GEN, "SELECT COUNT(CASE WHEN device_type >= 'desktop' THEN 1 END) / COUNT(*) AS desktop_share FROM fct", "ML002"),
    (PG, "SELECT COUNT(*) FILTER (WHERE device_type = 'desktop')::numeric / COUNT(*) FILTER (WHERE device_type = 'desktop') AS desktop_share FROM fct", "ML002"),
    (PG, "SELECT COUNT(*) FILTER (WHERE device_type = 'desktop') / COUNT(*) AS desktop_share FROM fct", "ML006"),
    (GEN, "WITH live AS (SELECT * FROM fct WHERE is_test = true) SELECT SUM(clicks) / SUM(impressions) AS clean_ctr FROM live", "ML002"),
    (GEN, "SELECT SUM(clicks) / SUM(impressions) AS clean_ctr FROM fct AS e LEFT JOIN dim AS d ON d.id = e.id AND NOT e.is_test", "ML002"),
    // Scale.
    (GEN, "SELECT 100 * SUM(clicks) / SUM(impressions) AS ctr FROM fct", "ML004"),
    (GEN, "SELECT SUM(clicks) / SUM(impressions) * 100.0 AS ctr FROM fct", "ML004"),
    (GEN, "SELECT SUM(clicks) / SUM(impressions) AS ctr_pct FROM fct", "ML004"),
    (GEN, "SELECT SUM(spend) / SUM(impressions) AS cpm FROM fct", "ML004"),
    (GEN, "SELECT SUM(spend_micros) AS spend_usd FROM fct", "ML004"),
    (GEN, "SELECT SUM(spend_micros) / 1e3 AS spend_usd FROM fct", "ML004"),
    (GEN, "SELECT SUM(clicks) / SUM(impressions) * 1000 AS ctr FROM fct", "ML004"),
    (GEN, "SELECT SUM(clicks * 100) / SUM(impressions) AS ctr FROM fct", "ML004"),
    (GEN, "SELECT AVG(clicks / impressions * 100) AS ctr_pct FROM fct", "ML005"),
    // Ratio structure, directly and through columns.
    (GEN, "SELECT AVG(clicks / impressions) AS ctr FROM fct", "ML005"),
    (GEN, "SELECT AVG(clicks / NULLIF(impressions, 0)) AS ctr FROM fct", "ML005"),
    (BQ, "SELECT SUM(SAFE_DIVIDE(clicks, impressions)) AS ctr FROM fct", "ML005"),
    (GEN, "SELECT AVG(ctr) AS ctr FROM daily_campaign_stats", "ML005"),
    (GEN, "WITH d AS (SELECT day, clicks / impressions AS r FROM fct) SELECT AVG(r) AS ctr FROM d", "ML005"),
    (GEN, "WITH d AS (SELECT day, SUM(clicks) / SUM(impressions) AS r FROM fct GROUP BY day) SELECT AVG(r) AS ctr FROM d", "ML005"),
    (GEN, "SELECT SUM(clicks) / SUM(impressions) AS daily_avg_ctr FROM fct", "ML005"),
    (GEN, "SELECT AVG(ctr) AS avg_ctr FROM campaign_daily", "ML005"),
    (GEN, "SELECT SUM(clicks) / COUNT(*) AS monthly_ctr FROM fct", "ML001"),
    (GEN, "SELECT 100 * SUM(clicks) / SUM(impressions) AS ctr_percent FROM fct", "ML004"),
    // Source.
    (GEN, "SELECT SUM(wins) / SUM(bids) AS win_rate FROM raw_auction_log", "ML003"),
    (GEN, "WITH a AS (SELECT * FROM staging.auctions_v2) SELECT SUM(wins) / SUM(bids) AS win_rate FROM a", "ML003"),
    // A rename from a column the agreement uses is followed, not trusted.
    (GEN, "WITH e AS (SELECT impressions AS clicks, impressions FROM fct) SELECT SUM(clicks) / SUM(impressions) AS ctr FROM e", "ML001"),
    (GEN, "SELECT ROUND(SUM(clicks) / COUNT(*), 4) AS ctr FROM fct", "ML001"),
    // More than one kind of difference is ML001.
    (GEN, "SELECT 100 * SUM(clicks) / SUM(impressions) AS clean_ctr FROM fct", "ML001"),
    (GEN, "SELECT SUM(wins) / SUM(bid_requests) AS win_rate FROM raw_auction_log", "ML001"),
    (GEN, "SELECT 100 * AVG(clicks / impressions) AS ctr FROM fct", "ML001"),
];

#[test]
fn honest_spellings_are_equivalent() {
    let registry = registry();
    let mut failures = Vec::new();
    for (dialect, sql) in EQUIVALENT {
        let got = code(&registry, *dialect, sql);
        if got != "ok" {
            let detail = check_text("r.sql", sql, *dialect, &registry)
                .into_iter()
                .map(|f| f.message)
                .collect::<Vec<_>>();
            failures.push(format!("[{dialect}] {sql}\n    got {got}: {detail:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} false alarms:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(EQUIVALENT.len() >= 80, "{} pairs", EQUIVALENT.len());
}

#[test]
fn near_misses_get_their_exact_code() {
    let registry = registry();
    let mut failures = Vec::new();
    for (dialect, sql, want) in NEAR_MISSES {
        let got = code(&registry, *dialect, sql);
        if got != *want {
            let detail = check_text("r.sql", sql, *dialect, &registry)
                .into_iter()
                .map(|f| f.message)
                .collect::<Vec<_>>();
            failures.push(format!(
                "[{dialect}] {sql}\n    want {want}, got {got}: {detail:?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(NEAR_MISSES.len() >= 50, "{} near-misses", NEAR_MISSES.len());
    let dialects: std::collections::BTreeSet<String> =
        NEAR_MISSES.iter().map(|(d, _, _)| d.to_string()).collect();
    let all: std::collections::BTreeSet<String> = EQUIVALENT
        .iter()
        .map(|(d, _)| d.to_string())
        .chain(dialects)
        .collect();
    assert!(all.len() >= 4, "{all:?}");
}

#[test]
fn unsupported_constructs_are_unknown_never_reported() {
    let registry = registry();
    for sql in [
        "SELECT SUM(clicks) OVER (PARTITION BY day) / SUM(impressions) OVER (PARTITION BY day) AS ctr FROM fct",
        "SELECT (SELECT SUM(clicks) FROM other) / SUM(impressions) AS ctr FROM fct",
        // A row-level ratio over a base table whose grain is not visible.
        "SELECT clicks / impressions AS ctr FROM daily_stats",
        // Of another column, which the table's rows may hold as a total of
        // the agreed one.
        "SELECT clicks / served AS ctr FROM daily_stats",
        "SELECT SUM(x.c) / SUM(x.i) AS ctr FROM TABLE(my_udf()) AS x",
        // The largest of several pre-aggregated totals: right or wrong depending on a grain we cannot see.
        "WITH c AS (SELECT campaign_id, SUM(clicks) AS clicks, SUM(impressions) AS imps FROM fct GROUP BY 1) SELECT MAX(c.clicks) / NULLIF(MAX(c.imps), 0) AS ctr FROM c",
        // A figure clipped at a bound differs only where the data is out of it.
        "SELECT GREATEST(SUM(spend), 0) AS spend FROM fct",
        "SELECT CASE WHEN SUM(spend) < 0 THEN 0 ELSE SUM(spend) END AS spend FROM fct",
        // Counting the groups of an inner query: its grain decides the figure.
        "WITH g AS (SELECT event_id, MAX(is_click) AS any_click FROM ev GROUP BY 1) SELECT COUNT(CASE WHEN any_click = 1 THEN 1 END) AS clicks FROM g",
        // A summary table's own columns, deduplicated after a join: not a computation.
        "SELECT d.campaign_id, MAX(d.ctr) AS ctr, MIN(d.cpm) AS cpm FROM campaign_daily_summary AS d JOIN dim AS c ON c.id = d.campaign_id GROUP BY 1",
    ] {
        assert_eq!(code(&registry, GEN, sql), "ok", "{sql}");
    }
}

#[test]
fn messages_name_the_difference_in_the_metrics_terms() {
    let registry = registry();
    let message = |sql: &str| check_text("r.sql", sql, GEN, &registry).remove(0).message;
    // Swapped parts are called inverted, also behind a guard on a total.
    assert!(
        message("SELECT CASE WHEN SUM(clicks) = 0 THEN NULL ELSE SUM(impressions) / SUM(clicks) END AS ctr FROM fct")
            .ends_with("it is inverted: it divides sum(impressions) by sum(clicks) where the registry divides sum(clicks) by sum(impressions)")
    );
    assert_eq!(
        message("SELECT SUM(clicks) / COUNT(*) AS ctr FROM fct"),
        "ctr is computed as sum(clicks) / count(*), but the registry defines it as sum(clicks) / sum(impressions): the denominator is count(*) where the registry has sum(impressions)"
    );
    assert_eq!(
        message("SELECT SUM(clicks) / SUM(impressions) AS clean_ctr FROM fct"),
        "clean_ctr aggregates other rows than agreed: filter `is_test = false` is missing"
    );
    assert_eq!(
        message("SELECT SUM(CASE WHEN integration_type = 's2s' THEN impressions END) / SUM(impressions) AS s2s_share FROM fct WHERE NOT is_test AND integration_type = 's2s'"),
        "s2s_share aggregates other rows than agreed: filter `integration_type = 's2s'` applies to sum(impressions) too"
    );
    assert_eq!(
        message("SELECT 100 * SUM(clicks) / SUM(impressions) AS ctr FROM fct"),
        "ctr has the agreed formula at another scale: it is in percent (×100) where the registry reports a fraction"
    );
    assert_eq!(
        message("SELECT AVG(clicks / impressions) AS ctr FROM fct"),
        "ctr averages per-row ratios, avg(clicks / impressions), where the registry divides totals, sum(clicks) / sum(impressions)"
    );
    assert_eq!(
        message("SELECT SUM(wins) / SUM(bids) AS win_rate FROM raw_auction_log"),
        "win_rate is computed from raw_auction_log, but the registry says it comes from fct_auctions"
    );
    let several = message("SELECT 100 * SUM(clicks) / SUM(impressions) AS clean_ctr FROM fct");
    assert!(
        several.contains("filter `is_test = false` is missing")
            && several.contains("percent (×100)"),
        "{several}"
    );
}

/// The canonical form of `expr` as a report computes it over `from`.
fn site(expr: &str, from: &str) -> String {
    let sql = format!("SELECT {expr} AS m FROM {from}");
    let parsed = parse_file(&sql, &GenericDialect {});
    let mut sites = extract_sites(&parsed.statements, &sql, &|name: &str| name == "m");
    assert_eq!(sites.len(), 1, "{sql}");
    sites.pop().unwrap().computation.to_string()
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
        // COALESCE: nested calls flattened, arguments never reached dropped.
        (
            "MAX(COALESCE(COALESCE(e.a, a), FALSE))",
            "max(coalesce(a, false))",
        ),
        ("MAX(COALESCE(a, b, a))", "max(coalesce(a, b))"),
        // A cast written twice is one cast (Dune's Rubicon models); a cast
        // on to another type is two.
        (
            "MAX(CAST(CAST(a AS VARCHAR) AS VARCHAR))",
            "max(cast(a as varchar))",
        ),
        (
            "MAX(CAST(CAST(a AS VARCHAR) AS DATE))",
            "max(cast(cast(a as varchar) as date))",
        ),
        ("MAX(IFNULL(a, NULL))", "max(a)"),
        ("MAX(COALESCE(a, 0, b))", "max(coalesce(a, 0))"),
        // Near miss: the order of arguments is the order of preference.
        ("MAX(COALESCE(b, a))", "max(coalesce(b, a))"),
        ("MAX(COALESCE(a, b, c))", "max(coalesce(a, b, c))"),
        ("COUNTIF(is_click)", "count(*) filter (where is_click)"),
        (
            "SUM(x) FILTER (WHERE a BETWEEN 1 AND 5)",
            "sum(x) filter (where a <= 5 and 1 <= a)",
        ),
    ];
    for (sql, text) in cases {
        assert_eq!(site(sql, "t AS e"), text, "{sql}");
    }
}

/// The fixture's sites that need CTE lineage are judged (equivalent), not skipped as unknown.
#[test]
fn fixture_lineage_sites_are_judged_equivalent() {
    use metriclint::judge::{judge, Computation, Verdict};
    let root = env!("CARGO_MANIFEST_DIR");
    let registry =
        metriclint::registry::load_files(&[format!("{root}/fixtures/adtech/metrics.yaml").into()])
            .unwrap();
    for (file, dialect, lines) in [
        (
            "models/bigquery/auction_health.sql",
            Dialect::BigQuery,
            &[19u32, 21, 23][..],
        ),
        (
            "models/snowflake/advertiser_cpa.sql",
            Dialect::Snowflake,
            &[20, 22, 24][..],
        ),
    ] {
        let text = std::fs::read_to_string(format!("{root}/fixtures/adtech/{file}")).unwrap();
        let parsed = parse_file(&text, dialect.parser_dialect().as_ref());
        let sites = extract_sites(&parsed.statements, &text, &|n: &str| {
            registry.lookup(n).is_some()
        });
        for line in lines {
            let site = sites
                .iter()
                .find(|s| s.range.start.line == *line)
                .unwrap_or_else(|| panic!("{file}:{line}"));
            let (metric, _) = registry.lookup(&site.output_name).unwrap();
            let verdict = judge(
                Computation {
                    expr: &site.computation,
                    sources: &site.sources,
                    reads_a_model: site.sources.len() > site.source_tables.len(),
                    written: site.written.as_ref(),
                },
                metric,
                &registry,
            );
            assert_eq!(
                verdict,
                Verdict::Equivalent,
                "{file}:{line} {}",
                site.computation
            );
        }
    }
}

/// Unregistered names computed two ways in one text: pivots and picks of
/// attributes are no metric sites; measures are.
#[test]
fn attribute_pivots_are_not_metrics_but_measures_are() {
    let registry = registry();
    let ml010 = |sql: &str| {
        check_text("report.sql", sql, GEN, &registry)
            .iter()
            .filter(|f| f.code == "ML010")
            .count()
    };
    let cases = [
        // A key/value pivot, then the same attribute with a URL fallback.
        (
            "select max(case when key = 'utm_source' then value end) as utm_source from tags group by id;\n\
             select coalesce(max(case when key = 'utm_source' then value end), split_part(url, '=', 2)) as utm_source from tags group by id",
            0,
        ),
        // Picks of dimension columns.
        (
            "select max(event_date) as last_seen from a;\nselect min(event_date) as last_seen from b",
            0,
        ),
        // Measures computed two ways from one table in one report's
        // branches: both flagged (no majority). (From two tables, two
        // schemas: see tests/precision.rs.)
        (
            "select sum(order_value) as revenue_x from a\nunion all select count(order_value) as revenue_x from a",
            2,
        ),
        // As two statements that build nothing in common they are two
        // reports, held to what the repository shows, as two files are.
        (
            "select sum(order_value) as revenue_x from a;\nselect count(order_value) as revenue_x from a",
            0,
        ),
        // Two statements filling one table fill one figure.
        (
            "insert into t (revenue_x) select sum(order_value) as revenue_x from a;\ninsert into t (revenue_x) select count(order_value) as revenue_x from a",
            2,
        ),
        // A maximum is a value picked from a group, not a metric ML010
        // compares (real repositories: `MAX(account_name)`).
        (
            "select max(bid_price) as top_bid from a;\nselect avg(bid_price) as top_bid from b",
            0,
        ),
        // A default for what is never NULL (a count, compared) changes nothing.
        (
            "select coalesce(0 < count(case when device is not null then 1 end), false) as targets_devices from a group by id;\n\
             select count(case when device is not null then 1 end) > 0 as targets_devices from b group by id",
            0,
        ),
        // Booleans are flags of a group, not metrics: never ML010.
        (
            "select coalesce(sum(spend) > 0, false) as has_spend_x from a group by id;\n\
             select sum(spend) > 0 as has_spend_x from b group by id",
            0,
        ),
    ];
    for (sql, expected) in cases {
        assert_eq!(ml010(sql), expected, "{sql}");
    }
}
