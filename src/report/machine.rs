//! Formats for tools: `concise` (grep and editors), `github` (workflow
//! annotations), `sarif` (code scanning), `gitlab` (Code Quality), `junit`.

use std::fmt::Write;

use serde_json::json;

use crate::finding::{Finding, Severity};
use crate::rules::RULES;

/// `path:line:col: CODE message`, one line per finding.
pub fn concise(findings: &[Finding]) -> String {
    let mut out = String::new();
    for f in findings {
        let _ = writeln!(
            out,
            "{}:{}:{}: {} {}",
            f.path, f.range.start.line, f.range.start.column, f.code, f.message
        );
    }
    out
}

/// Escapes a GitHub workflow command's message.
fn github_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a GitHub workflow command's property value.
fn github_property(text: &str) -> String {
    github_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// GitHub Actions workflow commands: one annotation per finding.
pub fn github(findings: &[Finding]) -> String {
    let mut out = String::new();
    for f in findings {
        let level = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let _ = writeln!(
            out,
            "::{level} file={},line={},col={},endLine={},endColumn={},title={}::{}",
            github_property(&f.path),
            f.range.start.line,
            f.range.start.column,
            f.range.end.line,
            f.range.end.column,
            github_property(&format!("{} {}", f.code, f.rule)),
            github_data(&f.message)
        );
    }
    out
}

fn sarif_level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// A path as a relative URI reference: unreserved characters and `/` kept,
/// the rest percent-encoded (`my dir/a#1.sql` is `my%20dir/a%231.sql`).
fn sarif_uri(path: &str) -> String {
    let mut out = String::new();
    for byte in path.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(byte as char)
            }
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

/// Where a finding's path is, for SARIF: a relative path is relative to
/// `SRCROOT` (the folder metriclint ran in, given in the run's
/// `originalUriBaseIds`); an absolute one is a `file://` URI.
fn artifact_location(path: &str) -> serde_json::Value {
    if std::path::Path::new(path).is_absolute() {
        let path = path.replace('\\', "/");
        let rooted = if path.starts_with('/') {
            path
        } else {
            format!("/{path}")
        };
        json!({"uri": format!("file://{}", sarif_uri(&rooted))})
    } else {
        json!({"uri": sarif_uri(path), "uriBaseId": "SRCROOT"})
    }
}

/// The folder relative paths are relative to, as a `file://` URI ending in
/// `/`, if it can be told.
fn source_root() -> Option<String> {
    let folder = std::env::current_dir().ok()?;
    let mut text = folder.to_string_lossy().replace('\\', "/");
    if !text.starts_with('/') {
        text.insert(0, '/');
    }
    if !text.ends_with('/') {
        text.push('/');
    }
    Some(format!("file://{}", sarif_uri(&text)))
}

/// Each finding's fingerprint: a hash of its file, code, metric and what it
/// found (its canonical form, or its message), never of its line, as a
/// baseline's; alike findings of one file are told apart by their order.
fn content_fingerprints(findings: &[Finding]) -> Vec<String> {
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    findings
        .iter()
        .map(|f| {
            let content = f.found.as_deref().unwrap_or(&f.message);
            let first = fingerprint(&[&f.path, f.code, f.metric.as_deref().unwrap_or(""), content]);
            let earlier = seen.entry(first.clone()).or_insert(0);
            let print = if *earlier == 0 {
                first
            } else {
                fingerprint(&[&first, &earlier.to_string()])
            };
            *earlier += 1;
            print
        })
        .collect()
}

/// SARIF 2.1.0, with rule metadata and help, for GitHub code scanning.
pub fn sarif(findings: &[Finding]) -> String {
    let rules: Vec<serde_json::Value> = RULES
        .iter()
        .map(|r| {
            let doc: String = r
                .doc
                .lines()
                .map(|l| l.strip_prefix(' ').unwrap_or(l))
                .collect::<Vec<_>>()
                .join("\n");
            json!({
                "id": r.code,
                "name": r.name,
                "shortDescription": {"text": r.summary},
                "fullDescription": {"text": r.description()},
                "help": {"text": doc.trim(), "markdown": doc.trim()},
                "defaultConfiguration": {"level": sarif_level(r.severity)},
            })
        })
        .collect();
    let location = |path: &str, line: u32, column: u32, end: Option<(u32, u32)>| {
        let mut region = json!({"startLine": line.max(1), "startColumn": column.max(1)});
        if let Some((end_line, end_column)) = end {
            region["endLine"] = json!(end_line.max(line.max(1)));
            region["endColumn"] = json!(end_column.max(1));
        }
        json!({"physicalLocation": {"artifactLocation": artifact_location(path), "region": region}})
    };
    let fingerprints = content_fingerprints(findings);
    let results: Vec<serde_json::Value> = findings
        .iter()
        .zip(&fingerprints)
        .map(|(f, print)| {
            let rule_index = RULES.iter().position(|r| r.code == f.code).unwrap_or(0);
            let related: Vec<serde_json::Value> = f
                .related
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    // The built-in pack is no file of the user's: it is named,
                    // not pointed at.
                    let mut l = match r.path.strip_prefix(crate::registry::builtin::DISPLAY_PREFIX) {
                        Some(pack) => json!({"message": {"text": format!(
                            "{} (metriclint's built-in pack {pack}, line {})",
                            r.message, r.line
                        )}}),
                        None => {
                            let mut l = location(&r.path, r.line, r.column, None);
                            l["message"] = json!({"text": r.message});
                            l
                        }
                    };
                    l["id"] = json!(i);
                    l
                })
                .collect();
            let mut result = json!({
                "ruleId": f.code,
                "ruleIndex": rule_index,
                "level": sarif_level(f.severity),
                "message": {"text": f.message},
                "locations": [location(&f.path, f.range.start.line, f.range.start.column, Some((f.range.end.line, f.range.end.column)))],
                "partialFingerprints": {"metriclintFindingHash/v1": print},
            });
            if !related.is_empty() {
                result["relatedLocations"] = json!(related);
            }
            result
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "metriclint",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/metriclint/metriclint",
                "rules": rules,
            }},
            "results": results,
        }],
    });
    let mut doc = doc;
    if let Some(root) = source_root() {
        doc["runs"][0]["originalUriBaseIds"] = json!({"SRCROOT": {"uri": root}});
    }
    let mut text = serde_json::to_string_pretty(&doc).expect("sarif serializes");
    text.push('\n');
    text
}

