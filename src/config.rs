//! The project's config file, `metriclint.yaml`: where the registry is, the
//! dialect, which files to check, which rules to run at which severity.
//!
//! Found by walking up from the checked paths, then from the working
//! directory; `--config FILE` names it, `--isolated` ignores it. Command-line
//! flags win over it. Unknown keys and bad values are errors with a caret
//! under the YAML, like registry errors.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};
use miette::{NamedSource, SourceSpan};
use serde::Deserialize;

use crate::dialect::Dialect;
use crate::finding::{Finding, Severity};
use crate::registry::yaml_tree::{self, Node};
use crate::registry::RegistryIssue;
use crate::rules::by_code;

/// The names a config file may have, in order of preference.
pub const FILE_NAMES: &[&str] = &["metriclint.yaml", "metriclint.yml", ".metriclint.yaml"];

const KEYS: &[&str] = &[
    "registry",
    "dialect",
    "include",
    "exclude",
    "rules",
    "per-file-ignores",
    "fail-on",
    "names",
    "vars",
    "baseline",
    "layers",
    "cache-dir",
];
/// The layers metrics are defined in that a run can check.
const LAYERS: &[&str] = &["sql", "lookml", "dbt"];
const NAME_KEYS: &[&str] = &["qualifier-prefixes", "qualifier-suffixes", "meaning-words"];
const RULE_KEYS: &[&str] = &["select", "ignore", "severity"];

/// Problems in a config file; nothing is checked while it has any.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("the config file is invalid ({} {})", issues.len(), if issues.len() == 1 { "error" } else { "errors" })]
pub struct ConfigError {
    #[related]
    pub issues: Vec<RegistryIssue>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
struct Raw {
    #[serde(default)]
    registry: OneOrMany,
    dialect: Option<String>,
    #[serde(default)]
    include: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
    #[serde(default)]
    rules: RawRules,
    #[serde(default)]
    per_file_ignores: BTreeMap<String, OneOrMany>,
    fail_on: Option<String>,
    #[serde(default)]
    names: RawNames,
    #[serde(default)]
    vars: BTreeMap<String, serde_yaml::Value>,
    baseline: Option<String>,
    #[serde(default)]
    layers: Vec<String>,
    cache_dir: Option<String>,
    #[serde(flatten)]
    _unknown: BTreeMap<String, serde_yaml::Value>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
struct RawNames {
    #[serde(default)]
    qualifier_prefixes: Vec<String>,
    #[serde(default)]
    qualifier_suffixes: Vec<String>,
    #[serde(default)]
    meaning_words: Vec<String>,
    #[serde(flatten)]
    _unknown: BTreeMap<String, serde_yaml::Value>,
}

#[derive(Deserialize, Default)]
struct RawRules {
    #[serde(default)]
    select: Vec<String>,
    #[serde(default)]
    ignore: Vec<String>,
    #[serde(default)]
    severity: BTreeMap<String, String>,
    #[serde(flatten)]
    _unknown: BTreeMap<String, serde_yaml::Value>,
}

#[derive(Deserialize, Default)]
#[serde(untagged)]
enum OneOrMany {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::None => Vec::new(),
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

/// A loaded config file.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// The file, if one was found.
    pub path: Option<PathBuf>,
    /// Registry files (relative to the config's folder) and built-in packs.
    pub registry: Vec<String>,
    pub dialect: Option<Dialect>,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    /// Codes to run; empty means all.
    pub select: Vec<String>,
    pub ignore: Vec<String>,
    pub severity: BTreeMap<String, Severity>,
    /// (glob, codes) pairs.
    pub per_file_ignores: Vec<(String, Vec<String>)>,
    pub fail_on: Option<Severity>,
    /// The qualifier vocabulary, when the config extends it.
    pub vocabulary: Option<crate::names::Vocabulary>,
    /// Jinja vars, over the dbt projects' own (as `dbt --vars` would).
    pub vars: BTreeMap<String, serde_yaml::Value>,
    /// The baseline file (relative to the config's folder) whose findings
    /// are not reported, as `--baseline` does.
    pub baseline: Option<PathBuf>,
    /// The layers checked (`sql`, `lookml`, `dbt`: the project's dbt metric
    /// YAML); empty means all.
    pub layers: Vec<String>,
    /// Where the cache of per-file results lives (relative to the config's
    /// folder) [default: `.metriclint_cache` at the project root].
    pub cache_dir: Option<PathBuf>,
}

fn severity(text: &str) -> Option<Severity> {
    match text.to_ascii_lowercase().as_str() {
        "error" => Some(Severity::Error),
        "warning" => Some(Severity::Warning),
        "info" => Some(Severity::Info),
        _ => None,
    }
}

/// Finds the config file for `paths`: the nearest one above the first path,
/// else above the working directory.
pub fn discover(paths: &[PathBuf]) -> Option<PathBuf> {
    let mut starts: Vec<PathBuf> = paths
        .iter()
        .filter_map(|p| std::fs::canonicalize(p).ok())
        .collect();
    starts.extend(std::env::current_dir().ok());
    for start in starts {
        let mut dir = if start.is_dir() {
            Some(start.as_path())
        } else {
            start.parent()
        };
        while let Some(d) = dir {
            for name in FILE_NAMES {
                let candidate = d.join(name);
                if candidate.is_file() {
                    // Shown relative to the working directory where it can be.
                    let cwd = std::env::current_dir().ok();
                    let relative =
                        cwd.and_then(|c| candidate.strip_prefix(c).ok().map(Path::to_path_buf));
                    return Some(relative.unwrap_or(candidate));
                }
            }
            dir = d.parent();
        }
    }
    None
}

struct Issues<'a> {
    path: &'a str,
    text: &'a str,
    list: Vec<RegistryIssue>,
}

impl Issues<'_> {
    fn add(&mut self, node: Option<&Node>, message: String, help: Option<String>) {
        let (span, line, column) = match node {
            Some(n) => (
                Some(SourceSpan::from((n.mark.offset, n.text_len(self.text)))),
                n.mark.line,
                n.mark.column,
            ),
            None => (None, 1, 1),
        };
        self.list.push(RegistryIssue {
            message,
            source_code: Some(NamedSource::new(self.path, self.text.to_string())),
            span,
            label: "here".to_string(),
            help,
            path: self.path.to_string(),
            line,
            column,
        });
    }
}

