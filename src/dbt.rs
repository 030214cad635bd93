//! dbt project awareness: `dbt_project.yml` (vars, macro paths) and the
//! macros of the project and of its installed packages (`dbt_packages/`),
//! so templates render with the project's own macros, offline.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::Deserialize;

use crate::template::{MacroBundle, ProjectJinja};

/// The unit a column's description declares, where it declares one: "the
/// percentage of times people saw your ad and clicked", "CTR in %".
pub fn described_unit(description: &str) -> Option<crate::registry::Unit> {
    let lower = description.to_lowercase();
    let percent = lower.contains('%')
        || lower
            .split(|c: char| !c.is_alphanumeric())
            .any(|word| matches!(word, "percent" | "percentage" | "percentages" | "pct"))
        || writes_times_a_hundred(&lower);
    percent.then_some(crate::registry::Unit::Percent)
}

/// Whether a description writes its formula times a hundred: "(clicks /
/// impressions * 100)", "× 100", "multiplied by 100" (not "* 1000").
fn writes_times_a_hundred(lower: &str) -> bool {
    ["*", "×", " x ", "times", "multiplied by"]
        .iter()
        .any(|sign| {
            lower.match_indices(sign).any(|(at, _)| {
                let rest = lower[at + sign.len()..].trim_start();
                rest.strip_prefix("100").is_some_and(|after| {
                    let decimals = after.strip_prefix('.').unwrap_or("");
                    !after.starts_with(|c: char| c.is_ascii_digit())
                        && !decimals.starts_with(|c: char| c.is_ascii_digit())
                })
            })
        })
}

/// The YAML files under `folder`, by name.
fn yaml_files(folder: &Path) -> impl Iterator<Item = walkdir::DirEntry> {
    walkdir::WalkDir::new(folder)
        .sort_by_file_name()
        .into_iter()
        .flatten()
        .filter(|entry| {
            let is_yaml = entry
                .path()
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("yml") || e.eq_ignore_ascii_case("yaml"));
            entry.file_type().is_file() && is_yaml
        })
}

