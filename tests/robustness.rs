//! No input makes metriclint panic: any text, any bytes, any folder shape.

use metriclint::check::check_text;
use metriclint::dialect::Dialect;
use metriclint::registry::load_builtin;
use proptest::prelude::*;

/// Fragments of real reports, so generated inputs reach deep into the parser.
const FRAGMENTS: &[&str] = &[
    "SELECT ",
    "SUM(clicks)",
    " / ",
    "NULLIF(",
    "SUM(impressions)",
    ", 0)",
    " AS ctr",
    ", ",
    " FROM t",
    " WHERE ",
    "is_test = false",
    " GROUP BY 1",
    ";",
    "WITH d AS (",
    ")",
    "(",
    "CASE WHEN ",
    " THEN ",
    " ELSE 0 END",
    "COUNT(*)",
    "'s2s'",
    "\"CTR\"",
    "`t`",
    "--c\n",
    "/* x */",
    " UNION ALL ",
    "CAST(",
    " AS FLOAT64)",
    "::float",
    "1e6",
    "DIV0(",
    "SAFE_DIVIDE(",
    "OVER (PARTITION BY d)",
    "INSERT INTO x ",
    "CREATE VIEW v AS ",
    "'",
    "\n",
    "é",
    "$$",
    "{{ ref('x') }}",
];

fn fragments() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(FRAGMENTS), 0..60).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn report_fragments_never_panic(sql in fragments()) {
        let registry = load_builtin("programmatic").unwrap();
        for dialect in [Dialect::Generic, Dialect::BigQuery, Dialect::Snowflake] {
            let findings = check_text("p.sql", &sql, dialect, &registry);
            for f in findings {
                prop_assert!(f.range.start.line >= 1);
                prop_assert!(f.range.start <= f.range.end);
            }
        }
    }

    #[test]
    fn arbitrary_text_never_panics(sql in "\\PC{0,200}") {
        let registry = load_builtin("programmatic").unwrap();
        let _ = check_text("p.sql", &sql, Dialect::Generic, &registry);
    }

    #[test]
    fn arbitrary_registry_text_never_panics(yaml in "(version: 1\nmetrics:\n  - name: [a-z]{1,5}\n    (sql|agg|expr|numerator): [ -~]{0,30}\n){0,1}[ -~\n]{0,80}") {
        let _ = metriclint::registry::load_str("r.yaml", &yaml);
    }
}

/// Pieces of LookML, joined at random: views, fields, references, lists,
/// strings and SQL, complete or cut off anywhere.
fn lookml_fragments() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "view: v {",
        "view: +v {",
        "}",
        "{",
        "measure: m {",
        "dimension: d {",
        "type: sum",
        "type: number",
        "type: average",
        "type: count",
        "type: yesno",
        "sql: ${TABLE}.x ;;",
        "sql: ${d} / NULLIF(${m}, 0) ;;",
        "sql: ${v.m} ;;",
        "sql: ${m} ;;",
        "sql: {% if x %} 1 {% endif %} ;;",
        "sql_table_name: a.b ;;",
        "sql_table_name: `p-q.r.s` ;;",
        "filters: [d: \"yes\", e: \"-x\"]",
        "filters: [",
        "]",
        "\"",
        "# noqa: ML005",
        "derived_table: { sql: SELECT 1 ;; }",
        ";;",
        "${",
        "drill_fields: [a*, b]",
        ":",
        "\n",
    ]);
    prop::collection::vec(piece, 0..40).prop_map(|pieces| pieces.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn lookml_fragments_never_panic(text in lookml_fragments()) {
        let registry = load_builtin("programmatic").unwrap();
        let lines = text.lines().count().max(1) as u32;
        for f in check_text("v.view.lkml", &text, Dialect::Generic, &registry) {
            prop_assert!(f.range.start.line >= 1 && f.range.start.line <= lines + 1, "{f:?}");
            prop_assert!(f.range.start <= f.range.end);
        }
    }

    #[test]
    fn arbitrary_lookml_text_never_panics(text in "\\PC{0,200}") {
        let registry = load_builtin("programmatic").unwrap();
        let _ = check_text("v.view.lkml", &text, Dialect::Generic, &registry);
    }
}

