//! `metriclint server`: a language server (LSP over stdio) for editors.
//!
//! Each open `.sql`, Jinja SQL or `.lkml` document is checked as `check
//! --stdin-filename` checks a buffer: as if it were that file, with the
//! workspace as context for cross-report drift (ML010, lineage), under the
//! registry and config the command line would find there (read again on
//! every check, so an edited registry counts at once). The server offers:
//!
//! - diagnostics on open, change and save (a burst of changes is checked
//!   once, at its last version);
//! - hover on a metric site: its canonical form, the agreement and where it
//!   lives, what judging found, and the other variants in the workspace;
//! - code actions: the fix `--fix` would apply (and, marked, an unsafe one),
//!   and a `noqa` comment for the finding's line;
//! - go to definition, from a metric site to its registry entry.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use lsp_server::{Connection, Message, Notification, Request, RequestId, Response};
use serde_json::{json, Value};

use crate::check::CheckResult;
use crate::cli::{Inputs, Settings};
use crate::finding::{Finding, Severity};
use crate::source::{Position, Range};

/// How the client ended the session.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    /// `shutdown`, then `exit` (or the client closed the connection).
    ShutDown,
    /// `exit` with no `shutdown` before it: an error, by the protocol.
    ExitedWithoutShutdown,
}

/// Runs the server on stdin and stdout until the client says `exit`.
pub fn serve() -> Result<Ended, String> {
    let (connection, io_threads) = Connection::stdio();
    let (id, params) = connection
        .initialize_start()
        .map_err(|e| format!("the client did not initialize: {e}"))?;
    if let Some(root) = workspace_root(&params) {
        // Findings name files relative to the working folder, as the
        // command line run from the workspace would.
        std::env::set_current_dir(&root)
            .map_err(|e| format!("cannot work in {}: {e}", root.display()))?;
    }
    connection
        .initialize_finish(
            id,
            json!({
                "capabilities": {
                    "textDocumentSync": {"openClose": true, "change": 1, "save": {"includeText": false}},
                    "hoverProvider": true,
                    "codeActionProvider": {"codeActionKinds": ["quickfix"]},
                    "definitionProvider": true,
                },
                "serverInfo": {"name": "metriclint", "version": env!("CARGO_PKG_VERSION")},
            }),
        )
        .map_err(|e| format!("the client did not finish initializing: {e}"))?;
    // Registries and configs change outside the editor too (a `git pull`):
    // ask the client to say so, where it can be asked.
    if params["capabilities"]["workspace"]["didChangeWatchedFiles"]["dynamicRegistration"] == true {
        send(
            &connection,
            Message::Request(Request::new(
                RequestId::from("metriclint/watch".to_string()),
                "client/registerCapability".to_string(),
                json!({"registrations": [{
                    "id": "metriclint-watched-files",
                    "method": "workspace/didChangeWatchedFiles",
                    "registerOptions": {"watchers": [
                        {"globPattern": "**/*.{yaml,yml}"},
                        {"globPattern": "**/*.{sql,lkml}"},
                    ]},
                }]}),
            )),
        )?;
    }
    // The workspace's cache (see `metriclint check`) makes the first
    // check cost what changed since the server last ran.
    let cache = crate::cli::cache_folder(&workspace_inputs());
    let mut server = Server {
        memo: std::sync::Arc::new(crate::check::Memo::on_disk(cache)),
        ..Server::default()
    };
    let ended = server.run(&connection);
    server.persist();
    let ended = ended?;
    drop(connection);
    io_threads
        .join()
        .map_err(|e| format!("the connection failed: {e}"))?;
    Ok(ended)
}

/// The workspace folder the client opened: its first workspace folder, else
/// its root.
fn workspace_root(params: &Value) -> Option<PathBuf> {
    let uri = params["workspaceFolders"][0]["uri"]
        .as_str()
        .or_else(|| params["rootUri"].as_str())?;
    path_of(uri)
}

/// An open document and what its last check gave.
struct Document {
    text: String,
    /// Whether the text changed since it was last checked.
    stale: bool,
    analysis: Analysis,
}