fn did_you_mean(word: &str, options: &[&str]) -> Option<String> {
    options
        .iter()
        .map(|o| (strsim::jaro_winkler(word, o), *o))
        .filter(|(s, _)| *s > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, o)| format!("did you mean `{o}`?"))
}

impl Config {
    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let shown = path.display().to_string();
        let text = yaml_tree::read_bounded(path).map_err(|e| ConfigError {
            issues: vec![RegistryIssue {
                message: format!("cannot read config file {shown}: {e}"),
                source_code: None,
                span: None,
                label: String::new(),
                help: None,
                path: shown.clone(),
                line: 1,
                column: 1,
            }],
        })?;
        let mut config = Config::parse(&shown, &text)?;
        config.path = Some(path.to_path_buf());
        Ok(config)
    }

    /// Parses config text shown under `path`.
    pub fn parse(path: &str, text: &str) -> Result<Config, ConfigError> {
        let mut issues = Issues {
            path,
            text,
            list: Vec::new(),
        };
        if let Some(offset) = yaml_tree::too_deep(text) {
            let at = crate::source::LineIndex::new(text).position(offset);
            let node = Node {
                mark: yaml_tree::Mark::at(text, at.line as usize, at.column as usize),
                kind: yaml_tree::NodeKind::Alias,
            };
            let message = format!(
                "the YAML nests `[` or `{{` deeper than {} levels",
                yaml_tree::MAX_FLOW_DEPTH
            );
            issues.add(Some(&node), message, None);
            return Err(ConfigError {
                issues: issues.list,
            });
        }
        let raw: Raw = if text.trim().is_empty() {
            Raw::default()
        } else {
            match serde_yaml::from_str(text) {
                Ok(raw) => raw,
                Err(e) => {
                    let message = e.to_string();
                    let message = message
                        .split(" at line ")
                        .next()
                        .unwrap_or(&message)
                        .to_string();
                    let node = yaml_tree::error_mark(text, &e).map(|mark| Node {
                        mark,
                        kind: yaml_tree::NodeKind::Alias,
                    });
                    issues.add(node.as_ref(), message, None);
                    return Err(ConfigError {
                        issues: issues.list,
                    });
                }
            }
        };
        let root = yaml_tree::parse(text).ok().flatten();
        if let Some(root) = &root {
            for key in root.keys() {
                let name = key.as_scalar().unwrap_or("");
                if !KEYS.contains(&name) {
                    issues.add(
                        Some(key),
                        format!("unknown key `{name}`"),
                        did_you_mean(name, KEYS),
                    );
                }
            }
            if let Some(names) = root.get("names") {
                for key in names.keys() {
                    let name = key.as_scalar().unwrap_or("");
                    if !NAME_KEYS.contains(&name) {
                        issues.add(
                            Some(key),
                            format!("unknown key `{name}` in names"),
                            did_you_mean(name, NAME_KEYS),
                        );
                    }
                }
            }
            if let Some(rules) = root.get("rules") {
                for key in rules.keys() {
                    let name = key.as_scalar().unwrap_or("");
                    if !RULE_KEYS.contains(&name) {
                        issues.add(
                            Some(key),
                            format!("unknown key `{name}` in rules"),
                            did_you_mean(name, RULE_KEYS),
                        );
                    }
                }
            }
        }
        let node_of = |path: &[&str]| -> Option<Node> {
            let mut node = root.as_ref()?;
            for key in path {
                node = node.get(key)?;
            }
            Some(node.clone())
        };
        let n = &raw.names;
        let vocabulary = (!n.qualifier_prefixes.is_empty()
            || !n.qualifier_suffixes.is_empty()
            || !n.meaning_words.is_empty())
        .then(|| {
            crate::names::Vocabulary::extended(
                &n.qualifier_prefixes,
                &n.qualifier_suffixes,
                &n.meaning_words,
            )
        });
        let mut config = Config {
            vocabulary,
            baseline: raw.baseline.map(PathBuf::from),
            cache_dir: raw.cache_dir.map(PathBuf::from),
            vars: raw.vars,
            registry: raw.registry.into_vec(),
            include: raw.include,
            exclude: raw.exclude,
            ..Config::default()
        };
        if let Some(d) = raw.dialect {
            match d.parse::<Dialect>() {
                Ok(d) => config.dialect = Some(d),
                Err(e) => issues.add(node_of(&["dialect"]).as_ref(), e, None),
            }
        }
        if let Some(f) = raw.fail_on {
            match severity(&f) {
                Some(s) => config.fail_on = Some(s),
                None => issues.add(
                    node_of(&["fail-on"]).as_ref(),
                    format!("unknown severity `{f}`"),
                    Some("`fail-on` is one of error, warning, info".to_string()),
                ),
            }
        }
        let check_codes = |codes: &[String], at: &[&str], issues: &mut Issues<'_>| -> Vec<String> {
            let mut out = Vec::new();
            for code in codes {
                match by_code(code) {
                    Some(rule) => out.push(rule.code.to_string()),
                    None => issues.add(
                        node_of(at).as_ref(),
                        format!("unknown rule `{code}`"),
                        Some("`metriclint rule --all` lists the codes".to_string()),
                    ),
                }
            }
            out
        };
        config.select = check_codes(&raw.rules.select, &["rules", "select"], &mut issues);
        config.ignore = check_codes(&raw.rules.ignore, &["rules", "ignore"], &mut issues);
        for (code, level) in &raw.rules.severity {
            let known = by_code(code);
            let parsed = severity(level);
            match (known, parsed) {
                (Some(rule), Some(s)) => {
                    config.severity.insert(rule.code.to_string(), s);
                }
                (None, _) => issues.add(
                    node_of(&["rules", "severity"]).as_ref(),
                    format!("unknown rule `{code}`"),
                    None,
                ),
                (_, None) => issues.add(
                    node_of(&["rules", "severity"]).as_ref(),
                    format!("unknown severity `{level}` for {code}"),
                    Some("severities are error, warning, info".to_string()),
                ),
            }
        }
        for (glob, codes) in raw.per_file_ignores {
            if let Err(e) = Glob::new(&glob) {
                issues.add(
                    node_of(&["per-file-ignores"]).as_ref(),
                    format!("bad glob `{glob}`: {e}"),
                    None,
                );
                continue;
            }
            let codes = check_codes(&codes.into_vec(), &["per-file-ignores"], &mut issues);
            config.per_file_ignores.push((glob, codes));
        }
        for layer in &raw.layers {
            let layer = layer.to_ascii_lowercase();
            if LAYERS.contains(&layer.as_str()) {
                config.layers.push(layer);
            } else {
                issues.add(
                    node_of(&["layers"]).as_ref(),
                    format!("unknown layer `{layer}`"),
                    Some("`layers` lists sql, lookml, dbt".to_string()),
                );
            }
        }
        for (key, globs) in [("include", &config.include), ("exclude", &config.exclude)] {
            for glob in globs {
                if let Err(e) = Glob::new(glob) {
                    issues.add(
                        node_of(&[key]).as_ref(),
                        format!("bad glob `{glob}`: {e}"),
                        None,
                    );
                }
            }
        }
        if issues.list.is_empty() {
            Ok(config)
        } else {
            Err(ConfigError {
                issues: issues.list,
            })
        }
    }

    /// The folder the config's relative paths and globs are relative to.
    pub fn root(&self) -> PathBuf {
        self.path
            .as_ref()
            .and_then(|p| p.parent())
            .filter(|p| !p.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."))
    }

    /// Gitignore-style globs: `*` stays within a folder, a pattern matches at
    /// any depth, and a folder (`models/` or `models`) matches what is in it.
    fn globs(patterns: &[String]) -> GlobSet {
        let mut builder = GlobSetBuilder::new();
        for pattern in patterns {
            let base = pattern.trim_end_matches('/');
            let mut variants = vec![base.to_string(), format!("{base}/**")];
            if !base.starts_with('/') && !base.starts_with("**") {
                variants.push(format!("**/{base}"));
                variants.push(format!("**/{base}/**"));
            }
            for p in variants {
                let p = p.trim_start_matches('/');
                if let Ok(glob) = globset::GlobBuilder::new(p).literal_separator(true).build() {
                    builder.add(glob);
                }
            }
        }
        builder.build().unwrap_or_else(|_| GlobSet::empty())
    }

    /// Whether the config checks `layer` (`sql`, `lookml`, `dbt`): every
    /// layer, when it names none.
    pub fn checks_layer(&self, layer: &str) -> bool {
        self.layers.is_empty() || self.layers.iter().any(|l| l == layer)
    }

    /// Whether a discovered file is to be checked under include/exclude
    /// and the layers the config checks (`layers: [sql]` leaves `.lkml`
    /// files out).
    pub fn file_filter(&self) -> impl Fn(&Path) -> bool {
        let root = std::fs::canonicalize(self.root()).unwrap_or_else(|_| self.root());
        let include = (!self.include.is_empty()).then(|| Config::globs(&self.include));
        let exclude = Config::globs(&self.exclude);
        let (sql, lookml) = (self.checks_layer("sql"), self.checks_layer("lookml"));
        move |path: &Path| {
            let checked = if crate::lookml::is_lookml(path) {
                lookml
            } else {
                sql
            };
            if !checked {
                return false;
            }
            let absolute = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
            let relative = absolute.strip_prefix(&root).unwrap_or(&absolute);
            if exclude.is_match(relative) {
                return false;
            }
            include.as_ref().is_none_or(|inc| inc.is_match(relative))
        }
    }

    /// Applies select, ignore, per-file ignores and severities to findings.
    pub fn apply_rules(&self, findings: Vec<Finding>) -> Vec<Finding> {
        let per_file: Vec<(GlobSet, &Vec<String>)> = self
            .per_file_ignores
            .iter()
            .map(|(glob, codes)| (Config::globs(std::slice::from_ref(glob)), codes))
            .collect();
        let root = std::fs::canonicalize(self.root()).unwrap_or_else(|_| self.root());
        findings
            .into_iter()
            .filter(|f| self.select.is_empty() || self.select.iter().any(|c| c == f.code))
            .filter(|f| !self.ignore.iter().any(|c| c == f.code))
            .filter(|f| {
                let absolute =
                    std::fs::canonicalize(&f.path).unwrap_or_else(|_| PathBuf::from(&f.path));
                let relative = absolute
                    .strip_prefix(&root)
                    .unwrap_or(&absolute)
                    .to_path_buf();
                !per_file.iter().any(|(set, codes)| {
                    set.is_match(&relative) && codes.iter().any(|c| c == f.code)
                })
            })
            .map(|mut f| {
                if let Some(s) = self.severity.get(f.code) {
                    f.severity = *s;
                }
                f
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_and_bad_values_point_at_the_yaml() {
        let err = Config::parse(
            "metriclint.yaml",
            "dialekt: bigquery\nrules:\n  ignroe: [ML011]\nfail-on: fatal\n",
        )
        .unwrap_err();
        let lines: Vec<(u32, &str)> = err
            .issues
            .iter()
            .map(|i| (i.line, i.message.as_str()))
            .collect();
        assert_eq!(
            lines,
            vec![
                (1, "unknown key `dialekt`"),
                (3, "unknown key `ignroe` in rules"),
                (4, "unknown severity `fatal`")
            ]
        );
        assert_eq!(
            err.issues[0].help.as_deref(),
            Some("did you mean `dialect`?")
        );
        let err = Config::parse(
            "m.yaml",
            "dialect: oracle\nrules:\n  select: [ML001, ML999]\n",
        )
        .unwrap_err();
        assert_eq!(err.issues.len(), 2);
        assert!(err.issues[1].message.contains("ML999"));
    }

    #[test]
    fn reads_every_key() {
        let text = "registry: [metrics.yaml, programmatic]\ndialect: snowflake\ninclude: [models/]\nexclude: ['**/scratch/**']\nrules:\n  ignore: [ML011]\n  severity: {ML010: error}\nper-file-ignores:\n  'legacy/*.sql': [ML001, ML004]\nfail-on: warning\n";
        let c = Config::parse("metriclint.yaml", text).unwrap();
        assert_eq!(c.registry, vec!["metrics.yaml", "programmatic"]);
        assert_eq!(c.dialect, Some(Dialect::Snowflake));
        assert_eq!(c.ignore, vec!["ML011"]);
        assert_eq!(c.severity.get("ML010"), Some(&Severity::Error));
        assert_eq!(
            c.per_file_ignores,
            vec![(
                "legacy/*.sql".to_string(),
                vec!["ML001".to_string(), "ML004".to_string()]
            )]
        );
        assert_eq!(c.fail_on, Some(Severity::Warning));
    }
}
