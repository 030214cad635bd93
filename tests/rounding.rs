//! ML007: money added up after rounding each row, as a new user meets it
//! (the built-in pack, no registry, no config).

use serde_json::Value;

mod common;

/// (message, column, code, metric) of the findings of `sql` as `report.sql`.
fn findings(sql: &str) -> Vec<(String, u64, String, Value)> {
    let dir = common::repository(&[("report.sql", sql)]);
    let doc = common::check_json(&dir);
    doc["findings"]
        .as_array()
        .unwrap()
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