/// What checking one document gives the requests about it.
#[derive(Default)]
struct Analysis {
    findings: Vec<Finding>,
    /// Its metric sites: where each is, what hovering it says, and where
    /// its metric is agreed (a registry file's position).
    sites: Vec<SiteInfo>,
}

struct SiteInfo {
    range: Range,
    hover: String,
    agreed_at: Option<(PathBuf, Position)>,
}

#[derive(Default)]
struct Server {
    documents: HashMap<String, Document>,
    shutting_down: bool,
    /// What earlier checks found in files that have not changed since.
    memo: std::sync::Arc<crate::check::Memo>,
    /// Whether the first check's results were written to the cache.
    persisted: bool,
}

impl Server {
    /// Writes what changed to the workspace's cache (a no-op when nothing
    /// did); failing only costs the next process time, so it is logged.
    fn persist(&self) {
        if let Err(e) = self.memo.persist() {
            eprintln!("metriclint: cannot write the cache: {e}");
        }
    }

    fn run(&mut self, connection: &Connection) -> Result<Ended, String> {
        while let Ok(first) = connection.receiver.recv() {
            // A burst of edits is checked once, at its last version.
            let batch: Vec<Message> = std::iter::once(first)
                .chain(connection.receiver.try_iter())
                .collect();
            for message in batch {
                match message {
                    Message::Request(request) => {
                        // A request about a document sees its latest text
                        // checked.
                        self.check_stale(connection)?;
                        let response = self.answer(request);
                        send(connection, Message::Response(response))?;
                    }
                    Message::Notification(n) if n.method == "exit" => {
                        // Exiting without a shutdown first is an error.
                        return Ok(if self.shutting_down {
                            Ended::ShutDown
                        } else {
                            Ended::ExitedWithoutShutdown
                        });
                    }
                    Message::Notification(n) => {
                        if let Some(closed) = self.note(n) {
                            publish(connection, &closed, Vec::new())?;
                        }
                    }
                    Message::Response(_) => {}
                }
            }
            self.check_stale(connection)?;
            // After the first diagnostics are out, what the first check
            // found is kept for the next process; later changes when the
            // server ends (writing a whole cache file per saved edit
            // would hold up the diagnostics that follow).
            if !self.persisted && !self.documents.is_empty() {
                self.persisted = true;
                self.persist();
            }
        }
        Ok(Ended::ShutDown)
    }

    fn answer(&mut self, request: Request) -> Response {
        let id = request.id.clone();
        if self.shutting_down {
            return error(id, "the server is shutting down");
        }
        let params = &request.params;
        let uri = params["textDocument"]["uri"].as_str().unwrap_or_default();
        let position = &params["position"];
        let result = match request.method.as_str() {
            "shutdown" => {
                self.shutting_down = true;
                Value::Null
            }
            "textDocument/hover" => self
                .site_at(uri, position)
                .map_or(Value::Null, |site| {
                    json!({"contents": {"kind": "markdown", "value": site.hover}})
                }),
            "textDocument/definition" => self
                .site_at(uri, position)
                .and_then(|site| site.agreed_at.as_ref())
                .map(|(path, at)| {
                    let start = json!({"line": at.line.saturating_sub(1), "character": at.column.saturating_sub(1)});
                    json!({"uri": uri_of(path), "range": {"start": start, "end": start}})
                })
                .unwrap_or(Value::Null),
            "textDocument/codeAction" => self.code_actions(uri, &params["range"]),
            _ => {
                return Response::new_err(
                    id,
                    lsp_server::ErrorCode::MethodNotFound as i32,
                    format!("metriclint does not answer {}", request.method),
                )
            }
        };
        Response::new_ok(id, result)
    }