/// What the property files under `model_paths` say: column descriptions
/// and types, and the keys tests declare unique. A file
/// that does not read as YAML documents nothing; dbt reports it, not us.
fn read_properties(root: &Path, model_paths: &[String]) -> Properties {
    let mut docs = ColumnDocs::new();
    let mut unique_keys: HashMap<String, Vec<String>> = HashMap::new();
    for folder in model_paths {
        for entry in yaml_files(&root.join(folder)) {
            // Property files are small; a huge one is no documentation.
            if entry.metadata().map_or(true, |m| m.len() > 4 * 1024 * 1024) {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(entry.path()) else {
                continue;
            };
            let Ok(value) = serde_yaml::from_str::<serde_yaml::Value>(&text) else {
                continue;
            };
            let models = value.get("models").and_then(|m| m.as_sequence());
            for model in models.into_iter().flatten() {
                let Some(name) = model.get("name").and_then(|n| n.as_str()) else {
                    continue;
                };
                if let Some(key) = tested_unique_combination(model) {
                    unique_keys.entry(name.to_lowercase()).or_insert(key);
                }
                let columns = model.get("columns").and_then(|c| c.as_sequence());
                for column in columns.into_iter().flatten() {
                    let Some(column_name) = column.get("name").and_then(|n| n.as_str()) else {
                        continue;
                    };
                    if tests_of(column).any(|t| test_name(t) == Some("unique")) {
                        unique_keys
                            .entry(name.to_lowercase())
                            .or_insert_with(|| vec![column_name.to_lowercase()]);
                    }
                    let text =
                        |key: &str| column.get(key).and_then(|d| d.as_str()).map(str::to_string);
                    let doc = ColumnDoc {
                        description: text("description"),
                        data_type: text("data_type"),
                    };
                    if doc.description.is_some() || doc.data_type.is_some() {
                        docs.entry((name.to_lowercase(), column_name.to_lowercase()))
                            .or_insert(doc);
                    }
                }
            }
        }
    }
    Properties {
        columns: docs,
        unique_keys,
    }
}

/// The tests of a model or column (`tests:` or dbt 1.8's `data_tests:`).
fn tests_of(node: &serde_yaml::Value) -> impl Iterator<Item = &serde_yaml::Value> {
    ["tests", "data_tests"]
        .into_iter()
        .filter_map(|key| node.get(key).and_then(|t| t.as_sequence()))
        .flatten()
}

/// A test's name: `unique`, or the key of `{dbt_utils.unique_combination_of_columns: …}`.
fn test_name(test: &serde_yaml::Value) -> Option<&str> {
    match test {
        serde_yaml::Value::String(name) => Some(name),
        serde_yaml::Value::Mapping(map) if map.len() == 1 => map.keys().next()?.as_str(),
        _ => None,
    }
}

/// The columns a model-level `unique_combination_of_columns` test (of
/// dbt_utils, or any package's test of that name) tests unique together.
fn tested_unique_combination(model: &serde_yaml::Value) -> Option<Vec<String>> {
    tests_of(model).find_map(|test| {
        let name = test_name(test)?;
        if name.rsplit('.').next() != Some("unique_combination_of_columns") {
            return None;
        }
        let arguments = test.get(name)?;
        let arguments = arguments.get("arguments").unwrap_or(arguments);
        let columns: Vec<String> = arguments
            .get("combination_of_columns")?
            .as_sequence()?
            .iter()
            .map(|c| c.as_str().map(str::to_lowercase))
            .collect::<Option<_>>()?;
        (!columns.is_empty()).then_some(columns)
    })
}

/// What a project's property files say of its models.
#[derive(Clone, Debug, Default)]
pub struct Properties {
    pub columns: ColumnDocs,
    /// The columns a test declares each model's rows unique on (`unique` on
    /// a column, `unique_combination_of_columns` on the model).
    pub unique_keys: HashMap<String, Vec<String>>,
}

/// A dbt project found above a checked file.
#[derive(Clone, Debug, Default)]
pub struct Project {
    pub root: PathBuf,
    pub name: String,
    /// Folders (relative to `root`) holding the models.
    pub model_paths: Vec<String>,
    /// Folders (relative to `root`) holding the analyses: ad-hoc reports,
    /// checked like models but never `ref()`ed.
    pub analysis_paths: Vec<String>,
    /// Its vars and macros and its packages' macros, as its templates see them.
    pub jinja: ProjectJinja,
    /// `root`, resolved once (files are compared with it).
    pub canonical_root: Option<PathBuf>,
    /// Where `ref()` looks for models: this project's root, or for an
    /// installed package the project that installed it (dbt has one model
    /// namespace across a project and its packages).
    pub ref_scope: PathBuf,
    /// The model folders of the installed packages (their models give
    /// lineage to the project's, and are not reported on).
    pub package_model_dirs: Vec<PathBuf>,
    /// The models' documented columns, read once (see [`Project::column_description`]).
    pub properties: std::sync::OnceLock<Properties>,
}

/// What a project's property files (`models:` in the `.yml` files under its
/// model paths) say of columns, by lowercased model and column name.
pub type ColumnDocs = HashMap<(String, String), ColumnDoc>;

/// What a property file says of one column.
#[derive(Clone, Debug, Default)]
pub struct ColumnDoc {
    pub description: Option<String>,
    /// Its `data_type:` as written (`integer`, `bigint`, `numeric(18,2)`).
    pub data_type: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
struct RawProject {
    #[serde(default)]
    name: String,
    #[serde(default)]
    macro_paths: Option<Vec<String>>,
    #[serde(default)]
    model_paths: Option<Vec<String>>,
    #[serde(default)]
    analysis_paths: Option<Vec<String>>,
    #[serde(default)]
    vars: BTreeMap<String, serde_yaml::Value>,
}

fn read_macros(root: &Path, dirs: &[String], namespace: &str) -> Option<MacroBundle> {
    let mut files = Vec::new();
    for dir in dirs {
        let walker = walkdir::WalkDir::new(root.join(dir)).sort_by_file_name();
        for entry in walker.into_iter().flatten() {
            let is_sql = entry
                .path()
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("sql"));
            if entry.file_type().is_file() && is_sql {
                if let Ok(text) = std::fs::read_to_string(entry.path()) {
                    files.push((entry.into_path(), text));
                }
            }
        }
    }
    MacroBundle::from_files(namespace, files)
}

/// The vars a project's own models see: the global ones, then those scoped
/// to the project by its name (`vars: {my_project: {...}}`), which win.
/// Vars scoped to an installed package are that package's.
fn project_vars(
    raw: BTreeMap<String, serde_yaml::Value>,
    name: &str,
    packages: &[MacroBundle],
) -> BTreeMap<String, serde_yaml::Value> {
    let mut vars = BTreeMap::new();
    let mut scoped = BTreeMap::new();
    for (key, value) in raw {
        match value {
            serde_yaml::Value::Mapping(entries) if key == name => {
                for (k, v) in entries {
                    if let Some(k) = k.as_str() {
                        scoped.insert(k.to_string(), v);
                    }
                }
            }
            _ if packages.iter().any(|p| p.namespace == key) => {}
            value => {
                vars.insert(key, value);
            }
        }
    }
    vars.extend(scoped);
    vars
}

fn load_project(file: &Path) -> Option<(RawProject, PathBuf)> {
    let text = std::fs::read_to_string(file).ok()?;
    let raw: RawProject = serde_yaml::from_str(&text).ok()?;
    Some((raw, file.parent()?.to_path_buf()))
}

/// The root of the dbt project at or above `path` (its `dbt_project.yml`'s
/// folder), canonical.
pub fn project_root_above(path: &Path) -> Option<PathBuf> {
    let start = std::fs::canonicalize(path).ok()?;
    start
        .ancestors()
        .find(|dir| dir.join("dbt_project.yml").is_file())
        .map(Path::to_path_buf)
}

/// A dbt project's Semantic Layer: its root and its YAML files.
pub struct SemanticLayer {
    pub root: PathBuf,
    pub files: Vec<PathBuf>,
}

/// The Semantic Layer of the dbt project at or above `start`, else of the
/// one below it (`--registry dbt`): every YAML file under its model paths
/// that holds semantic models or metrics, sorted. An error says what is
/// missing.
pub fn semantic_layer(start: &Path) -> Result<SemanticLayer, String> {
    let start = std::fs::canonicalize(start).unwrap_or_else(|_| start.to_path_buf());
    let above = start
        .ancestors()
        .map(|dir| dir.join("dbt_project.yml"))
        .find(|file| file.is_file());
    let project_file = match above {
        Some(file) => file,
        // Run from a repository's root with the project in a folder of it
        // (`transform/`): the one project below.
        None => {
            let below: Vec<PathBuf> = walkdir::WalkDir::new(&start)
                .max_depth(4)
                .sort_by_file_name()
                .into_iter()
                .filter_entry(|e| {
                    let name = e.file_name().to_string_lossy();
                    e.depth() == 0
                        || !(name.starts_with('.')
                            || matches!(&*name, "dbt_packages" | "target" | "node_modules"))
                })
                .flatten()
                .filter(|e| e.file_type().is_file() && e.file_name() == "dbt_project.yml")
                .map(walkdir::DirEntry::into_path)
                .collect();
            match below.as_slice() {
                [one] => one.clone(),
                [] => {
                    return Err(format!(
                        "no dbt_project.yml at, above or below {}",
                        start.display()
                    ))
                }
                several => {
                    let listed: Vec<String> = several
                        .iter()
                        .filter_map(|f| f.parent())
                        .map(|d| d.display().to_string())
                        .collect();
                    return Err(format!(
                        "{} dbt projects below {} ({}); check a path inside one of them",
                        several.len(),
                        start.display(),
                        listed.join(", ")
                    ));
                }
            }
        }
    };
    let (raw, root) = load_project(&project_file)
        .ok_or_else(|| format!("cannot read {}", project_file.display()))?;
    let model_paths = raw
        .model_paths
        .unwrap_or_else(|| vec!["models".to_string()]);
    let mut files = Vec::new();
    for folder in &model_paths {
        for entry in yaml_files(&root.join(folder)) {
            let semantic = std::fs::read_to_string(entry.path())
                .ok()
                .and_then(|text| serde_yaml::from_str::<serde_yaml::Value>(&text).ok())
                .is_some_and(|value| crate::registry::is_semantic_layer(&value));
            if semantic {
                files.push(entry.into_path());
            }
        }
    }
    if files.is_empty() {
        return Err(format!(
            "the dbt project at {} has no Semantic Layer YAML (semantic models or metrics) under {}",
            root.display(),
            model_paths.join(", ")
        ));
    }
    Ok(SemanticLayer { root, files })
}

impl Project {
    /// Reads the project at `dbt_project.yml`, with its installed packages.
    pub fn load(file: &Path) -> Option<Project> {
        let (raw, root) = load_project(file)?;
        let macro_paths = raw
            .macro_paths
            .unwrap_or_else(|| vec!["macros".to_string()]);
        let mut packages = Vec::new();
        let mut package_model_dirs = Vec::new();
        // An installed package shares the installing project's packages.
        let installed_in = root
            .parent()
            .filter(|p| p.file_name().is_some_and(|n| n == "dbt_packages"))
            .and_then(Path::parent)
            .map(Path::to_path_buf);
        let packages_dir = installed_in.as_ref().unwrap_or(&root).join("dbt_packages");
        if let Ok(entries) = std::fs::read_dir(&packages_dir) {
            let mut dirs: Vec<PathBuf> = entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect();
            dirs.sort();
            for dir in dirs {
                let (package_raw, package_root) = match load_project(&dir.join("dbt_project.yml")) {
                    Some(found) => found,
                    None => continue,
                };
                let name = if package_raw.name.is_empty() {
                    dir.file_name()
                        .map(|n| n.to_string_lossy().to_string())
                        .unwrap_or_default()
                } else {
                    package_raw.name
                };
                let paths = package_raw
                    .macro_paths
                    .unwrap_or_else(|| vec!["macros".to_string()]);
                packages.extend(read_macros(&package_root, &paths, &name));
                let models = package_raw
                    .model_paths
                    .unwrap_or_else(|| vec!["models".to_string()]);
                package_model_dirs.extend(models.iter().map(|m| package_root.join(m)));
            }
        }
        let mut vars = project_vars(raw.vars, &raw.name, &packages);
        // An installed package also sees the installing project's vars,
        // which win: its global ones, then those it scopes to the package.
        if let Some((root_raw, _)) = installed_in
            .as_ref()
            .and_then(|root| load_project(&root.join("dbt_project.yml")))
        {
            let scoped = |key: &str| {
                key == root_raw.name
                    || key == raw.name
                    || packages.iter().any(|p| p.namespace == key)
            };
            for (key, value) in &root_raw.vars {
                if !(value.is_mapping() && scoped(key)) {
                    vars.insert(key.clone(), value.clone());
                }
            }
            if let Some(serde_yaml::Value::Mapping(entries)) = root_raw.vars.get(&raw.name) {
                for (k, v) in entries {
                    if let Some(k) = k.as_str() {
                        vars.insert(k.to_string(), v.clone());
                    }
                }
            }
        }
        Some(Project {
            model_paths: raw
                .model_paths
                .unwrap_or_else(|| vec!["models".to_string()]),
            analysis_paths: raw
                .analysis_paths
                .unwrap_or_else(|| vec!["analyses".to_string()]),
            canonical_root: std::fs::canonicalize(&root).ok(),
            ref_scope: installed_in.unwrap_or_else(|| root.clone()),
            package_model_dirs,
            jinja: ProjectJinja::new(vars, read_macros(&root, &macro_paths, &raw.name), packages),
            name: raw.name,
            root,
            properties: Default::default(),
        })
    }
}

impl Project {
    /// How the project's property files describe `column` of `model`, if
    /// they do: what the team wrote a column means (its unit, say).
    pub fn column_description(&self, model: &str, column: &str) -> Option<&str> {
        self.column_doc(model, column)?.description.as_deref()
    }

    /// The `data_type` the project's property files declare for `column` of
    /// `model`, if they do.
    pub fn column_data_type(&self, model: &str, column: &str) -> Option<&str> {
        self.column_doc(model, column)?.data_type.as_deref()
    }

    fn column_doc(&self, model: &str, column: &str) -> Option<&ColumnDoc> {
        self.properties()
            .columns
            .get(&(model.to_lowercase(), column.to_lowercase()))
    }

    /// The columns the property files' tests declare `model`'s rows unique
    /// on, if they do.
    pub fn tested_unique_key(&self, model: &str) -> Option<&[String]> {
        self.properties()
            .unique_keys
            .get(&model.to_lowercase())
            .map(Vec::as_slice)
    }

    fn properties(&self) -> &Properties {
        self.properties
            .get_or_init(|| read_properties(&self.root, &self.model_paths))
    }

    /// The `.sql` files of the installed packages' models, in path order.
    pub fn package_models(&self) -> Vec<PathBuf> {
        let mut files = Vec::new();
        for dir in &self.package_model_dirs {
            for entry in walkdir::WalkDir::new(dir)
                .sort_by_file_name()
                .into_iter()
                .flatten()
            {
                let is_sql = entry
                    .path()
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("sql"));
                if entry.file_type().is_file() && is_sql {
                    files.push(entry.into_path());
                }
            }
        }
        files
    }

    /// What `file` is to the project: a model, an analysis, or neither
    /// (a macro, a test, a seed's SQL) when `None`.
    pub fn report_kind(&self, file: &Path) -> Option<ReportKind> {
        let Ok(absolute) = std::fs::canonicalize(file) else {
            // A buffer not saved yet is checked as a model.
            return Some(ReportKind::Model);
        };
        let root = match &self.canonical_root {
            Some(root) => root.clone(),
            None => std::fs::canonicalize(&self.root).unwrap_or_else(|_| self.root.clone()),
        };
        let under = |folders: &[String]| folders.iter().any(|f| absolute.starts_with(root.join(f)));
        if under(&self.model_paths) {
            Some(ReportKind::Model)
        } else if under(&self.analysis_paths) {
            Some(ReportKind::Analysis)
        } else {
            None
        }
    }
}

