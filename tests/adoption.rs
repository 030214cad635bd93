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