    /// Takes a notification in; a document closed is returned, to clear
    /// its diagnostics.
    fn note(&mut self, notification: Notification) -> Option<String> {
        let params = &notification.params;
        let uri = params["textDocument"]["uri"].as_str().unwrap_or_default();
        match notification.method.as_str() {
            "textDocument/didOpen" => {
                let text = params["textDocument"]["text"].as_str().unwrap_or_default();
                self.documents.insert(
                    uri.to_string(),
                    Document {
                        text: text.to_string(),
                        stale: true,
                        analysis: Analysis::default(),
                    },
                );
            }
            "textDocument/didChange" => {
                // Full synchronization: the last change holds the whole text.
                let changes = params["contentChanges"].as_array();
                let text = changes
                    .and_then(|c| c.last())
                    .and_then(|c| c["text"].as_str());
                if let (Some(document), Some(text)) = (self.documents.get_mut(uri), text) {
                    document.text = text.to_string();
                    document.stale = true;
                }
            }
            "textDocument/didSave" | "workspace/didChangeWatchedFiles" => {
                // A saved registry, config or report (in the editor or
                // outside it) may change what every open document's check
                // finds.
                for document in self.documents.values_mut() {
                    document.stale = true;
                }
            }
            "textDocument/didClose" => {
                self.documents.remove(uri);
                return Some(uri.to_string());
            }
            _ => {}
        }
        None
    }

    /// Checks every document whose text changed, and publishes what it found.
    fn check_stale(&mut self, connection: &Connection) -> Result<(), String> {
        for (uri, document) in &mut self.documents {
            if !document.stale {
                continue;
            }
            document.stale = false;
            // A half-typed buffer must never take the server down.
            let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                analyse(uri, &document.text, &self.memo)
            }));
            document.analysis = match checked {
                Ok(Some(analysis)) => analysis,
                Ok(None) => {
                    show_warning(
                        connection,
                        "metriclint could not check the workspace (a registry or config error?); the server's log says why",
                    )?;
                    Analysis::default()
                }
                Err(_) => {
                    show_warning(
                        connection,
                        &format!("metriclint failed while checking {uri}; please report it with the file"),
                    )?;
                    Analysis::default()
                }
            };
            let diagnostics = document
                .analysis
                .findings
                .iter()
                .map(|f| diagnostic(f, &document.text))
                .collect();
            publish(connection, uri, diagnostics)?;
        }
        Ok(())
    }

    /// The metric site of an open document under an LSP position.
    fn site_at(&self, uri: &str, position: &Value) -> Option<&SiteInfo> {
        let document = self.documents.get(uri)?;
        let at = from_lsp(position, &document.text)?;
        document
            .analysis
            .sites
            .iter()
            .find(|site| site.range.start <= at && at < site.range.end.max(site.range.start))
    }

    /// The fixes and `noqa` comments for the findings on the lines of
    /// `range`.
    fn code_actions(&self, uri: &str, range: &Value) -> Value {
        let Some(document) = self.documents.get(uri) else {
            return json!([]);
        };
        let (Some(first), Some(last)) = (
            range["start"]["line"].as_u64(),
            range["end"]["line"].as_u64(),
        ) else {
            return json!([]);
        };
        let mut actions = Vec::new();
        for finding in &document.analysis.findings {
            let from = u64::from(finding.range.start.line.saturating_sub(1));
            let to = u64::from(finding.range.end.line.saturating_sub(1)).max(from);
            if to < first || from > last {
                continue;
            }
            if let Some(fix) = &finding.fix {
                let edits: Vec<Value> = fix
                    .edits
                    .iter()
                    .map(|e| json!({"range": to_lsp(e.range, &document.text), "newText": e.new}))
                    .collect();
                let title = if fix.changes_the_figure {
                    format!(
                        "{} (unsafe: changes the figure to the agreed one)",
                        fix.title
                    )
                } else {
                    fix.title.clone()
                };
                actions.push(json!({
                    "title": title,
                    "kind": "quickfix",
                    "isPreferred": !fix.changes_the_figure,
                    "edit": {"changes": {uri: edits}},
                }));
            }
            if let Some(edit) = noqa_edit(finding, &document.text, uri) {
                actions.push(json!({
                    "title": format!("Suppress {} on this line (noqa)", finding.code),
                    "kind": "quickfix",
                    "edit": {"changes": {uri: [edit]}},
                }));
            }
        }
        Value::Array(actions)
    }
}