/// A stable 64-bit FNV-1a hash, hex: fingerprints must not change between releases.
pub fn fingerprint(parts: &[&str]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain(std::iter::once(0u8)) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

/// GitLab Code Quality report. Each finding's fingerprint is made of what
/// it says, never of its line (as a baseline's is), so a line inserted
/// above it does not make GitLab show it as fixed and new; the same
/// finding twice in a file is told apart by its order.
pub fn gitlab(findings: &[Finding]) -> String {
    let issues: Vec<serde_json::Value> = findings
        .iter()
        .zip(content_fingerprints(findings))
        .map(|(f, print)| {
            let severity = match f.severity {
                Severity::Error => "major",
                Severity::Warning => "minor",
                Severity::Info => "info",
            };
            json!({
                "description": format!("{} {}", f.code, f.message),
                "check_name": f.code,
                "fingerprint": print,
                "severity": severity,
                "location": {"path": f.path, "lines": {"begin": f.range.start.line, "end": f.range.end.line}},
            })
        })
        .collect();
    let mut text = serde_json::to_string_pretty(&issues).expect("gitlab serializes");
    text.push('\n');
    text
}

fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// JUnit XML: one test case per checked file. A file fails (one
/// `<failure>`, listing its findings) only with findings that fail the run
/// (`fails`: at or above the `--fail-on` threshold, without
/// `--exit-zero`); its other findings are its `<system-out>`. `elapsed` is
/// the run's time, on the suite (files are not timed one by one).
pub fn junit(
    findings: &[Finding],
    files: &[String],
    fails: &dyn Fn(&Finding) -> bool,
    elapsed: std::time::Duration,
    times: &std::collections::HashMap<String, std::time::Duration>,
) -> String {
    let line = |f: &Finding| {
        format!(
            "{}:{}:{}: {} {}",
            f.path, f.range.start.line, f.range.start.column, f.code, f.message
        )
    };
    let mut out = String::new();
    let failing = files
        .iter()
        .filter(|p| findings.iter().any(|f| &f.path == *p && fails(f)))
        .count();
    let time = format!("{:.3}", elapsed.as_secs_f64());
    let _ = writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let _ = writeln!(
        out,
        r#"<testsuites name="metriclint" tests="{}" failures="{failing}" errors="0" time="{time}">"#,
        files.len(),
    );
    let _ = writeln!(
        out,
        r#"  <testsuite name="metriclint" tests="{}" failures="{failing}" errors="0" skipped="0" time="{time}">"#,
        files.len(),
    );
    for path in files {
        let here: Vec<&Finding> = findings.iter().filter(|f| &f.path == path).collect();
        let time = times.get(path).copied().unwrap_or_default();
        let _ = write!(
            out,
            r#"    <testcase classname="metriclint" name="{}" time="{:.3}""#,
            xml(path),
            time.as_secs_f64()
        );
        if here.is_empty() {
            let _ = writeln!(out, "/>");
            continue;
        }
        let _ = writeln!(out, ">");
        let (failed, noted): (Vec<&Finding>, Vec<&Finding>) =
            here.into_iter().partition(|f| fails(f));
        if let Some(first) = failed.first() {
            let message = if failed.len() == 1 {
                format!("{} {}", first.code, first.message)
            } else {
                format!("{} findings", failed.len())
            };
            let body: Vec<String> = failed.iter().map(|f| xml(&line(f))).collect();
            let _ = writeln!(
                out,
                r#"      <failure type="{}" message="{}">{}</failure>"#,
                first.code,
                xml(&message),
                body.join("\n")
            );
        }
        if !noted.is_empty() {
            let body: Vec<String> = noted.iter().map(|f| xml(&line(f))).collect();
            let _ = writeln!(out, "      <system-out>{}</system-out>", body.join("\n"));
        }
        let _ = writeln!(out, "    </testcase>");
    }
    let _ = writeln!(out, "  </testsuite>\n</testsuites>");
    out
}
