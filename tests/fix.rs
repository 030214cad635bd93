//! `check --fix` and `check --diff`: the safe fixes (ML011 renames an
//! output to the registered name, ML020 removes an unused suppression),
//! applied only where they clear their finding and keep the file parsing.

use assert_cmd::Command;

mod common;

fn metriclint(dir: &std::path::Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::cargo_bin("metriclint")
        .unwrap()
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn read(dir: &std::path::Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap()
}

/// `check` of `report.sql` against `metrics.yaml` in `dir`, with `more`
/// arguments.
fn check_report(dir: &std::path::Path, more: &[&str]) -> (Option<i32>, String, String) {
    let args = [
        "check",
        "report.sql",
        "--isolated",
        "--registry",
        "metrics.yaml",
    ];
    metriclint(dir, &[&args[..], more].concat())
}

const REPORT: &str = "select campaign_id,\n  sum(clicks) / nullif(sum(impressions), 0) as click_through_rate, -- noqa: ML004\n  sum(media_cost) as media_spend\nfrom ads group by 1\n-- noqa: ML001\n";

#[test]
fn fix_renames_outputs_and_removes_unused_suppressions() {
    let dir = common::repository(&[("report.sql", REPORT)]);
    let (code, stdout, stderr) = metriclint(
        dir.path(),
        &["check", ".", "--isolated", "--fix", "--format", "concise"],
    );
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.is_empty(), "nothing left: {stdout}");
    assert!(stderr.contains("fixed 4 findings in 1 file"), "{stderr}");
    assert_eq!(
        read(dir.path(), "report.sql"),
        "select campaign_id,\n  sum(clicks) / nullif(sum(impressions), 0) as ctr,\n  sum(media_cost) as spend\nfrom ads group by 1\n"
    );
    // Fixed files check clean, and a second --fix changes nothing.
    let (code, _, stderr) = metriclint(dir.path(), &["check", ".", "--isolated", "--fix"]);
    assert_eq!(code, Some(0));
    assert!(!stderr.contains("fixed"), "{stderr}");
}