/// The reports of a dbt project.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportKind {
    /// A model: `ref()`s resolve to it.
    Model,
    /// An ad-hoc analysis: it reads models, nothing reads it.
    Analysis,
}

/// `path` made absolute with `.` and `..` resolved by name (symlinks kept).
pub(crate) fn lexically_absolute(path: &Path) -> Option<PathBuf> {
    let absolute = std::path::absolute(path).ok()?;
    let mut out = PathBuf::new();
    for component in absolute.components() {
        match component {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    Some(out)
}

/// Projects found so far, by the folder a search started in (shared by the
/// threads of a run, so each project is read once).
#[derive(Clone, Debug, Default)]
pub struct Projects {
    found: Arc<Mutex<HashMap<PathBuf, Option<Arc<Project>>>>>,
    /// The answer for each folder as given (no file-system lookups on repeat).
    by_folder: Arc<Mutex<HashMap<PathBuf, Option<Arc<Project>>>>>,
    /// Vars given outside the projects (the config file's), which win over
    /// the projects' own.
    vars: Arc<BTreeMap<String, serde_yaml::Value>>,
    /// Templates outside any dbt project render with these vars alone.
    standalone: Arc<std::sync::OnceLock<Option<Arc<Project>>>>,
}

impl Projects {
    /// Projects whose vars are overridden by `vars` (the config file's).
    pub fn with_vars(vars: BTreeMap<String, serde_yaml::Value>) -> Projects {
        Projects {
            vars: Arc::new(vars),
            ..Projects::default()
        }
    }

    /// What a template outside any dbt project renders with: the given vars,
    /// when there are some.
    pub fn standalone(&self) -> Option<Arc<Project>> {
        self.standalone
            .get_or_init(|| {
                (!self.vars.is_empty()).then(|| {
                    Arc::new(Project {
                        jinja: ProjectJinja::new((*self.vars).clone(), None, Vec::new()),
                        ..Project::default()
                    })
                })
            })
            .clone()
    }

    /// The dbt project a file belongs to: the nearest `dbt_project.yml` above it.
    pub fn for_file(&self, file: &Path) -> Option<Arc<Project>> {
        let folder = file.parent().map(Path::to_path_buf).unwrap_or_default();
        if let Some(known) = self.by_folder.lock().ok()?.get(&folder) {
            return known.clone();
        }
        let found = self.search(file);
        self.by_folder.lock().ok()?.insert(folder, found.clone());
        found
    }

    fn search(&self, file: &Path) -> Option<Arc<Project>> {
        // Symlinks are kept: dbt links a `local:` package into
        // `dbt_packages/`, and there it is the installing project's package.
        // (A file not saved yet, an editor's buffer, still has a folder.)
        let absolute = lexically_absolute(file)?;
        let mut dir = absolute.parent();
        while let Some(d) = dir {
            if let Some(known) = self.found.lock().ok()?.get(d) {
                return known.clone();
            }
            let candidate = d.join("dbt_project.yml");
            if candidate.is_file() {
                let project = Project::load(&candidate).map(|mut project| {
                    project
                        .jinja
                        .vars
                        .extend(self.vars.iter().map(|(k, v)| (k.clone(), v.clone())));
                    Arc::new(project)
                });
                self.found
                    .lock()
                    .ok()?
                    .insert(d.to_path_buf(), project.clone());
                return project;
            }
            dir = d.parent();
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_description_declares_percent_only_in_words_that_say_so() {
        use crate::registry::Unit;
        for (description, unit) in [
            (
                "The percentage of times people saw your ad and performed a click.",
                Some(Unit::Percent),
            ),
            ("CTR in %", Some(Unit::Percent)),
            ("Click-through rate, percent.", Some(Unit::Percent)),
            ("ctr_pct as shown in the UI", Some(Unit::Percent)),
            (
                "Click-through rate (clicks / impressions * 100)",
                Some(Unit::Percent),
            ),
            ("clicks/impressions*100", Some(Unit::Percent)),
            (
                "Conversions over clicks, multiplied by 100.",
                Some(Unit::Percent),
            ),
            ("Click-through rate (clicks / impressions)", None),
            ("Cost per mille (spend / impressions * 1000)", None),
            ("Spend * 100.5 adjusted", None),
            ("The top 100 campaigns", None),
            ("The 95th percentile of latency.", None),
            ("The click-through rate.", None),
            ("", None),
        ] {
            assert_eq!(described_unit(description), unit, "{description}");
        }
    }
}
