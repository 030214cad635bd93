//! ML007: money added up after rounding each row, as a new user meets it
//! (the built-in pack, no registry, no config).

use serde_json::Value;

mod common;

/// (message, column, code, metric) of the findings of `sql` as `report.sql`.
fn findings(sql: &str) -> Vec<(String, u64, String, Value)> {
    common::report_findings(sql)
        .iter()
        .map(|f| {
            (
                f["message"].as_str().unwrap().to_string(),
                f["column"].as_u64().unwrap(),
                f["code"].as_str().unwrap().to_string(),
                f["metric"].clone(),
            )
        })
        .collect()
}

#[test]
fn money_rounded_row_by_row_then_added_up_is_reported() {
    for (sql, column, metric) in [
        // a registered money metric of the built-in pack
        (
            "select campaign_id, sum(round(spend, 2)) as spend from ad_events group by 1",
            25,
            Value::from("spend"),
        ),
        // a currency code in the name, through a numeric conversion
        (
            "select user_id, sum(round(toFloat64(balance_usd), 2)) as value_usd from balances group by 1",
            21,
            Value::Null,
        ),
        // truncated rows, in a CTE the report passes on
        (
            "with d as (select day, sum(trunc(revenue, 2)) as revenue from orders group by 1) select * from d",
            28,
            Value::from("revenue"),
        ),
    ] {
        let got = findings(sql);
        assert_eq!(got.len(), 1, "{sql}: {got:?}");
        let (message, at, code, named) = &got[0];
        assert_eq!(code, "ML007", "{sql}");
        assert_eq!(*at, column, "{sql}: the rounding inside the aggregate");
        assert_eq!(named, &metric, "{sql}");
        assert!(message.contains("rounded row by row"), "{message}");
    }
}

#[test]
fn rounding_a_total_or_a_figure_that_is_no_money_is_not() {
    for sql in [
        // the total rounded: presentation
        "select campaign_id, round(sum(spend), 2) as spend from ad_events group by 1",
        // no money: a team may round hours or ages on purpose
        "select os, sum(round(active_hours_sum)) as hours from clients group by 1",
        "select sum(round(profile_age_in_days)) / count(distinct client_id) as average_profile_age from clients",
        // a picked value, and a window over rows
        "select campaign_id, max(round(spend, 2)) as spend from ad_events group by 1",
        "select day, sum(round(spend, 2)) over (order by day) as spend from daily",
    ] {
        let got = findings(sql);
        assert!(
            got.iter().all(|(_, _, code, _)| code != "ML007"),
            "{sql}: {got:?}"
        );
    }
}

/// dbt-cerebro's latest balances sum `round(balance_usd, 2)` per wallet and
/// token on the latest day, over a view that passes on a model declared
/// `unique_key='(date, address, symbol)'`: each group is one row, so each
/// total is one rounded value. Per token alone, many wallets' rounded
/// values are added up.
#[test]
fn rounding_over_groups_of_one_row_each_rounds_the_total() {
    const PROJECT: (&str, &str) = ("dbt_project.yml", "name: app\nversion: '1.0'\n");
    const BALANCES: (&str, &str) = (
        "models/int_balances_daily.sql",
        "{{ config(materialized='table', unique_key='(date, address, symbol)') }}\n\
         select date, address, symbol, balance_usd from {{ source('raw', 'balances') }}\n",
    );
    const USER_VIEW: (&str, &str) = (
        "models/int_balances_user_daily.sql",
        "select b.date as date, b.address as address, b.symbol as symbol, b.balance_usd as balance_usd\n\
         from {{ ref('int_balances_daily') }} b\n\
         left join {{ ref('switchover') }} s on b.address = s.old_safe\n",
    );
    const SWITCHOVER: (&str, &str) = (
        "models/switchover.sql",
        "select old_safe from {{ source('raw', 'switchover') }}\n",
    );
    let latest = |grouped: &str| {
        format!(
            "with latest_date as (select max(date) as max_date from {{{{ ref('int_balances_user_daily') }}}})\n\
             , agg as (\n  select {grouped}, sum(round(balance_usd, 2)) as value_usd\n  \
             from {{{{ ref('int_balances_user_daily') }}}}\n  \
             where date = (select max_date from latest_date)\n  group by {grouped}\n)\n\
             select * from agg\n"
        )
    };
    let ml007 = |report: &str| {
        let dir = common::repository(&[
            PROJECT,
            BALANCES,
            USER_VIEW,
            SWITCHOVER,
            ("models/latest.sql", report),
        ]);
        common::check_json(&dir)["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["code"] == "ML007")
            .map(|f| f["path"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ml007(&latest("address, symbol")),
        Vec::<String>::new(),
        "one row per wallet and token on the latest day"
    );
    let near_miss = ml007(&latest("symbol"));
    assert!(
        matches!(near_miss.as_slice(), [path] if path.ends_with("latest.sql")),
        "near miss: many wallets per token: {near_miss:?}"
    );
    // A key the model's own GROUP BY shows is as good as a declared one.
    let grouped_upstream = "with daily as (select day, campaign_id, sum(spend) as spend from ad_events group by day, campaign_id)\n\
         select campaign_id, day, sum(round(spend, 2)) as spend from daily group by campaign_id, day\n";
    let per_campaign = "with daily as (select day, campaign_id, sum(spend) as spend from ad_events group by day, campaign_id)\n\
         select campaign_id, sum(round(spend, 2)) as spend from daily group by campaign_id\n";
    assert!(findings(grouped_upstream)
        .iter()
        .all(|(_, _, code, _)| code != "ML007"));
    assert!(findings(per_campaign)
        .iter()
        .any(|(_, _, code, _)| code == "ML007"));
}