/// The workspace as `check` is run on it: the working folder, its config.
fn workspace_inputs() -> Inputs {
    Inputs {
        paths: vec![PathBuf::from(".")],
        registry: Vec::new(),
        dialect: None,
        config: None,
        isolated: false,
    }
}

/// Checks a document's text as the file its URI names, with the workspace
/// (the working folder) as context; `None` when the check cannot run
/// (its reason is on stderr, the client's log).
fn analyse(uri: &str, text: &str, memo: &std::sync::Arc<crate::check::Memo>) -> Option<Analysis> {
    let name = shown_name(uri);
    let inputs = workspace_inputs();
    let (settings, result) =
        crate::cli::check_buffer(&inputs, &name, text.as_bytes(), memo).ok()?;
    Some(Analysis {
        sites: sites_of(&name, &settings, &result),
        findings: result
            .findings
            .into_iter()
            .filter(|f| f.path == name)
            .collect(),
    })
}

fn show_warning(connection: &Connection, message: &str) -> Result<(), String> {
    send(
        connection,
        Message::Notification(Notification::new(
            "window/showMessage".to_string(),
            json!({"type": 2, "message": message}),
        )),
    )
}

/// A document's path as findings name it: relative to the working folder
/// where it is under it.
fn shown_name(uri: &str) -> String {
    let path = path_of(uri).unwrap_or_else(|| PathBuf::from(uri));
    let cwd = std::env::current_dir().unwrap_or_default();
    path.strip_prefix(&cwd)
        .map(Path::to_path_buf)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// The document's metric sites, each with its hover text and where its
/// metric is agreed.
fn sites_of(name: &str, settings: &Settings, result: &CheckResult) -> Vec<SiteInfo> {
    let registry = &settings.registry;
    // The workspace's variants of this document's metrics only.
    let listed: std::collections::HashSet<String> = result
        .sites
        .iter()
        .filter(|site| &*site.path == name)
        .map(|site| crate::inventory::listed_name(site, registry.vocabulary()))
        .collect();
    let entries = crate::inventory::build_for(&result.sites, registry.vocabulary(), &|metric| {
        listed.contains(metric)
    });
    result
        .sites
        .iter()
        .filter(|site| &*site.path == name)
        .map(|site| {
            let at = (site.range.start.line, site.range.start.column);
            let entry = entries.iter().find(|e| {
                e.variants.iter().any(|v| {
                    v.sites
                        .iter()
                        .any(|s| s.path == name && (s.line, s.column) == at)
                })
            });
            let metric = site.registered.as_ref().and_then(|(m, _)| registry.get(m));
            let mut hover = match (entry, metric) {
                (_, Some(m)) => format!(
                    "**{}** ({}registered metric)",
                    m.name,
                    m.label
                        .as_deref()
                        .map(|l| format!("{l}; "))
                        .unwrap_or_default()
                ),
                (Some(e), None) => format!("**{}** (no registry entry)", e.name),
                (None, None) => format!("**{}**", site.output_name),
            };
            hover.push_str(&format!("\n\ncomputed here as `{}`", site.read_form()));
            if let Some(m) = metric {
                hover.push_str(&format!("\n\nagreed: `{}` at {}", m.agreed, m.origin));
            }
            if let Some(verdict) = &site.verdict {
                hover.push_str(&format!("\n\n{}: {}", verdict.0, verdict.1));
            }
            if let Some(entry) = entry.filter(|e| e.variants.len() > 1) {
                hover.push_str(&format!(
                    "\n\nin the workspace, {} ways over {} sites:",
                    entry.variants.len(),
                    entry.sites
                ));
                for variant in &entry.variants {
                    hover.push_str(&format!(
                        "\n- `{}` ({} {})",
                        variant.form,
                        variant.sites.len(),
                        if variant.sites.len() == 1 {
                            "site"
                        } else {
                            "sites"
                        }
                    ));
                }
            }
            let agreed_at = metric
                .filter(|m| !m.origin.path.starts_with("<built-in>"))
                .and_then(|m| {
                    let path = std::fs::canonicalize(&m.origin.path).ok()?;
                    Some((path, Position::new(m.origin.line, m.origin.column)))
                });
            SiteInfo {
                range: site.range,
                hover,
                agreed_at,
            }
        })
        .collect()
}

/// A finding as an LSP diagnostic.
fn diagnostic(finding: &Finding, text: &str) -> Value {
    let severity = match finding.severity {
        Severity::Error => 1,
        Severity::Warning => 2,
        Severity::Info => 3,
    };
    let message = match &finding.help {
        Some(help) => format!("{}\nhelp: {help}", finding.message),
        None => finding.message.clone(),
    };
    let related: Vec<Value> = finding
        .related
        .iter()
        .filter(|r| !r.path.starts_with("<built-in>"))
        .filter_map(|r| {
            let path = std::fs::canonicalize(&r.path).ok()?;
            let at =
                json!({"line": r.line.saturating_sub(1), "character": r.column.saturating_sub(1)});
            Some(json!({
                "location": {"uri": uri_of(&path), "range": {"start": at, "end": at}},
                "message": r.message,
            }))
        })
        .collect();
    json!({
        "range": to_lsp(finding.range, text),
        "severity": severity,
        "code": finding.code,
        "source": "metriclint",
        "message": message,
        "relatedInformation": related,
    })
}

/// A `noqa` comment for the finding, at the end of its first line: `--` in
/// SQL, `#` in LookML; or the code added to the list of a `noqa: …` that
/// ends the line already (another tool's `noqa: LT01` included). None
/// where the line has another kind of `noqa` (a bare one, a range).
fn noqa_edit(finding: &Finding, text: &str, uri: &str) -> Option<Value> {
    let line_index = finding.range.start.line.checked_sub(1)? as usize;
    let line = text.lines().nth(line_index)?.trim_end();
    let new_text = match line.to_ascii_lowercase().rfind("noqa") {
        None => {
            let comment = if uri.ends_with(".lkml") { "#" } else { "--" };
            format!(" {comment} noqa: {}", finding.code)
        }
        Some(at) => {
            let codes = line[at + 4..].strip_prefix(':')?;
            let is_list = codes.split(',').all(|c| {
                !c.trim().is_empty() && c.trim().chars().all(|c| c.is_ascii_alphanumeric())
            });
            if !is_list {
                return None;
            }
            format!(", {}", finding.code)
        }
    };
    let end = json!({"line": line_index, "character": line.encode_utf16().count()});
    Some(json!({"range": {"start": end, "end": end}, "newText": new_text}))
}

/// A range of the text (1-based lines, columns in characters) as LSP has
/// it (0-based lines, columns in UTF-16 code units).
fn to_lsp(range: Range, text: &str) -> Value {
    json!({"start": position_to_lsp(range.start, text), "end": position_to_lsp(range.end, text)})
}

fn position_to_lsp(position: Position, text: &str) -> Value {
    let line = position.line.saturating_sub(1);
    let units: usize = text
        .lines()
        .nth(line as usize)
        .map(|l| {
            l.chars()
                .take(position.column.saturating_sub(1) as usize)
                .map(char::len_utf16)
                .sum()
        })
        .unwrap_or(0);
    json!({"line": line, "character": units})
}

/// An LSP position as a position of the text.
fn from_lsp(position: &Value, text: &str) -> Option<Position> {
    let line = position["line"].as_u64()? as usize;
    let units = position["character"].as_u64()? as usize;
    let mut seen = 0;
    let mut column = 1;
    for c in text.lines().nth(line).unwrap_or_default().chars() {
        if seen >= units {
            break;
        }
        seen += c.len_utf16();
        column += 1;
    }
    Some(Position::new(line as u32 + 1, column))
}

/// The local path a `file:` URI names (percent-decoded), if it names one.
fn path_of(uri: &str) -> Option<PathBuf> {
    let rest = uri.strip_prefix("file://")?;
    // `file:///home/…`, or `file://localhost/home/…`.
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    if !rest.starts_with('/') {
        return None;
    }
    let decoded = percent_encoding::percent_decode_str(rest)
        .decode_utf8()
        .ok()?;
    Some(PathBuf::from(decoded.into_owned()))
}

/// The `file:` URI of an absolute path, percent-encoded as editors write
/// it.
fn uri_of(path: &Path) -> String {
    const KEPT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'/')
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    let encoded = percent_encoding::utf8_percent_encode(&path.to_string_lossy(), KEPT).to_string();
    format!("file://{encoded}")
}