/// Blocks nested a hundred thousand deep are a syntax error, not a crash.
#[test]
fn deeply_nested_lookml_is_a_finding_not_a_crash() {
    let registry = load_builtin("programmatic").unwrap();
    let text = format!("{}{}", "view: v {".repeat(100_000), "}".repeat(100_000));
    let findings = check_text("deep.view.lkml", &text, Dialect::Generic, &registry);
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0].code, "ML900");
    assert!(
        findings[0].message.contains("nest"),
        "{}",
        findings[0].message
    );
}

#[test]
fn deeply_nested_expressions_are_a_finding_not_a_crash() {
    let registry = load_builtin("programmatic").unwrap();
    let sql = format!(
        "SELECT {}1{} AS ctr FROM t",
        "(".repeat(5000),
        ")".repeat(5000)
    );
    let findings = check_text("deep.sql", &sql, Dialect::Generic, &registry);
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].code, "ML900");
}

#[cfg(unix)]
#[test]
fn symlink_loops_are_reported_not_walked_forever() {
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("reports");
    std::fs::create_dir(&reports).unwrap();
    std::fs::write(
        reports.join("a.sql"),
        "SELECT SUM(clicks) / COUNT(*) AS ctr FROM t;",
    )
    .unwrap();
    std::os::unix::fs::symlink(&reports, reports.join("loop")).unwrap();
    let found = metriclint::discover::discover(&[dir.path().to_path_buf()]).unwrap();
    assert_eq!(found.files.len(), 1);
    assert_eq!(found.problems.len(), 1, "{:?}", found.problems);
    assert!(found.problems[0].contains("loop"), "{:?}", found.problems);
}

#[test]
fn very_long_expressions_in_a_folder_do_not_overflow_the_stack() {
    let dir = tempfile::tempdir().unwrap();
    let terms: Vec<String> = (0..5000).map(|i| format!("SUM(c{i})")).collect();
    let sql = format!(
        "SELECT ({}) / SUM(impressions) AS ctr FROM t;\n",
        terms.join(" + ")
    );
    std::fs::write(dir.path().join("long.sql"), sql).unwrap();
    let options = metriclint::check::CheckOptions {
        paths: vec![dir.path().to_path_buf()],
        inventory: true,
        ..Default::default()
    };
    let registry = load_builtin("programmatic").unwrap();
    let result = metriclint::check::run(&options, &registry).unwrap();
    assert_eq!(result.files, 1);
    assert_eq!(result.findings.len(), 1);
    assert_eq!(result.findings[0].code, "ML001");
}

#[test]
fn statements_too_long_to_analyse_are_a_finding_not_a_crash() {
    let registry = load_builtin("programmatic").unwrap();
    let terms: Vec<String> = (0..20_000).map(|i| format!("SUM(c{i})")).collect();
    let sql = format!(
        "SELECT {} AS total FROM t;\nSELECT SUM(clicks) / COUNT(*) AS ctr FROM t;\n",
        terms.join(" + ")
    );
    let findings = check_text("huge.sql", &sql, Dialect::Generic, &registry);
    let codes: Vec<(&str, u32)> = findings
        .iter()
        .map(|f| (f.code, f.range.start.line))
        .collect();
    assert_eq!(codes, vec![("ML900", 1), ("ML001", 2)]);
    assert!(findings[0].message.contains("too long to analyse"));
}

#[test]
fn templates_rendering_too_much_sql_are_a_finding() {
    let registry = load_builtin("programmatic").unwrap();
    let template = "{% set big = 'sum(a) + ' * 500 %}select {% for i in range(20000) %}{{ big }}{% endfor %} 1 as x from t\n";
    let findings = check_text("bomb.sql", template, Dialect::Generic, &registry);
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].code, "ML901");
    assert!(
        findings[0].message.contains("MB of SQL"),
        "{}",
        findings[0].message
    );
}

#[test]
fn braces_in_plain_sql_strings_are_not_a_template() {
    let registry = load_builtin("programmatic").unwrap();
    let sql = "SELECT SUM(clicks) / COUNT(*) AS ctr FROM t WHERE note LIKE '%{#%';\n";
    let findings = check_text("plain.sql", sql, Dialect::Generic, &registry);
    let codes: Vec<&str> = findings.iter().map(|f| f.code).collect();
    assert_eq!(codes, vec!["ML001"]);
}

