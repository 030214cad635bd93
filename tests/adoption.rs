//! What a newcomer copies from the README to adopt metriclint: the
//! pre-commit hooks, which must be valid and must not build inside
//! pre-commit by default.

use serde_yaml::Value;

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap()
}

/// The YAML blocks of the README's Pre-commit section.
fn pre_commit_blocks() -> Vec<Value> {
    let readme = readme();
    let start = readme.find("### Pre-commit").expect("a Pre-commit section");
    let end = start + readme[start..].find("\n### ").expect("a next section");
    readme[start..end]
        .split("```yaml")
        .skip(1)
        .map(|block| serde_yaml::from_str(block.split("```").next().unwrap()).unwrap())
        .collect()
}

#[test]
fn the_readmes_first_hook_runs_the_installed_binary() {
    let blocks = pre_commit_blocks();
    let first = &blocks[0]["repos"][0];
    assert_eq!(first["repo"], "local");
    let hook = &first["hooks"][0];
    assert_eq!(hook["language"], "system");
    assert_eq!(hook["entry"], "metriclint check");
    assert_eq!(hook["types"][0], "sql");
    // No `rev` to name a tag that may not exist.
    for block in &blocks {
        for repo in block["repos"].as_sequence().unwrap() {
            let rev = repo["rev"].as_str().unwrap_or("");
            assert!(
                !rev.starts_with('v'),
                "a rev the repository has no tag for: {rev}"
            );
        }
    }
}

#[test]
fn the_repositorys_hooks_offer_the_installed_binary_and_a_build() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/.pre-commit-hooks.yaml"
    ))
    .unwrap();
    let hooks: Vec<Value> = serde_yaml::from_str(&text).unwrap();
    let language_of = |id: &str| {
        hooks
            .iter()
            .find(|h| h["id"] == id)
            .unwrap_or_else(|| panic!("no hook {id}"))["language"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(language_of("metriclint-system"), "system");
    assert_eq!(language_of("metriclint"), "rust");
    for hook in &hooks {
        assert_eq!(hook["entry"], "metriclint check");
        for key in ["id", "name", "entry", "language"] {
            assert!(hook.get(key).is_some(), "{key} missing in {hook:?}");
        }
    }
    // The README names the hook ids that exist.
    let readme = readme();
    assert!(readme.contains("id: metriclint-system"));
}

/// Every revision the README names (`rev:`, `--rev`) is a full commit id;
/// where this checkout has the history, a commit of it that holds the
/// hooks the README's remote block uses.
#[test]
fn the_revisions_the_readme_names_exist() {
    let readme = readme();
    let mut revisions: Vec<String> = Vec::new();
    for line in readme.lines() {
        let line = line.trim();
        if let Some(rev) = line.strip_prefix("rev: ") {
            revisions.push(rev.trim().to_string());
        }
        if let Some((_, after)) = line.split_once("--rev ") {
            revisions.push(after.split_whitespace().next().unwrap().to_string());
        }
    }
    assert!(revisions.len() >= 3, "{revisions:?}");
    for rev in &revisions {
        assert!(
            rev.len() == 40 && rev.chars().all(|c| c.is_ascii_hexdigit()),
            "not a full commit id: {rev}"
        );
    }
    // A shallow or exported checkout cannot say more.
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .ok()
            .filter(|out| out.status.success())
            .map(|out| String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let shallow = git(&["rev-parse", "--is-shallow-repository"]);
    if shallow.as_deref().map(str::trim) != Some("false") {
        return;
    }
    for rev in &revisions {
        let hooks = git(&["show", &format!("{rev}:.pre-commit-hooks.yaml")])
            .unwrap_or_else(|| panic!("{rev} is no commit of this repository"));
        assert!(hooks.contains("id: metriclint-system"), "{rev}");
    }
}
