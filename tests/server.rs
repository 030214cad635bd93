//! `metriclint server` driven over stdio by a scripted client, as an editor
//! drives it: initialize, open a report, read its diagnostics, hover,
//! ask for code actions and a definition, edit, close, shut down.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

use serde_json::{json, Value};

mod common;
use common::repository;

/// A client of one server process.
struct Client {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    next_id: u64,
}

impl Client {
    fn start(root: &std::path::Path) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_metriclint"))
            .arg("server")
            .current_dir(root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let (sender, messages) = channel();
        std::thread::spawn(move || loop {
            let mut length = 0;
            loop {
                let mut header = String::new();
                if stdout.read_line(&mut header).unwrap_or(0) == 0 {
                    return;
                }
                let header = header.trim_end();
                if header.is_empty() {
                    break;
                }
                if let Some(n) = header.strip_prefix("Content-Length: ") {
                    length = n.parse().unwrap();
                }
            }
            let mut body = vec![0; length];
            if stdout.read_exact(&mut body).is_err() {
                return;
            }
            if sender.send(serde_json::from_slice(&body).unwrap()).is_err() {
                return;
            }
        });
        Client {
            child,
            stdin,
            messages,
            next_id: 0,
        }
    }

    fn send(&mut self, message: Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request and waits for its response's result.
    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let message = self.receive();
            if message["id"] == id {
                assert!(message["error"].is_null(), "{message}");
                return message["result"].clone();
            }
        }
    }

    /// Waits for the next diagnostics published for `uri`.
    fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        loop {
            let message = self.receive();
            if message["method"] == "textDocument/publishDiagnostics"
                && message["params"]["uri"] == uri
            {
                return message["params"]["diagnostics"].as_array().unwrap().clone();
            }
        }
    }

    fn receive(&mut self) -> Value {
        self.messages
            .recv_timeout(Duration::from_secs(60))
            .expect("the server answered nothing for a minute")
    }
}

const AVERAGED: &str =
    "select campaign_id,\n  avg(clicks / impressions) as ctr\nfrom events\ngroup by 1\n";
const AGREED: &str = "select campaign_id,\n  sum(clicks) / nullif(sum(impressions), 0) as ctr\nfrom events\ngroup by 1\n";

#[test]
fn an_editor_gets_diagnostics_hover_actions_and_the_definition() {
    let dir = repository(&[
        (
            "metriclint.yaml",
            "registry: [metrics.yaml]\n",
        ),
        (
            "metrics.yaml",
            "version: 1\nmetrics:\n  - name: ctr\n    label: Click-through rate\n    sql: SUM(clicks) / NULLIF(SUM(impressions), 0)\n",
        ),
        ("reports/other.sql", AGREED),
        ("reports/ctr.sql", AVERAGED),
    ]);
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let root_uri = format!("file://{}", root.display());
    let uri = format!("{root_uri}/reports/ctr.sql");
    let mut client = Client::start(&root);
    let initialized = client.request(
        "initialize",
        json!({"processId": null, "rootUri": root_uri, "capabilities": {}}),
    );
    assert_eq!(initialized["serverInfo"]["name"], "metriclint");
    assert_eq!(initialized["capabilities"]["hoverProvider"], true);
    client.notify("initialized", json!({}));

    // Opening the report: the averaged ratio, where it is written.
    client.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "sql", "version": 1, "text": AVERAGED}}),
    );
    let diagnostics = client.diagnostics(&uri);
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    let ml005 = &diagnostics[0];
    assert_eq!(ml005["code"], "ML005");
    assert_eq!(ml005["source"], "metriclint");
    assert_eq!(ml005["severity"], 1);
    assert_eq!(ml005["range"]["start"], json!({"line": 1, "character": 2}));
    assert!(
        ml005["message"]
            .as_str()
            .unwrap()
            .contains("averages per-row ratios"),
        "{ml005}"
    );

    // Hovering it: the metric, this form, the agreement and where it lives.
    let hover = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 1, "character": 8}}),
    );
    let text = hover["contents"]["value"].as_str().unwrap();
    for expected in [
        "**ctr** (Click-through rate; registered metric)",
        "computed here as `avg(clicks / impressions)`",
        "agreed: `sum(clicks) / sum(impressions)` at ./metrics.yaml:5:10",
        "in the workspace, 2 ways over 2 sites:",
        "ML005",
    ] {
        assert!(text.contains(expected), "{expected:?} not in {text}");
    }

    // Code actions on its line: the unsafe rewrite, marked, and a noqa.
    let actions = client.request(
        "textDocument/codeAction",
        json!({
            "textDocument": {"uri": uri},
            "range": {"start": {"line": 1, "character": 0}, "end": {"line": 1, "character": 0}},
            "context": {"diagnostics": []},
        }),
    );
    let titles: Vec<&str> = actions
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    assert!(
        titles.contains(&"Suppress ML005 on this line (noqa)"),
        "{titles:?}"
    );
    let noqa = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["title"] == "Suppress ML005 on this line (noqa)")
        .unwrap();
    assert_eq!(
        noqa["edit"]["changes"][&uri][0]["newText"],
        " -- noqa: ML005"
    );
    assert!(
        titles
            .iter()
            .any(|t| t.contains("(unsafe: changes the figure")),
        "{titles:?}"
    );

    // Going to the definition: the registry entry.
    let definition = client.request(
        "textDocument/definition",
        json!({"textDocument": {"uri": uri}, "position": {"line": 1, "character": 8}}),
    );
    assert_eq!(definition["uri"], format!("{root_uri}/metrics.yaml"));
    assert_eq!(
        definition["range"]["start"],
        json!({"line": 4, "character": 9})
    );

    // Editing it to the agreed formula clears the diagnostic.
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": AGREED}]}),
    );
    assert_eq!(client.diagnostics(&uri), Vec::<Value>::new());

    // Near miss: an edit back to the drift finds it again.
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 3}, "contentChanges": [{"text": AVERAGED}]}),
    );
    assert_eq!(client.diagnostics(&uri).len(), 1);

    // The config changed outside the editor: read again at once.
    std::fs::write(
        root.join("metriclint.yaml"),
        "registry: [metrics.yaml]\nrules:\n  ignore: [ML005]\n",
    )
    .unwrap();
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": format!("{root_uri}/metriclint.yaml"), "type": 2}]}),
    );
    assert_eq!(client.diagnostics(&uri), Vec::<Value>::new());
    // Near miss: ignoring another rule brings the finding back.
    std::fs::write(
        root.join("metriclint.yaml"),
        "registry: [metrics.yaml]\nrules:\n  ignore: [ML004]\n",
    )
    .unwrap();
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": format!("{root_uri}/metriclint.yaml"), "type": 2}]}),
    );
    assert_eq!(client.diagnostics(&uri).len(), 1);

    // Closing it clears its diagnostics.
    client.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": uri}}),
    );
    assert_eq!(client.diagnostics(&uri), Vec::<Value>::new());

    assert_eq!(client.request("shutdown", Value::Null), Value::Null);
    client.notify("exit", Value::Null);
    let status = client.child.wait().unwrap();
    assert!(status.success(), "{status}");
}

