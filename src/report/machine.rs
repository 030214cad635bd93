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

/// The first paragraph of a rule's doc: its short description.
fn summary(doc: &str) -> String {
    doc.lines()
        .map(str::trim)
        .skip_while(|l| l.starts_with('#') || l.is_empty())
        .take_while(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
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
                "shortDescription": {"text": summary(r.doc)},
                "fullDescription": {"text": summary(r.doc)},
                "help": {"text": doc.trim(), "markdown": doc.trim()},
                "defaultConfiguration": {"level": sarif_level(r.severity)},
            })
        })
        .collect();
    let location = |path: &str, line: u32, column: u32, end: Option<(u32, u32)>| {
        let path = &sarif_uri(path);
        let mut region = json!({"startLine": line.max(1), "startColumn": column.max(1)});
        if let Some((end_line, end_column)) = end {
            region["endLine"] = json!(end_line.max(line.max(1)));
            region["endColumn"] = json!(end_column.max(1));
        }
        json!({"physicalLocation": {"artifactLocation": {"uri": path}, "region": region}})
    };
    let results: Vec<serde_json::Value> = findings
        .iter()
        .map(|f| {
            let rule_index = RULES.iter().position(|r| r.code == f.code).unwrap_or(0);
            let related: Vec<serde_json::Value> = f
                .related
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let mut l = location(&r.path, r.line, r.column, None);
                    l["id"] = json!(i);
                    l["message"] = json!({"text": r.message});
                    l
                })
                .collect();
            let mut result = json!({
                "ruleId": f.code,
                "ruleIndex": rule_index,
                "level": sarif_level(f.severity),
                "message": {"text": f.message},
                "locations": [location(&f.path, f.range.start.line, f.range.start.column, Some((f.range.end.line, f.range.end.column)))],
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

/// GitLab Code Quality report.
pub fn gitlab(findings: &[Finding]) -> String {
    let issues: Vec<serde_json::Value> = findings
        .iter()
        .map(|f| {
            let severity = match f.severity {
                Severity::Error => "major",
                Severity::Warning => "minor",
                Severity::Info => "info",
            };
            json!({
                "description": format!("{} {}", f.code, f.message),
                "check_name": f.code,
                "fingerprint": fingerprint(&[&f.path, f.code, f.metric.as_deref().unwrap_or(""), &f.range.start.line.to_string(), &f.message]),
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

/// JUnit XML: one test case per checked file, failing with its findings.
pub fn junit(findings: &[Finding], files: &[String]) -> String {
    let mut out = String::new();
    let failing: Vec<&String> = files
        .iter()
        .filter(|p| findings.iter().any(|f| &f.path == *p))
        .collect();
    let _ = writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let _ = writeln!(
        out,
        r#"<testsuites name="metriclint" tests="{}" failures="{}">"#,
        files.len(),
        failing.len()
    );
    let _ = writeln!(
        out,
        r#"  <testsuite name="metriclint" tests="{}" failures="{}">"#,
        files.len(),
        failing.len()
    );
    for path in files {
        let here: Vec<&Finding> = findings.iter().filter(|f| &f.path == path).collect();
        let _ = write!(
            out,
            r#"    <testcase classname="metriclint" name="{}""#,
            xml(path)
        );
        if here.is_empty() {
            let _ = writeln!(out, "/>");
            continue;
        }
        let _ = writeln!(out, ">");
        for f in here {
            let _ = writeln!(
                out,
                r#"      <failure type="{}" message="{}">{}:{}:{}: {} {}</failure>"#,
                f.code,
                xml(&f.message),
                xml(&f.path),
                f.range.start.line,
                f.range.start.column,
                f.code,
                xml(&f.message)
            );
        }
        let _ = writeln!(out, "    </testcase>");
    }
    let _ = writeln!(out, "  </testsuite>\n</testsuites>");
    out
}
