//! ML008: money in two currencies meeting in one figure, as a new user meets
//! it (the built-in pack, no registry, no config), and a registry's
//! `currency`.

use assert_cmd::Command;
use serde_json::Value;

mod common;

/// (code, message, line, column) of the findings of `files`.
fn findings_in(files: &[(&str, &str)]) -> Vec<(String, String, u64, u64)> {
    let dir = common::repository(files);
    listed(&common::check_json(&dir))
}

fn listed(doc: &Value) -> Vec<(String, String, u64, u64)> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                f["message"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn ml008(found: &[(String, String, u64, u64)]) -> Vec<&(String, String, u64, u64)> {
    found.iter().filter(|f| f.0 == "ML008").collect()
}

#[test]
fn money_in_two_currencies_in_one_figure_is_reported() {
    for (sql, says, column) in [
        (
            "select campaign_id, sum(conversions_value_in_local_currency) / nullif(sum(spend_usd), 0) as roas from ad_report group by 1",
            "roas divides conversions_value_in_local_currency (local currency) by spend_usd (USD)",
            21,
        ),
        (
            "select day, sum(revenue_usd) - sum(payout_eur) as take from deliveries group by 1",
            "take subtracts payout_eur (EUR) from revenue_usd (USD)",
            13,
        ),
        // Through a CTE: reported where the final SELECT divides.
        (
            "with t as (select campaign_id, sum(revenue_eur) as revenue, sum(spend_usd) as spend from ad_report group by 1)\nselect campaign_id, revenue / nullif(spend, 0) as return_on_spend from t",
            "return_on_spend divides revenue_eur (EUR) by spend_usd (USD)",
            21,
        ),
        // A CTE that divides is reported there, once.
        (
            "with t as (select campaign_id, sum(revenue_gbp) / sum(cost_usd) as margin_ratio from r group by 1)\nselect campaign_id, margin_ratio from t",
            "margin_ratio divides revenue_gbp (GBP) by cost_usd (USD)",
            32,
        ),
    ] {
        let found = findings_in(&[("report.sql", sql)]);
        let currency = ml008(&found);
        assert_eq!(currency.len(), 1, "{sql}: {found:?}");
        assert!(currency[0].1.starts_with(says), "{sql}: {}", currency[0].1);
        assert_eq!(currency[0].3, column, "{sql}");
    }
}

#[test]
fn money_in_one_currency_an_exchange_rate_or_a_conversion_is_not() {
    for sql in [
        // One currency on both sides.
        "select campaign_id, sum(conversions_value_in_local_currency) / nullif(sum(spend_in_local_currency), 0) as roas from ad_report group by 1",
        "select day, sum(revenue_usd) - sum(payout_usd) as take from deliveries group by 1",
        // A side whose name says no currency.
        "select day, sum(revenue) / sum(spend_usd) as roas from ad_report group by 1",
        // One figure in two currencies: the exchange rate, on purpose.
        "select day, sum(spend_usd) / nullif(sum(spend_in_local_currency), 0) as usd_per_local from ad_report group by 1",
        "select day, sum(amount_usd) / sum(amount_eur) as implied_rate from payments group by 1",
        // Converted before the two meet.
        "select day, sum(revenue_eur * fx_rate) / sum(spend_usd) as roas from ad_report group by 1",
        "select day, sum(revenue_eur / eur_usd_exchange_rate) - sum(cost_usd) as profit from ad_report group by 1",
        // An output named for an exchange rate or a price.
        "select day, sum(revenue_usd) / sum(revenue_eur_net) as fx_rate from ad_report group by 1",
        "select day, sum(trade_value_usd) / sum(notional_eur) as avg_price from trades group by 1",
        // The price of a crypto asset.
        "select day, sum(volume_usd) / sum(fees_eth) as fee_ratio from swaps group by 1",
        // A CASE picking one currency's column per row.
        "select day, sum(case when currency = 'EUR' then amount_eur else amount_usd end) as amount from payments group by 1",
    ] {
        let found = findings_in(&[("report.sql", sql)]);
        assert!(ml008(&found).is_empty(), "{sql}: {found:?}");
    }
}

/// `check --registry` of `registry` over `report`.
fn with_registry(registry: &str, report: &str) -> (Option<i32>, Value, String) {
    let dir = common::repository(&[("metrics.yaml", registry), ("report.sql", report)]);
    let output = Command::cargo_bin("metriclint")
        .unwrap()
        .current_dir(dir.path())
        .args([
            "check",
            "report.sql",
            "--isolated",
            "--registry",
            "metrics.yaml",
        ])
        .args(["--format", "json"])
        .output()
        .unwrap();
    let doc = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    (
        output.status.code(),
        doc,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

const REGISTRY: &str = "version: 1
metrics:
  - name: cost
    unit: currency
    currency: USD
    sql: SUM(cost)
  - name: gross_bookings
    unit: currency
    currency: usd
    sql: SUM(gross_bookings)
  - name: cost_per_booking
    unit: currency
    currency: USD
    sql: SUM(cost) / NULLIF(COUNT(*), 0)
  - name: return_on_cost
    unit: fraction
    currency: USD
    sql: SUM(gross_bookings) / NULLIF(SUM(cost), 0)
";

#[test]
fn a_figure_in_another_currency_than_the_registry_agrees_is_reported() {
    for (report, says) in [
        (
            "select sum(gross_bookings_eur) as gross_bookings from bookings",
            "gross_bookings is agreed in USD, but this report's figure is in EUR: it reads gross_bookings_eur",
        ),
        (
            "select sum(cost_in_local_currency) / count(*) as cost_per_booking from bookings",
            "cost_per_booking is agreed in USD, but this report's figure is in local currency",
        ),
    ] {
        let (code, doc, stderr) = with_registry(REGISTRY, report);
        assert_eq!(code, Some(1), "{report}: {stderr}");
        let found = listed(&doc);
        let currency = ml008(&found);
        assert_eq!(currency.len(), 1, "{report}: {found:?}");
        assert!(currency[0].1.starts_with(says), "{}", currency[0].1);
        let related = &doc["findings"][0]["related"][0];
        assert_eq!(related["path"], "metrics.yaml");
        assert_eq!(related["message"], "agreed in USD");
    }
}

#[test]
fn a_figure_in_the_agreed_currency_or_a_ratio_of_one_currency_is_not() {
    for (report, agrees) in [
        ("select sum(gross_bookings_usd) as gross_bookings from bookings", true),
        ("select sum(gross_bookings) as gross_bookings from bookings", true),
        // Euros over euros: a ratio, in no currency.
        (
            "select sum(gross_bookings_eur) / nullif(sum(cost_eur), 0) as return_on_cost from bookings",
            true,
        ),
        // Converted on the way: another formula (ML001), in no currency known.
        (
            "select sum(gross_bookings_eur * usd_rate) as gross_bookings from bookings",
            false,
        ),
    ] {
        let (code, doc, stderr) = with_registry(REGISTRY, report);
        assert_eq!(code, Some(if agrees { 0 } else { 1 }), "{report}: {stderr} {doc}");
        assert!(ml008(&listed(&doc)).is_empty(), "{report}: {doc}");
    }
}

#[test]
fn a_currency_that_is_no_code_is_a_registry_error() {
    for (registry, says) in [
        (
            "version: 1\nmetrics:\n  - name: gross_bookings\n    currency: dollars\n    sql: SUM(gross_bookings)\n",
            "`currency: dollars` is no currency code",
        ),
        (
            "version: 1\nmetrics:\n  - name: bookings\n    unit: count\n    currency: USD\n    sql: COUNT(*)\n",
            "counts (`unit: count`), so it has no currency",
        ),
    ] {
        let (code, _, stderr) = with_registry(registry, "select 1 as x");
        assert_eq!(code, Some(2), "{stderr}");
        assert!(stderr.contains(says), "{stderr}");
    }
}
