//! LookML views as report definitions: each measure is a metric site, read
//! as the SQL Looker runs for it, judged with the same registry and rules
//! as SQL reports, and compared with them (ML010). Findings point into the
//! `.lkml` file at the measure.

use assert_cmd::Command;
use serde_json::Value;

mod common;
use common::repository;

/// `check --format json` over `args`, and its exit code.
fn check_json(dir: &std::path::Path, args: &[&str]) -> (i32, Value) {
    let output = Command::cargo_bin("metriclint")
        .unwrap()
        .current_dir(dir)
        .arg("check")
        .args(args)
        .args(["--isolated", "--format", "json"])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stdout)));
    (output.status.code().unwrap(), doc)
}

/// The findings as (code, path, line, column, metric).
fn findings(doc: &Value) -> Vec<(String, String, u64, u64, String)> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
                f["metric"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect()
}

fn row(
    code: &str,
    path: &str,
    line: u64,
    column: u64,
    metric: &str,
) -> (String, String, u64, u64, String) {
    (
        code.to_string(),
        path.to_string(),
        line,
        column,
        metric.to_string(),
    )
}

/// The codes `check` finds in a scratch repository of `files`, run with
/// `args` inside it, and its JSON.
fn codes_in(files: &[(&str, &str)], args: &[&str]) -> (Vec<String>, Value) {
    let dir = repository(files);
    let (_, doc) = check_json(dir.path(), args);
    (findings(&doc).into_iter().map(|f| f.0).collect(), doc)
}

/// `fixtures/lookml`: two views of an ad server's daily table and one of a
/// campaign table, beside a SQL report. The agreed measures (CTR and CPM as
/// ratios of totals, through `${…}` references) are silent; an averaged
/// CTR, an inverted CPC and an engagement rate over reach (where the other
/// view and the SQL report divide by impressions) are found, each at the
/// measure's `sql:`; a `# noqa: ML005` suppresses its measure.
#[test]
fn the_lookml_fixture_finds_exactly_its_drifts() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let (code, doc) = check_json(root, &["fixtures/lookml"]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(
        findings(&doc),
        vec![
            row(
                "ML010",
                "fixtures/lookml/views/ad_reach.view.lkml",
                9,
                10,
                "engagement_rate"
            ),
            row(
                "ML005",
                "fixtures/lookml/views/campaign_daily.view.lkml",
                23,
                10,
                "ctr"
            ),
            row(
                "ML001",
                "fixtures/lookml/views/campaign_daily.view.lkml",
                29,
                10,
                "cpc"
            ),
        ],
        "{doc:#}"
    );
    assert_eq!(doc["summary"]["files"], 4, "{doc:#}");
    assert_eq!(doc["summary"]["suppressed"], 1, "{doc:#}");
    let inverted = &doc["findings"][2];
    assert_eq!(inverted["end_line"], 29, "{inverted:#}");
    assert!(
        inverted["message"].as_str().unwrap().contains("inverted"),
        "{inverted:#}"
    );
}

