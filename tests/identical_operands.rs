//! ML009: an operation on a value and itself, as a new user meets it (the
//! built-in pack, no registry, no config).

mod common;

/// (code, line, column, message) of the findings of `sql` as `report.sql`.
fn findings(sql: &str) -> Vec<(String, u64, u64, String)> {
    common::report_findings(sql)
        .iter()
        .filter(|f| f["code"] == "ML009")
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_value_subtracted_from_or_compared_with_itself_is_reported() {
    let sql = "select order_id,
       sum((ol.qty_entered - ol.qty_entered) * ol.price) as pending_value,
       sum(case when o.status = 'CL' and (ol.qty_entered > ol.qty_entered) then ol.price end) as closed_value
from order_lines ol join orders o on o.id = ol.order_id
where ol.total < ol.total or o.id is not null
group by 1";
    let got = findings(sql);
    let at: Vec<(u64, u64)> = got.iter().map(|f| (f.1, f.2)).collect();
    assert_eq!(at, vec![(2, 13), (3, 43), (5, 7)], "{got:?}");
    assert!(
        got[0]
            .3
            .ends_with("subtracts a value from itself: it is always 0"),
        "{}",
        got[0].3
    );
    assert!(
        got[1]
            .3
            .ends_with("compares a value with itself: it is never true"),
        "{}",
        got[1].3
    );
}

#[test]
fn two_values_a_null_test_or_no_column_are_not() {
    for sql in [
        "select a.qty - b.qty as diff from a join b on a.id = b.id",
        "select stake * growth - stake as reward from s",
        "select * from t where 1 = 1 and 'a' <> 'a'",
        "select count(*) as n from t where x = x",
        "select random() - random() as jitter from t",
        // Another table's column of the same name.
        "select sum(src.total - mdl.total) as drift from src join mdl on src.id = mdl.id",
    ] {
        let got = findings(sql);
        assert!(got.is_empty(), "{sql}: {got:?}");
    }
}

#[test]
fn a_zero_on_purpose_is_not_but_the_same_zero_in_a_formula_is() {
    let sql = "select case when p.base = 'L' then round(p.multiplier * 1.1) else round(p.multiplier - p.multiplier) end as new_multiplier,
       case when p.base = 'L' then (p.multiplier - p.multiplier) * 1.1 end as change
from prices p";
    let got = findings(sql);
    let at: Vec<(u64, u64)> = got.iter().map(|f| (f.1, f.2)).collect();
    assert_eq!(at, vec![(2, 37)], "{got:?}");
}

#[test]
fn a_macro_called_with_one_column_twice_is_not_but_the_file_writing_it_is() {
    let dir = common::repository(&[
        ("dbt_project.yml", "name: shop\nversion: '1.0'\nmodel-paths: ['models']\n"),
        (
            "macros/price_change.sql",
            "{% macro price_change(category, previous_category) %}case when {{ previous_category }} != {{ category }} then 1 else 0 end{% endmacro %}",
        ),
        (
            "models/arr_changes.sql",
            "select account_id,\n  {{ price_change('product_tier', 'product_tier') }} as tier_changed,\n  sum(arr.quantity - arr.quantity) as quantity_change\nfrom {{ ref('arr') }} arr\ngroup by 1",
        ),
        ("models/arr.sql", "select 1 as account_id, 'a' as product_tier, 2 as quantity"),
    ]);
    let doc = common::check_json(&dir);
    let got: Vec<(&str, u64)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "ML009")
        .map(|f| (f["path"].as_str().unwrap(), f["line"].as_u64().unwrap()))
        .collect();
    assert_eq!(got.len(), 1, "{doc}");
    assert!(
        got[0].0.ends_with("models/arr_changes.sql") && got[0].1 == 3,
        "{got:?}"
    );
}