#[test]
fn diff_shows_the_fixes_without_writing() {
    let dir = common::repository(&[("report.sql", REPORT)]);
    let (code, stdout, _) = metriclint(dir.path(), &["check", ".", "--isolated", "--diff"]);
    assert_eq!(code, Some(1));
    assert!(
        stdout.contains("--- a/report.sql\n+++ b/report.sql\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("+  sum(clicks) / nullif(sum(impressions), 0) as ctr,"),
        "{stdout}"
    );
    assert!(stdout.contains("--- noqa: ML001"), "{stdout}");
    assert_eq!(read(dir.path(), "report.sql"), REPORT);
    // Nothing to fix: no diff, exit 0.
    let dir = common::repository(&[("clean.sql", "select sum(clicks) as clicks from ads\n")]);
    let (code, stdout, _) = metriclint(dir.path(), &["check", ".", "--isolated", "--diff"]);
    assert_eq!((code, stdout.as_str()), (Some(0), ""));
}

const RATE: &str = "sum(clicks) / nullif(sum(impressions), 0)";

/// Runs `check --fix` on one report and gives what it left in the file,
/// the findings left and what it said.
fn fixed(report: &str) -> (String, String, String) {
    let dir = common::repository(&[("report.sql", report)]);
    let (code, stdout, stderr) = metriclint(
        dir.path(),
        &["check", ".", "--isolated", "--fix", "--format", "concise"],
    );
    assert_eq!(code, Some(0), "{report}\n{stdout}{stderr}");
    (read(dir.path(), "report.sql"), stdout, stderr)
}

#[test]
fn a_rename_renames_the_reads_that_surely_mean_the_figure() {
    // (report, the same report as the fix must leave it)
    let cases = [
        // ORDER BY names the outputs of its own SELECT first.
        (
            format!("select {RATE} as click_through_rate from ads order by click_through_rate desc\n"),
            format!("select {RATE} as ctr from ads order by ctr desc\n"),
        ),
        // An outer query of the CTE, bare where the CTE is all it reads.
        (
            format!("with r as (select campaign, {RATE} as click_through_rate from ads group by 1)\nselect campaign, click_through_rate from r\nwhere click_through_rate > 0.01\norder by click_through_rate\n"),
            format!("with r as (select campaign, {RATE} as ctr from ads group by 1)\nselect campaign, ctr from r\nwhere ctr > 0.01\norder by ctr\n"),
        ),
        // Qualified by the CTE's alias, over a join.
        (
            format!("with r as (select campaign, {RATE} as click_through_rate from ads group by 1)\nselect c.name, x.click_through_rate from r as x join campaigns c on c.id = x.campaign\n"),
            format!("with r as (select campaign, {RATE} as ctr from ads group by 1)\nselect c.name, x.ctr from r as x join campaigns c on c.id = x.campaign\n"),
        ),
        // A derived table, and a CTE passing the figure on to another.
        (
            format!("with a as (select {RATE} as click_through_rate from ads),\nb as (select click_through_rate from a)\nselect t.click_through_rate from (select click_through_rate from b) t\n"),
            format!("with a as (select {RATE} as ctr from ads),\nb as (select ctr from a)\nselect t.ctr from (select ctr from b) t\n"),
        ),
    ];
    for (report, expected) in cases {
        let (after, left, said) = fixed(&report);
        assert_eq!(after, expected, "{said}");
        assert!(!left.contains("ML011"), "{left}");
    }
}

#[test]
fn a_name_that_may_mean_something_else_is_left_for_a_person() {
    let cases = [
        // In its own GROUP BY or HAVING a bare name may be a source column.
        format!("select {RATE} as click_through_rate from ads group by campaign having click_through_rate > 0.01\n"),
        // Bare in a join of the CTE with a table whose columns are unknown.
        format!("with r as (select campaign, {RATE} as click_through_rate from ads group by 1)\nselect click_through_rate from r join campaigns c on c.id = r.campaign\n"),
        // Qualified by another relation.
        format!("with r as (select campaign, {RATE} as click_through_rate from ads group by 1)\nselect c.click_through_rate from r join campaigns c on c.id = r.campaign\n"),
        // Read by another statement, through the table the first builds.
        format!("create table daily as select {RATE} as click_through_rate from ads;\nselect click_through_rate from daily;\n"),
        // A comment beside the code names it.
        format!("select {RATE} as click_through_rate -- click_through_rate is ours\nfrom ads\n"),
        // A quoted CTE name is another name than an unquoted one.
        format!("with \"C\" as (select {RATE} as click_through_rate from ads)\nselect click_through_rate from c\n"),
        // In an expression, ORDER BY names source columns, not outputs.
        format!("select {RATE} as click_through_rate from ads order by coalesce(click_through_rate, 0)\n"),
        // A subquery reading another table, whose column it may be.
        format!("select {RATE} as click_through_rate from ads\nwhere campaign in (select campaign from targets where click_through_rate > 0.01)\n"),
        // The ORDER BY of a UNION names the union's outputs.
        format!("select {RATE} as click_through_rate from ads\nunion all\nselect {RATE} from ads_archive\norder by click_through_rate\n"),
    ];
    for report in cases {
        let (after, left, said) = fixed(&report);
        assert_eq!(after, report, "{said}");
        assert!(left.contains("ML011"), "{report}\n{left}");
        assert!(said.contains("rename it there too"), "{report}\n{said}");
    }
    // Joined or stacked by column names, the figure has no fix at all: its
    // name decides which rows match, with no name written.
    for report in [
        format!("with c as (select day, {RATE} as click_through_rate from ads group by day)\nselect c.day, c.click_through_rate from c natural join targets\n"),
        format!("with c as (select day, {RATE} as click_through_rate from ads group by day)\nselect * from c natural join targets\n"),
    ] {
        let (after, left, _) = fixed(&report);
        assert_eq!(after, report);
        assert!(left.contains("ML011"), "{report}\n{left}");
    }
}

#[test]
fn in_a_jinja_model_only_what_the_user_wrote_is_fixed() {
    let dir = common::repository(&[
        ("dbt_project.yml", "name: shop\nversion: '1.0'\nmodel-paths: ['models']\n"),
        (
            "macros/rates.sql",
            "{% macro click_rate() %}sum(clicks) / nullif(sum(impressions), 0) as click_through_rate{% endmacro %}",
        ),
        (
            "models/written.sql",
            "select campaign_id,\n  sum(clicks) / nullif(sum(impressions), 0) as click_through_rate\nfrom {{ ref('ads') }}\ngroup by 1\n",
        ),
        (
            "models/generated.sql",
            "select campaign_id,\n  {{ click_rate() }}\nfrom {{ ref('ads') }}\ngroup by 1\n",
        ),
        ("models/ads.sql", "select 1 as campaign_id, 2 as clicks, 3 as impressions"),
    ]);
    let (_, _, stderr) = metriclint(dir.path(), &["check", ".", "--fix"]);
    assert_eq!(
        read(dir.path(), "models/written.sql"),
        "select campaign_id,\n  sum(clicks) / nullif(sum(impressions), 0) as ctr\nfrom {{ ref('ads') }}\ngroup by 1\n",
        "{stderr}"
    );
    assert_eq!(
        read(dir.path(), "models/generated.sql"),
        "select campaign_id,\n  {{ click_rate() }}\nfrom {{ ref('ads') }}\ngroup by 1\n"
    );
    // A figure written with a variable is left, and the reason says so.
    let templated = "select campaign_id, avg({{ var('clk', 'clicks') }} / impressions) as ctr\nfrom {{ ref('ads') }}\ngroup by 1\n";
    std::fs::write(dir.path().join("models/var.sql"), templated).unwrap();
    let (_, _, stderr) = metriclint(dir.path(), &["check", ".", "--fix", "--unsafe-fixes"]);
    assert_eq!(read(dir.path(), "models/var.sql"), templated);
    assert!(
        stderr.contains("not fixed: models/var.sql:1: ML005: the figure is written with Jinja"),
        "{stderr}"
    );
    // And the summary that follows does not offer it again.
    let (_, stdout, _) = metriclint(dir.path(), &["check", ".", "--fix", "--unsafe-fixes"]);
    assert!(!stdout.contains("applies"), "{stdout}");
    // Near miss: without --fix, the summary offers what --fix would try.
    let (_, stdout, _) = metriclint(dir.path(), &["check", "."]);
    assert!(stdout.contains("--unsafe-fixes"), "{stdout}");
}

/// On the bundled ad-tech repository, --fix clears every finding with a safe
/// fix and leaves files that parse; the other findings stay as they were.
#[test]
fn fix_clears_the_bundled_repositorys_safe_findings() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/adtech");
    common::copy_tree(&fixture, dir.path());
    let args = [
        "check",
        ".",
        "--registry",
        "metrics.yaml",
        "--format",
        "concise",
    ];
    let (_, before, _) = metriclint(dir.path(), &args);
    let fixable = |text: &str| {
        text.lines()
            .filter(|l| l.contains(" ML011 ") || l.contains(" ML020 ") || l.contains(" ML004 "))
            .count()
    };
    assert!(fixable(&before) > 0, "{before}");
    let mut fixing = args.to_vec();
    fixing.push("--fix");
    let (_, after, stderr) = metriclint(dir.path(), &fixing);
    assert_eq!(fixable(&after), 0, "{after}\n{stderr}");
    assert!(!after.contains("ML900"), "{after}");
    let others = |text: &str| {
        text.lines()
            .filter(|l| !l.contains(" ML011 ") && !l.contains(" ML020 ") && !l.contains(" ML004 "))
            .count()
    };
    assert_eq!(others(&after), others(&before), "{before}\n---\n{after}");
}