/// Spellings of one measure that must match the pack's definition, and
/// near misses that must not.
#[test]
fn measures_read_through_references_types_and_filters() {
    let view = |measures: &str| {
        format!(
            "view: ads {{\n  sql_table_name: analytics.ads ;;\n  dimension: clicks {{ type: number sql: ${{TABLE}}.clicks ;; }}\n  dimension: is_test {{ type: yesno sql: ${{TABLE}}.is_test ;; }}\n  measure: total_clicks {{ type: sum sql: ${{clicks}} ;; }}\n  measure: total_impressions {{ type: sum sql: ${{TABLE}}.impressions ;; }}\n{measures}\n}}\n"
        )
    };
    for (measure, want) in [
        // Agreed, however spelled.
        ("  measure: ctr { type: number sql: ${total_clicks} / NULLIF(${total_impressions}, 0) ;; }", None),
        ("  measure: ctr { type: number sql: SUM(${TABLE}.clicks) / SUM(${TABLE}.impressions) ;; }", None),
        ("  measure: ctr { type: number sql: 1.0 * ${total_clicks} / ${ads.total_impressions} ;; }", None),
        // Near misses.
        ("  measure: ctr { type: number sql: ${total_impressions} / NULLIF(${total_clicks}, 0) ;; }", Some("ML001")),
        ("  measure: ctr { type: number sql: 1000 * ${total_clicks} / NULLIF(${total_impressions}, 0) ;; }", Some("ML004")),
        ("  measure: ctr { type: average sql: ${TABLE}.clicks / NULLIF(${TABLE}.impressions, 0) ;; }", Some("ML005")),
        // What is not read is left alone, never guessed.
        ("  measure: ctr { type: percentile percentile: 50 sql: ${TABLE}.ctr ;; }", None),
        ("  measure: ctr { type: number sql: {% if x._is_filtered %} 1 {% else %} 2 {% endif %} ;; }", None),
    ] {
        let (codes, doc) = codes_in(&[("ads.view.lkml", &view(measure))], &["."]);
        assert_eq!(codes, want.into_iter().map(String::from).collect::<Vec<_>>(), "{measure}\n{doc:#}");
    }
}

/// A registry's filter is met by a measure's `filters:`, in Looker's
/// filter expressions; a filter left out, or another one, is ML002.
#[test]
fn measure_filters_meet_a_registrys_filter() {
    const REGISTRY: &str = "version: 1\nmetrics:\n  - name: clicks\n    sql: SUM(clicks)\n    filter: is_test = false\n  - name: web_clicks\n    sql: SUM(clicks)\n    filter: platform = 'web'\n";
    let view = |measure: &str| {
        format!(
            "view: ads {{\n  sql_table_name: analytics.ads ;;\n  dimension: is_test {{ type: yesno sql: ${{TABLE}}.is_test ;; }}\n  dimension: platform {{ sql: ${{TABLE}}.platform ;; }}\n{measure}\n}}\n"
        )
    };
    for (measure, want) in [
        ("  measure: clicks { type: sum sql: ${TABLE}.clicks ;; filters: [is_test: \"no\"] }", None),
        ("  measure: web_clicks { type: sum sql: ${TABLE}.clicks ;; filters: [platform: \"web\"] }", None),
        ("  measure: clicks { type: sum sql: ${TABLE}.clicks ;; }", Some("ML002")),
        ("  measure: web_clicks { type: sum sql: ${TABLE}.clicks ;; filters: [platform: \"-web\"] }", Some("ML002")),
    ] {
        let (codes, doc) = codes_in(
            &[("ads.view.lkml", view(measure).as_str()), ("metrics.yaml", REGISTRY)],
            &["ads.view.lkml", "--registry", "metrics.yaml"],
        );
        assert_eq!(codes, want.into_iter().map(String::from).collect::<Vec<_>>(), "{measure}\n{doc:#}");
    }
}

/// A LookML file that does not parse is ML900 where its syntax breaks; the
/// other files are still checked.
#[test]
fn broken_lookml_is_a_parse_error_where_it_breaks() {
    let dir = repository(&[
        ("broken.view.lkml", "view: a {\n  measure: b {\n    type: sum\n"),
        ("ads.view.lkml", "view: ads {\n  measure: cpc { type: number sql: SUM(${TABLE}.clicks) / SUM(${TABLE}.spend) ;; }\n}\n"),
    ]);
    let (_, doc) = check_json(dir.path(), &["."]);
    let got = findings(&doc);
    assert_eq!(got.len(), 2, "{doc:#}");
    assert_eq!(
        (got[0].0.as_str(), got[0].1.as_str(), got[0].2),
        ("ML001", "ads.view.lkml", 2)
    );
    assert_eq!(
        (got[1].0.as_str(), got[1].1.as_str(), got[1].2),
        ("ML900", "broken.view.lkml", 2)
    );
    assert!(
        doc["findings"][1]["message"]
            .as_str()
            .unwrap()
            .contains("never closed"),
        "{doc:#}"
    );
}