fn publish(connection: &Connection, uri: &str, diagnostics: Vec<Value>) -> Result<(), String> {
    send(
        connection,
        Message::Notification(Notification::new(
            "textDocument/publishDiagnostics".to_string(),
            json!({"uri": uri, "diagnostics": diagnostics}),
        )),
    )
}

fn send(connection: &Connection, message: Message) -> Result<(), String> {
    connection
        .sender
        .send(message)
        .map_err(|e| format!("the client is gone: {e}"))
}

fn error(id: RequestId, message: &str) -> Response {
    Response::new_err(
        id,
        lsp_server::ErrorCode::InvalidRequest as i32,
        message.to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_uris_and_paths_round_trip() {
        for (path, uri) in [
            ("/work/reports/ctr.sql", "file:///work/reports/ctr.sql"),
            (
                "/work/Fogbugz Cases/Case 1.sql",
                "file:///work/Fogbugz%20Cases/Case%201.sql",
            ),
            (
                "/work/Histórico/a#b.sql",
                "file:///work/Hist%C3%B3rico/a%23b.sql",
            ),
        ] {
            assert_eq!(uri_of(Path::new(path)), uri);
            assert_eq!(path_of(uri), Some(PathBuf::from(path)));
        }
        assert_eq!(
            path_of("file://localhost/work/a.sql"),
            Some(PathBuf::from("/work/a.sql"))
        );
        // Near misses: no file, or not a local path.
        assert_eq!(path_of("untitled:Untitled-1"), None);
        assert_eq!(path_of("file://server/share/a.sql"), None);
    }

    #[test]
    fn noqa_is_added_or_its_list_extended() {
        let finding = |line: u32| Finding {
            range: Range {
                start: Position::new(line, 1),
                end: Position::new(line, 2),
            },
            ..Finding::of(
                &crate::rules::RatioAggregationMismatch::INFO,
                "a.sql",
                Range::default(),
                String::new(),
            )
        };
        let text = "select avg(x / y) as ctr\nselect avg(x / y) as ctr -- noqa: LT01\nselect avg(x / y) as ctr -- noqa\nselect avg(x / y) as ctr -- noqa: disable=ML001\n";
        let new_text =
            |line| noqa_edit(&finding(line), text, "file:///a.sql").map(|e| e["newText"].clone());
        assert_eq!(new_text(1), Some(json!(" -- noqa: ML005")));
        assert_eq!(new_text(2), Some(json!(", ML005")));
        // Near misses: a bare noqa or a range is left as it is.
        assert_eq!(new_text(3), None);
        assert_eq!(new_text(4), None);
        let lookml = noqa_edit(&finding(1), "measure: ctr {\n", "file:///v.view.lkml").unwrap();
        assert_eq!(lookml["newText"], " # noqa: ML005");
    }

    #[test]
    fn positions_count_utf16_units() {
        let text = "select 'é😀' as x,\n  sum(a) as b\n";
        // Column 12 (1-based, in characters) is just past `select 'é😀'`,
        // which is 12 UTF-16 units long (the emoji takes two).
        let at = Position::new(1, 12);
        assert_eq!(
            position_to_lsp(at, text),
            json!({"line": 0, "character": 12})
        );
        assert_eq!(
            from_lsp(&json!({"line": 0, "character": 12}), text),
            Some(at)
        );
        assert_eq!(
            position_to_lsp(Position::new(2, 3), text),
            json!({"line": 1, "character": 2})
        );
    }
}