/// The fix that changes a figure (ML005: averaged ratios to the ratio of
/// the totals) is applied only with --unsafe-fixes.
#[test]
fn a_fix_that_changes_the_figure_waits_for_unsafe_fixes() {
    let text =
        "select campaign_id, avg(clicks / nullif(impressions, 0)) as ctr from ads group by 1\n";
    let dir = common::repository(&[("report.sql", text)]);
    let (_, stdout, _) = metriclint(
        dir.path(),
        &["check", ".", "--isolated", "--fix", "--format", "concise"],
    );
    assert_eq!(read(dir.path(), "report.sql"), text);
    assert!(stdout.contains("ML005"), "{stdout}");
    let (code, stdout, stderr) = metriclint(
        dir.path(),
        &[
            "check",
            ".",
            "--isolated",
            "--fix",
            "--unsafe-fixes",
            "--format",
            "concise",
        ],
    );
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert_eq!(
        read(dir.path(), "report.sql"),
        "select campaign_id, SUM(clicks) / NULLIF(SUM(impressions), 0) as ctr from ads group by 1\n"
    );
    assert!(!stdout.contains("ML005"), "{stdout}");
}

/// A rename is refused where the new name is already a name in the file
/// (two outputs of one name), or where another file of the run, or a dbt
/// property file, reads the old name; a suppression is not removed in a
/// run of named files (what other files would show is not seen).
#[test]
fn renames_other_files_read_and_names_that_would_clash_are_left_alone() {
    let dir = common::repository(&[
        (
            "report.sql",
            "select campaign_id, ctr, sum(clicks) / nullif(sum(impressions), 0) as click_through_rate from ads group by 1, 2\n",
        ),
        (
            "view.sql",
            "create view rates as select sum(clicks) / nullif(sum(impressions), 0) as clickthrough_rate from ads\n",
        ),
        ("dashboard.sql", "select clickthrough_rate from rates where clickthrough_rate > 0.02\n"),
    ]);
    let (_, _, stderr) = metriclint(dir.path(), &["check", ".", "--isolated", "--fix"]);
    assert!(
        stderr.contains("`ctr` is a name in the file already"),
        "{stderr}"
    );
    assert!(
        stderr.contains("`clickthrough_rate` is also named in"),
        "{stderr}"
    );
    assert!(read(dir.path(), "view.sql").contains("as clickthrough_rate"));
    // Named alone, as pre-commit names it: the other reports of its
    // project are still where the old name may be read.
    let (_, _, stderr) = metriclint(dir.path(), &["check", "view.sql", "--isolated", "--fix"]);
    assert!(
        stderr.contains("`clickthrough_rate` is also named in"),
        "{stderr}"
    );
    assert!(read(dir.path(), "view.sql").contains("as clickthrough_rate"));
    // The rest of a project reads what any part of it outputs: (files,
    // the folder run in, what is checked, where the old name is read).
    let view = "create view rates as select sum(clicks) / nullif(sum(impressions), 0) as clickthrough_rate from ads\n";
    let lookml =
        "view: rates {\n  measure: ctr { type: average sql: ${TABLE}.clickthrough_rate ;; }\n}\n";
    type Files<'a> = &'a [(&'a str, &'a str)];
    let cases: [(Files, &str, &str, &str); 3] = [
        // A folder checked alone, in a dbt project.
        (
            &[
                ("dbt_project.yml", "name: shop\nversion: '1.0'\n"),
                ("models/marts/rates.sql", view),
                (
                    "models/other/downstream.sql",
                    "select r.clickthrough_rate from rates r\n",
                ),
            ],
            ".",
            "models/marts",
            "models/other/downstream.sql",
        ),
        // A file named alone, read by a LookML view of its repository.
        (
            &[
                (".git/HEAD", "ref: refs/heads/main\n"),
                ("sql/rates.sql", view),
                ("views/daily.view.lkml", lookml),
            ],
            ".",
            "sql/rates.sql",
            "views/daily.view.lkml",
        ),
        // With no project around it, a file's own folder is its project,
        // from wherever it is named.
        (
            &[
                ("reports/rates.sql", view),
                (
                    "reports/downstream.sql",
                    "select clickthrough_rate from rates\n",
                ),
                ("elsewhere/notes.txt", "-\n"),
            ],
            "elsewhere",
            "../reports/rates.sql",
            "downstream.sql",
        ),
    ];
    for (files, run_in, checked, reader) in cases {
        let dir = common::repository(files);
        let (_, _, stderr) = metriclint(
            &dir.path().join(run_in),
            &["check", checked, "--isolated", "--fix"],
        );
        assert!(
            stderr.contains("is also named in") && stderr.contains(reader),
            "{stderr}"
        );
        let written = files
            .iter()
            .find(|(p, _)| p.ends_with("rates.sql"))
            .unwrap();
        assert_eq!(read(dir.path(), written.0), view, "{checked}");
    }
    // Near miss: named alone, with no other file reading it, it is renamed.
    let dir = common::repository(&[
        ("models/view.sql", "create view rates as select sum(clicks) / nullif(sum(impressions), 0) as clickthrough_rate from ads
"),
        ("models/other.sql", "select sum(spend) as spend from ads
"),
        ("dbt_project.yml", "name: shop\nversion: '1.0'\n"),
    ]);
    let (_, _, stderr) = metriclint(
        dir.path(),
        &["check", "models/view.sql", "--isolated", "--fix"],
    );
    assert!(
        read(dir.path(), "models/view.sql").contains("as ctr"),
        "{stderr}"
    );
    // A run of named files: no suppression is removed.
    let dir = common::repository(&[("a.sql", "select 1 as x -- noqa: ML010\n")]);
    let (_, _, _) = metriclint(dir.path(), &["check", "a.sql", "--isolated", "--fix"]);
    assert_eq!(read(dir.path(), "a.sql"), "select 1 as x -- noqa: ML010\n");
}

/// A `noqa` that names another linter's codes beside ours is theirs too, and
/// a suppression of cross-report drift may be unused only in this run: the
/// finding stays, and nothing is removed.
#[test]
fn shared_or_cross_report_suppressions_are_not_removed() {
    let text = "select a, b from t; -- noqa: LT01, ML001\nselect 1 as x; -- noqa: ML010\nselect 2 as y; -- noqa: ML004\n";
    let dir = common::repository(&[("report.sql", text)]);
    let (_, stdout, _) = metriclint(
        dir.path(),
        &["check", ".", "--isolated", "--fix", "--format", "concise"],
    );
    assert_eq!(
        read(dir.path(), "report.sql"),
        "select a, b from t; -- noqa: LT01, ML001\nselect 1 as x; -- noqa: ML010\nselect 2 as y;\n"
    );
    assert_eq!(stdout.matches("ML020").count(), 2, "{stdout}");
}

/// The unsafe ML002 fix makes every aggregate count only the rows the
/// registered filter keeps, in a spelling every dialect reads.
#[test]
fn a_left_out_filter_is_put_in_with_unsafe_fixes() {
    let registry = "version: 1\nmetrics:\n  - name: ctr\n    unit: fraction\n    sql: SUM(clicks) / NULLIF(SUM(impressions), 0)\n    filter: is_test = false\n";
    let text = "select campaign_id, sum(clicks) / nullif(sum(impressions), 0) as ctr from ads group by 1\n";
    let dir = common::repository(&[("metrics.yaml", registry), ("report.sql", text)]);
    let (code, stdout, _) = check_report(dir.path(), &["--fix", "--format", "concise"]);
    assert_eq!(code, Some(1));
    assert!(stdout.contains("ML002"), "{stdout}");
    assert_eq!(read(dir.path(), "report.sql"), text);
    let (code, stdout, stderr) = check_report(
        dir.path(),
        &["--fix", "--unsafe-fixes", "--format", "concise"],
    );
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert_eq!(
        read(dir.path(), "report.sql"),
        "select campaign_id, sum(CASE WHEN is_test = false THEN clicks END) / nullif(sum(CASE WHEN is_test = false THEN impressions END), 0) as ctr from ads group by 1\n"
    );
}

/// An unused `disable` range goes with its `enable`, both comments at once,
/// or alone where it runs to the end of the file; ranges tangled with
/// another range of their codes, and ranges that silence something, stay.
#[test]
fn an_unused_range_is_removed_with_its_end() {
    let quiet = "select sum(clicks) / nullif(sum(impressions), 0) as ctr from ads;\n";
    let cases: &[(&str, String, String)] = &[
        (
            "a pair",
            format!("-- metriclint: disable=ML001\n{quiet}-- metriclint: enable=ML001\n{quiet}"),
            format!("{quiet}{quiet}"),
        ),
        (
            "open to the end of the file",
            format!("{quiet}-- metriclint: disable=ML004\n{quiet}"),
            format!("{quiet}{quiet}"),
        ),
        (
            "near miss: tangled with another range of its code",
            format!("-- metriclint: disable=ML001\n{quiet}-- metriclint: disable=ML001,ML004\n{quiet}-- metriclint: enable=ML001\n"),
            format!("-- metriclint: disable=ML001\n{quiet}-- metriclint: disable=ML001,ML004\n{quiet}-- metriclint: enable=ML001\n"),
        ),
        (
            "near miss: an earlier range of its code still open",
            format!("-- metriclint: disable=ML005\nselect avg(clicks / impressions) as ctr from ads;\n-- metriclint: disable=ML005\n{quiet}-- metriclint: enable=ML005\nselect avg(clicks / impressions) as ctr from ads;\n"),
            format!("-- metriclint: disable=ML005\nselect avg(clicks / impressions) as ctr from ads;\n-- metriclint: disable=ML005\n{quiet}-- metriclint: enable=ML005\nselect avg(clicks / impressions) as ctr from ads;\n"),
        ),
        (
            "near miss: a disable shared with another tool keeps its end",
            format!("-- noqa: disable=LT01,ML005\n{quiet}-- metriclint: enable=ML005\nselect avg(clicks / impressions) as ctr from ads;\n"),
            format!("-- noqa: disable=LT01,ML005\n{quiet}-- metriclint: enable=ML005\nselect avg(clicks / impressions) as ctr from ads;\n"),
        ),
        (
            "near miss: a range that silences a finding",
            format!("-- metriclint: disable=ML004\nselect 100 * sum(clicks) / sum(impressions) as ctr from ads;\n-- metriclint: enable=ML004\n{quiet}"),
            format!("-- metriclint: disable=ML004\nselect 100 * sum(clicks) / sum(impressions) as ctr from ads;\n-- metriclint: enable=ML004\n{quiet}"),
        ),
    ];
    for (what, before, after) in cases {
        let dir = common::repository(&[("report.sql", before)]);
        metriclint(dir.path(), &["check", ".", "--isolated", "--fix"]);
        assert_eq!(&read(dir.path(), "report.sql"), after, "{what}");
    }
}

/// ML001's unsafe fix writes the agreed formula in the figure's place, its
/// columns qualified as the figure qualifies its own, a ratio guarded by
/// `NULLIF`; only with `--unsafe-fixes`, and never where the columns would
/// be ambiguous (a join read through unqualified names) or where the agreed
/// filter would be left out.
#[test]
fn the_agreed_formula_replaces_another_only_when_asked() {
    let registry = "version: 1\nmetrics:\n  - name: margin\n    unit: fraction\n    sql: (SUM(revenue) - SUM(publisher_payout)) / NULLIF(SUM(revenue), 0)\n  - name: ctr\n    unit: fraction\n    filter: is_test = false\n    sql: SUM(clicks) / NULLIF(SUM(impressions), 0)\n";
    let cases: &[(&str, &str, &str)] = &[
        (
            "qualified by the figure's alias",
            "select e.advertiser_id,\n  div0(sum(e.revenue) - sum(e.spend), sum(e.revenue)) as margin\nfrom fct e join dim d on d.id = e.advertiser_id\ngroup by 1\n",
            "select e.advertiser_id,\n  (SUM(e.revenue) - SUM(e.publisher_payout)) / NULLIF(SUM(e.revenue), 0) as margin\nfrom fct e join dim d on d.id = e.advertiser_id\ngroup by 1\n",
        ),
        (
            "one relation, unqualified",
            "select sum(revenue - spend) / sum(revenue) as margin from fct\n",
            "select (SUM(revenue) - SUM(publisher_payout)) / NULLIF(SUM(revenue), 0) as margin from fct\n",
        ),
        (
            "near miss: unqualified over a join",
            "select sum(revenue - spend) / sum(revenue) as margin from fct join dim using (id)\n",
            "select sum(revenue - spend) / sum(revenue) as margin from fct join dim using (id)\n",
        ),
        (
            "near miss: an agreed filter the formula would leave out",
            "select sum(clicks) / count(*) as ctr from fct where is_test = false\n",
            "select sum(clicks) / count(*) as ctr from fct where is_test = false\n",
        ),
    ];
    for (what, before, after) in cases {
        let dir = common::repository(&[("report.sql", before), ("metrics.yaml", registry)]);
        // Safe fixes alone leave the figure as it is.
        check_report(dir.path(), &["--fix"]);
        assert_eq!(
            &read(dir.path(), "report.sql"),
            before,
            "{what}: --fix alone"
        );
        let (_, stdout, stderr) = check_report(dir.path(), &["--fix", "--unsafe-fixes"]);
        assert_eq!(
            &read(dir.path(), "report.sql"),
            after,
            "{what}\n{stdout}{stderr}"
        );
    }
}

/// ML001's fix is offered only where the figure aggregates the columns of
/// what it reads itself: over a CTE's computed columns, the agreed columns
/// are no columns of the CTE, and the fix would write SQL that cannot run.
#[test]
fn the_agreed_formula_is_not_written_over_computed_columns() {
    let registry = "version: 1\nmetrics:\n  - name: ctr\n    unit: fraction\n    sql: SUM(clicks) / NULLIF(SUM(impressions), 0)\n";
    let over_a_cte = "with t as (select campaign_id, sum(clicks) as c, count(*) as n from ads group by 1)\nselect campaign_id, c / n as ctr from t\n";
    let dir = common::repository(&[("report.sql", over_a_cte), ("metrics.yaml", registry)]);
    let (_, stdout, stderr) = metriclint(
        dir.path(),
        &[
            "check",
            "report.sql",
            "--isolated",
            "--registry",
            "metrics.yaml",
            "--fix",
            "--unsafe-fixes",
            "--format",
            "concise",
        ],
    );
    assert_eq!(read(dir.path(), "report.sql"), over_a_cte, "{stderr}");
    assert!(
        stdout.contains("ML001 ctr"),
        "still found: {stdout}{stderr}"
    );
}

/// A run of named files removes no suppression (others files may be what it
/// silences), and so says none is fixable; a run of the folder does both.
#[test]
fn named_files_say_their_unused_suppressions_have_no_fix() {
    let text = "select sum(clicks) / nullif(sum(impressions), 0) as ctr from ads -- noqa: ML001\n";
    let dir = common::repository(&[("r.sql", text)]);
    let (_, named, _) = metriclint(
        dir.path(),
        &["check", "r.sql", "--isolated", "--format", "json"],
    );
    assert!(!named.contains("\"fix\""), "{named}");
    let (_, folder, _) = metriclint(dir.path(), &["check", ".", "--isolated"]);
    assert!(
        folder.contains("1 finding has a fix: `--fix` applies it."),
        "{folder}"
    );
}

/// The filter is put in only where the figure reads the table's own
/// columns and the filter added makes it the agreed figure.
#[test]
fn a_filter_is_not_written_where_it_cannot_clear_its_finding_or_has_no_column() {
    let registry = "version: 1\nmetrics:\n  - name: s2s_share\n    unit: fraction\n    numerator: {agg: sum, expr: impressions, filter: \"integration_type = 's2s'\"}\n    denominator: {agg: sum, expr: impressions}\n    filter: is_test = false\n";
    let left_alone = [
        // A CTE whose columns hold no `is_test`.
        "with d as (select integration_type, impressions from ads)\nselect sum(case when integration_type = 's2s' then impressions end) / nullif(sum(impressions), 0) as s2s_share from d\n",
        // Over a join, a bare `is_test` may be either table's, or ambiguous.
        "select c.name, sum(case when integration_type = 's2s' then impressions end) / nullif(sum(impressions), 0) as s2s_share from ads a join campaigns c on c.id = a.campaign_id group by 1\n",
        // The denominator filtered too: adding `is_test = false` leaves it so.
        "select sum(case when integration_type = 's2s' then impressions end) / nullif(sum(case when integration_type = 's2s' then impressions end), 0) as s2s_share from ads\n",
    ];
    for text in left_alone {
        let dir = common::repository(&[("metrics.yaml", registry), ("report.sql", text)]);
        let (code, stdout, _) = check_report(dir.path(), &["--format", "json"]);
        assert_eq!(code, Some(1), "{stdout}");
        let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        let found = &doc["findings"][0];
        assert_eq!(found["code"], "ML002", "{text}");
        assert!(found["fix"].is_null(), "{text}: {found}");
        check_report(dir.path(), &["--fix", "--unsafe-fixes"]);
        assert_eq!(read(dir.path(), "report.sql"), text);
    }
    // Near miss: the same figure over the table itself is fixed.
    let text = "select sum(case when integration_type = 's2s' then impressions end) / nullif(sum(impressions), 0) as s2s_share from ads\n";
    let dir = common::repository(&[("metrics.yaml", registry), ("report.sql", text)]);
    let (code, stdout, stderr) = check_report(dir.path(), &["--fix", "--unsafe-fixes"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(read(dir.path(), "report.sql").contains("is_test = false"));
}

/// A file with a statement that does not parse is not edited, so its
/// findings offer no fix in the JSON (which the summary line counts).
#[test]
fn a_file_that_does_not_parse_offers_no_fix() {
    let renamed =
        "select sum(clicks) / nullif(sum(impressions), 0) as click_through_rate from ads;\n";
    let fix_of = |text: &str| {
        let dir = common::repository(&[("report.sql", text)]);
        let doc = common::check_json(&dir);
        let ml011 = doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["code"] == "ML011")
            .cloned()
            .unwrap_or_else(|| panic!("{doc}"));
        ml011["fix"].clone()
    };
    assert!(fix_of(&format!("{renamed}selec 1;\n")).is_null());
    // Near miss: the same figure in a file that parses has its fix.
    assert!(!fix_of(renamed).is_null());
}