/// A measure whose SQL does not parse (a parenthesis left open) is ML900
/// at that measure, in the measure's terms; the view's other measures are
/// still judged.
#[test]
fn a_measure_whose_sql_does_not_parse_is_a_parse_error_there() {
    let dir = repository(&[(
        "ads.view.lkml",
        "view: ads {\n  measure: max_day {\n    type: max\n    sql: max(day(${TABLE}.event_month) ;;\n  }\n  measure: cpc { type: number sql: SUM(${TABLE}.clicks) / SUM(${TABLE}.spend) ;; }\n}\n",
    )]);
    let (_, doc) = check_json(dir.path(), &["."]);
    let got: Vec<(String, u64)> = findings(&doc).into_iter().map(|f| (f.0, f.2)).collect();
    assert_eq!(
        got,
        vec![("ML900".to_string(), 2), ("ML001".to_string(), 6)],
        "{doc:#}"
    );
    let message = doc["findings"][0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("cannot parse this measure's SQL"),
        "{message}"
    );
}

/// An editor or pre-commit hook passes a view on stdin, named for its file.
#[test]
fn a_view_on_stdin_is_read_as_lookml_by_its_name() {
    let dir = repository(&[("README.md", "nothing to check\n")]);
    let output = Command::cargo_bin("metriclint")
        .unwrap()
        .current_dir(dir.path())
        .args(["check", "--isolated", "--format", "concise", "--stdin-filename", "views/ads.view.lkml"])
        .write_stdin("view: ads {\n  measure: ctr {\n    type: number\n    sql: SUM(${TABLE}.impressions) / SUM(${TABLE}.clicks) ;;\n  }\n}\n")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.starts_with("views/ads.view.lkml:4:10: ML001 ctr"),
        "{text}"
    );
    assert_eq!(output.status.code(), Some(1), "{text}");
}