#[test]
fn a_finding_past_column_65535_is_drawn_clipped_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let long = "x".repeat(70_000);
    let sql =
        format!("SELECT '{long}' AS s, 1000 * SUM(clicks) / SUM(impressions) AS ctr FROM t;\n");
    std::fs::write(dir.path().join("long.sql"), sql).unwrap();
    let output = assert_cmd::Command::cargo_bin("metriclint")
        .unwrap()
        .args(["check", dir.path().to_str().unwrap(), "--isolated"])
        .args(["--format", "human"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("ML004"), "{stdout}");
    // The excerpt is the expression with some text around it, clipped.
    let excerpt = stdout
        .lines()
        .find(|l| l.contains("1000 * SUM(clicks)"))
        .unwrap_or_default();
    assert!(
        excerpt.contains('…') && excerpt.chars().count() < 300,
        "{excerpt}"
    );
}

#[cfg(unix)]
#[test]
fn a_named_path_that_cannot_be_checked_is_an_error_not_silence() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.sql");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    let mut named = vec![("/dev/null".to_string(), "a device")];
    if made.is_ok_and(|s| s.success()) {
        named.push((fifo.display().to_string(), "a named pipe"));
    }
    for (path, kind) in named {
        let output = assert_cmd::Command::cargo_bin("metriclint")
            .unwrap()
            .args(["check", &path, "--isolated"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{path}: {stderr}");
        assert!(stderr.contains(kind), "{stderr}");
    }
}

#[test]
fn stdin_that_is_not_utf8_is_an_ml900_as_in_a_file_and_nul_is_shown_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let run = |bytes: &[u8]| {
        let output = assert_cmd::Command::cargo_bin("metriclint")
            .unwrap()
            .current_dir(dir.path())
            .args(["check", "--stdin-filename", "piped.sql", "--isolated"])
            .args(["--format", "concise"])
            .write_stdin(bytes.to_vec())
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).to_string(),
        )
    };
    let (code, stdout) = run(b"select 1 as a;\n\xff\xfe");
    assert_eq!(code, Some(0), "{stdout}");
    assert!(
        stdout.contains("ML900 the file is not UTF-8 text (invalid byte at line 2"),
        "{stdout}"
    );
    let (_, stdout) = run(b"select \0 from t");
    assert!(
        stdout.contains("ML900") && !stdout.contains('\0'),
        "{stdout:?}"
    );
    assert!(stdout.contains("\\u{0}"), "{stdout:?}");
}

/// Bytes of a report or of noise: fragments of SQL, stray bytes, NUL.
fn report_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            prop::sample::select(FRAGMENTS).prop_map(|f| f.as_bytes().to_vec()),
            prop::collection::vec(any::<u8>(), 0..8),
        ],
        0..40,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    // Each case runs the binary: few cases, the bytes chosen to reach deep.
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn any_bytes_on_stdin_exit_0_1_or_2_never_a_crash(bytes in report_bytes()) {
        let dir = tempfile::tempdir().unwrap();
        let output = assert_cmd::Command::cargo_bin("metriclint")
            .unwrap()
            .current_dir(dir.path())
            .args(["check", "--stdin-filename", "piped.sql", "--isolated"])
            .args(["--format", "json"])
            .write_stdin(bytes)
            .output()
            .unwrap();
        let code = output.status.code();
        prop_assert!(matches!(code, Some(0..=2)), "exit {code:?}: {}", String::from_utf8_lossy(&output.stderr));
    }
}

/// The inputs that once crashed metriclint (`fuzz/crashes/<target>/`) stay
/// fixed: each goes through what its fuzz target calls.
#[test]
fn past_crash_inputs_stay_fixed() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/crashes");
    let registry = load_builtin("programmatic").unwrap();
    let mut seen = 0;
    for target in ["registry", "config", "check_text"] {
        for entry in std::fs::read_dir(root.join(target)).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            match target {
                "registry" => {
                    let _ = metriclint::registry::load_str("crash.yaml", &text);
                }
                "config" => {
                    let _ = metriclint::config::Config::parse("crash.yaml", &text);
                }
                _ => {
                    for dialect in [Dialect::Generic, Dialect::BigQuery] {
                        let _ = check_text("crash.sql", &text, dialect, &registry);
                    }
                }
            }
            seen += 1;
        }
    }
    assert!(seen >= 5, "{seen} crash inputs");
}

