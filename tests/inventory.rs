//! `metriclint metrics` and `metriclint explain` on the fixtures, as snapshots.

use assert_cmd::Command;

fn run(args: &[&str]) -> (i32, String) {
    let output = Command::cargo_bin("metriclint")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
    )
}

#[test]
fn inventory_table_of_the_drift_fixture() {
    let (code, text) = run(&["metrics", "fixtures/drift"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!(text);
}

#[test]
fn inventory_markdown_of_the_drift_fixture() {
    let (_, text) = run(&["metrics", "fixtures/drift", "--format", "markdown"]);
    insta::assert_snapshot!(text);
}

#[test]
fn inventory_json_lists_variants_with_forms_and_sites() {
    let (_, text) = run(&["metrics", "fixtures/drift", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["files"], 7);
    let ad_load = doc["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "ad_load")
        .unwrap();
    assert_eq!(ad_load["status"], "unregistered");
    assert_eq!(ad_load["sites"], 4);
    let variants = ad_load["variants"].as_array().unwrap();
    assert_eq!(variants.len(), 3);
    assert_eq!(variants[0]["form"], "sum(ad_impressions) / sum(pageviews)");
    assert_eq!(variants[0]["sites"].as_array().unwrap().len(), 2);
    assert_eq!(
        variants[0]["sites"][0]["path"],
        "fixtures/drift/models/engagement_daily.sql"
    );
    assert_eq!(variants[0]["sites"][0]["line"], 7);
}

#[test]
fn inventory_tells_registered_synonyms_and_drifting_metrics_apart() {
    let (_, text) = run(&[
        "metrics",
        "fixtures/adtech",
        "--registry",
        "fixtures/adtech/metrics.yaml",
    ]);
    insta::assert_snapshot!(text);
}

#[test]
fn explain_a_registered_metric() {
    // The team adopts the pack: its columns are agreed.
    let (code, text) = run(&[
        "explain",
        "ctr",
        "fixtures/adtech",
        "--registry",
        "rules/programmatic.yaml",
    ]);
    assert_eq!(code, 0);
    insta::assert_snapshot!(text);
}

#[test]
fn explain_an_unregistered_metric_and_an_unknown_one() {
    let (code, text) = run(&["explain", "ad_load", "fixtures/drift"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!(text);
    let output = Command::cargo_bin("metriclint")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["explain", "ad_lod", "fixtures/drift"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("did you mean `ad_load`?"));
}

#[test]
fn init_writes_a_registry_that_flags_exactly_the_minority_variants() {
    let dir = tempfile::tempdir().unwrap();
    let registry = dir.path().join("metrics.yaml");
    let status = Command::cargo_bin("metriclint")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["init", "fixtures/drift", "--output"])
        .arg(&registry)
        .output()
        .unwrap();
    assert_eq!(status.status.code(), Some(0));
    let text = std::fs::read_to_string(&registry).unwrap();
    insta::assert_snapshot!(text);
    // It loads as a valid registry.
    metriclint::registry::load_files(std::slice::from_ref(&registry))
        .expect("init writes a valid registry");
    // Checking the same folder against it reports exactly the minority sites.
    let output = Command::cargo_bin("metriclint")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["check", "fixtures/drift", "--format", "json", "--registry"])
        .arg(&registry)
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let found: Vec<(String, u64, String)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("fixtures/drift/models/")
                    .to_string(),
                f["line"].as_u64().unwrap(),
                f["metric"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // ad_load splits with no majority: left out of the registry, its reports
    // are compared with each other (ML010 on every site).
    let want = [
        ("commerce_marketing.sql", 4, "avg_order_value"),
        ("commerce_marketing.sql", 7, "active_users"),
        ("commerce_marketing.sql", 13, "avg_order_value"),
        ("engagement_daily.sql", 7, "ad_load"),
        ("engagement_weekly.sql", 17, "ad_load"),
        ("inventory_health.sql", 5, "ad_load"),
        ("site_leaderboard.sql", 6, "ad_load"),
    ];
    let want: Vec<(String, u64, String)> = want
        .iter()
        .map(|(p, l, m)| (p.to_string(), *l, m.to_string()))
        .collect();
    assert_eq!(found, want);
    // An existing file is never overwritten without --force.
    let again = Command::cargo_bin("metriclint")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["init", "fixtures/drift", "--output"])
        .arg(&registry)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("pass --force"));
    let forced = Command::cargo_bin("metriclint")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["init", "fixtures/drift", "--force", "--output"])
        .arg(&registry)
        .output()
        .unwrap();
    assert_eq!(forced.status.code(), Some(0));
}

#[test]
fn init_from_dbt_writes_the_semantic_layer_in_the_native_format() {
    let dir = tempfile::tempdir().unwrap();
    let native = dir.path().join("metrics.yaml");
    let out = Command::cargo_bin("metriclint")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "init",
            "--from-dbt",
            "fixtures/dbt/semantic/ad_metrics.yml",
            "--output",
        ])
        .arg(&native)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let semantic =
        metriclint::registry::load_files(&[std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/dbt/semantic/ad_metrics.yml")])
        .unwrap();
    let written = metriclint::registry::load_files(std::slice::from_ref(&native))
        .expect("valid native registry");
    // Every comparable metric means the same in both formats.
    for metric in semantic
        .metrics()
        .iter()
        .filter(|m| !m.definition.is_uncertain())
    {
        let again = written
            .get(&metric.name)
            .unwrap_or_else(|| panic!("{} missing", metric.name));
        assert_eq!(again.agreed, metric.agreed, "{}", metric.name);
        assert_eq!(again.source, metric.source, "{}", metric.name);
    }
    assert!(written.get("cumulative_spend").is_none());
    assert!(std::fs::read_to_string(&native)
        .unwrap()
        .contains("# cumulative_spend: cumulative metric, not comparable in SQL; left out"));
}

/// `init` on a repository that averages ratios in most reports, filters on
/// dates, and has two connectors: a sound proposal, and a round trip.
#[test]
fn init_proposes_a_sound_registry_and_check_reports_what_it_listed() {
    let dir = tempfile::tempdir().unwrap();
    let write = |path: &str, text: &str| {
        let to = dir.path().join(path);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::write(to, text).unwrap();
    };
    // ctr: averaged ratios in two reports, a ratio of totals in one.
    write("a.sql", "select avg(clicks / impressions) as ctr from ads where day > '2024-01-01' and is_test = false");
    write("b.sql", "select avg(clicks / impressions) as ctr from ads where day > '2024-02-01' and is_test = false");
    write("c.sql", "select sum(clicks) / sum(impressions) as ctr from ads where day > '2024-03-01' and is_test = false");
    // Two connectors, each their own column: nothing to agree on here.
    write(
        "d.sql",
        "select sum(comment_count) as comments from linkedin_posts",
    );
    write(
        "e.sql",
        "select sum(replies) as comments from twitter_posts",
    );
    let (registry, out) = init_into(dir.path());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&registry).unwrap();
    // It keeps the pack's checks and units.
    assert!(text.contains("extends: [programmatic]"), "{text}");
    assert!(text.contains("    unit: fraction"), "{text}");
    // The ratio of totals wins over the averaged ratios, which are listed.
    assert!(
        text.contains("sql: 'sum(clicks) / sum(impressions)'"),
        "{text}"
    );
    // The filter the definition agrees is said once, not in every form.
    assert!(
        text.contains("# ML005: computed as avg(clicks / impressions): 2 sites"),
        "{text}"
    );
    // The test-traffic filter every site applies; never the date window.
    assert!(text.contains("filter: ['is_test = false']"), "{text}");
    assert!(!text.contains("'2024"), "{text}");
    // The connectors' comments are left to the team.
    assert!(
        text.contains("# comments: computed from different relations in different reports"),
        "{text}"
    );
    assert!(
        text.contains("  - name: comments\n    compare: reports\n"),
        "{text}"
    );
    // Checking against it reports exactly the listed sites.
    let out = Command::cargo_bin("metriclint")
        .unwrap()
        .args([
            "check",
            dir.path().to_str().unwrap(),
            "--isolated",
            "--format",
            "json",
            "--registry",
        ])
        .arg(&registry)
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let found: Vec<(String, String)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let path = f["path"].as_str().unwrap();
            (
                path.rsplit('/').next().unwrap().to_string(),
                f["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        found,
        vec![
            ("a.sql".to_string(), "ML005".to_string()),
            ("b.sql".to_string(), "ML005".to_string())
        ],
        "{doc:#}"
    );
}

/// The pack's unit is kept only where the reports' body is at its scale.
#[test]
fn init_writes_percent_where_the_reports_compute_a_fraction_times_100() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [
        (
            "a.sql",
            "select sum(clicks) * 100 / sum(impressions) as ctr from ads",
        ),
        (
            "b.sql",
            "select 100 * sum(clicks) / sum(impressions) as ctr from ads",
        ),
    ] {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let (registry, out) = init_into(dir.path());
    assert_eq!(out.status.code(), Some(0));
    let text = std::fs::read_to_string(&registry).unwrap();
    assert!(text.contains("    unit: percent"), "{text}");
    metriclint::registry::load_files(std::slice::from_ref(&registry)).expect("it loads");
}

/// A staging model's CTR per row in percent, which no report contradicts:
/// the pack alone takes percent as the repository's unit, and so must the
/// registry `init` writes (it extends the pack): it writes the pack's CTR
/// in percent, and `check` with it finds nothing. So for a percent the
/// model's column description states. Beside a CTR per row as a fraction,
/// the percent is drift under both.
#[test]
fn init_keeps_the_percent_the_pack_alone_took_as_the_repositorys_unit() {
    const PERCENT: &str =
        "select ad_id, safe_divide(clicks, impressions) * 100 as ctr from ad_insights\n";
    const FRACTION: &str =
        "select ad_id, safe_divide(clicks, impressions) as ctr from ad_insights\n";
    let (registry, checked) = init_then_check(&[("stg_ads.sql", PERCENT)]);
    assert!(
        registry.contains("  - name: ctr\n")
            && registry
                .contains("    unit: percent\n    sql: 'sum(clicks) * 100 / sum(impressions)'"),
        "{registry}"
    );
    assert!(!checked.contains("ML004"), "{checked}");
    // The entry takes the pack's place with all its synonyms: a report
    // added later that averages `click_through_rate` is still ML005, as
    // with the pack alone.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("stg_ads.sql"),
        "select ad_id, safe_divide(clicks, impressions) * 100 as click_through_rate from ad_insights\n",
    )
    .unwrap();
    let (written, out) = init_into(dir.path());
    assert_eq!(out.status.code(), Some(0));
    std::fs::write(
        dir.path().join("mart.sql"),
        "select campaign_id, avg(click_through_rate) as click_through_rate from stg_ads group by 1\n",
    )
    .unwrap();
    let checked = String::from_utf8_lossy(&check_against(dir.path(), &written).stdout).into_owned();
    let registry = std::fs::read_to_string(&written).unwrap();
    assert!(registry.contains("click_through_rate"), "{registry}");
    assert!(checked.contains("ML005"), "{registry}\n{checked}");

    let documented = [
        ("dbt_project.yml", "name: ads\nversion: '1.0'\n"),
        ("models/stg_ads.sql", "select ad_id, clicks, impressions, round(cast(clicks as float64) / impressions * 100, 2) as ctr from {{ source('fb', 'ads') }}\n"),
        ("models/stg_ads.yml", "version: 2\nmodels:\n  - name: stg_ads\n    columns:\n      - name: ctr\n        description: Click-through rate (clicks / impressions * 100)\n"),
    ];
    let (registry, checked) = init_then_check(&documented);
    assert!(!checked.contains("ML004"), "{registry}\n{checked}");

    let (registry, checked) = init_then_check(&[("a.sql", PERCENT), ("b.sql", FRACTION)]);
    assert!(!registry.contains("unit: percent"), "{registry}");
    assert!(checked.contains("a.sql:1:15: ML004"), "{checked}");
}

/// A definition with a constant factor (`revenue` as downloads times a
/// value times 0.66) is written as the reports compute it, and the registry
/// loads: the pack's take rate, which divides by revenue, is judged by the
/// units of the metrics it reads, not by the constants of their bodies.
#[test]
fn init_never_writes_a_registry_that_does_not_load() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [
        (
            "a.sql",
            "select sum(downloads) * avg(clv) * 33 / 50 as revenue from ltv",
        ),
        (
            "b.sql",
            "select day, sum(downloads) * avg(clv) * 33 / 50 as revenue from ltv group by 1",
        ),
        (
            "c.sql",
            "select sum(clicks) / sum(impressions) as ctr from ads",
        ),
    ] {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let (registry, out) = init_into(dir.path());
    assert_eq!(out.status.code(), Some(0));
    let text = std::fs::read_to_string(&registry).unwrap();
    assert!(
        text.contains("- name: revenue")
            && text.contains("sql: 'sum(downloads) * avg(clv) * 0.66'"),
        "{text}"
    );
    assert!(text.contains("- name: ctr"), "{text}");
    metriclint::registry::load_files(std::slice::from_ref(&registry)).expect("it loads");
    // Its reports are compared with each other, not with the pack's revenue.
    let checked = check_against(dir.path(), &registry);
    let stdout = String::from_utf8_lossy(&checked.stdout);
    assert_eq!(checked.status.code(), Some(0), "{stdout}");
}

/// A form whose string literal holds a line break (a multi-line regex of
/// UTM tags) is written on one comment line: the rest of the literal would
/// otherwise be read as YAML, and the registry would not load.
#[test]
fn a_line_break_in_a_listed_form_stays_in_its_comment() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [
        (
            "a.sql",
            "select sum(case when tags like '%google\n|youtube%' then spend end) / count(*) as cost_per_order from orders",
        ),
        (
            "b.sql",
            "select sum(spend) / count(distinct order_id) as cost_per_order from orders",
        ),
    ] {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let (registry, out) = init_into(dir.path());
    assert_eq!(out.status.code(), Some(0));
    let text = std::fs::read_to_string(&registry).unwrap();
    assert!(text.contains("'%google |youtube%'"), "{text}");
    metriclint::registry::load_files(std::slice::from_ref(&registry)).expect("it loads");
}

/// A metric the pack defines, left to the reports because they read
/// different relations, is written as left to them even when its most
/// common form is no registry SQL (a JSON operator): otherwise the pack's
/// definition would judge what init said it left alone.
#[test]
fn a_pack_metric_left_to_the_reports_stays_left_to_them() {
    let dir = tempfile::tempdir().unwrap();
    let json_spend =
        "select sum(cast(metrics ->> 'spend' as numeric)) / count(*) as cpa from tiktok_orders";
    for (name, text) in [
        ("a.sql", json_spend),
        ("b.sql", json_spend),
        (
            "c.sql",
            "select sum(spend) / count(*) as cpa from fb_orders",
        ),
    ] {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let (registry, out) = init_into(dir.path());
    assert_eq!(out.status.code(), Some(0));
    let text = std::fs::read_to_string(&registry).unwrap();
    assert!(
        text.contains("  - name: cpa\n    compare: reports\n"),
        "{text}"
    );
    let checked = check_against(dir.path(), &registry);
    let stdout = String::from_utf8_lossy(&checked.stdout);
    assert_eq!(checked.status.code(), Some(0), "{stdout}");
}

/// A warehouse's `conversion_rate` is a unit conversion factor, over
/// columns the pack does not know: the pack alone leaves it to the reports,
/// and so does init's registry, which extends the pack. A row-level
/// conversion rate the pack alone finds inverted is still reported.
#[test]
fn a_pack_rate_the_pack_alone_left_to_the_reports_stays_left_to_them() {
    let run = |conversion_rate: &str| {
        init_then_check(&[
            ("a.sql", conversion_rate),
            (
                "b.sql",
                "select day, sum(clicks) / sum(impressions) as ctr from ads group by 1",
            ),
        ])
    };
    let (registry, found) = run(
        "select kit_id, coalesce(avg(multiply_factor), 1) * default_quantity as conversion_rate \
         from bundles group by kit_id, default_quantity",
    );
    assert!(!found.contains("ML001"), "{registry}\n{found}");
    let (registry, found) =
        run("select day, clicks / nullif(conversions, 0) as conversion_rate from daily_stats");
    assert!(
        found.contains("a.sql") && found.contains("ML001"),
        "{registry}\n{found}"
    );
}

/// Reports that only total a stored ratio (`SUM(cpc)`) get no definition
/// from `init` that would agree with them: the pack divides totals, and its
/// definition still judges them after the registry is adopted, as it did
/// with none. Reports that divide totals get their own definition.
#[test]
fn init_never_agrees_a_summed_ratio_where_the_pack_divides_totals() {
    let run = |[a, b]: [&str; 2]| init_then_check(&[("a.sql", a), ("b.sql", b)]);
    let (registry, found) = run([
        "select campaign_id, sum(cpc) as cpc from ad_stats group by 1",
        "select day, sum(cpc) as cpc from ad_stats group by 1",
    ]);
    assert!(!registry.contains("- name: cpc"), "{registry}");
    assert_eq!(found.matches("ML005").count(), 2, "{registry}\n{found}");
    let (registry, found) = run([
        "select campaign_id, sum(cost) / sum(clicks) as cpc from ad_stats group by 1",
        "select day, sum(cost) / nullif(sum(clicks), 0) as cpc from ad_stats group by 1",
    ]);
    assert!(registry.contains("- name: cpc"), "{registry}");
    assert!(!found.contains("cpc"), "{registry}\n{found}");
}

/// Reports that divide what the pack divides by (clicks over spend for a
/// CPC, as a LookML measure did) get no definition from `init` that would
/// agree with them: the pack's stands, init lists them, and check reports
/// them inverted. Reports that divide as the pack does are proposed.
#[test]
fn init_never_agrees_an_inverted_ratio_where_the_pack_defines_it() {
    let run = |[a, b]: [&str; 2]| init_then_check(&[("a.sql", a), ("b.sql", b)]);
    let (registry, found) = run([
        "select campaign_id, sum(clicks) / sum(spend) as cpc from ad_stats group by 1",
        "select day, sum(clicks) / nullif(sum(spend), 0) as cpc from ad_stats group by 1",
    ]);
    assert!(!registry.contains("- name: cpc"), "{registry}");
    assert_eq!(
        registry
            .matches("ML001: cpc computed as sum(clicks) / sum(spend)")
            .count(),
        2,
        "{registry}"
    );
    assert_eq!(
        found.matches("it is inverted").count(),
        2,
        "{registry}\n{found}"
    );
    let (registry, found) = run([
        "select campaign_id, sum(spend) / sum(clicks) as cpc from ad_stats group by 1",
        "select day, sum(spend) / nullif(sum(clicks), 0) as cpc from ad_stats group by 1",
    ]);
    assert!(registry.contains("- name: cpc"), "{registry}");
    assert!(!found.contains("cpc"), "{registry}\n{found}");
}

/// A figure that adds up a column of per-row rates (`SUM(margin_percent)`)
/// gets no definition from `init` (one would agree with it): init lists
/// the sites, and check reports them with its registry as with none. A sum
/// of amounts is proposed.
#[test]
fn init_never_agrees_a_sum_of_rates() {
    let (registry, found) = init_then_check(&[
        ("a.sql", "select io_id, sum(margin_percent) as margin_percent, sum(margin_amount) as margin_amount from billing group by 1"),
        ("b.sql", "select month, sum(margin_percent) as margin_percent, sum(margin_amount) as margin_amount from billing group by 1"),
    ]);
    assert!(!registry.contains("- name: margin_percent"), "{registry}");
    assert!(registry.contains("- name: margin_amount"), "{registry}");
    assert_eq!(
        registry
            .matches("ML005: margin_percent adds up sum(margin_percent)")
            .count(),
        2,
        "{registry}"
    );
    assert_eq!(found.matches("ML005").count(), 2, "{registry}\n{found}");
    assert!(!found.contains("margin_amount"), "{found}");
}

/// A team's metric compared across reports under a name the pack gives its
/// CTR as a synonym (`click_through_rate`) is still a rate the pack knows:
/// an average of it is ML005. A ratio the pack does not know (an order
/// value) under `compare: reports` is not judged so.
#[test]
fn a_pack_rate_under_a_synonym_compared_across_reports_still_judges_aggregation() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write("c.sql", "select campaign_id, avg(click_through_rate) as click_through_rate, avg(aov) as aov from campaign_daily group by 1\n");
    write("metrics.yaml", "version: 1\nmetrics:\n  - name: click_through_rate\n    compare: reports\n    sql: SUM(clicks) / NULLIF(SUM(impressions), 0)\n  - name: aov\n    compare: reports\n    sql: SUM(revenue) / COUNT(DISTINCT order_id)\n");
    let checked = check_against(dir.path(), &dir.path().join("metrics.yaml"));
    let found = String::from_utf8_lossy(&checked.stdout);
    assert_eq!(found.matches("ML005").count(), 1, "{found}");
    assert!(found.contains("click_through_rate"), "{found}");
}

/// A metric compared across reports (`compare: reports`, as `init` writes
/// where reports read different relations) leaves its columns to the
/// reports, but a ratio of totals still says how it aggregates: an
/// averaged or summed ratio is ML005, listed by init and reported by check.
/// Other columns divided alike are no finding.
#[test]
fn a_ratio_compared_across_reports_still_judges_how_it_aggregates() {
    let (registry, found) = init_then_check(&[
        ("a.sql", "select ad_id, sum(clicks) / nullif(sum(impressions), 0) as ctr from ads group by 1"),
        ("b.sql", "select campaign_id, sum(taps) / nullif(sum(views), 0) as ctr from apple_ads group by 1"),
        ("c.sql", "select campaign_id, avg(ctr) as ctr from campaign_daily group by 1"),
    ]);
    assert!(registry.contains("compare: reports"), "{registry}");
    assert!(
        registry.contains("ML005: computed as avg(ctr)"),
        "{registry}"
    );
    let codes: Vec<&str> = found
        .lines()
        .filter_map(|l| l.split(": ").nth(1))
        .map(|r| &r[..5])
        .collect();
    assert_eq!(codes, vec!["ML005"], "{registry}\n{found}");
    assert!(found.contains("c.sql"), "{found}");
    // A ratio the pack does not know (an order value): its average may be
    // what a report means, as with no registry.
    let (registry, found) = init_then_check(&[
        (
            "a.sql",
            "select day, sum(revenue) / count(distinct order_id) as aov from orders group by 1",
        ),
        (
            "b.sql",
            "select day, sum(amount) / nullif(count(*), 0) as aov from shop_orders group by 1",
        ),
        (
            "c.sql",
            "select month, avg(aov) as aov from daily_kpis group by 1",
        ),
    ]);
    assert!(registry.contains("compare: reports"), "{registry}");
    assert!(!registry.contains("ML005"), "{registry}");
    assert!(!found.contains("ML005"), "{registry}\n{found}");
}

/// Sites init never weighed (a CASE or COALESCE over totals) are not called
/// wrong by what it proposes, nor by the pack's base measures it extends.
#[test]
fn init_leaves_metrics_computed_in_unweighed_forms_to_the_reports() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [
        ("gifts.sql", "select sum(amount) + coalesce(max(interest), 0) as revenue_total from gifts"),
        ("orgs.sql", "select org_id, (sum(settled) + case when max(can_front) then sum(fronted) else 0 end) / 100 as balance_dollars from ledger group by 1"),
        ("programs.sql", "select program, sum(settled) / 100 as balance_dollars from ledger group by 1"),
    ] {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let (registry, out) = init_into(dir.path());
    assert_eq!(out.status.code(), Some(0));
    let text = std::fs::read_to_string(&registry).unwrap();
    let checked = check_against(dir.path(), &registry);
    let stdout = String::from_utf8_lossy(&checked.stdout);
    assert_eq!(checked.status.code(), Some(0), "{stdout}\n{text}");
    assert!(!stdout.contains("ML001"), "{stdout}\n{text}");
}

/// A metric whose reports differ only as each may mean (one keeps one
/// chain's pools) gets no definition that would call one of them wrong:
/// init says why it leaves it to the reports, and check stays silent. One report at
/// another scale is a drift whichever is meant: proposed, listed, reported.
#[test]
fn init_leaves_out_metrics_whose_reports_differ_as_each_may_mean() {
    for (third, proposed, flagged) in [
        (
            "select sum(case when chain = 'gnosis' then tvl_component end) as pool_tvl from pools",
            false,
            false,
        ),
        (
            "select sum(tvl_component) * 100 as pool_tvl from pools",
            true,
            true,
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in [
            ("a.sql", "select sum(tvl_component) as pool_tvl from pools"),
            (
                "b.sql",
                "select day, sum(tvl_component) as pool_tvl from pools group by 1",
            ),
            ("c.sql", third),
        ] {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let (registry, out) = init_into(dir.path());
        assert_eq!(out.status.code(), Some(0));
        let text = std::fs::read_to_string(&registry).unwrap();
        // Left out, it is written for the reports to be compared with each
        // other (ML010), which stays silent on such a difference.
        assert_eq!(!text.contains("compare: reports"), proposed, "{text}");
        assert_eq!(
            text.contains("pool_tvl: its reports differ in ways each may mean"),
            !proposed,
            "{text}"
        );
        let checked = check_against(dir.path(), &registry);
        let stdout = String::from_utf8_lossy(&checked.stdout);
        assert_eq!(stdout.contains("c.sql"), flagged, "{stdout}\n{text}");
    }
}

/// A row-level ratio of a model's columns, or a column passed on by name,
/// says how no total is made: `init` proposes no definition from it. And a
/// registry that defines a metric row by row (as a team may write one) does
/// not judge a row-level site under its name, another column passed on or
/// a `NULL` placeholder, while an aggregate under it is still judged.
#[test]
fn row_level_definitions_are_neither_proposed_nor_held_against_row_level_sites() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [
        (
            "forecast.sql",
            "select day, handle_forecast_mtd / actives_forecast_mtd as mtd_forecast, cm_sales from forecasts",
        ),
        (
            "forecast_b.sql",
            "select week, handle_forecast_mtd / actives_forecast_mtd as mtd_forecast, cm_sales from forecasts",
        ),
    ] {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let (registry, out) = init_into(dir.path());
    assert_eq!(out.status.code(), Some(0));
    let text = std::fs::read_to_string(&registry).unwrap();
    assert!(!text.contains("name: mtd_forecast"), "{text}");
    assert!(!text.contains("name: cm_sales"), "{text}");

    let team = "version: 1\nmetrics:\n  - name: mtd_forecast\n    sql: handle_forecast_mtd / actives_forecast_mtd\n  - name: cm_sales\n    sql: cm_sales\n";
    std::fs::write(&registry, team).unwrap();
    std::fs::write(
        dir.path().join("union.sql"),
        "select day, null as mtd_forecast, sellout_sales_value as cm_sales from pos",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("totals.sql"),
        "select day, sum(returns_value) as cm_sales from pos group by 1",
    )
    .unwrap();
    let checked = check_against(dir.path(), &registry);
    let stdout = String::from_utf8_lossy(&checked.stdout);
    assert!(!stdout.contains("union.sql"), "{stdout}");
    assert!(!stdout.contains("forecast"), "{stdout}");
    assert!(stdout.contains("totals.sql"), "{stdout}");
}

/// Writes `files` to a new folder, runs `init` on it, then `check` with the
/// registry it wrote: (the registry, check's concise output).
fn init_then_check(files: &[(&str, &str)]) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let (registry, out) = init_into(dir.path());
    assert_eq!(out.status.code(), Some(0));
    let checked = check_against(dir.path(), &registry);
    (
        std::fs::read_to_string(&registry).unwrap(),
        String::from_utf8_lossy(&checked.stdout).into_owned(),
    )
}

/// Runs `check` on `dir` (no config) with `registry`, concise output.
fn check_against(dir: &std::path::Path, registry: &std::path::Path) -> std::process::Output {
    Command::cargo_bin("metriclint")
        .unwrap()
        .args(["check", dir.to_str().unwrap(), "--isolated", "--registry"])
        .arg(registry)
        .args(["--format", "concise"])
        .output()
        .unwrap()
}

/// Runs `init` on `dir` (no config) into `dir/proposed.yaml`: (its path, the
/// run's output).
fn init_into(dir: &std::path::Path) -> (std::path::PathBuf, std::process::Output) {
    let registry = dir.join("proposed.yaml");
    let out = Command::cargo_bin("metriclint")
        .unwrap()
        .args(["init", dir.to_str().unwrap(), "--isolated", "--output"])
        .arg(&registry)
        .output()
        .unwrap();
    (registry, out)
}

#[test]
fn init_from_a_missing_dbt_file_says_which_flag_wants_it() {
    let out = Command::cargo_bin("metriclint")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["init", "--from-dbt", "fixtures/dbt/semantic/missing.yml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot read fixtures/dbt/semantic/missing.yml"),
        "{stderr}"
    );
    assert!(stderr.contains("--from-dbt"), "{stderr}");
    assert!(!stderr.contains("--registry"), "{stderr}");
}

/// `metrics` and `explain` count alike: for every metric of the fixtures,
/// `explain NAME` tells the sites and variants `metrics` lists (a name with
/// a grain word, `weekly_active_users`, is not `active_users`), and no two
/// of its variants print alike (those that differ only in the rows they
/// keep say which rows).
#[test]
fn metrics_and_explain_agree_on_every_metric() {
    for (fixture, registry) in [
        ("fixtures/drift", None),
        ("fixtures/adtech", None),
        ("fixtures/adtech", Some("fixtures/adtech/metrics.yaml")),
    ] {
        let mut args = vec!["metrics", fixture, "--format", "json"];
        if let Some(registry) = registry {
            args.extend(["--registry", registry]);
        }
        let (_, text) = run(&args);
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        let metrics = doc["metrics"].as_array().unwrap();
        assert!(!metrics.is_empty(), "{fixture}");
        for metric in metrics {
            let name = metric["name"].as_str().unwrap();
            let sites = metric["sites"].as_u64().unwrap();
            let variants = metric["variants"].as_array().unwrap().len();
            let mut args = vec!["explain", name, fixture];
            if let Some(registry) = registry {
                args.extend(["--registry", registry]);
            }
            let (code, explained) = run(&args);
            assert_eq!(code, 0, "{fixture} {name}");
            let site_word = if sites == 1 { "site" } else { "sites" };
            let variant_word = if variants == 1 { "variant" } else { "variants" };
            assert!(
                explained.contains(&format!(
                    "{sites} {site_word} in the checked reports, {variants} {variant_word}:"
                )),
                "{fixture} {name}: metrics lists {sites} sites, {variants} variants\n{explained}"
            );
            let headings: Vec<String> = explained
                .lines()
                .filter(|l| {
                    l.starts_with("  ✓ ")
                        || l.starts_with("  ✗ ")
                        || l.starts_with("  • ")
                        || l.starts_with("  ? ")
                })
                // The form and rows, without the mark: a ✓ and a ✗ variant
                // of one printed form must say how they differ.
                .map(|l| {
                    let heading = l.split("  (").next().unwrap_or(l);
                    heading.chars().skip(4).collect::<String>()
                })
                .collect();
            let mut unique = headings.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(
                unique.len(),
                headings.len(),
                "{fixture} {name}\n{explained}"
            );
        }
    }
}

/// `init` keeps a filter most sites share out of a definition that not all
/// of them share, and says so in a comment; and `explain --expr` tells two
/// spellings of one computation from two computations.
#[test]
fn init_says_which_filter_it_left_out_and_explain_compares_expressions() {
    let dir = tempfile::tempdir().unwrap();
    let write = |path: &str, text: &str| std::fs::write(dir.path().join(path), text).unwrap();
    for (file, day) in [("a.sql", "01"), ("b.sql", "02"), ("c.sql", "03")] {
        write(
            file,
            &format!("select sum(clicks) / sum(impressions) as ctr from ads where day > '2024-{day}-01' and is_test = false"),
        );
    }
    write(
        "d.sql",
        "select sum(clicks) / sum(impressions) as ctr from ads",
    );
    let (registry, out) = init_into(dir.path());
    assert_eq!(out.status.code(), Some(0));
    let text = std::fs::read_to_string(&registry).unwrap();
    assert!(
        text.contains("# 3 of 4 sites filter on is_test = false"),
        "{text}"
    );

    let (code, same) = run(&[
        "explain",
        "--expr",
        "SUM(a)/NULLIF(SUM(b),0)",
        "--expr",
        "SAFE_DIVIDE(SUM(a), SUM(b))",
    ]);
    assert_eq!(code, 0);
    assert!(
        same.contains("the same computation: both reduce to sum(a) / sum(b)"),
        "{same}"
    );
    let (code, different) = run(&["explain", "--expr", "SUM(a)/SUM(b)", "--expr", "AVG(a/b)"]);
    assert_eq!(code, 0);
    assert!(
        different.contains("different computations: the second averages per-row ratios"),
        "{different}"
    );
}

/// A site the judge cannot compare for sure (a model's own column for a
/// Semantic Layer measure: keyword spend as `SUM(cost)`) is no match of the
/// agreement in `explain`: it is marked `?`.
#[test]
fn a_site_left_unjudged_is_not_shown_as_matching() {
    let (code, text) = run(&["explain", "spend", "fixtures/dbt_semantic", "--isolated"]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("  ✓ sum(spend)  (matches the agreement; 2 sites)"),
        "{text}"
    );
    assert!(
        text.contains("  ? sum(cost)  (cannot be compared for sure; 1 site)"),
        "{text}"
    );
}
