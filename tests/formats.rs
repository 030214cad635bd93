//! Output formats, exit control and report files, end to end.

use assert_cmd::Command;

/// `check` of the broken fixture as JUnit, where warnings fail the run too
/// (errors, warnings and clean files in one report).
const BROKEN_AS_JUNIT_FAILING_ON_WARNINGS: [&str; 6] = [
    "check",
    "fixtures/broken",
    "--format",
    "junit",
    "--fail-on",
    "warning",
];

/// Runs the binary; a `check` adopts the built-in pack as the team's registry
/// (its columns agreed), so each planted drift gets its own rule here, where
/// the output formats are what is tested.
fn run(args: &[&str]) -> (i32, String, String) {
    let mut args = args.to_vec();
    if args.first() == Some(&"check") && !args.contains(&"--registry") {
        args.extend(["--registry", "rules/programmatic.yaml"]);
    }
    let output = Command::cargo_bin("metriclint")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .args(&args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

/// The text with every `time="…"` attribute's value replaced: a run's time
/// differs from run to run.
fn without_times(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("time=\"") {
        let value = at + "time=\"".len();
        out.push_str(&rest[..value]);
        out.push_str("[elapsed]");
        let end = rest[value..].find('"').map_or(rest.len(), |e| value + e);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[test]
fn concise_github_gitlab_junit_snapshots() {
    for format in ["concise", "github", "gitlab", "junit"] {
        let (code, text, _) = run(&["check", "fixtures/broken", "--format", format]);
        assert_eq!(code, 1, "{format}");
        insta::assert_snapshot!(format!("format_{format}"), without_times(&text));
    }
}

#[test]
fn sarif_is_valid_sarif_2_1_0() {
    let (code, text, _) = run(&[
        "check",
        "fixtures/adtech",
        "--registry",
        "fixtures/adtech/metrics.yaml",
        "--format",
        "sarif",
    ]);
    assert_eq!(code, 1);
    let sarif: serde_json::Value = serde_json::from_str(&text).unwrap();
    let schema_text = include_str!("data/sarif-schema-2.1.0.json");
    let schema: serde_json::Value = serde_json::from_str(schema_text).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the SARIF schema compiles");
    // The validator does reject what is not SARIF 2.1.0.
    assert!(!validator.is_valid(&serde_json::json!({"version": "2.0.0", "runs": []})));
    assert!(
        !validator.is_valid(&serde_json::json!({"version": "2.1.0", "runs": [{"results": []}]}))
    );
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let run = &sarif["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "metriclint");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(rules.iter().any(|r| r["id"] == "ML002"
        && r["help"]["markdown"]
            .as_str()
            .unwrap()
            .contains("## Example")));
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 14);
    // Relative paths are relative to the folder it ran in, given as a URI.
    let root = run["originalUriBaseIds"]["SRCROOT"]["uri"]
        .as_str()
        .unwrap();
    assert!(
        root.starts_with("file:///") && root.ends_with('/'),
        "{root}"
    );
    let mut prints = std::collections::HashSet::new();
    for result in results {
        let artifact = &result["locations"][0]["physicalLocation"]["artifactLocation"];
        assert_eq!(artifact["uriBaseId"], "SRCROOT", "{result}");
        assert!(
            artifact["uri"].as_str().unwrap().starts_with("fixtures/"),
            "{result}"
        );
        let print = result["partialFingerprints"]["metriclintFindingHash/v1"]
            .as_str()
            .unwrap();
        assert!(prints.insert(print.to_string()), "{print} twice");
    }
    assert_eq!(results[0]["ruleId"], "ML005");
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["region"]["startLine"],
        14
    );
}

#[test]
fn fail_on_and_exit_zero_set_the_exit_code() {
    // Warnings only: passes by default, fails from --fail-on warning.
    assert_eq!(run(&["check", "fixtures/broken/garbage.sql"]).0, 0);
    assert_eq!(
        run(&[
            "check",
            "fixtures/broken/garbage.sql",
            "--fail-on",
            "warning"
        ])
        .0,
        1
    );
    assert_eq!(
        run(&["check", "fixtures/broken/garbage.sql", "--fail-on", "info"]).0,
        1
    );
    // Infos only (a synonym): fails only from --fail-on info.
    assert_eq!(
        run(&[
            "check",
            "fixtures/adtech/models/snowflake/viewability_report.sql"
        ])
        .0,
        0
    );
    assert_eq!(
        run(&[
            "check",
            "fixtures/adtech/models/snowflake/viewability_report.sql",
            "--fail-on",
            "info"
        ])
        .0,
        1
    );
    // Errors, but --exit-zero.
    assert_eq!(run(&["check", "fixtures/broken", "--exit-zero"]).0, 0);
    // A bad registry is still 2.
    assert_eq!(
        run(&[
            "check",
            "fixtures/broken",
            "--exit-zero",
            "--registry",
            "nope.yaml"
        ])
        .0,
        2
    );
}

#[test]
fn output_file_quiet_and_statistics() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.sarif");
    let (code, stdout, _) = run(&[
        "check",
        "fixtures/broken",
        "--format",
        "sarif",
        "--output",
        path.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(stdout.is_empty());
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(written["version"], "2.1.0");

    let (_, quiet, _) = run(&["check", "fixtures/broken", "--quiet", "--format", "concise"]);
    assert_eq!(quiet.lines().count(), 2);
    assert!(quiet.lines().all(|l| l.contains(": ML001 ")));

    let (_, text, _) = run(&["check", "fixtures/broken", "--statistics"]);
    assert!(
        text.ends_with("     2  ML001  definition-mismatch\n     3  ML900  parse-error\n"),
        "{text}"
    );
    let (_, json, stats) = run(&[
        "check",
        "fixtures/broken",
        "--statistics",
        "--format",
        "json",
    ]);
    serde_json::from_str::<serde_json::Value>(&json).expect("statistics stay out of the JSON");
    assert!(stats.contains("ML900  parse-error"));
}

#[test]
fn rule_documentation_from_the_command_line() {
    let (code, text, _) = run(&["rule", "ML002"]);
    assert_eq!(code, 0);
    assert!(
        text.starts_with("# ML002 filter-mismatch\n\nDefault severity: error\n\n## What it does\n"),
        "{text}"
    );
    assert!(text.contains("## Example"));
    let (code, all, _) = run(&["rule", "--all"]);
    assert_eq!(code, 0);
    assert_eq!(all.lines().count(), metriclint::rules::RULES.len());
    assert!(all.contains(
        "ML010  inconsistent-computation     warning  One metric name computed in different ways across reports"
    ));
    // Each summary is whole: one line of its own, never cut short.
    for rule in metriclint::rules::RULES {
        assert!(
            !rule.summary.is_empty()
                && !rule.summary.ends_with(['…', '.'])
                && rule.summary.chars().count() <= 90,
            "{}: {}",
            rule.code,
            rule.summary
        );
    }
    let (code, _, err) = run(&["rule", "ML999"]);
    assert_eq!(code, 2);
    assert!(err.contains("metriclint rule --all"));
}

#[test]
fn every_suppression_form_and_the_unused_ones() {
    let (code, text, _) = run(&["check", "fixtures/suppressions", "--format", "json"]);
    assert_eq!(code, 1);
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let found: Vec<(String, u64, String)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("fixtures/suppressions/")
                    .to_string(),
                f["line"].as_u64().unwrap(),
                f["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want = [
        // disable-file=ML005 silenced line 2; another code still counts.
        ("file_level.sql", 3, "ML004"),
        // `-- noqa: ML001` on a line with nothing to silence.
        ("noqa.sql", 7, "ML020"),
        // After `enable=ML001`, ML001 is reported again.
        ("ranges.sql", 4, "ML001"),
        // `disable=ML011` over a range with no ML011.
        ("ranges.sql", 5, "ML020"),
    ];
    let want: Vec<(String, u64, String)> = want
        .iter()
        .map(|(p, l, c)| (p.to_string(), *l, c.to_string()))
        .collect();
    assert_eq!(found, want);
    // noqa.sql:3 (ML001 by code), noqa.sql:4 (bare noqa), ranges.sql:2, file_level.sql:2.
    assert_eq!(doc["summary"]["suppressed"], 4);
    let unused = &doc["findings"][1];
    assert_eq!(
        unused["message"],
        "this noqa suppression (ML001) silences no finding"
    );
    assert_eq!(unused["severity"], "warning");
}

/// The JSON output validates against the schema the repository documents
/// it with (`schemas/output.schema.json`), over fixtures that give every
/// kind of finding: registry drifts, cross-report drift, a parse error,
/// suppressions.
#[test]
fn json_output_follows_its_schema() {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../schemas/output.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the output schema compiles");
    // It rejects what is not the output.
    assert!(!validator.is_valid(&serde_json::json!({"version": 2, "findings": [], "summary": {}})));
    assert!(!validator.is_valid(&serde_json::json!({
        "version": 1,
        "findings": [{"code": "ML1", "rule": "x", "severity": "fatal"}],
        "summary": {"files": 0, "findings": 0, "errors": 0, "warnings": 0, "infos": 0}
    })));
    let mut codes = std::collections::BTreeSet::new();
    for args in [
        &[
            "check",
            "fixtures/adtech",
            "--registry",
            "fixtures/adtech/metrics.yaml",
        ][..],
        &["check", "fixtures/drift"][..],
        &["check", "fixtures/broken"][..],
        &["check", "fixtures/suppressions"][..],
        &["check", "fixtures/dbt_ads"][..],
    ] {
        let mut args = args.to_vec();
        args.extend(["--format", "json"]);
        let (_, text, stderr) = run(&args);
        let output: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?}: {e}: {stderr}"));
        let errors: Vec<String> = validator
            .iter_errors(&output)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{args:?}: {errors:#?}");
        for finding in output["findings"].as_array().unwrap() {
            codes.insert(finding["code"].as_str().unwrap().to_string());
        }
    }
    // The fixtures hold registry drifts, cross-report drift and a parse error.
    for code in ["ML001", "ML010", "ML900"] {
        assert!(codes.contains(code), "{code} not among {codes:?}");
    }
}

/// JUnit as GitLab and Jenkins read it: a file fails once, with every
/// finding that fails the run listed in its one `<failure>`; findings
/// below the threshold are output, not failures; the suite has a time.
#[test]
fn junit_fails_a_file_once_and_only_for_what_fails_the_run() {
    let case_of = |text: &str, file: &str| -> String {
        text.split("<testcase ")
            .find(|case| case.contains(&format!(r#"name="fixtures/broken/{file}""#)))
            .unwrap()
            .to_string()
    };
    // mixed.sql has an ML001 (error) and an ML900 (warning).
    let (code, text, _) = run(&["check", "fixtures/broken", "--format", "junit"]);
    assert_eq!(code, 1);
    let mixed = case_of(&text, "mixed.sql");
    assert_eq!(mixed.matches("<failure").count(), 1, "{mixed}");
    assert!(
        mixed.contains(r#"<failure type="ML001" message="ML001 ctr is computed"#),
        "{mixed}"
    );
    assert!(
        mixed.contains("<system-out>fixtures/broken/mixed.sql:9:1: ML900"),
        "{mixed}"
    );
    assert!(
        text.contains(r#"<testsuite name="metriclint" tests="4" failures="2""#),
        "{text}"
    );
    assert!(text.contains(" time=\""), "{text}");
    // Every testcase says how long its file took, as strict readers require.
    let testcases: Vec<&str> = text.lines().filter(|l| l.contains("<testcase ")).collect();
    assert_eq!(testcases.len(), 4, "{text}");
    assert!(
        testcases.iter().all(|l| l.contains(r#"" time=""#)),
        "{text}"
    );
    // Both fail from --fail-on warning: still one <failure>, listing both.
    let (_, text, _) = run(&BROKEN_AS_JUNIT_FAILING_ON_WARNINGS);
    let mixed = case_of(&text, "mixed.sql");
    assert_eq!(mixed.matches("<failure").count(), 1, "{mixed}");
    assert!(mixed.contains(r#"message="2 findings""#), "{mixed}");
    assert!(!mixed.contains("<system-out>"), "{mixed}");
    // ML900 is a warning: under the default threshold (error) it fails
    // nothing, and the run passes.
    let (code, text, _) = run(&["check", "fixtures/broken/garbage.sql", "--format", "junit"]);
    assert_eq!(code, 0);
    assert!(!text.contains("<failure"), "{text}");
    assert!(
        text.contains("<system-out>fixtures/broken/garbage.sql:1:1: ML900"),
        "{text}"
    );
    // From --fail-on warning, it fails the file; with --exit-zero, nothing does.
    let (code, text, _) = run(&[
        "check",
        "fixtures/broken/garbage.sql",
        "--format",
        "junit",
        "--fail-on",
        "warning",
    ]);
    assert_eq!(code, 1);
    assert_eq!(text.matches("<failure").count(), 1, "{text}");
    let (code, text, _) = run(&[
        "check",
        "fixtures/broken",
        "--format",
        "junit",
        "--exit-zero",
    ]);
    assert_eq!(code, 0);
    assert!(!text.contains("<failure"), "{text}");
}

/// GitLab Code Quality fingerprints say what a finding is, not where: a line
/// inserted above it keeps its fingerprint, and two alike findings in one
/// file have two.
#[test]
fn gitlab_fingerprints_survive_a_line_inserted_above() {
    const REPORT: &str = "select campaign_id,\n  sum(revenue) / nullif(sum(spend), 0) as roas\nfrom events group by 1;\nselect campaign_id,\n  sum(revenue) / nullif(sum(spend), 0) as roas\nfrom events group by 1;\n";
    let fingerprints = |text: &str| -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("report.sql"), text).unwrap();
        let output = Command::cargo_bin("metriclint")
            .unwrap()
            .current_dir(dir.path())
            .args(["check", "report.sql", "--isolated", "--format", "gitlab"])
            .output()
            .unwrap();
        let issues: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        issues
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["fingerprint"].as_str().unwrap().to_string())
            .collect()
    };
    let before = fingerprints(REPORT);
    assert_eq!(before.len(), 2, "{before:?}");
    assert_ne!(before[0], before[1]);
    let after = fingerprints(&format!("-- a comment added above\n\n{REPORT}"));
    assert_eq!(before, after);
}

/// SARIF names the built-in pack in a related location's message (it is no
/// file of the user's), and writes an absolute path as a `file://` URI.
#[test]
fn sarif_points_only_at_files() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.sql");
    std::fs::write(
        &report,
        "select campaign_id, sum(revenue) / nullif(sum(spend), 0) as roas from events group by 1\n",
    )
    .unwrap();
    let output = Command::cargo_bin("metriclint")
        .unwrap()
        .args([
            "check",
            report.to_str().unwrap(),
            "--isolated",
            "--format",
            "sarif",
        ])
        .output()
        .unwrap();
    let sarif: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let result = &sarif["runs"][0]["results"][0];
    let artifact = &result["locations"][0]["physicalLocation"]["artifactLocation"];
    assert!(
        artifact["uri"].as_str().unwrap().starts_with("file:///"),
        "{artifact}"
    );
    assert!(
        artifact["uri"].as_str().unwrap().ends_with("/report.sql"),
        "{artifact}"
    );
    assert!(artifact.get("uriBaseId").is_none(), "{artifact}");
    let related = &result["relatedLocations"][0];
    assert!(related.get("physicalLocation").is_none(), "{related}");
    assert!(
        related["message"]["text"]
            .as_str()
            .unwrap()
            .contains("built-in pack programmatic.yaml"),
        "{related}"
    );
}

/// Findings say which have a fix: in JSON a `fix` with its title and
/// whether `--fix` applies it (`safe`) or only `--unsafe-fixes` does; in
/// the human output a line under the summary. A finding with no fix has
/// no `fix`.
#[test]
fn findings_say_which_have_a_fix() {
    let (_, text, _) = run(&["check", "fixtures/adtech", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let fixes = |applicability: &str| -> Vec<String> {
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["fix"]["applicability"] == applicability)
            .map(|f| {
                format!(
                    "{} {}",
                    f["code"].as_str().unwrap(),
                    f["fix"]["title"].as_str().unwrap()
                )
            })
            .collect()
    };
    assert!(
        fixes("safe").contains(&"ML011 rename `click_through_rate` to `ctr`".to_string()),
        "{:?}",
        fixes("safe")
    );
    assert!(
        fixes("unsafe")
            .iter()
            .any(|f| f.starts_with("ML001 write the agreed formula")),
        "{:?}",
        fixes("unsafe")
    );
    let unfixable = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "ML010")
        .expect("an ML010 finding");
    assert!(unfixable.get("fix").is_none(), "{unfixable:#}");
    let (_, human, _) = run(&["check", "fixtures/adtech"]);
    let safe = fixes("safe").len();
    let unsafe_ = fixes("unsafe").len();
    assert!(
        human.contains(&format!(
            "{safe} findings have a fix: `--fix` applies them ({unsafe_} more with `--unsafe-fixes`"
        )),
        "{human}"
    );
}

/// JUnit validates against the schema Jenkins' xUnit plugin reads
/// (`junit-10.xsd`, whose rules are written out here: which elements
/// nest where, which attributes each takes and requires, times as
/// decimals), and has at most one `<failure>` per testcase, as stricter
/// readers require; over a folder with errors, warnings and clean files.
#[test]
fn junit_validates_against_the_schema_jenkins_reads() {
    let (_, text, _) = run(&BROKEN_AS_JUNIT_FAILING_ON_WARNINGS);
    let (_, clean, _) = run(&["check", "fixtures/drift", "--format", "junit"]);
    for text in [text, clean] {
        let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "testsuites", "{text}");
        validate(root, &text);
    }
    // The rules reject what the strict schemas do.
    for bad in [
        r#"<testsuites><testsuite name="m" tests="1" failures="2" errors="0"><testcase name="a"><failure/><failure/></testcase></testsuite></testsuites>"#,
        r#"<testsuites><testsuite name="m" tests="1" failures="0"><testcase name="a"/></testsuite></testsuites>"#,
        r#"<testsuites><testsuite name="m" tests="1" failures="0" errors="0"><testcase name="a" time="1,5s"/></testsuite></testsuites>"#,
    ] {
        let doc = roxmltree::Document::parse(bad).unwrap();
        let root = doc.root_element();
        let checked =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| validate(root, bad)));
        assert!(checked.is_err(), "{bad}");
    }
}

/// One element against junit-10.xsd: its attributes (allowed, required,
/// typed) and its children, recursively.
fn validate(node: roxmltree::Node<'_, '_>, text: &str) {
    let (allowed, required, children): (&[&str], &[&str], &[&str]) = match node.tag_name().name() {
        "testsuites" => (
            &["name", "time", "tests", "failures", "errors"],
            &[],
            &["testsuite"],
        ),
        "testsuite" => (
            &[
                "name",
                "tests",
                "failures",
                "errors",
                "group",
                "time",
                "skipped",
                "timestamp",
                "hostname",
                "id",
                "package",
                "file",
                "log",
                "url",
            ],
            &["name", "tests", "failures", "errors"],
            &[
                "testsuite",
                "properties",
                "testcase",
                "system-out",
                "system-err",
            ],
        ),
        "testcase" => (
            &["name", "time", "classname", "group"],
            &["name"],
            &["skipped", "error", "failure", "system-out", "system-err"],
        ),
        "failure" | "error" | "skipped" => (&["type", "message"], &[], &[]),
        "system-out" | "system-err" => (&[], &[], &[]),
        other => panic!("<{other}> is no element of junit-10.xsd\n{text}"),
    };
    for attribute in node.attributes() {
        assert!(
            allowed.contains(&attribute.name()),
            "<{}> takes no {}\n{text}",
            node.tag_name().name(),
            attribute.name()
        );
    }
    for name in required {
        assert!(
            node.has_attribute(*name),
            "<{}> needs {name}\n{text}",
            node.tag_name().name()
        );
    }
    if let Some(time) = node.attribute("time") {
        let decimal = time.split_once('.').map_or(time, |(whole, _)| whole);
        assert!(
            decimal.bytes().all(|b| b.is_ascii_digit())
                && time
                    .split_once('.')
                    .is_none_or(|(_, frac)| frac.bytes().all(|b| b.is_ascii_digit())),
            "time {time} is no decimal\n{text}"
        );
    }
    for name in ["tests", "failures", "errors", "skipped"] {
        if let Some(count) = node.attribute(name) {
            assert!(count.parse::<u64>().is_ok(), "{name}={count}\n{text}");
        }
    }
    let elements: Vec<roxmltree::Node<'_, '_>> =
        node.children().filter(|c| c.is_element()).collect();
    if node.tag_name().name() == "testcase" {
        let failures = elements
            .iter()
            .filter(|c| c.tag_name().name() == "failure")
            .count();
        assert!(failures <= 1, "two failures in one testcase\n{text}");
    }
    for child in elements {
        assert!(
            children.contains(&child.tag_name().name()),
            "<{}> in <{}>\n{text}",
            child.tag_name().name(),
            node.tag_name().name()
        );
        validate(child, text);
    }
}