/// A client that can register file watchers is asked to watch registries,
/// configs and reports; a burst of edits ends checked at its last text; and
/// exiting without a shutdown is an error (exit code 1), as the protocol
/// has it.
#[test]
fn watchers_are_registered_bursts_end_at_the_last_text_and_exit_needs_a_shutdown() {
    let dir = repository(&[("reports/ctr.sql", AVERAGED)]);
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let root_uri = format!("file://{}", root.display());
    let uri = format!("{root_uri}/reports/ctr.sql");
    let mut client = Client::start(&root);
    client.request(
        "initialize",
        json!({
            "processId": null,
            "rootUri": root_uri,
            "capabilities": {"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}}},
        }),
    );
    client.notify("initialized", json!({}));
    let registration = client.receive();
    assert_eq!(registration["method"], "client/registerCapability");
    let watchers = &registration["params"]["registrations"][0];
    assert_eq!(watchers["method"], "workspace/didChangeWatchedFiles");
    client.send(json!({"jsonrpc": "2.0", "id": registration["id"], "result": null}));

    client.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "sql", "version": 1, "text": AVERAGED}}),
    );
    for (version, text) in [(2, AGREED), (3, AVERAGED), (4, AGREED)] {
        client.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}),
        );
    }
    // A request after the burst: every diagnostic before its answer is of
    // some version, and the last is of the last text (no finding).
    client.next_id += 1;
    let id = client.next_id;
    client.send(
        json!({"jsonrpc": "2.0", "id": id, "method": "textDocument/hover",
        "params": {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}}}),
    );
    let mut last = None;
    loop {
        let message = client.receive();
        if message["id"] == id {
            break;
        }
        if message["method"] == "textDocument/publishDiagnostics" {
            last = Some(message["params"]["diagnostics"].clone());
        }
    }
    assert_eq!(last, Some(json!([])));

    client.notify("exit", Value::Null);
    let status = client.child.wait().unwrap();
    assert_eq!(status.code(), Some(1), "{status}");
}

/// The server keeps what its first check found in the workspace's cache
/// (see `metriclint check`), and a later session starts from it, with the
/// same diagnostics.
#[test]
fn a_session_starts_from_the_cache_the_last_one_wrote() {
    let dir = repository(&[("reports/other.sql", AGREED), ("reports/ctr.sql", AVERAGED)]);
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let root_uri = format!("file://{}", root.display());
    let uri = format!("{root_uri}/reports/ctr.sql");
    let session = || {
        let mut client = Client::start(&root);
        client.request(
            "initialize",
            json!({"processId": null, "rootUri": root_uri, "capabilities": {}}),
        );
        client.notify("initialized", json!({}));
        client.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "sql", "version": 1, "text": AVERAGED}}),
        );
        let diagnostics = client.diagnostics(&uri);
        assert_eq!(client.request("shutdown", Value::Null), Value::Null);
        client.notify("exit", Value::Null);
        assert!(client.child.wait().unwrap().success());
        diagnostics
    };
    let first = session();
    assert!(!first.is_empty());
    let cached: Vec<_> = std::fs::read_dir(root.join(".metriclint_cache"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "bin"))
        .collect();
    assert_eq!(cached.len(), 1, "the server wrote no cache");
    assert_eq!(session(), first);
}
