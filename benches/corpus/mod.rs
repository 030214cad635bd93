//! A generator of realistic ad-tech report files for the throughput benchmark.
//!
//! Each file is one report in the shape analytics engineers write: a filtering
//! CTE, an aggregating CTE, a final SELECT with a dozen metrics in varied
//! spellings (guards, casts, qualifiers), joins, CASE, a window function and,
//! now and then, a drift. Output is deterministic for a given seed.

use std::fmt::Write as _;
use std::path::Path;

/// A small deterministic generator (64-bit LCG); no need for `rand` here.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() as usize) % items.len()]
    }
}

const DIMENSIONS: &[&str] = &[
    "campaign_id",
    "advertiser_id",
    "publisher_id",
    "exchange",
    "device_type",
    "country",
];

const METRICS: &[&[&str]] = &[
    &["SUM(e.impressions) AS impressions", "SUM(impressions) AS impressions"],
    &["SUM(e.clicks) AS clicks", "sum(Clicks) AS clicks"],
    &["SUM(e.spend) AS spend", "CAST(SUM(spend) AS NUMERIC) AS spend"],
    &[
        "SUM(e.clicks) / NULLIF(SUM(e.impressions), 0) AS ctr",
        "SAFE_DIVIDE(SUM(clicks), SUM(impressions)) AS ctr",
        "CAST(SUM(clicks) AS FLOAT64) / SUM(impressions) AS \"CTR\"",
        "SUM(clicks) / COUNT(*) AS ctr",
    ],
    &[
        "SUM(e.spend) * 1000 / NULLIF(SUM(e.impressions), 0) AS cpm",
        "1000 * SUM(spend) / SUM(impressions) AS cpm",
        "SUM(spend) / SUM(impressions) AS cpm",
    ],
    &["SUM(e.spend) / NULLIF(SUM(e.clicks), 0) AS cpc", "DIV0(SUM(spend), SUM(clicks)) AS cpc"],
    &[
        "SUM(e.conversion_value) / NULLIF(SUM(e.spend), 0) AS roas",
        "SUM(revenue) / NULLIF(SUM(spend), 0) AS roas",
    ],
    &["SUM(e.filled_requests) / NULLIF(SUM(e.ad_requests), 0) AS fill_rate"],
    &["SUM(e.wins) / NULLIF(SUM(e.bids), 0) AS win_rate", "SUM(wins) / SUM(bid_requests) AS win_rate"],
    &["SUM(CASE WHEN e.integration_type = 's2s' THEN e.impressions ELSE 0 END) / NULLIF(SUM(e.impressions), 0) AS s2s_share"],
    &["SUM(e.viewable_impressions) / NULLIF(SUM(e.measurable_impressions), 0) AS viewability_rate"],
    &["SUM(e.video_completions) / NULLIF(SUM(e.video_starts), 0) AS vcr", "AVG(video_completions / video_starts) AS vcr"],
    &["(SUM(e.revenue) - SUM(e.publisher_payout)) / NULLIF(SUM(e.revenue), 0) AS take_rate"],
];

/// One report's SQL.
pub fn report(rng_seed: u64) -> String {
    let mut rng = Lcg(rng_seed.wrapping_mul(0x9E3779B97F4A7C15) | 1);
    let dim = rng.pick(DIMENSIONS);
    let mut sql = String::with_capacity(4096);
    let _ = writeln!(sql, "-- Generated report {rng_seed}: performance by {dim}");
    let _ = writeln!(sql, "WITH live_events AS (\n  SELECT *\n  FROM analytics.fct_ad_events\n  WHERE is_test = false\n    AND event_date BETWEEN DATE '2026-01-01' AND DATE '2026-03-31'\n),");
    let _ = writeln!(sql, "daily AS (\n  SELECT\n    event_date,\n    {dim},\n    SUM(impressions) AS impressions,\n    SUM(clicks) AS clicks,\n    SUM(spend) AS spend\n  FROM live_events\n  GROUP BY event_date, {dim}\n)");
    let _ = writeln!(sql, "SELECT\n  e.{dim},\n  c.campaign_name,");
    for variants in METRICS {
        // Mostly the first (agreed) spelling, sometimes another.
        let choice = if rng.next().is_multiple_of(4) {
            rng.pick(variants)
        } else {
            variants[0]
        };
        let _ = writeln!(sql, "  {choice},");
    }
    let _ = writeln!(sql, "  COUNT(DISTINCT e.event_date) AS active_days,\n  RANK() OVER (ORDER BY SUM(e.spend) DESC) AS spend_rank");
    let _ = writeln!(sql, "FROM live_events AS e\nLEFT JOIN analytics.dim_campaign AS c ON c.campaign_id = e.campaign_id");
    let _ = writeln!(sql, "WHERE e.country IN ('US', 'CA', 'GB')\nGROUP BY e.{dim}, c.campaign_name\nHAVING SUM(e.impressions) > 1000\nORDER BY spend DESC;");
    let _ = writeln!(sql, "\nSELECT d.event_date, SUM(d.clicks) / NULLIF(SUM(d.impressions), 0) AS daily_ctr\nFROM daily AS d\nGROUP BY d.event_date;");
    sql
}

/// Writes `files` reports under `dir`, in subfolders of 100; returns total bytes.
pub fn write_corpus(dir: &Path, files: usize) -> std::io::Result<u64> {
    let mut bytes = 0;
    for i in 0..files {
        let folder = dir.join(format!("models_{:03}", i / 100));
        std::fs::create_dir_all(&folder)?;
        let sql = report(i as u64);
        bytes += sql.len() as u64;
        std::fs::write(folder.join(format!("report_{i:05}.sql")), sql)?;
    }
    Ok(bytes)
}