/// `metrics --format json` and `explain` list LookML measures beside SQL
/// reports, each site with its layer.
#[test]
fn the_inventory_lists_lookml_measures_with_their_layer() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = Command::cargo_bin("metriclint")
        .unwrap()
        .current_dir(root)
        .args([
            "metrics",
            "fixtures/lookml",
            "--isolated",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&output.stdout).unwrap();
    let metrics = doc
        .as_array()
        .or_else(|| doc["metrics"].as_array())
        .expect("a list of metrics");
    let rate = metrics
        .iter()
        .find(|m| m["name"] == "engagement_rate")
        .expect("engagement_rate");
    let mut layers: Vec<(String, String)> = rate["variants"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|v| v["sites"].as_array().unwrap().iter())
        .map(|s| {
            (
                s["path"]
                    .as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_string(),
                s["layer"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    layers.sort();
    assert_eq!(
        layers,
        vec![
            ("ad_performance.view.lkml".to_string(), "lookml".to_string()),
            ("ad_reach.view.lkml".to_string(), "lookml".to_string()),
            ("engagement_by_campaign.sql".to_string(), "sql".to_string()),
        ]
    );
    let explained = Command::cargo_bin("metriclint")
        .unwrap()
        .current_dir(root)
        .args([
            "explain",
            "engagement_rate",
            "fixtures/lookml",
            "--isolated",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&explained.stdout);
    assert!(
        text.contains("ad_reach.view.lkml:9:10  engagement_rate  (LookML measure)")
            && text.contains("engagement_by_campaign.sql:4:5  engagement_rate\n"),
        "{text}"
    );
}

/// Names and columns in any script, and a `--` comment ending a measure's
/// SQL, are read, not a crash or a swallowed measure.
#[test]
fn non_ascii_names_and_trailing_comments_are_read() {
    let dir = repository(&[(
        "ads.view.lkml",
        "view: ads {\n  measure: anzahl_ü { type: count }\n  measure: ausgabe { type: sum sql: ${TABLE}.ausgabe_ü ;; }\n  measure: clicks { type: sum sql: ${TABLE}.clicks -- billable only\n  ;; }\n  measure: ctr { type: average sql: ${TABLE}.ctr ;; }\n}\n",
    )]);
    let (code, doc) = check_json(dir.path(), &["."]);
    assert_eq!(code, 1, "{doc:#}");
    let got: Vec<(String, u64, String)> = findings(&doc)
        .into_iter()
        .map(|f| (f.0, f.2, f.4))
        .collect();
    assert_eq!(
        got,
        vec![("ML005".to_string(), 6, "ctr".to_string())],
        "{doc:#}"
    );
}

/// A refinement that labels a field keeps its SQL (a false ML010 and a
/// CTR read as `COUNT(*)` before), and a measure reading another view's
/// measures in the same file is judged (an inverted CTR, missed before).
#[test]
fn refinements_merge_and_other_views_measures_are_read() {
    let dir = repository(&[(
        "ads.view.lkml",
        "view: ad_stats {\n  sql_table_name: analytics.ad_stats ;;\n  measure: total_clicks { type: sum sql: ${TABLE}.clicks ;; }\n  measure: total_impressions { type: sum sql: ${TABLE}.impressions ;; }\n  measure: ctr { type: number sql: ${total_clicks} / NULLIF(${total_impressions}, 0) ;; }\n}\nview: +ad_stats {\n  measure: ctr { label: \"Click-through rate\" }\n}\nview: campaigns {\n  sql_table_name: analytics.campaigns ;;\n  measure: ctr {\n    type: number\n    sql: ${ad_stats.total_impressions} / NULLIF(${ad_stats.total_clicks}, 0) ;;\n  }\n}\n",
    )]);
    let (_, doc) = check_json(dir.path(), &["."]);
    let got: Vec<(String, u64, String)> = findings(&doc)
        .into_iter()
        .map(|f| (f.0, f.2, f.4))
        .collect();
    assert_eq!(
        got,
        vec![("ML001".to_string(), 14, "ctr".to_string())],
        "{doc:#}"
    );
}

/// A `# noqa` anywhere in a measure's block silences that measure's
/// findings (on the `measure:` line, after a multi-line `sql:`, or inside
/// it); one in another measure's block does not, and is unused (ML020).
#[test]
fn a_noqa_anywhere_in_a_measure_silences_that_measure() {
    let averaged = |name: &str, noqa_at: &str| {
        let (head, inner, after) = match noqa_at {
            "head" => ("  # noqa: ML005", "", ""),
            "inner" => ("", "  # noqa: ML005", ""),
            "after" => ("", "", "  # noqa: ML005"),
            _ => ("", "", ""),
        };
        format!("  measure: {name} {{{head}\n    type: average\n    sql:\n      ${{TABLE}}.ctr{inner}\n    ;;{after}\n  }}\n")
    };
    for at in ["head", "inner", "after"] {
        let view = format!("view: ads {{\n{}}}\n", averaged("ctr", at));
        let dir = repository(&[("ads.view.lkml", &view)]);
        let (code, doc) = check_json(dir.path(), &["."]);
        assert_eq!(findings(&doc), vec![], "{at}\n{view}\n{doc:#}");
        assert_eq!(doc["summary"]["suppressed"], 1, "{at}\n{doc:#}");
        assert_eq!(code, 0, "{at}");
    }
    // Near miss: the comment sits in the other measure.
    let view = format!(
        "view: ads {{\n{}{}}}\n",
        averaged("ctr", "none"),
        averaged("cpm_note", "after")
    );
    let (codes, doc) = codes_in(&[("ads.view.lkml", &view)], &["."]);
    assert_eq!(codes, vec!["ML005", "ML020"], "{view}\n{doc:#}");
}

/// `explain` lists the measures of a name that were left out rather than
/// guessed at, with why.
#[test]
fn explain_lists_measures_left_out_and_why() {
    let dir = repository(&[(
        "ads.view.lkml",
        "view: ads {\n  measure: ctr { type: number sql: SUM(${TABLE}.clicks) / SUM(${TABLE}.impressions) ;; }\n}\nview: b {\n  measure: ctr { type: percentile percentile: 50 sql: ${TABLE}.ctr ;; }\n  measure: cpc { type: number sql: {% if x %} 1 {% endif %} ;; }\n}\n",
    )]);
    let output = Command::cargo_bin("metriclint")
        .unwrap()
        .current_dir(dir.path())
        .args(["explain", "ctr", ".", "--isolated"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("Left out, not read (never guessed):\n      ads.view.lkml:5  ctr  (its type is not one metriclint reads yet)"),
        "{text}"
    );
    assert!(!text.contains("cpc"), "{text}");
}

/// A view no explore reads backs no dashboard (a finance view left out of
/// every model, as in a public ad-tech project): its measures are left
/// out, with what they would find, and `explain` says why; a `# noqa` on
/// one is not unused. The explored view's averaged CTR is still found, as
/// is the unexplored view's once an explored view extends it, or once the
/// project has no explores at all (views checked without their models).
#[test]
fn measures_of_views_no_explore_reads_are_left_out() {
    const AVERAGED: &str = "  measure: ctr { type: average sql: ${TABLE}.clicks / NULLIF(${TABLE}.impressions, 0) ;; }\n";
    let explored = format!("view: ad_stats {{\n  sql_table_name: ads.stats ;;\n{AVERAGED}}}\n");
    let unexplored = format!(
        "view: finance_billing {{\n  sql_table_name: ads.billing ;;\n{AVERAGED}  measure: cpc {{ type: average sql: ${{TABLE}}.spend / NULLIF(${{TABLE}}.clicks, 0) ;; }} # noqa: ML005\n}}\n"
    );
    let model =
        "connection: \"dw\"\nexplore: ad_stats {\n  join: campaigns { sql_on: 1 = 1 ;; }\n}\n";
    let (codes, doc) = codes_in(
        &[
            ("ads.model.lkml", model),
            ("ad_stats.view.lkml", &explored),
            ("finance_billing.view.lkml", &unexplored),
        ],
        &["."],
    );
    assert_eq!(codes, vec!["ML005"], "{doc:#}");
    assert_eq!(doc["findings"][0]["path"], "ad_stats.view.lkml", "{doc:#}");

    let dir = repository(&[
        ("ads.model.lkml", model),
        ("ad_stats.view.lkml", &explored),
        ("finance_billing.view.lkml", &unexplored),
    ]);
    let output = Command::cargo_bin("metriclint")
        .unwrap()
        .current_dir(dir.path())
        .args(["explain", "ctr", ".", "--isolated"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("finance_billing.view.lkml:3  ctr  (its view is in no explore of the project, so no dashboard shows it)"),
        "{text}"
    );

    // Near misses: the view extended by an explored one, or no explores.
    let extending = "view: ad_stats {\n  extends: [finance_billing]\n}\n";
    let (codes, doc) = codes_in(
        &[
            ("ads.model.lkml", model),
            ("ad_stats.view.lkml", extending),
            ("finance_billing.view.lkml", &unexplored),
        ],
        &["."],
    );
    assert_eq!(codes, vec!["ML005"], "{doc:#}");
    assert_eq!(
        doc["findings"][0]["path"], "finance_billing.view.lkml",
        "{doc:#}"
    );
    let (codes, doc) = codes_in(
        &[
            ("ad_stats.view.lkml", &explored),
            ("finance_billing.view.lkml", &unexplored),
        ],
        &["."],
    );
    assert_eq!(codes, vec!["ML005", "ML005"], "{doc:#}");
    // A model that cannot be read may explore any view; files named one by
    // one (a hook's, with no config) are not the whole project.
    let (codes, doc) = codes_in(
        &[
            ("ads.model.lkml", model),
            (
                "broken.model.lkml",
                "explore: finance_billing {\n  join: x {\n",
            ),
            ("ad_stats.view.lkml", &explored),
            ("finance_billing.view.lkml", &unexplored),
        ],
        &["."],
    );
    assert_eq!(codes, vec!["ML005", "ML900", "ML005"], "{doc:#}");
    // A view file that cannot be read, with no explore in it (a typo such
    // as `measure:: cogs`), says nothing of what explores read.
    let (codes, doc) = codes_in(
        &[
            ("ads.model.lkml", model),
            (
                "typo.view.lkml",
                "view: typo {\n  measure:: cogs { type: sum }\n}\n",
            ),
            ("ad_stats.view.lkml", &explored),
            ("finance_billing.view.lkml", &unexplored),
        ],
        &["."],
    );
    assert_eq!(codes, vec!["ML005", "ML900"], "{doc:#}");
    let (codes, doc) = codes_in(
        &[
            ("ads.model.lkml", model),
            ("ad_stats.view.lkml", &explored),
            ("finance_billing.view.lkml", &unexplored),
        ],
        &[
            "ads.model.lkml",
            "ad_stats.view.lkml",
            "finance_billing.view.lkml",
        ],
    );
    assert_eq!(codes, vec!["ML005", "ML005"], "{doc:#}");
}

/// One inventory across layers: `metrics` says which layer each metric's
/// sites are in where a run has more than one (SQL reports and LookML
/// measures), in every format, and `explain` counts them; a run of SQL
/// reports alone has no such column.
#[test]
fn the_inventory_says_which_layer_the_sites_are_in() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let run = |args: &[&str]| {
        let output = Command::cargo_bin("metriclint")
            .unwrap()
            .current_dir(root)
            .args(args)
            .arg("--isolated")
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let table = run(&["metrics", "fixtures/lookml"]);
    assert!(
        table.contains("  metric           status        sites  variants  files  in\n")
            && table.contains(
                "  engagement_rate  unregistered      3         2      3  SQL 1, LookML 2\n"
            ),
        "{table}"
    );
    let markdown = run(&["metrics", "fixtures/lookml", "--format", "markdown"]);
    assert!(
        markdown.contains("| `engagement_rate` | unregistered | 3 | 2 | 3 | SQL 1, LookML 2 |"),
        "{markdown}"
    );
    let doc: Value =
        serde_json::from_str(&run(&["metrics", "fixtures/lookml", "--format", "json"])).unwrap();
    let engagement = doc["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "engagement_rate")
        .unwrap();
    assert_eq!(
        engagement["layers"],
        serde_json::json!({"sql": 1, "lookml": 2})
    );
    let explained = run(&["explain", "engagement_rate", "fixtures/lookml"]);
    assert!(
        explained.contains("3 sites (1 SQL, 2 LookML) in the checked reports, 2 variants:"),
        "{explained}"
    );
    let sql_only = run(&["metrics", "fixtures/lookml/reports"]);
    assert!(
        sql_only.contains("variants  files\n") && !sql_only.contains("SQL 1"),
        "{sql_only}"
    );
}

/// Looker's percent formats multiply by 100 to show a value: a measure
/// computed `* 100` and shown with one is ×100 twice (ML004 at its format,
/// once), whatever the registry. A fraction shown in percent, or a percent
/// shown as a decimal, is not.
#[test]
fn a_percent_shown_with_a_percent_format_is_times_a_hundred_twice() {
    let view = |measure: &str| {
        format!(
            "view: ads {{\n  sql_table_name: analytics.ads ;;\n  measure: total_clicks {{ type: sum sql: ${{TABLE}}.clicks ;; }}\n  measure: total_impressions {{ type: sum sql: ${{TABLE}}.impressions ;; }}\n{measure}\n}}\n"
        )
    };
    for (measure, want) in [
        ("  measure: ctr {\n    type: number\n    sql: 100.0 * ${total_clicks} / NULLIF(${total_impressions}, 0) ;;\n    value_format_name: percent_2\n  }", vec!["ML004"]),
        ("  measure: click_share {\n    type: number\n    sql: ${total_clicks} * 100 / NULLIF(${total_impressions}, 0) ;;\n    value_format: \"0.0%\"\n  }", vec!["ML004"]),
        // Near misses: a fraction in percent; a percent shown with a
        // literal sign (escaped, as Mattermost's `"0.0\%"`, or quoted).
        ("  measure: ctr {\n    type: number\n    sql: 1.0 * ${total_clicks} / NULLIF(${total_impressions}, 0) ;;\n    value_format_name: percent_2\n  }", vec![]),
        ("  measure: pct_days_active {\n    type: number\n    sql: (${total_clicks} / NULLIF(${total_impressions}, 0)) * 100.0 ;;\n    value_format: \"0.0\\%\"\n  }", vec![]),
        ("  measure: pct_days_active {\n    type: number\n    sql: (${total_clicks} / NULLIF(${total_impressions}, 0)) * 100.0 ;;\n    value_format: \"0.0\\\"%\\\"\"\n  }", vec![]),
        ("  measure: ctr {\n    type: number\n    sql: 100.0 * ${total_clicks} / NULLIF(${total_impressions}, 0) ;;\n    value_format_name: decimal_2\n  }", vec![]),
        ("  measure: ctr {\n    type: number\n    sql: 100.0 * ${total_clicks} / NULLIF(${total_impressions}, 0) ;;\n    value_format_name: percent_2  # noqa: ML004\n  }", vec![]),
    ] {
        let (codes, doc) = codes_in(&[("ads.view.lkml", &view(measure))], &["."]);
        assert_eq!(codes, want, "{measure}\n{doc:#}");
        // In two views alike, it is no scale the repository keeps: both found.
        let twice: Vec<String> = want.iter().chain(&want).map(|c| c.to_string()).collect();
        let (codes_of_two, doc_of_two) = codes_in(
            &[
                ("ads.view.lkml", &view(measure)),
                ("ads_copy.view.lkml", &view(measure).replace("view: ads", "view: ads_copy")),
            ],
            &["."],
        );
        assert_eq!(codes_of_two, twice, "{measure}\n{doc_of_two:#}");
        if let Some(finding) = doc["findings"].as_array().unwrap().first() {
            assert_eq!(finding["line"], 8, "{finding:#}");
            assert!(
                finding["message"].as_str().unwrap().contains("which multiplies by 100 again"),
                "{finding:#}"
            );
        }
    }
}

/// `init --from-lookml DIR` proposes a registry from the project's measures
/// alone (its SQL reports are not read), by the rules `init` follows for
/// reports: the averaged CTR is listed as drift, never agreed, and `check`
/// with the registry it wrote reports it. A path that is no folder is an
/// error that says what the flag wants.
#[test]
fn init_from_lookml_proposes_a_registry_from_the_measures() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let registry = dir.path().join("proposed.yaml");
    let output = Command::cargo_bin("metriclint")
        .unwrap()
        .current_dir(root)
        .args([
            "init",
            "--from-lookml",
            "fixtures/lookml",
            "--isolated",
            "--output",
        ])
        .arg(&registry)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let text = std::fs::read_to_string(&registry).unwrap();
    assert!(!text.contains("engagement_by_campaign.sql"), "{text}");
    assert!(
        text.contains("# ML005: computed as avg(ctr): 1 site, e.g. fixtures/lookml/views/campaign_daily.view.lkml:23"),
        "{text}"
    );
    assert!(!text.contains("sql: 'avg(ctr)'"), "{text}");
    let (_, doc) = check_json(
        root,
        &[
            "fixtures/lookml/views",
            "--registry",
            registry.to_str().unwrap(),
        ],
    );
    let found = findings(&doc);
    assert!(
        found.contains(&row(
            "ML005",
            "fixtures/lookml/views/campaign_daily.view.lkml",
            23,
            10,
            "ctr"
        )),
        "{doc:#}"
    );

    let with_paths = Command::cargo_bin("metriclint")
        .unwrap()
        .current_dir(root)
        .args([
            "init",
            "fixtures/lookml/reports",
            "--from-lookml",
            "fixtures/lookml",
        ])
        .output()
        .unwrap();
    assert_eq!(with_paths.status.code(), Some(2));
    let missing = Command::cargo_bin("metriclint")
        .unwrap()
        .args(["init", "--from-lookml", "no/such/folder"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr)
        .contains("--from-lookml the folder of a LookML project"));
}

/// A measure missing its parentheses is found where it is written, once:
/// the measures that reference it (`${non_click_rate} * 100`) are not.
#[test]
fn missing_parentheses_are_found_in_the_measure_that_writes_them() {
    let view = "view: ads {\n  sql_table_name: a.ads ;;\n  measure: total_clicks { type: sum sql: ${TABLE}.clicks ;; }\n  measure: total_impressions { type: sum sql: ${TABLE}.impressions ;; }\n  measure: non_click_rate { type: number sql: ${total_impressions} - ${total_clicks} / NULLIF(${total_impressions}, 0) ;; }\n  measure: non_click_pct { type: number sql: ${non_click_rate} * 100 ;; }\n  measure: click_share { type: number sql: 1 - ${non_click_rate} ;; }\n}\n";
    let (_, doc) = codes_in(&[("ads.view.lkml", view)], &["."]);
    let found: Vec<(u64, &str)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "ML013")
        .map(|f| (f["line"].as_u64().unwrap(), f["metric"].as_str().unwrap()))
        .collect();
    assert_eq!(found, vec![(5, "non_click_rate")], "{doc:#}");
}

/// A view over a derived table that keeps the rows it reads reads what
/// the derived table's SQL reads (Liquid filters and
/// `${view.SQL_TABLE_NAME}` written out): the agreed source is no drift
/// there, another table still is. SQL that does not parse, or that
/// aggregates (rows of another grain), leaves the view's own name as its
/// table.
#[test]
fn a_derived_tables_sql_is_what_its_view_reads() {
    let registry = "version: 1\nmetrics:\n  - name: ctr\n    sql: sum(clicks) / nullif(sum(impressions), 0)\n    source: fct_ad_events\n";
    let view = |from: &str| {
        format!(
            "view: daily {{\n  derived_table: {{\n    sql: SELECT campaign_id, clicks, impressions\n      FROM {from} WHERE {{% condition day_filter %}} event_date {{% endcondition %}} ;;\n  }}\n  measure: total_clicks {{ type: sum sql: ${{TABLE}}.clicks ;; }}\n  measure: total_impressions {{ type: sum sql: ${{TABLE}}.impressions ;; }}\n  measure: ctr {{ type: number sql: ${{total_clicks}} / NULLIF(${{total_impressions}}, 0) ;; }}\n}}\n"
        )
    };
    let source_findings = |from: &str| {
        let (_, doc) = codes_in(
            &[("metrics.yaml", registry), ("daily.view.lkml", &view(from))],
            &["--registry", "metrics.yaml"],
        );
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["message"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        source_findings("analytics.fct_ad_events"),
        Vec::<String>::new()
    );
    assert_eq!(
        source_findings("${events.SQL_TABLE_NAME}"),
        ["ctr is computed from events, but the registry says it comes from fct_ad_events"]
    );
    assert_eq!(
        source_findings("raw.ad_event_log"),
        ["ctr is computed from raw.ad_event_log, but the registry says it comes from fct_ad_events"]
    );
    // Not SQL a generic parser reads, or rows of another grain: the view's
    // name stands for it.
    for from in [
        "fct_ad_events WHERE {% if x %} a =",
        "(SELECT campaign_id, SUM(clicks) AS clicks FROM fct_ad_events GROUP BY 1) t",
    ] {
        assert_eq!(
            source_findings(from),
            ["ctr is computed from daily, but the registry says it comes from fct_ad_events"],
            "{from}"
        );
    }
}