#[test]
fn a_file_changed_during_a_run_gets_no_snippet_from_its_new_bytes() {
    use metriclint::check::{content_hash, CheckedTexts};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.sql");
    std::fs::write(&path, "select 1 as a").unwrap();
    let shown = path.display().to_string();
    let mut texts = CheckedTexts::default();
    texts
        .hashes
        .insert(shown.clone(), content_hash(b"select 1 as a"));
    assert_eq!(texts.text(&shown).unwrap(), "select 1 as a");
    std::fs::write(&path, "select 2 as b, 3 as c").unwrap();
    assert!(texts.text(&shown).is_err());
}

/// A run keeps every compared site to its end, so what sites repeat (their
/// forms, slices, names, relations and paths) is held once, not per site:
/// that keeps a million-file run under a gigabyte (see the README's Speed).
#[test]
fn what_sites_repeat_is_held_once_across_files() {
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    for (i, extra) in ["", ", SUM(clicks) AS clicks", ""].iter().enumerate() {
        std::fs::write(
            dir.path().join(format!("report_{i}.sql")),
            format!(
                "SELECT campaign_id, SUM(clicks) / NULLIF(SUM(impressions), 0) AS ctr{extra}\n\
                 FROM analytics.fct_ad_events WHERE is_test = false GROUP BY 1;\n"
            ),
        )
        .unwrap();
    }
    let mut registry = load_builtin("programmatic").unwrap();
    registry.set_pack_only(true);
    let options = metriclint::check::CheckOptions {
        paths: vec![dir.path().to_path_buf()],
        inventory: false,
        ..Default::default()
    };
    let result = metriclint::check::run(&options, &registry).unwrap();
    let ctr: Vec<_> = result
        .sites
        .iter()
        .filter(|s| &*s.output_name == "ctr")
        .collect();
    assert_eq!(ctr.len(), 3, "{:#?}", result.sites);
    for site in &ctr[1..] {
        assert!(Arc::ptr_eq(&site.form, &ctr[0].form));
        assert!(Arc::ptr_eq(&site.slice, &ctr[0].slice));
        assert!(Arc::ptr_eq(&site.output_name, &ctr[0].output_name));
        assert!(Arc::ptr_eq(&site.sources, &ctr[0].sources));
    }
    assert!(!ctr[0].slice.is_empty(), "the WHERE is the sites' slice");
    // Sites stay in file order, and a file's sites share its path.
    let paths: Vec<&str> = result.sites.iter().map(|s| &*s.path).collect();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted);
    let of_second: Vec<_> = result
        .sites
        .iter()
        .filter(|s| s.path.ends_with("report_1.sql"))
        .collect();
    assert_eq!(of_second.len(), 2, "ctr and clicks");
    assert!(Arc::ptr_eq(&of_second[0].path, &of_second[1].path));
}

/// A statement the end of the file cuts short is reported where the text
/// stops, not at the statement's first line.
#[test]
fn a_statement_cut_short_by_the_end_of_the_file_is_reported_where_it_stops() {
    let registry = load_builtin("programmatic").unwrap();
    let sql =
        "select 1 as a;\n\nselect campaign_id,\n  sum(clicks) as c\nfrom events\nwhere (x = 1\n";
    let findings = check_text("eof.sql", sql, Dialect::Generic, &registry);
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0].code, "ML900");
    assert_eq!(
        (findings[0].range.start.line, findings[0].range.start.column),
        (6, 12),
        "{findings:?}"
    );
    assert!(findings[0].message.contains("found: EOF"), "{findings:?}");
    // Cut short in its middle, a statement is still reported where it fails.
    let sql = "select campaign_id,\n  sum(clicks) as c\nfrom events\nwhere (x = 1 group by 1;\nselect 2 as b\n";
    let findings = check_text("mid.sql", sql, Dialect::Generic, &registry);
    assert_eq!(findings[0].range.start.line, 4, "{findings:?}");
}