/// Writes `files` reports of a few lines each, one metric per report (the
/// shape of a folder of small ad-hoc queries); returns their total bytes.
pub fn write_small_corpus(dir: &Path, files: usize) -> std::io::Result<u64> {
    const METRICS: [&str; 4] = [
        "SUM(clicks) / NULLIF(SUM(impressions), 0) AS ctr",
        "SUM(spend) * 1000 / NULLIF(SUM(impressions), 0) AS cpm",
        "SUM(spend) / NULLIF(SUM(clicks), 0) AS cpc",
        "SUM(wins) / NULLIF(SUM(bids), 0) AS win_rate",
    ];
    let mut bytes = 0;
    for i in 0..files {
        let folder = dir.join(format!("queries_{:04}", i / 1000));
        if i % 1000 == 0 {
            std::fs::create_dir_all(&folder)?;
        }
        let sql = format!(
            "-- query {i}\nSELECT campaign_id, {}\nFROM analytics.fct_ad_events_{}\nWHERE is_test = false\nGROUP BY campaign_id;\n",
            METRICS[i % METRICS.len()],
            i % 50
        );
        bytes += sql.len() as u64;
        std::fs::write(folder.join(format!("query_{i:07}.sql")), sql)?;
    }
    Ok(bytes)
}

/// Writes a dbt project of `models` models under `dir`: a fifth staging
/// models over sources, a fifth intermediate models `ref()`ing them, the rest
/// marts `ref()`ing intermediates through project and package macros, with
/// `config`, `var`, `is_incremental()` and loops. Returns total model bytes.
pub fn write_dbt_project(dir: &Path, models: usize) -> std::io::Result<u64> {
    let write = |path: &str, text: &str| -> std::io::Result<()> {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().expect("a parent"))?;
        std::fs::write(path, text)
    };
    write(
        "dbt_project.yml",
        "name: bench_ads\nmodel-paths: [models]\nmacro-paths: [macros]\nvars:\n  reporting_start: '2026-01-01'\n  exchanges: [openx, magnite, pubmatic, index]\n",
    )?;
    write(
        "macros/ratios.sql",
        "{% macro guarded_ratio(num, den) %}{%- set s = num ~ ' / nullif(' ~ den ~ ', 0)' -%}{%- do return(s) -%}{% endmacro %}\n\
         {% macro cents_to_dollars(col) %}({{ col }} / 100.0){% endmacro %}\n",
    )?;
    write(
        "dbt_packages/ads_utils/dbt_project.yml",
        "name: ads_utils\n",
    )?;
    write(
        "dbt_packages/ads_utils/macros/pct.sql",
        "{% macro pct(a, b) %}{{ return(adapter.dispatch('pct', 'ads_utils')(a, b)) }}{% endmacro %}\n\
         {% macro default__pct(a, b) %}100.0 * ({{ a }}) / nullif(({{ b }}), 0){% endmacro %}\n",
    )?;
    let layer = (models / 5).max(1);
    let mut bytes = 0u64;
    let mut rng = Lcg(7);
    for i in 0..models {
        let (path, sql) = if i < layer {
            (
                format!("models/staging/stg_events_{i:05}.sql"),
                format!(
                    "{{{{ config(materialized='view') }}}}\n\
                     select event_date, campaign_id, exchange, imps as impressions, clk as clicks,\n\
                     {{{{ cents_to_dollars('cost_cents') }}}} as spend, is_test\n\
                     from {{{{ source('raw', 'ad_events_{i:05}') }}}}\nwhere not is_test\n"
                ),
            )
        } else if i < 2 * layer {
            let upstream = i % layer;
            (
                format!("models/intermediate/int_daily_{i:05}.sql"),
                format!(
                    "{{{{ config(materialized='incremental') }}}}\n\
                     select event_date, campaign_id,\n\
                     {{% for x in var('exchanges') %}}  sum(case when exchange = '{{{{ x }}}}' then impressions else 0 end) as {{{{ x }}}}_impressions,\n{{% endfor %}}\
                       sum(impressions) as impressions, sum(clicks) as clicks, sum(spend) as spend\n\
                     from {{{{ ref('stg_events_{upstream:05}') }}}}\n\
                     {{% if is_incremental() %}}where event_date > (select max(event_date) from {{{{ this }}}}){{% endif %}}\n\
                     group by 1, 2\n"
                ),
            )
        } else {
            let upstream = layer + (i % layer);
            let ctr = if rng.next().is_multiple_of(10) {
                "{{ guarded_ratio('sum(clicks)', 'count(*)') }}"
            } else {
                "{{ guarded_ratio('sum(clicks)', 'sum(impressions)') }}"
            };
            (
                format!("models/marts/rpt_campaign_{i:05}.sql"),
                format!(
                    "-- Campaign report {i}\n\
                     with d as (\n  select * from {{{{ ref('int_daily_{upstream:05}') }}}}\n  where event_date >= '{{{{ var(\"reporting_start\") }}}}'\n)\n\
                     select\n  campaign_id,\n  sum(impressions) as impressions,\n  sum(clicks) as clicks,\n\
                       {ctr} as ctr,\n\
                       {{{{ guarded_ratio('sum(spend) * 1000', 'sum(impressions)') }}}} as cpm,\n\
                       {{{{ ads_utils.pct('sum(openx_impressions)', 'sum(impressions)') }}}} as openx_share_pct\n\
                     from d\ngroup by 1\n"
                ),
            )
        };
        bytes += sql.len() as u64;
        write(&path, &sql)?;
    }
    Ok(bytes)
}
