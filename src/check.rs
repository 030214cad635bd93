//! The `check` job: discover, parse, extract and judge every file.
//!
//! Files are independent until judging, so each is read, parsed, extracted
//! and judged on its own thread (rayon); only the findings are kept.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::canon::Number;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::config::Config;
use crate::dbt::ReportKind;
use crate::dialect::Dialect;
use crate::discover::{discover, MissingPath};
use crate::drift::{common_conditions, inconsistent_computations, is_metric, MetricSite};
use crate::extract::liveness::{self, StatementUse};
use crate::extract::{Extractor, ModelOutputs, Models, Site};
use crate::finding::{Finding, Summary};
use crate::judge::{
    judge, read_without_slice, without_slice, Computation, DifferenceKind, Verdict,
};
use crate::names::Currency;
use crate::parse::parse_each;
use crate::registry::{NameMatch, Registry, Unit};
use crate::rules::{
    Compared, CurrencyMismatch, DefinitionMismatch, FilterMismatch, IdenticalOperands,
    IntegerDivision, MetricNotComparable, ModelCycle, NonCanonicalName, ParseError,
    RatioAggregationMismatch, RoundingBeforeAggregation, SourceMismatch, TemplateError,
    UnitMismatch, UnknownMacro,
};
use crate::source::{LineIndex, Position, Range};
use crate::suppress::Suppressions;
use crate::template;

/// Stack size of the threads that check files.
const WORKER_STACK: usize = 64 << 20;

/// What to check and how.
#[derive(Clone, Debug, Default)]
pub struct CheckOptions {
    pub paths: Vec<PathBuf>,
    pub dialect: Dialect,
    /// Keep every metric site, registered ones too, for the inventory
    /// (`metrics`, `explain`, `init`); `check` keeps only what ML010 needs.
    pub inventory: bool,
    /// The project's config: which files, which rules at which severity.
    pub config: Option<std::sync::Arc<Config>>,
    /// SQL read from stdin (its bytes, which may not be UTF-8), reported
    /// under this name; `paths` give context.
    pub stdin: Option<(String, Vec<u8>)>,
    /// dbt projects met so far (their macros and vars render templates).
    pub projects: crate::dbt::Projects,
    /// Show a progress bar on stderr when the run takes more than a second
    /// and stderr is a terminal (never in pipes or CI logs).
    pub progress: bool,
    /// A dbt project's metric YAML (Semantic Layer or dbt_metrics) that is
    /// not the registry: its definitions are judged against the registry
    /// (see [`crate::definitions`]).
    pub definitions: Option<std::sync::Arc<Registry>>,
    /// What earlier runs of this process found, for a process that checks
    /// again and again (the language server, `check --watch`); see
    /// [`Memo`].
    pub memo: Option<Arc<Memo>>,
}

/// What earlier runs of one process found in the files that stand alone:
/// outside any dbt project, reading no other checked file. Each is kept
/// by its path with its bytes' hash, and a file whose bytes are unchanged
/// is not checked again. Everything is forgotten when the settings
/// (registry, config, dialect) or the set of checked files change, since
/// a file's lineage may reach any other by its name.
///
/// A memo [`Memo::on_disk`] also reads what earlier processes kept in a
/// cache folder, and [`Memo::persist`] writes what changed back (see
/// [`crate::cache`]).
#[derive(Debug, Default)]
pub struct Memo {
    state: std::sync::Mutex<MemoState>,
    recalled: std::sync::atomic::AtomicUsize,
    /// The cache folder, for a memo kept between processes.
    disk: Option<PathBuf>,
    /// Whether something was kept that the cache folder does not hold.
    changed: std::sync::atomic::AtomicBool,
}

#[derive(Debug, Default)]
struct MemoState {
    /// A hash of the settings and of the checked files' names.
    run: u64,
    files: HashMap<PathBuf, (u64, FileOutcome)>,
    /// The cross-report findings (ML010) of the last run whose files all
    /// stand alone, under a hash of every file's path and bytes (see
    /// [`standing_alone_key`]).
    across: Option<(u64, Vec<Finding>)>,
}

impl Memo {
    /// Starts a run under `run` (see [`MemoState::run`]): what was kept
    /// under another is forgotten.
    fn begin(&self, run: u64) {
        if let Ok(mut state) = self.state.lock() {
            if state.run != run {
                state.run = run;
                (state.files, state.across) = match &self.disk {
                    Some(dir) => crate::cache::load(dir, run),
                    None => (HashMap::new(), None),
                };
            }
        }
    }

    /// A memo that starts from, and is kept in, the cache folder `dir`.
    pub fn on_disk(dir: PathBuf) -> Memo {
        Memo {
            disk: Some(dir),
            ..Memo::default()
        }
    }

    /// Writes what this process kept to the cache folder, if it has one and
    /// something changed since it was read.
    pub fn persist(&self) -> std::io::Result<()> {
        let Some(dir) = &self.disk else {
            return Ok(());
        };
        if !self
            .changed
            .swap(false, std::sync::atomic::Ordering::Relaxed)
        {
            return Ok(());
        }
        let state = self
            .state
            .lock()
            .map_err(|_| std::io::Error::other("the memo's lock was poisoned"))?;
        crate::cache::store(dir, state.run, state.files.iter(), state.across.as_ref())
    }

    /// The cross-report findings kept under `key`, if any.
    fn cross_report(&self, key: u64) -> Option<Vec<Finding>> {
        let state = self.state.lock().ok()?;
        let (kept, findings) = state.across.as_ref()?;
        (*kept == key).then(|| findings.clone())
    }

    /// Keeps the cross-report findings of files whose path and bytes hash
    /// to `key`.
    fn keep_cross_report(&self, key: u64, findings: &[Finding]) {
        if let Ok(mut state) = self.state.lock() {
            state.across = Some((key, findings.to_vec()));
            self.changed
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// What the file gave when its bytes were as they are now, if it stands
    /// alone and was checked so before.
    fn recall(&self, file: &RunFile) -> Option<FileOutcome> {
        // Read the file only where something is kept for it: a first run,
        // or a new file, reads it once, to check it.
        let kept_for_it = self
            .state
            .lock()
            .is_ok_and(|state| state.files.contains_key(&file.path));
        if file.project.is_some() || !kept_for_it {
            return None;
        }
        let bytes = std::fs::read(&file.path).ok()?;
        let hash = content_hash(&bytes);
        let state = self.state.lock().ok()?;
        let (kept, outcome) = state.files.get(&file.path)?;
        if *kept != hash {
            return None;
        }
        self.recalled
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Some(outcome.copy_standing_alone())
    }

    /// How many files' outcomes were reused, in all runs so far.
    pub fn recalled(&self) -> usize {
        self.recalled.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Keeps what a file gave, if it stands alone.
    fn keep(&self, file: &RunFile, outcome: &FileOutcome) {
        let stands_alone =
            file.project.is_none() && outcome.refs.is_empty() && outcome.deferred.is_none();
        if let (true, Some(hash)) = (stands_alone, outcome.content_hash) {
            if let Ok(mut state) = self.state.lock() {
                state
                    .files
                    .insert(file.path.clone(), (hash, outcome.copy_standing_alone()));
                self.changed
                    .store(true, std::sync::atomic::Ordering::Relaxed);
            }
        }
    }
}

/// A hash of what a file's outcome depends on besides its own bytes: the
/// settings, and the names of the files checked beside it.
fn run_fingerprint(options: &CheckOptions, registry: &Registry, checked: &HashSet<String>) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    // What each registry holds, in its order (a loaded registry's lookup
    // table is a hash map, printed in no fixed order).
    let registry_held = |r: &Registry| {
        format!(
            "{:?}|{:?}|{}",
            r.metrics(),
            r.vocabulary(),
            r.is_pack_only()
        )
    };
    format!(
        "{}|{:?}|{:?}|{:?}|{}",
        registry_held(registry),
        options.config,
        options.dialect,
        options.definitions.as_deref().map(registry_held),
        options.inventory
    )
    .hash(&mut hasher);
    let mut names: Vec<&String> = checked.iter().collect();
    names.sort();
    names.hash(&mut hasher);
    hasher.finish()
}

/// The outcome of a check.
#[derive(Debug)]
pub struct CheckResult {
    /// Sorted by path, line, column.
    pub findings: Vec<Finding>,
    /// How many findings suppression comments silenced.
    pub suppressed: usize,
    /// How many statements of the checked files the dialect could not
    /// parse and that hold no query, so no metric (not findings).
    pub skipped_statements: usize,
    /// Every metric site kept, in file order.
    pub sites: crate::drift::Sites,
    pub files: usize,
    /// The checked files, as shown in findings.
    pub checked: Vec<String>,
    /// Problems walking the paths (not findings: nothing was read there).
    pub walk_problems: Vec<String>,
    pub elapsed: Duration,
    /// How long each reported file took to check, as shown in findings.
    pub times: HashMap<String, Duration>,
    /// What was checked, so that snippets are drawn from it and not from
    /// a file changed since.
    pub texts: CheckedTexts,
    /// Definitions left out rather than guessed at (see [`LeftOut`]).
    pub left_out: Vec<LeftOut>,
    /// The pack's metrics the repository keeps at a scale of its own (see
    /// [`UnitMismatch::in_the_repositorys_unit`]): `init` writes them so.
    pub repositorys_units: crate::rules::RepositoryUnits,
}

/// A hash of each checked file's bytes, and the text read from stdin.
#[derive(Debug, Default)]
pub struct CheckedTexts {
    pub hashes: HashMap<String, u64>,
    pub stdin: Option<(String, String)>,
}

impl CheckedTexts {
    /// The text of `path` as it was checked: stdin's buffer, or the file
    /// read again if its bytes are unchanged.
    pub fn text(&self, path: &str) -> Result<String, TextChanged> {
        if let Some((name, text)) = &self.stdin {
            if name == path {
                return Ok(text.clone());
            }
        }
        let bytes = std::fs::read(path).map_err(|_| TextChanged)?;
        if self
            .hashes
            .get(path)
            .is_some_and(|h| *h != content_hash(&bytes))
        {
            return Err(TextChanged);
        }
        String::from_utf8(bytes).map_err(|_| TextChanged)
    }
}

/// The file is gone or no longer holds what was checked.
#[derive(Debug)]
pub struct TextChanged;

/// A hash of a file's bytes (to tell whether it changed during a run).
pub fn content_hash(bytes: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut hasher);
    hasher.finish()
}

impl CheckResult {
    /// Adds the result of checking other paths (with their own settings).
    pub fn merge(&mut self, other: CheckResult) {
        self.findings.extend(other.findings);
        self.findings
            .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        self.suppressed += other.suppressed;
        self.skipped_statements += other.skipped_statements;
        self.sites.extend(other.sites);
        self.files += other.files;
        self.checked.extend(other.checked);
        self.walk_problems.extend(other.walk_problems);
        self.left_out.extend(other.left_out);
        self.elapsed += other.elapsed;
        self.texts.hashes.extend(other.texts.hashes);
        if other.texts.stdin.is_some() {
            self.texts.stdin = other.texts.stdin;
        }
    }

    pub fn summary(&self) -> Summary {
        Summary {
            suppressed: self.suppressed,
            skipped_statements: self.skipped_statements,
            ..Summary::of(self.files, &self.findings)
        }
    }
}

/// Checks again, in dependency order, the files that `ref()` other checked
/// files (dbt models, named by their file's stem), so that a model reading an
/// upstream model sees what that model computes. Returns every model's outputs.
/// The models checked in a run, by `ref()` scope (a project with its
/// packages, by the project's root folder; none for files
/// outside any project).
type ProjectModels = HashMap<Option<PathBuf>, Models>;

fn recheck_with_upstream(
    files: &[RunFile],
    outcomes: &mut [FileOutcome],
    options: &CheckOptions,
    registry: &Registry,
    pool: Option<&rayon::ThreadPool>,
    interner: &crate::drift::SiteInterner,
) -> ProjectModels {
    let names: Vec<String> = files.iter().map(|f| model_name(&f.path)).collect();
    // A ref() names a model of the same dbt project or of its packages.
    let projects: Vec<Option<PathBuf>> = files
        .iter()
        .map(|f| f.project.as_ref().map(|p| p.ref_scope.clone()))
        .collect();
    // Analyses read models; nothing reads an analysis.
    let analysis: Vec<bool> = files.iter().map(|f| f.role == Role::Analysis).collect();
    let mut index: HashMap<(&Option<PathBuf>, &str), usize> = HashMap::new();
    for (i, name) in names.iter().enumerate().filter(|(i, _)| !analysis[*i]) {
        index.entry((&projects[i], name.as_str())).or_insert(i);
    }
    let deps: Vec<Vec<usize>> = outcomes
        .iter()
        .enumerate()
        .map(|(i, o)| {
            o.refs
                .iter()
                .filter_map(|r| index.get(&(&projects[i], r.as_str())).copied())
                .filter(|&j| j != i)
                .collect()
        })
        .collect();
    // A model that refs itself is a cycle of one (dbt refuses it too).
    let refs_itself: Vec<bool> = outcomes
        .iter()
        .enumerate()
        .map(|(i, o)| {
            o.refs
                .iter()
                .any(|r| index.get(&(&projects[i], r.as_str())) == Some(&i))
        })
        .collect();
    let mut models = ProjectModels::new();
    let no_models = Models::new();
    // A deferred model is not done even without resolvable deps (say, two
    // files share its name): it is checked in the first wave.
    let mut done: Vec<bool> = deps
        .iter()
        .zip(outcomes.iter())
        .map(|(d, o)| d.is_empty() && o.deferred.is_none())
        .collect();
    let publish = |models: &mut ProjectModels, i: usize, outcome: &FileOutcome| {
        if let Some(outputs) = outcome.outputs.as_ref().filter(|_| !analysis[i]) {
            models
                .entry(projects[i].clone())
                .or_default()
                .entry(names[i].clone())
                .or_insert_with(|| outputs.clone());
        }
    };
    for (i, outcome) in outcomes.iter().enumerate() {
        if done[i] {
            publish(&mut models, i, outcome);
        }
    }
    loop {
        let ready: Vec<usize> = (0..files.len())
            .filter(|&i| !done[i] && deps[i].iter().all(|&j| done[j]))
            .collect();
        if ready.is_empty() {
            break;
        }
        let waiting: Vec<(usize, FileOutcome)> = ready
            .iter()
            .map(|&i| (i, std::mem::take(&mut outcomes[i])))
            .collect();
        let wave = || -> Vec<(usize, FileOutcome)> {
            waiting
                .into_par_iter()
                .map(|(i, mut outcome)| {
                    let upstream = models.get(&projects[i]).unwrap_or(&no_models);
                    let mut resumed = outcome.resume(&files[i], options, registry, upstream);
                    interner.intern(&mut resumed.sites);
                    (i, resumed)
                })
                .collect()
        };
        let checked = match pool {
            Some(pool) => pool.install(wave),
            None => wave(),
        };
        for (i, outcome) in checked {
            outcomes[i] = outcome;
            done[i] = true;
        }
        for &i in &ready {
            publish(&mut models, i, &outcomes[i]);
        }
    }
    // Whatever is left refs itself round in a circle: checked with what is
    // known, and the cycle reported.
    for (i, outcome) in outcomes.iter_mut().enumerate().filter(|(i, _)| !done[*i]) {
        if outcome.deferred.is_some() {
            let upstream = models.get(&projects[i]).unwrap_or(&no_models);
            *outcome = outcome.resume(&files[i], options, registry, upstream);
            interner.intern(&mut outcome.sites);
        }
        let cycle: Vec<&str> = deps[i].iter().map(|&j| names[j].as_str()).collect();
        let path = files[i].path.display().to_string();
        outcome
            .findings
            .push(ModelCycle::finding(&path, &names[i], &cycle));
    }
    for (i, outcome) in outcomes.iter_mut().enumerate() {
        if refs_itself[i] && done[i] {
            let path = files[i].path.display().to_string();
            outcome
                .findings
                .push(ModelCycle::finding(&path, &names[i], &[names[i].as_str()]));
        }
    }
    models
}

/// The output columns of the upstream models whose columns are all known
/// (not a `*` over a table), by model name, for templates that ask.
fn known_columns(models: &Models) -> std::sync::Arc<HashMap<String, Vec<String>>> {
    let known = models
        .iter()
        .filter(|(_, outputs)| !outputs.open)
        .map(|(name, outputs)| {
            let mut columns: Vec<String> = outputs.columns.keys().cloned().collect();
            columns.sort();
            (name.clone(), columns)
        })
        .collect();
    std::sync::Arc::new(known)
}

/// A model's name: its file name without the extension, lowercased.
fn model_name(file: &Path) -> String {
    file.file_stem()
        .map(|s| s.to_string_lossy().to_lowercase())
        .unwrap_or_default()
}

/// Keeps the findings of the named files, shown under the names as given.
fn only_named(findings: Vec<Finding>, named: &[(PathBuf, String)]) -> Vec<Finding> {
    findings
        .into_iter()
        .filter_map(|mut f| {
            let canonical =
                std::fs::canonicalize(&f.path).unwrap_or_else(|_| PathBuf::from(&f.path));
            let (_, shown) = named
                .iter()
                .find(|(path, shown)| *path == canonical || *shown == f.path)?;
            f.path = shown.clone();
            Some(f)
        })
        .collect()
}

/// Applies each file's suppression comments to its findings, then reports the
/// comments that silenced nothing (ML020). Returns the kept findings and how
/// many each file had silenced.
fn apply_suppressions(
    findings: Vec<Finding>,
    by_path: &mut HashMap<String, Suppressions>,
) -> (Vec<Finding>, HashMap<String, usize>) {
    let mut kept = Vec::with_capacity(findings.len());
    let mut per_file: HashMap<String, Vec<Finding>> = HashMap::new();
    for finding in findings {
        if by_path.contains_key(&finding.path) {
            per_file
                .entry(finding.path.clone())
                .or_default()
                .push(finding);
        } else {
            kept.push(finding);
        }
    }
    let mut silenced = HashMap::new();
    for (path, suppressions) in by_path.iter_mut() {
        let (here, count) = suppressions.apply(per_file.remove(path).unwrap_or_default());
        kept.extend(here);
        kept.extend(suppressions.unused(path));
        silenced.insert(path.clone(), count);
    }
    (kept, silenced)
}

/// Runs the check over every SQL file under `options.paths`: the pipeline
/// discover → (template → parse → extract → judge, per file, in parallel;
/// then again for dbt models, in dependency order) → across reports →
/// suppress → report.
pub fn run(options: &CheckOptions, registry: &Registry) -> Result<CheckResult, MissingPath> {
    let started = Instant::now();
    let scope = Scope::of(options);
    let (files, walk_problems) = discover_files(&scope.roots, options)?;
    let progress = Progress::new(files.len(), started, options.progress);
    let (outcomes, models, fingerprint) = check_files(&files, options, registry, &progress);
    progress.finish();

    let roots = report_roots(options);
    let mut outcomes = outcomes;
    // Where every file stands alone and none changed, the cross-report
    // stage finds what it found last time.
    let remembered_across = options
        .memo
        .as_deref()
        .filter(|_| options.stdin.is_none())
        .and_then(|memo| {
            let key = standing_alone_key(&files, &outcomes, &roots, fingerprint?)?;
            Some((memo, key))
        });
    let mut stdin = options.stdin.as_ref().map(|(name, bytes)| {
        let outcome = check_stdin(name, bytes, options, registry, &models, &roots);
        (name.clone(), outcome)
    });
    let shown: Vec<String> = files.iter().map(|f| f.path.display().to_string()).collect();
    // Files named one by one (a hook's changed files, with no config to
    // give the project as context) are not the whole project: its other
    // models may explore any view.
    if scope.roots.iter().any(|root| root.is_dir()) {
        leave_out_unexplored(
            shown
                .iter()
                .map(String::as_str)
                .zip(outcomes.iter_mut())
                .chain(stdin.as_mut().map(|(name, o)| (name.as_str(), o))),
        );
    }
    let mut gathered = Gathered::default();
    for (file, mut outcome) in files.iter().zip(outcomes) {
        if file.role == Role::PackageModel {
            continue;
        }
        mark_report(
            &mut outcome.sites,
            &file.path,
            file.project.as_deref(),
            &roots,
        );
        gathered.add(file.path.display().to_string(), outcome);
    }
    if let Some((name, outcome)) = stdin {
        gathered.add(name, outcome);
    }
    // The dbt layer: the metrics of the project's YAML, as sites and as
    // definitions checked for their own mistakes.
    let yaml_layer = options
        .config
        .as_ref()
        .is_none_or(|config| config.checks_layer("dbt"));
    let definitions = options.definitions.as_deref().filter(|_| yaml_layer);
    if let Some(definitions) = definitions {
        add_definition_sites(&mut gathered, definitions, registry, options, &roots);
    }

    let findings = across_reports(
        &mut gathered,
        registry,
        definitions,
        yaml_layer,
        remembered_across,
    );
    let (findings, suppressed) = suppress(
        findings,
        &mut gathered.suppressions,
        options,
        scope.reported.as_deref(),
    );
    let findings = without_fixes_where_unreadable(findings);
    let checked = reported_files(&files, &scope, options);
    let skipped_statements = checked
        .iter()
        .filter_map(|path| gathered.skipped_statements.get(path))
        .sum();
    Ok(CheckResult {
        findings,
        suppressed,
        skipped_statements,
        sites: gathered.sites,
        files: checked.len(),
        checked,
        walk_problems,
        elapsed: started.elapsed(),
        times: gathered.times,
        left_out: gathered.left_out,
        repositorys_units: gathered.repositorys_units,
        texts: CheckedTexts {
            hashes: gathered.hashes,
            stdin: options
                .stdin
                .as_ref()
                .map(|(name, bytes)| (name.clone(), String::from_utf8_lossy(bytes).into_owned())),
        },
    })
}

/// What a run reads and what it reports on.
struct Scope {
    /// The paths walked.
    roots: Vec<PathBuf>,
    /// Only these files are reported on, when set (canonical path, path as
    /// named); the others give context for cross-report drift.
    reported: Option<Vec<(PathBuf, String)>>,
}

impl Scope {
    /// A pre-commit hook passes just the changed files: the project (found
    /// from the config file) is their context. Stdin's buffer is reported
    /// under its name, with `paths` as context.
    fn of(options: &CheckOptions) -> Scope {
        let mut scope = Scope {
            roots: options.paths.clone(),
            reported: None,
        };
        if let Some((name, _)) = &options.stdin {
            scope.reported = Some(vec![(PathBuf::from(name), name.clone())]);
        } else if let Some(config) = options
            .config
            .as_ref()
            .filter(|_| !options.paths.is_empty() && options.paths.iter().all(|p| p.is_file()))
        {
            let named = options
                .paths
                .iter()
                .map(|p| {
                    (
                        std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()),
                        p.display().to_string(),
                    )
                })
                .collect();
            scope.reported = Some(named);
            scope.roots = vec![config.root()];
        }
        scope
    }
}

/// A file metriclint could not read whole (a statement that does not
/// parse, a template that does not render) is not edited by `--fix`: its
/// findings offer no fix.
fn without_fixes_where_unreadable(mut findings: Vec<Finding>) -> Vec<Finding> {
    let unreadable: HashSet<String> = findings
        .iter()
        .filter(|f| f.code == ParseError::INFO.code || f.code == TemplateError::INFO.code)
        .map(|f| f.path.clone())
        .collect();
    if !unreadable.is_empty() {
        for finding in findings.iter_mut().filter(|f| unreadable.contains(&f.path)) {
            finding.fix = None;
        }
    }
    findings
}

/// A file of a run, as discovery hands it on: its dbt project, looked up
/// once, and its role.
struct RunFile {
    path: PathBuf,
    project: Option<Arc<crate::dbt::Project>>,
    role: Role,
}

impl RunFile {
    /// A file read on its own (not found by a run's discovery).
    fn of(path: &Path, options: &CheckOptions) -> RunFile {
        RunFile {
            path: path.to_path_buf(),
            project: options.projects.for_file(path),
            role: Role::Report,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// A dbt model, or a SQL file outside any dbt project: reported on, and
    /// `ref()`-able by its name.
    Report,
    /// A dbt analysis: reported on like a model, `ref()`ed by nothing.
    Analysis,
    /// An installed package's model: lineage for the project's models (a
    /// `ref()` of a package's staging model), not reported on.
    PackageModel,
}

/// Discovery: the files under `roots` that the config keeps, each with its
/// dbt project and role (in a dbt project the reports are its models and
/// analyses, not its macros, tests, seeds or snapshots), then the installed
/// packages' models. Stdin's buffer replaces the file of its name.
fn discover_files(
    roots: &[PathBuf],
    options: &CheckOptions,
) -> Result<(Vec<RunFile>, Vec<String>), MissingPath> {
    let mut discovered = discover(roots)?;
    if let Some(config) = &options.config {
        let keep = config.file_filter();
        discovered.files.retain(|f| keep(f));
    }
    let mut files: Vec<RunFile> = Vec::new();
    for path in discovered.files {
        let project = options.projects.for_file(&path);
        let role = match project.as_ref().map(|p| p.report_kind(&path)) {
            None | Some(Some(ReportKind::Model)) => Role::Report,
            Some(Some(ReportKind::Analysis)) => Role::Analysis,
            Some(None) => continue,
        };
        files.push(RunFile {
            path,
            project,
            role,
        });
    }
    // A package model named on the command line is reported, however spelled.
    let mut named: Option<HashSet<PathBuf>> = None;
    let mut expanded: HashSet<PathBuf> = HashSet::new();
    let mut package_models: Vec<RunFile> = Vec::new();
    let mut added: HashSet<PathBuf> = HashSet::new();
    for project in files.iter().filter_map(|f| f.project.as_ref()) {
        if !expanded.insert(project.root.clone()) {
            continue;
        }
        for model in project.package_models() {
            let named = named.get_or_insert_with(|| {
                files
                    .iter()
                    .filter_map(|f| std::fs::canonicalize(&f.path).ok())
                    .collect()
            });
            let canonical = std::fs::canonicalize(&model).unwrap_or_else(|_| model.clone());
            if !named.contains(&canonical) && added.insert(model.clone()) {
                package_models.push(RunFile {
                    project: options.projects.for_file(&model),
                    path: model,
                    role: Role::PackageModel,
                });
            }
        }
    }
    files.extend(package_models);
    if let Some((name, _)) = &options.stdin {
        if let Ok(replaced) = std::fs::canonicalize(name) {
            files.retain(|f| std::fs::canonicalize(&f.path).ok().as_ref() != Some(&replaced));
        }
    }
    Ok((files, discovered.problems))
}

/// A progress bar on stderr, shown once a run has taken a second, and only
/// on a terminal (never in pipes or CI logs).
struct Progress {
    bar: indicatif::ProgressBar,
    show_after: Instant,
    enabled: bool,
}

impl Progress {
    fn new(files: usize, started: Instant, enabled: bool) -> Progress {
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(files as u64),
            indicatif::ProgressDrawTarget::hidden(),
        );
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("checking {pos}/{len} files {wide_bar} {eta}")
        {
            bar.set_style(style);
        }
        Progress {
            bar,
            show_after: started + Duration::from_secs(1),
            enabled,
        }
    }

    fn tick(&self) {
        if !self.enabled {
            return;
        }
        self.bar.inc(1);
        if self.bar.is_hidden()
            && Instant::now() > self.show_after
            && std::io::stderr().is_terminal()
        {
            self.bar
                .set_draw_target(indicatif::ProgressDrawTarget::stderr());
        }
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// Every file rendered, parsed, extracted and judged, in parallel; a dbt
/// model that `ref()`s a checked model is only rendered, and checked once
/// its upstream models are, in dependency order, with what they output.
/// Returns each file's outcome (in `files`' order), the models' outputs,
/// and, with a memo, the run's fingerprint (see [`run_fingerprint`]).
fn check_files(
    files: &[RunFile],
    options: &CheckOptions,
    registry: &Registry,
    progress: &Progress,
) -> (Vec<FileOutcome>, ProjectModels, Option<u64>) {
    let no_models = Models::new();
    let checked_models: HashSet<String> = files
        .iter()
        .filter(|f| f.role != Role::Analysis)
        .map(|f| model_name(&f.path))
        .collect();
    let interner = crate::drift::SiteInterner::default();
    let fingerprint = options.memo.as_ref().map(|memo| {
        let mut names: HashSet<String> = checked_models.clone();
        names.extend(files.iter().map(|f| f.path.display().to_string()));
        let fingerprint = run_fingerprint(options, registry, &names);
        memo.begin(fingerprint);
        fingerprint
    });
    let check_all = || -> Vec<FileOutcome> {
        files
            .par_iter()
            .map(|file| {
                let recalling = Instant::now();
                // What a file taken from memory cost is this run's time,
                // not the time its first check took.
                let recalled =
                    options
                        .memo
                        .as_ref()
                        .and_then(|m| m.recall(file))
                        .map(|mut outcome| {
                            outcome.elapsed = recalling.elapsed();
                            outcome
                        });
                let fresh = recalled.is_none();
                let mut outcome = recalled.unwrap_or_else(|| {
                    check_file_deferring(file, options, registry, &no_models, Some(&checked_models))
                });
                interner.intern(&mut outcome.sites);
                // Kept once interned, the memo's copy shares what the run
                // holds: a recall clones pointers, not forms.
                if let (true, Some(memo)) = (fresh, &options.memo) {
                    memo.keep(file, &outcome);
                }
                progress.tick();
                outcome
            })
            .collect()
    };
    // Parsers and tree walks recurse; generated SQL can nest deeply, so the
    // workers get a roomy stack (reserved, not committed, memory).
    let pool = rayon::ThreadPoolBuilder::new()
        .stack_size(WORKER_STACK)
        .build()
        .ok();
    let mut outcomes = match &pool {
        Some(pool) => pool.install(check_all),
        None => check_all(),
    };
    let models = recheck_with_upstream(
        files,
        &mut outcomes,
        options,
        registry,
        pool.as_ref(),
        &interner,
    );
    (outcomes, models, fingerprint)
}

/// The buffer read from stdin, checked in the run's context under its name.
fn check_stdin(
    name: &str,
    bytes: &[u8],
    options: &CheckOptions,
    registry: &Registry,
    models: &ProjectModels,
    roots: &[PathBuf],
) -> FileOutcome {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text.strip_prefix('\u{feff}').unwrap_or(text),
        Err(e) => return not_utf8(name, bytes, e),
    };
    let no_models = Models::new();
    let project = options.projects.for_file(Path::new(name));
    let scope = project.as_ref().map(|p| p.ref_scope.clone());
    let upstream = models.get(&scope).unwrap_or(&no_models);
    let standalone = options.projects.standalone();
    let context = FileContext::in_run(
        options,
        registry,
        project.as_deref(),
        standalone.as_deref(),
        upstream,
        None,
    );
    let mut outcome = check_source_in(name, text, context);
    mark_report(
        &mut outcome.sites,
        Path::new(name),
        project.as_deref(),
        roots,
    );
    outcome
}

/// The reported files' results, gathered for the stages across reports.
#[derive(Default)]
struct Gathered {
    findings: Vec<Finding>,
    left_out: Vec<LeftOut>,
    sites: crate::drift::Sites,
    suppressions: HashMap<String, Suppressions>,
    /// Each unknown macro, where it is first called.
    unknown_macros: BTreeMap<String, (String, Range)>,
    hashes: HashMap<String, u64>,
    times: HashMap<String, Duration>,
    repositorys_units: crate::rules::RepositoryUnits,
    agreed_per_row: std::collections::BTreeSet<String>,
    /// Each file's statements that hold no query and did not parse.
    skipped_statements: HashMap<String, usize>,
}

impl Gathered {
    fn add(&mut self, path: String, outcome: FileOutcome) {
        if let Some(hash) = outcome.content_hash {
            self.hashes.insert(path.clone(), hash);
        }
        self.times.insert(path.clone(), outcome.elapsed);
        if outcome.skipped_statements > 0 {
            self.skipped_statements
                .insert(path.clone(), outcome.skipped_statements);
        }
        self.findings.extend(outcome.findings);
        self.left_out.extend(outcome.left_out);
        self.agreed_per_row.extend(outcome.agreed_per_row);
        self.sites.add_file(outcome.sites);
        for (name, range) in outcome.unknown_macros {
            self.unknown_macros
                .entry(name)
                .or_insert_with(|| (path.clone(), range));
        }
        if !outcome.suppressions.is_empty() {
            self.suppressions.insert(path, outcome.suppressions);
        }
    }
}

/// The metrics of a dbt project's YAML that is not the registry, as
/// figures of their files beside the reports' (see
/// [`crate::definitions::unregistered_as_sites`]). What is found in them
/// is found by [`across_reports`], not here.
fn add_definition_sites(
    gathered: &mut Gathered,
    definitions: &Registry,
    registry: &Registry,
    options: &CheckOptions,
    roots: &[PathBuf],
) {
    let as_sites = |path: &str, extracted: Vec<crate::extract::Site>| {
        let shared: Arc<str> = Arc::from(path);
        let (mut findings, mut sites, mut agreed_per_row) = (Vec::new(), Vec::new(), Vec::new());
        keep_sites(
            &shared,
            "",
            extracted,
            registry,
            options.inventory,
            &|_| None,
            false,
            &mut findings,
            &mut sites,
            &mut agreed_per_row,
        );
        let file = Path::new(path);
        let project = options.projects.for_file(file);
        mark_report(&mut sites, file, project.as_deref(), roots);
        sites
    };
    for (path, extracted) in crate::definitions::unregistered_as_sites(definitions, registry) {
        gathered.sites.add_file(as_sites(&path, extracted));
    }
    // The inventory lists the definitions of registered metrics too, as
    // `check` judged them at the YAML.
    if options.inventory {
        for judged in crate::definitions::registered_as_sites(definitions, registry) {
            let mut sites = as_sites(&judged.path, vec![judged.site]);
            for site in &mut sites {
                site.verdict = judged
                    .finding
                    .as_ref()
                    .map(|f| Box::new((f.code, f.message.clone())));
                site.left_to_reports = judged.finding.is_none() && judged.left_to_the_project;
                site.grounded_by_repository = false;
            }
            gathered.sites.add_file(sites);
        }
    }
}

/// Every file's findings, with what only the reports together show: the
/// same unregistered metric computed several ways (ML010), a scale the
/// repository keeps (see [`UnitMismatch::in_the_repositorys_unit`]), and
/// each unknown macro once, where it is first called.
fn across_reports(
    gathered: &mut Gathered,
    registry: &Registry,
    definitions: Option<&Registry>,
    yaml_layer: bool,
    remembered: Option<(&Memo, u64)>,
) -> Vec<Finding> {
    let mut findings = std::mem::take(&mut gathered.findings);
    let inconsistent = match remembered {
        Some((memo, key)) => memo.cross_report(key).unwrap_or_else(|| {
            let found = inconsistent_computations(&gathered.sites, registry);
            memo.keep_cross_report(key, &found);
            found
        }),
        None => inconsistent_computations(&gathered.sites, registry),
    };
    findings.extend(inconsistent);
    let mut in_definitions = if yaml_layer {
        crate::definitions::judge_definitions(registry)
    } else {
        Vec::new()
    };
    if let Some(definitions) = definitions {
        in_definitions.extend(crate::definitions::judge_against(definitions, registry));
    }
    // A `# noqa` in the YAML silences what is found there (and one that
    // silences nothing is unused, whether or not the file has findings).
    let yaml_files = if yaml_layer {
        crate::definitions::files(registry, definitions)
    } else {
        Vec::new()
    };
    for path in yaml_files {
        if let std::collections::hash_map::Entry::Vacant(entry) = gathered.suppressions.entry(path)
        {
            if let Ok(text) = std::fs::read_to_string(entry.key()) {
                let suppressions = Suppressions::parse_lookml(&text);
                if !suppressions.is_empty() {
                    entry.insert(suppressions);
                }
            }
        }
    }
    findings.extend(in_definitions);
    gathered.repositorys_units = UnitMismatch::repositorys_units(
        &findings,
        gathered.sites.iter(),
        &gathered.agreed_per_row,
        registry,
    );
    let mut findings =
        UnitMismatch::without_the_repositorys_units(findings, &gathered.repositorys_units);
    for (name, (path, range)) in &gathered.unknown_macros {
        findings.push(UnknownMacro::finding(path, *range, name));
    }
    findings
}

/// A hash of the run's fingerprint, of every file's path and bytes where
/// every file stands alone (see [`Memo`]), of the folders reports are read
/// from (which decide what a retired folder is) and of the `metadata.yaml`
/// beside the reports (which may mark them deprecated): what the
/// cross-report stage reads depends on nothing else. `None` where some
/// file does not stand alone (a dbt model), or its bytes were not hashed.
fn standing_alone_key(
    files: &[RunFile],
    outcomes: &[FileOutcome],
    roots: &[PathBuf],
    fingerprint: u64,
) -> Option<u64> {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (fingerprint, roots).hash(&mut hasher);
    let folders: std::collections::BTreeSet<&Path> =
        files.iter().filter_map(|f| f.path.parent()).collect();
    for folder in folders {
        std::fs::read(folder.join("metadata.yaml"))
            .ok()
            .hash(&mut hasher);
    }
    for (file, outcome) in files.iter().zip(outcomes) {
        let stands_alone =
            file.project.is_none() && outcome.refs.is_empty() && outcome.deferred.is_none();
        if !stands_alone {
            return None;
        }
        (&file.path, outcome.content_hash?).hash(&mut hasher);
    }
    files.len().hash(&mut hasher);
    Some(hasher.finish())
}

/// The findings the suppression comments leave, then the config's rules
/// (after the suppressions, so that ML020 is a rule like the others), on
/// the reported files only, sorted; and how many the reported files'
/// comments silenced.
fn suppress(
    findings: Vec<Finding>,
    suppressions: &mut HashMap<String, Suppressions>,
    options: &CheckOptions,
    reported: Option<&[(PathBuf, String)]>,
) -> (Vec<Finding>, usize) {
    let (mut findings, silenced) = apply_suppressions(findings, suppressions);
    if let Some(config) = &options.config {
        findings = config.apply_rules(findings);
    }
    let mut suppressed: usize = silenced.values().sum();
    if let Some(named) = reported {
        findings = only_named(findings, named);
        suppressed = silenced
            .iter()
            .filter(|(path, _)| {
                let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| PathBuf::from(path));
                named
                    .iter()
                    .any(|(p, shown)| *p == canonical || shown == *path)
            })
            .map(|(_, n)| n)
            .sum();
    }
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    (findings, suppressed)
}

/// The files reported on, as shown: every checked file but the packages'
/// models, or the named ones that were checked.
fn reported_files(files: &[RunFile], scope: &Scope, options: &CheckOptions) -> Vec<String> {
    match &scope.reported {
        None => files
            .iter()
            .filter(|f| f.role != Role::PackageModel)
            .map(|f| f.path.display().to_string())
            .collect(),
        Some(named) => named
            .iter()
            .filter(|(canonical, shown)| {
                options
                    .stdin
                    .as_ref()
                    .is_some_and(|(name, _)| name == shown)
                    || files
                        .iter()
                        .any(|f| std::fs::canonicalize(&f.path).ok().as_ref() == Some(canonical))
            })
            .map(|(_, shown)| shown.clone())
            .collect(),
    }
}

/// What checking one file gives: its own findings, and its metric sites for
/// the cross-report views.
/// A definition a file holds that metriclint left out rather than guess at
/// (a LookML measure of a type it does not read), for `explain`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LeftOut {
    pub path: String,
    pub line: u32,
    pub name: String,
    pub why: &'static str,
}

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct FileOutcome {
    pub findings: Vec<Finding>,
    /// Statements the dialect could not parse that hold no query (see
    /// [`crate::parse::ParseFailure::holds_a_query`]).
    pub skipped_statements: usize,
    /// The definitions left out, and why.
    pub left_out: Vec<LeftOut>,
    pub sites: Vec<MetricSite>,
    /// The registered metrics a row-level column computes exactly as
    /// agreed (`clicks / impressions AS ctr` for a fraction CTR): no
    /// metric sites, but witnesses of the agreed scale (see
    /// [`UnitMismatch::repositorys_units`]).
    pub agreed_per_row: Vec<String>,
    /// A LookML file's views and explores (see
    /// [`crate::lookml::explores`]).
    pub lookml: Option<Box<crate::lookml::explores::Facts>>,
    /// The file's suppression comments, applied once every finding is known.
    pub suppressions: Suppressions,
    /// Macros the file's template called but nothing defines, with where.
    pub unknown_macros: Vec<(String, Range)>,
    /// The models the file `ref()`s.
    pub refs: Vec<String>,
    /// What the file's last query outputs, for the models that read it.
    pub outputs: Option<Arc<ModelOutputs>>,
    /// Rendered only: it `ref()`s checked models, so it is checked once
    /// their outputs are known, from this rendering.
    #[serde(skip)]
    pub deferred: Option<Box<Deferred>>,
    /// A hash of the bytes checked (see [`content_hash`]).
    pub content_hash: Option<u64>,
    /// How long checking it took (both passes, for a deferred model).
    pub elapsed: Duration,
}

impl FileOutcome {
    /// A copy of the outcome of a file that stands alone (see [`Memo`]),
    /// which has no model waiting for its upstream ones.
    fn copy_standing_alone(&self) -> FileOutcome {
        FileOutcome {
            findings: self.findings.clone(),
            skipped_statements: self.skipped_statements,
            left_out: self.left_out.clone(),
            sites: self.sites.clone(),
            agreed_per_row: self.agreed_per_row.clone(),
            lookml: self.lookml.clone(),
            suppressions: self.suppressions.clone(),
            unknown_macros: self.unknown_macros.clone(),
            refs: self.refs.clone(),
            outputs: self.outputs.clone(),
            deferred: None,
            content_hash: self.content_hash,
            elapsed: self.elapsed,
        }
    }
}

/// A dbt model rendered in the first pass, waiting for its upstream models.
#[derive(Debug)]
pub struct Deferred {
    /// The template as written.
    text: String,
    /// Its rendering, unless it must render again with the upstream
    /// models' columns.
    rendered: Option<template::Rendered>,
}

impl FileOutcome {
    /// Checks a deferred model now that `models` holds its upstream outputs
    /// (a file not deferred is checked from disk), keeping its first pass's
    /// content hash and time.
    fn resume(
        &mut self,
        file: &RunFile,
        options: &CheckOptions,
        registry: &Registry,
        models: &Models,
    ) -> FileOutcome {
        let (hash, before, started) = (self.content_hash, self.elapsed, Instant::now());
        let mut resumed = self.check_again(file, options, registry, models);
        resumed.content_hash = resumed.content_hash.or(hash);
        resumed.elapsed = before + started.elapsed();
        resumed
    }

    fn check_again(
        &mut self,
        file: &RunFile,
        options: &CheckOptions,
        registry: &Registry,
        models: &Models,
    ) -> FileOutcome {
        let Some(deferred) = self.deferred.take() else {
            return check_file_deferring(file, options, registry, models, None);
        };
        let project = file.project.as_deref();
        let shown = file.path.display().to_string();
        let rendered = match deferred.rendered {
            Some(rendered) if !rendered.wants_upstream_columns => Ok(rendered),
            _ => template::render_knowing(
                &deferred.text,
                options.dialect,
                project.map(|p| &p.jinja),
                known_columns(models),
            ),
        };
        match rendered {
            Ok(rendered) => check_rendered(
                &shown,
                &deferred.text,
                &rendered,
                options.dialect,
                registry,
                options.inventory,
                models,
                project,
            ),
            Err(e) => FileOutcome {
                findings: vec![TemplateError::finding(&shown, e.line, e.message)],
                suppressions: Suppressions::parse(&deferred.text),
                refs: e.refs,
                ..FileOutcome::default()
            },
        }
    }
}

/// Checks one file read from disk.
pub fn check_file(
    path: &Path,
    options: &CheckOptions,
    registry: &Registry,
    models: &Models,
) -> FileOutcome {
    check_file_deferring(&RunFile::of(path, options), options, registry, models, None)
}

/// [`check_file`], except that a dbt model that `ref()`s one of `checked`
/// (other than itself) is only rendered, and comes back `deferred`.
fn check_file_deferring(
    file: &RunFile,
    options: &CheckOptions,
    registry: &Registry,
    models: &Models,
    checked: Option<&HashSet<String>>,
) -> FileOutcome {
    let started = Instant::now();
    let path = &file.path;
    let shown = path.display().to_string();
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) => {
            return FileOutcome {
                left_out: Vec::new(),
                skipped_statements: 0,
                findings: vec![ParseError::finding(
                    &shown,
                    Range::file_start(),
                    format!("cannot read the file: {e}"),
                    "check the file's permissions; the other files were checked",
                )],
                sites: Vec::new(),
                agreed_per_row: Vec::new(),
                lookml: None,
                suppressions: Suppressions::default(),
                unknown_macros: Vec::new(),
                refs: Vec::new(),
                outputs: None,
                deferred: None,
                content_hash: None,
                elapsed: Duration::ZERO,
            }
        }
    };
    let hash = content_hash(&bytes);
    let mut outcome = match String::from_utf8(bytes) {
        Ok(text) => {
            let project = file.project.as_deref();
            let defer = checked.zip(project).map(|(checked, _)| Defer {
                checked,
                own: model_name(path),
            });
            let standalone = options.projects.standalone();
            let context = FileContext::in_run(
                options,
                registry,
                project,
                standalone.as_deref(),
                models,
                defer,
            );
            check_source_in(&shown, &text, context)
        }
        Err(e) => not_utf8(&shown, e.as_bytes(), e.utf8_error()),
    };
    outcome.content_hash = Some(hash);
    outcome.elapsed = started.elapsed();
    outcome
}

/// The outcome of a file that is not UTF-8: one ML900 at the first bad byte.
fn not_utf8(shown: &str, bytes: &[u8], error: std::str::Utf8Error) -> FileOutcome {
    let valid = &bytes[..error.valid_up_to()];
    // Valid up to here by construction.
    let prefix = std::str::from_utf8(valid).unwrap_or_default();
    // Positions are counted after a byte-order mark, as everywhere else.
    let prefix = prefix.strip_prefix('\u{feff}').unwrap_or(prefix);
    let at = LineIndex::new(prefix).position(prefix.len());
    FileOutcome {
        findings: vec![ParseError::finding(
            shown,
            Range {
                start: at,
                end: Position::new(at.line, at.column + 1),
            },
            format!(
                "the file is not UTF-8 text (invalid byte at line {}, column {})",
                at.line, at.column
            ),
            "re-save the file as UTF-8; the other files were checked",
        )],
        ..FileOutcome::default()
    }
}

/// Checks one file's text on its own, shown under `path`: its findings,
/// cross-report drift included within the file.
pub fn check_text(path: &str, text: &str, dialect: Dialect, registry: &Registry) -> Vec<Finding> {
    let outcome = check_source(path, text, dialect, registry, false, None, &Models::new());
    let mut findings = outcome.findings;
    findings.extend(inconsistent_computations(&outcome.sites, registry));
    let agreed_per_row = outcome.agreed_per_row.iter().cloned().collect();
    let units =
        UnitMismatch::repositorys_units(&findings, &outcome.sites, &agreed_per_row, registry);
    let findings = UnitMismatch::without_the_repositorys_units(findings, &units);
    let mut suppressions = HashMap::from([(path.to_string(), outcome.suppressions)]);
    let (mut findings, _) = apply_suppressions(findings, &mut suppressions);
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    findings
}

/// Parses, extracts and judges one file's text; with `inventory`, keeps the
/// registered metric sites too.
pub fn check_source(
    path: &str,
    text: &str,
    dialect: Dialect,
    registry: &Registry,
    inventory: bool,
    project: Option<&crate::dbt::Project>,
    models: &Models,
) -> FileOutcome {
    let context = FileContext {
        dialect,
        registry,
        inventory,
        project,
        templating: project.map(|p| &p.jinja),
        models,
        defer: None,
    };
    check_source_in(path, text, context)
}

/// Which models are checked in this run, and the model being checked: a
/// model that refs another checked one waits for its outputs.
struct Defer<'a> {
    checked: &'a HashSet<String>,
    own: String,
}

/// What checking one file's text needs from the run around it.
struct FileContext<'a> {
    dialect: Dialect,
    registry: &'a Registry,
    inventory: bool,
    /// The file's dbt project: its models are read by other models.
    project: Option<&'a crate::dbt::Project>,
    /// What templates render with: the project, or for a file outside any
    /// project the config's vars alone.
    templating: Option<&'a template::ProjectJinja>,
    /// The upstream models' outputs known so far.
    models: &'a Models,
    defer: Option<Defer<'a>>,
}

impl<'a> FileContext<'a> {
    /// A file of a run: templates outside any dbt project render with the
    /// run's `standalone` vars.
    fn in_run(
        options: &CheckOptions,
        registry: &'a Registry,
        project: Option<&'a crate::dbt::Project>,
        standalone: Option<&'a crate::dbt::Project>,
        models: &'a Models,
        defer: Option<Defer<'a>>,
    ) -> FileContext<'a> {
        FileContext {
            dialect: options.dialect,
            registry,
            inventory: options.inventory,
            project,
            templating: project.or(standalone).map(|p| &p.jinja),
            models,
            defer,
        }
    }
}

fn check_source_in(path: &str, text: &str, context: FileContext<'_>) -> FileOutcome {
    let FileContext {
        dialect,
        registry,
        inventory,
        project,
        templating,
        models,
        defer,
    } = context;
    // Editors do not count a byte-order mark as a character.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if crate::lookml::is_lookml(Path::new(path)) {
        return check_lookml(path, text, dialect, registry, inventory);
    }
    if !template::is_templated(text) {
        // Outside dbt, a notebook's query holds the holes of Python's
        // string formatting (`{table}`, `%(campaign)s`): names, here.
        let holes_named = project
            .is_none()
            .then(|| template::with_python_holes_as_names(text))
            .flatten();
        let sql = holes_named.as_deref().unwrap_or(text);
        return check_sql(path, sql, dialect, registry, inventory, models, project);
    }
    // Outside dbt, holes that are another tool's query parameters (Dune's
    // `{{2. Start date}}`, `{{pool_id}}`) read as names, and the rest renders.
    let parameters_named = project
        .is_none()
        .then(|| template::with_query_parameters_as_names(text))
        .flatten();
    let rendered = match parameters_named {
        Some(named) => template::render(&named, dialect, templating)
            .or_else(|_| template::render(text, dialect, templating)),
        None => template::render(text, dialect, templating),
    };
    match rendered {
        // Braces in a plain SQL string (`like '%{#%'`) are no template.
        Err(_) if project.is_none() && parses_as_plain_sql(text, dialect) => {
            check_sql(path, text, dialect, registry, inventory, models, None)
        }
        // It needs the columns of upstream models: rendered again with them.
        Err(e)
            if e.wants_upstream_columns
                && defer.as_ref().is_some_and(|d| {
                    e.refs.iter().any(|r| *r != d.own && d.checked.contains(r))
                }) =>
        {
            FileOutcome {
                refs: e.refs,
                deferred: Some(Box::new(Deferred {
                    text: text.to_string(),
                    rendered: None,
                })),
                ..FileOutcome::default()
            }
        }
        Err(e) => FileOutcome {
            left_out: Vec::new(),
            skipped_statements: 0,
            findings: vec![TemplateError::finding(path, e.line, e.message)],
            sites: Vec::new(),
            agreed_per_row: Vec::new(),
            lookml: None,
            suppressions: Suppressions::parse(text),
            unknown_macros: Vec::new(),
            refs: Vec::new(),
            outputs: None,
            deferred: None,
            content_hash: None,
            elapsed: Duration::ZERO,
        },
        Ok(rendered)
            if defer.as_ref().is_some_and(|d| {
                rendered
                    .refs
                    .iter()
                    .any(|r| *r != d.own && d.checked.contains(r))
            }) =>
        {
            FileOutcome {
                refs: rendered.refs.clone(),
                deferred: Some(Box::new(Deferred {
                    text: text.to_string(),
                    rendered: Some(rendered),
                })),
                ..FileOutcome::default()
            }
        }
        Ok(rendered) => check_rendered(
            path, text, &rendered, dialect, registry, inventory, models, project,
        ),
    }
}

/// Checks a LookML file: its measures as the SQL Looker runs for them (see
/// [`crate::lookml`]), findings and sites placed at the measures as written.
fn check_lookml(
    path: &str,
    text: &str,
    dialect: Dialect,
    registry: &Registry,
    inventory: bool,
) -> FileOutcome {
    let suppressions = Suppressions::parse_lookml(text);
    let to = LineIndex::new(text);
    let (generated, facts) = match crate::lookml::read(text, &|at| to.position(at).line) {
        Ok(read) => read,
        Err(error) => {
            let start = to.position(error.at);
            let range = Range {
                start,
                end: Position::new(start.line, start.column + 1),
            };
            return FileOutcome {
                findings: vec![ParseError::finding(
                    path,
                    range,
                    format!("cannot read this file as LookML: {}", error.message),
                    "fix the LookML syntax here; Looker's validator shows the same spot",
                )],
                suppressions,
                lookml: Some(Box::new(crate::lookml::explores::Facts::of_unreadable(
                    text,
                ))),
                ..FileOutcome::default()
            };
        }
    };
    let mut outcome = check_sql(
        path,
        &generated.sql,
        dialect,
        registry,
        inventory,
        crate::extract::no_models(),
        None,
    );
    let from = LineIndex::new(&generated.sql);
    for finding in &mut outcome.findings {
        finding.range = generated.map_range(&from, &to, finding.range);
        // A fix edits the SQL metriclint wrote for the measure, not the file.
        finding.fix = None;
        if finding.code == ParseError::INFO.code {
            finding.message = finding
                .message
                .replacen("this statement", "this measure's SQL", 1);
        }
    }
    for site in &mut outcome.sites {
        site.range = generated.map_range(&from, &to, site.range);
    }
    outcome.outputs = None;
    // Missing parentheses in what a measure writes itself, not in the
    // measures its references bring in (each is found where it is written).
    outcome
        .findings
        .retain(|f| f.code != crate::rules::OperatorPrecedence::INFO.code);
    for (measure, own, range) in &generated.own_sql {
        let found = crate::fix::parse_expression(own)
            .and_then(|e| crate::rules::total_beside_its_ratio(&e));
        if let Some(found) = found {
            let range = Range {
                start: to.position(range.start),
                end: to.position(range.end),
            };
            outcome
                .findings
                .push(crate::rules::OperatorPrecedence::finding(
                    path, range, measure, &found,
                ));
        }
    }
    // A measure computed in percent and shown in percent: ×100 twice.
    for shown in &generated.shown_in_percent {
        let in_percent = crate::fix::parse_expression(&generated.sql[shown.expression.clone()])
            .is_some_and(|e| crate::extract::written_scale(&e) == 100.0);
        if in_percent {
            let range = Range {
                start: to.position(shown.format_at.start),
                end: to.position(shown.format_at.end),
            };
            // Said once: not also as another scale than agreed.
            if let Some(block) = generated
                .blocks
                .iter()
                .find(|b| b.contains(&shown.format_at.start))
            {
                let (first, last) = (to.position(block.start).line, to.position(block.end).line);
                outcome.findings.retain(|f| {
                    f.code != UnitMismatch::INFO.code
                        || !(first..=last).contains(&f.range.start.line)
                });
            }
            outcome.findings.push(UnitMismatch::shown_in_percent_twice(
                path,
                range,
                &shown.measure,
                &shown.format,
            ));
        }
    }
    outcome.left_out = generated
        .skipped
        .iter()
        .map(|(name, at, why)| LeftOut {
            path: path.to_string(),
            line: to.position(*at).line,
            name: name.clone(),
            why,
        })
        .collect();
    let mut suppressions = suppressions;
    let blocks: Vec<(u32, u32)> = generated
        .blocks
        .iter()
        .map(|b| {
            let last = text[..b.end]
                .char_indices()
                .next_back()
                .map_or(b.start, |(at, _)| at);
            (to.position(b.start).line, to.position(last).line)
        })
        .collect();
    suppressions.widen_to_blocks(&blocks);
    outcome.suppressions = suppressions;
    outcome.lookml = Some(Box::new(facts));
    outcome
}

/// Leaves out the measures of LookML views that no explore of the run
/// reads, with what they found, and says why (see
/// [`crate::lookml::explores`]).
fn leave_out_unexplored<'o>(outcomes: impl IntoIterator<Item = (&'o str, &'o mut FileOutcome)>) {
    let outcomes: Vec<(&str, &mut FileOutcome)> = outcomes
        .into_iter()
        .filter(|(path, _)| crate::lookml::is_lookml(Path::new(path)))
        .collect();
    // A LookML file that could not be read may hold the explore that reads
    // a view (its text says `explore:`, or it is no text at all): then
    // every view counts as read.
    if outcomes
        .iter()
        .any(|(_, o)| o.lookml.as_ref().is_none_or(|f| f.unread_explores))
    {
        return;
    }
    let Some(explored) = crate::lookml::explores::explored_views(
        outcomes.iter().filter_map(|(_, o)| o.lookml.as_deref()),
    ) else {
        return;
    };
    for (path, outcome) in outcomes {
        let Some(facts) = outcome.lookml.take() else {
            continue;
        };
        for view in facts.views.iter().filter(|v| !explored.contains(&v.name)) {
            let (first, last) = view.lines;
            let inside = |line: u32| first <= line && line <= last;
            outcome.findings.retain(|f| !inside(f.range.start.line));
            outcome.sites.retain(|s| !inside(s.range.start.line));
            outcome.suppressions.excuse_lines(first, last);
            for (measure, line) in &view.measures {
                if !outcome.left_out.iter().any(|l| l.line == *line) {
                    outcome.left_out.push(LeftOut {
                        path: path.to_string(),
                        line: *line,
                        name: measure.clone(),
                        why: crate::lookml::explores::UNEXPLORED,
                    });
                }
            }
        }
    }
}

/// Checks a rendered template, its findings and sites placed where the user
/// wrote them.
#[allow(clippy::too_many_arguments)]
fn check_rendered(
    path: &str,
    text: &str,
    rendered: &template::Rendered,
    dialect: Dialect,
    registry: &Registry,
    inventory: bool,
    models: &Models,
    project: Option<&crate::dbt::Project>,
) -> FileOutcome {
    let mut outcome = check_sql(
        path,
        &rendered.text,
        dialect,
        registry,
        inventory,
        models,
        project,
    );
    outcome.refs = rendered.refs.clone();
    let (from, to) = (LineIndex::new(&rendered.text), LineIndex::new(text));
    // Placeholders of macros defined nowhere are the likely cause of a
    // statement that does not parse: say so, and how to get the macros.
    let missing = (!rendered.unknown_macros.is_empty()).then(|| {
        let mut names: Vec<String> = rendered
            .unknown_macros
            .iter()
            .take(3)
            .map(|n| format!("`{n}`"))
            .collect();
        if rendered.unknown_macros.len() > 3 {
            names.push("…".to_string());
        }
        names.join(", ")
    });
    // The same value twice in SQL a macro generated is the macro's call
    // (the same column passed for two parameters, on purpose where the
    // model's grain makes them one), not a typo in this file.
    outcome.findings.retain(|f| {
        f.code != IdenticalOperands::INFO.code
            || rendered.generated_by(&from, text, f.range).is_none()
    });
    for f in &mut outcome.findings {
        if let Some(names) = missing.as_ref().filter(|_| f.code == ParseError::INFO.code) {
            f.help = Some(format!(
                "the file calls macros defined nowhere ({names}), rendered as placeholders; with the project's packages installed (`dbt deps`) it may parse"
            ));
        }
        if let Some(tag) = rendered.generated_by(&from, text, f.range) {
            f.note_generated_by(tag);
        }
        f.range = rendered.map_range(&from, &to, f.range);
        // A fix edits what the user wrote: none in what a tag generated.
        if let Some(fix) = &mut f.fix {
            let written = fix
                .edits
                .iter()
                .all(|e| rendered.generated_by(&from, text, e.range).is_none());
            if written {
                for edit in &mut fix.edits {
                    edit.range = rendered.map_range(&from, &to, edit.range);
                }
            } else {
                f.fix = None;
            }
        }
    }
    // A key the model declares (its `unique_key`, or a uniqueness test in
    // its property file) is its grain, whatever its SQL shows.
    let declared_key = crate::template::unique_key(text).or_else(|| {
        project
            .and_then(|p| p.tested_unique_key(&model_name(Path::new(path))))
            .map(<[String]>::to_vec)
    });
    if let (Some(key), Some(outputs)) = (declared_key, outcome.outputs.as_mut()) {
        Arc::make_mut(outputs).grain = key;
    }
    let enabled_when: Option<Arc<str>> = crate::template::enabled_condition(text).map(Arc::from);
    for s in &mut outcome.sites {
        s.enabled_when.clone_from(&enabled_when);
        s.generated_by = rendered.generated_by(&from, text, s.range).map(Box::from);
        s.range = rendered.map_range(&from, &to, s.range);
    }
    outcome.suppressions = Suppressions::parse(text);
    outcome.unknown_macros = rendered
        .unknown_macros
        .iter()
        .map(|name| (name.clone(), call_site(text, name, &to)))
        .collect();
    outcome
}

/// Whether the built-in pack defines `name` as a ratio of totals.
fn is_a_pack_rate(name: &str) -> bool {
    static RATES: std::sync::OnceLock<HashSet<String>> = std::sync::OnceLock::new();
    RATES
        .get_or_init(|| {
            crate::registry::builtin::default_pack()
                .map(|pack| {
                    // Under its name or any of the pack's synonyms for it.
                    pack.metrics()
                        .iter()
                        .filter(|m| m.is_ratio())
                        .flat_map(|m| std::iter::once(&m.name).chain(&m.synonyms))
                        .map(|name| name.to_lowercase())
                        .collect()
                })
                .unwrap_or_default()
        })
        .contains(&name.to_lowercase())
}

/// Whether every statement of the text parses as it is.
fn parses_as_plain_sql(text: &str, dialect: Dialect) -> bool {
    parse_each(text, dialect.parser_dialect().as_ref(), &mut |_| {}).is_empty()
}

/// Where a template calls `name` (its last part followed by `(`), else its start.
fn call_site(text: &str, name: &str, index: &LineIndex<'_>) -> Range {
    let last = name.rsplit('.').next().unwrap_or(name);
    match template::call_offset(text, last) {
        Some(at) => Range {
            start: index.position(at),
            end: index.position(at + last.len()),
        },
        None => Range::file_start(),
    }
}

/// Parses, extracts and judges one file's SQL.
fn check_sql(
    path: &str,
    text: &str,
    dialect: Dialect,
    registry: &Registry,
    inventory: bool,
    models: &Models,
    project: Option<&crate::dbt::Project>,
) -> FileOutcome {
    let dbt_model = project.is_some();
    // What the model's property file says its columns are.
    let model = model_name(Path::new(path));
    let described = |column: &str| -> Option<crate::registry::Unit> {
        project
            .and_then(|p| p.column_description(&model, column))
            .and_then(crate::dbt::described_unit)
    };
    let parser_dialect = dialect.parser_dialect();
    // Every named computation: registered ones are judged, the others may drift.
    let every_name = |_: &str| true;
    // Only a dbt model's outputs can be read by another model.
    // Row-level sites matter only under a registered name (judged, and
    // found unknown or agreeing).
    // And under a rate's name, where a ratio per row is compared with the
    // other reports' ratios of totals (ML010).
    let registered =
        |name: &str| registry.lookup(name).is_some() || crate::names::names_a_rate(name);
    // Only an output under a synonym of a registered metric is renamed
    // (ML011's fix), so only its reads are looked for.
    let synonym = |name: &str| matches!(registry.lookup(name), Some((_, NameMatch::Synonym)));
    let mut extractor = Extractor::new(text, &every_name, models)
        .keeping_outputs(dbt_model)
        .keeping_row_level_only(&registered)
        .following_reads_of(&synonym);
    // Each statement's sites are judged and made compact as soon as it is
    // walked, so a file of a million statements never holds them all whole.
    let path_shared: Arc<str> = Arc::from(path);
    let (mut findings, mut sites) = (Vec::new(), Vec::new());
    let mut agreed_per_row = Vec::new();
    // Within the file too: a generated dump repeats its reports.
    let interner = crate::drift::SiteInterner::default();
    let truncates = dialect.truncates_integer_division();
    let divides_with_operator = dialect == Dialect::DuckDb;
    // What a dbt project's property files declare of the columns of its
    // models, and which columns a team's registry counts (the built-in pack
    // knows no repository's columns).
    let by_model = |model: &str, column: &str| {
        use crate::canon::integer::{integer_type_width, ColumnType};
        let declared = project.and_then(|p| p.column_data_type(model, column))?;
        Some(integer_type_width(declared).map_or(ColumnType::Other, ColumnType::Whole))
    };
    let counted = |column: &str| registry.counts_column(column);
    let declared = crate::canon::integer::Declared {
        by_model: &by_model,
        counted: &counted,
    };
    // Only a file that mentions ROUND or TRUNC is walked for rounding
    // before aggregation (ML007): most files never round.
    let mentions_rounding = text
        .as_bytes()
        .windows(5)
        .any(|w| w.eq_ignore_ascii_case(b"round") || w.eq_ignore_ascii_case(b"trunc"));
    // Only a file with a finding an expression gives needs its lines.
    let mut lines: Option<LineIndex<'_>> = None;
    let mut default_schema = crate::parse::DefaultSchema::default();
    // A temporary table's columns that nothing reads (see `liveness`): what
    // each statement from the first temporary step on reads, and the sites
    // of those steps.
    let mut statement_index = 0usize;
    let mut uses: Vec<(usize, StatementUse)> = Vec::new();
    let mut temporary_sites: Vec<(usize, String, Range)> = Vec::new();
    let failures = parse_each(text, parser_dialect.as_ref(), &mut |mut statement| {
        default_schema.apply(&mut statement);
        let index = statement_index;
        statement_index += 1;
        let temporary_step = liveness::is_temporary_step(&statement);
        if temporary_step || !uses.is_empty() {
            uses.push((index, StatementUse::of(&statement)));
        }
        if truncates || divides_with_operator {
            for division in
                crate::canon::integer::whole_number_divisions(&statement, dialect, &declared)
            {
                findings.push(IntegerDivision::finding(
                    path,
                    place_in(text, &mut lines, &division.division),
                    &division.division.to_string(),
                    division.by_operator,
                    dialect,
                ));
            }
        }
        for found in crate::extract::identical_operands::identical_operands(&statement) {
            findings.push(IdenticalOperands::finding(
                path,
                place_in(text, &mut lines, &found.operation),
                &found.operation.to_string(),
                found.outcome,
            ));
        }
        let rounded_sums = if mentions_rounding {
            crate::canon::rounding::rounded_before_aggregation(&statement)
        } else {
            Vec::new()
        };
        let mut rounded_findings = Vec::new();
        for rounded in rounded_sums {
            let metric = registry
                .lookup(&rounded.output)
                .filter(|(m, _)| matches!(m.unit, Some(Unit::Currency | Unit::CurrencyMicros)))
                .map(|(m, _)| m.name.as_str());
            let money = metric.is_some()
                || crate::names::names_money(&rounded.output)
                || rounded.columns.iter().any(|c| crate::names::names_money(c));
            if money {
                rounded_findings.push(RoundingBeforeAggregation::finding(
                    path,
                    place_in(text, &mut lines, &rounded.rounding),
                    &rounded.output,
                    metric,
                    &rounded.aggregate.to_string(),
                    &rounded.rounding.to_string(),
                ));
            }
        }
        extractor.statement(&statement);
        let extracted = extractor.take_sites();
        if temporary_step {
            temporary_sites.extend(
                extracted
                    .iter()
                    .map(|site| (index, site.output_name.to_lowercase(), site.range)),
            );
        }
        // Over groups of one row each, a row's rounding is the total's.
        findings.extend(rounded_findings.into_iter().filter(|finding| {
            !extracted.iter().any(|site| {
                site.one_row_per_group
                    && site.range.start <= finding.range.start
                    && finding.range.end <= site.range.end
            })
        }));
        let first_new = sites.len();
        keep_sites(
            &path_shared,
            text,
            extracted,
            registry,
            inventory,
            &described,
            dbt_model,
            &mut findings,
            &mut sites,
            &mut agreed_per_row,
        );
        interner.intern(&mut sites[first_new..]);
    });
    // A statement that could not be parsed may read any column.
    if !temporary_sites.is_empty() && failures.is_empty() {
        drop_dead_columns(&uses, &temporary_sites, &mut findings, &mut sites);
    }
    // A statement with no query in it holds no metric: that the dialect
    // cannot parse it (an Oracle `ALTER INDEX … REBUILD`) is no finding,
    // only counted.
    let (failures, without_a_query): (Vec<_>, Vec<_>) =
        failures.into_iter().partition(|f| f.holds_a_query);
    let mut outcome = FileOutcome {
        left_out: Vec::new(),
        skipped_statements: without_a_query.len(),
        findings: failures
            .into_iter()
            .map(|failure| {
                ParseError::finding(
                    path,
                    failure.range,
                    format!("cannot parse this statement as {dialect} SQL: {}", failure.message),
                    "the rest of the file and the other files are still checked; if this is valid SQL of another dialect, pass --dialect",
                )
            })
            .collect(),
        sites: Vec::new(),
        agreed_per_row: Vec::new(),
        lookml: None,
        suppressions: Suppressions::parse(text),
        unknown_macros: Vec::new(),
        refs: Vec::new(),
        outputs: None,
        deferred: None,
        content_hash: None,
        elapsed: Duration::ZERO,
    };
    let (_, outputs) = extractor.finish();
    outcome.outputs = outputs.map(Arc::new);
    outcome.findings.extend(findings);
    outcome.sites = sites;
    outcome.sites.shrink_to_fit();
    outcome.agreed_per_row = agreed_per_row;
    outcome
}

/// Drops the findings and sites of temporary tables' columns that nothing
/// reads: no report's figure (see `liveness`).
fn drop_dead_columns(
    uses: &[(usize, StatementUse)],
    temporary_sites: &[(usize, String, Range)],
    findings: &mut Vec<Finding>,
    sites: &mut Vec<MetricSite>,
) {
    let dead = liveness::dead_columns(uses);
    if dead.is_empty() {
        return;
    }
    let dead_ranges: Vec<Range> = temporary_sites
        .iter()
        .filter(|(statement, name, _)| dead.contains(&(*statement, name.clone())))
        .map(|(_, _, range)| *range)
        .collect();
    let of_a_metric = [
        DefinitionMismatch::INFO.code,
        FilterMismatch::INFO.code,
        SourceMismatch::INFO.code,
        UnitMismatch::INFO.code,
        RatioAggregationMismatch::INFO.code,
        CurrencyMismatch::INFO.code,
        NonCanonicalName::INFO.code,
    ];
    findings.retain(|f| {
        !(of_a_metric.contains(&f.code)
            && dead_ranges
                .iter()
                .any(|r| r.start <= f.range.start && f.range.end <= r.end))
    });
    sites.retain(|s| !dead.contains(&(s.statement, s.output_name.to_lowercase())));
}

/// Where an expression of `text` is, the file's line index made on first
/// need.
fn place_in<'t>(
    text: &'t str,
    lines: &mut Option<LineIndex<'t>>,
    expr: &sqlparser::ast::Expr,
) -> Range {
    let lines = lines.get_or_insert_with(|| LineIndex::new(text));
    crate::extract::inner_expression_range(text, lines, expr)
}

/// Judges one statement's extracted sites: their findings go to
/// `findings`, and the sites the cross-report views need to `sites`.
/// `text` is the file's, for fixes.
#[allow(clippy::too_many_arguments)]
fn keep_sites(
    path: &Arc<str>,
    text: &str,
    extracted: Vec<crate::extract::Site>,
    registry: &Registry,
    inventory: bool,
    described: &dyn Fn(&str) -> Option<crate::registry::Unit>,
    dbt_model: bool,
    findings: &mut Vec<Finding>,
    sites: &mut Vec<MetricSite>,
    agreed_per_row: &mut Vec<String>,
) {
    let shared_path = path;
    let first_new = sites.len();
    findings.extend(currency_findings(path, &extracted));
    // What the statement publishes, for a figure's siblings (see `judged_site`).
    let published: Vec<crate::canon::Expr> = extracted
        .iter()
        .filter(|s| s.top_level && s.computation.has_aggregate())
        .map(|s| without_slice(&s.computation))
        .collect();
    let published: Vec<&crate::canon::Expr> = published.iter().collect();
    // Figures missing their parentheses (`a - b / a`), whatever their name:
    // that is what is wrong with them, said once (not also as a formula
    // other than agreed, nor compared with other reports).
    let mut missing_parentheses: Vec<Range> = Vec::new();
    let first_finding = findings.len();
    for site in extracted {
        if site.top_level {
            if let Some(found) = &site.missing_parentheses {
                missing_parentheses.push(site.range);
                findings.push(crate::rules::OperatorPrecedence::finding(
                    path,
                    site.range,
                    &site.output_name,
                    found,
                ));
            }
        }
        if let Some((metric, how)) = registry.lookup(&site.output_name) {
            // A CTE's or subquery's column is a step of the report; what
            // it computes reaches the report's outputs through lineage, and
            // is judged there (never twice, never as a stage of its own).
            let (finding, agreed) = judged_site(
                path,
                &site,
                registry,
                described(&site.output_name),
                &published,
                dbt_model,
            );
            let mut finding = finding.filter(|_| site.top_level);
            // The fixes a finding of another scale, a left-out filter or
            // averaged ratios has (the last two change the figure: unsafe).
            if let Some(f) = finding.as_mut() {
                f.fix = match f.code {
                    code if code == UnitMismatch::INFO.code => {
                        scale_between(&site.computation, &metric.agreed)
                            .and_then(|factor| crate::fix::rescaled(text, site.range, &factor))
                    }
                    // Where the agreed filter added to the figure's
                    // aggregates makes it the agreed computation, over the
                    // columns of the base tables it reads itself (a CTE's
                    // or a model's may not hold the filter's columns).
                    code if code == FilterMismatch::INFO.code
                        && !metric.filter.is_empty()
                        && reads_only_base_tables(&site)
                        && filtered_as_agreed(&site, metric, registry) =>
                    {
                        let filter: Vec<String> =
                            metric.filter.iter().map(ToString::to_string).collect();
                        crate::fix::filtered(text, site.range, &filter.join(" AND "))
                    }
                    code if code == RatioAggregationMismatch::INFO.code => {
                        crate::fix::ratio_of_totals(text, site.range)
                    }
                    // With no filter agreed that the formula would leave out,
                    // and where the figure aggregates the columns of what it
                    // reads itself (not a CTE's or a model's computed ones,
                    // which the agreed columns are not columns of).
                    code if code == DefinitionMismatch::INFO.code
                        && metric.filter.is_empty()
                        && site.written.is_none()
                        && site.written_with_ctes.is_none()
                        && site.computation.has_aggregate()
                        && !site.computation.has_renames() =>
                    {
                        agreed_sql(metric).and_then(|sql| {
                            crate::fix::agreed_formula(text, site.range, &sql, site.over_a_join)
                        })
                    }
                    // Its own rule's (ML011's rename).
                    _ => f.fix.take(),
                };
            }
            // A figure agreed in one currency and found in another, where
            // nothing else differs.
            let finding = match (&finding, &metric.currency) {
                (None, Some(currency)) if site.top_level => {
                    let own = site.written.as_ref().unwrap_or(&site.computation);
                    crate::canon::currency::currency_of(own)
                        .filter(|found| found.currency != Currency::Code(currency.clone()))
                        .map(|found| {
                            CurrencyMismatch::against_registry(
                                path, &site, metric, currency, &found,
                            )
                        })
                }
                _ => finding,
            };
            // Under built-in packs only, a site the pack found no fault with
            // is compared with the other reports: they ground what the pack
            // cannot (columns, grain).
            let grounded_by_repository = metric.compare_reports
                || (registry.judges_as_pack(metric)
                    && finding
                        .as_ref()
                        .is_none_or(|f| f.code == NonCanonicalName::INFO.code));
            // A row-level column of the metric's name (a staging model's
            // definition of it) is no computation of the metric; computed
            // as agreed, it witnesses the agreed scale.
            if site.top_level
                && (agreed || crate::judge::row_level_ratio_agrees(&site.computation, metric))
                && !site.computation.has_aggregate()
            {
                agreed_per_row.push(metric.name.clone());
            }
            if !(inventory || grounded_by_repository) || !site.computation.has_aggregate() {
                findings.extend(finding);
                continue;
            }
            let form = without_slice(&site.computation);
            sites.push(MetricSite {
                row_level: false,
                path: Arc::clone(shared_path),
                output_name: Arc::from(site.output_name.as_str()),
                range: site.range,
                renamed_read_form: read_form_if_other(&site.computation, &form),
                form: Arc::new(form),
                // Only `init` judges sites again, against what it proposes.
                computation: inventory.then(|| Box::new(site.computation.clone())),
                sources: Arc::from(site.sources.as_slice()),
                source_tables: Arc::from(site.source_tables.as_slice()),
                reads: Arc::from(site.reads.as_slice()),
                slice: Arc::from(common_conditions(&site.computation)),
                registered: Some((Arc::from(metric.name.as_str()), how == NameMatch::Synonym)),
                verdict: finding
                    .as_ref()
                    .map(|f| Box::new((f.code, f.message.clone()))),
                grounded_by_repository,
                // Whether the judge agreed, or left it to the reports (or
                // to no one: a site it cannot compare for sure).
                left_to_reports: metric.compare_reports || finding.is_none() && !agreed,
                label: site.label.as_deref().map(Box::from),
                target: site.target.as_deref().map(Box::from),
                statement: site.statement,
                in_union: site.in_union,
                top_level: site.top_level,
                generated_by: None,
                project: None,
                retired: false,
                enabled_when: None,
                over_a_join: site.over_a_join,
                written_scale: site.written_scale,
                written: site.written.as_ref().map(|w| Arc::new(without_slice(w))),
                written_with_ctes: site
                    .written_with_ctes
                    .as_ref()
                    .map(|w| Arc::new(without_slice(w))),
                entities: site.entities.into_boxed_slice(),
                reads_distinct: site.reads_distinct.into_boxed_slice(),
            });
            findings.extend(finding);
            continue;
        }
        // A ratio per row under a rate's name (`clicks / impressions AS ctr`
        // in a model per ad per day) is its grain's ratio of totals.
        let row_level = !site.computation.has_aggregate();
        let site = if row_level {
            match crate::judge::row_level_ratio_as_totals(&site.computation) {
                Some(lifted) if site.top_level => crate::extract::Site {
                    computation: lifted,
                    written: None,
                    written_with_ctes: None,
                    ..site
                },
                _ => continue,
            }
        } else {
            site
        };
        // Where the SUM is written: a report reading a model's summed rate
        // is the model's finding, not its own.
        // An exchange rate (`SUM(conversion_rate) AS tipo_cambio`) is no rate
        // of events: grouped per transaction, its sum passes it through.
        if site.top_level
            && site.aggregates_itself
            && !site.one_row_per_group
            && !crate::names::names_an_exchange_rate(&site.output_name)
        {
            if let Some(column) = crate::judge::summed_rate(&site.computation) {
                findings.push(RatioAggregationMismatch::summed_rate(path, &site, &column));
            }
        }
        let form = if site.computation.has_renames() {
            without_slice(&site.computation.clone().opaque_renames_as_columns())
        } else {
            without_slice(&site.computation)
        };
        // `init` judges every aggregate later, as `check` will once its
        // names are registered; the other views take metrics only.
        if inventory || is_metric(&form) {
            sites.push(MetricSite {
                row_level,
                path: Arc::clone(shared_path),
                output_name: Arc::from(site.output_name),
                range: site.range,
                slice: Arc::from(common_conditions(&site.computation)),
                renamed_read_form: read_form_if_other(&site.computation, &form),
                form: Arc::new(form),
                // Only `init` judges sites again, against what it proposes.
                computation: inventory.then(|| Box::new(site.computation.clone())),
                sources: Arc::from(site.sources),
                source_tables: Arc::from(site.source_tables),
                reads: Arc::from(site.reads),
                registered: None,
                generated_by: None,
                verdict: None,
                grounded_by_repository: false,
                left_to_reports: false,
                label: site.label.map(String::into_boxed_str),
                target: site.target.map(String::into_boxed_str),
                statement: site.statement,
                in_union: site.in_union,
                top_level: site.top_level,
                project: None,
                retired: false,
                enabled_when: None,
                entities: site.entities.into_boxed_slice(),
                reads_distinct: site.reads_distinct.into_boxed_slice(),
                over_a_join: site.over_a_join,
                written_scale: site.written_scale,
                written: site
                    .written
                    .as_ref()
                    .map(|w| Arc::new(without_slice(&w.clone().opaque_renames_as_columns()))),
                written_with_ctes: site
                    .written_with_ctes
                    .as_ref()
                    .map(|w| Arc::new(without_slice(&w.clone().opaque_renames_as_columns()))),
            });
        }
    }
    if !missing_parentheses.is_empty() {
        let judged = [
            DefinitionMismatch::INFO.code,
            FilterMismatch::INFO.code,
            SourceMismatch::INFO.code,
            UnitMismatch::INFO.code,
            RatioAggregationMismatch::INFO.code,
        ];
        let mut these = findings.split_off(first_finding);
        these.retain(|f| !(judged.contains(&f.code) && missing_parentheses.contains(&f.range)));
        findings.append(&mut these);
        // Not compared with other reports; still listed by the inventory.
        if !inventory {
            let mut new = sites.split_off(first_new);
            new.retain(|s| !missing_parentheses.contains(&s.range));
            sites.append(&mut new);
        }
    }
    // `check` keeps only what ML010 compares: on a run of a million files,
    // every site kept is memory held to the end.
    if !inventory {
        let mut new = sites.split_off(first_new);
        new.retain(crate::drift::is_compared);
        sites.append(&mut new);
    }
}

/// ML008 for one statement's sites: money in two currencies meeting in
/// one figure. Reported where the two meet in what a SELECT writes; a mix
/// seen only through a CTE's columns is reported once, at the first site
/// reading it.
fn currency_findings(path: &str, extracted: &[crate::extract::Site]) -> Vec<Finding> {
    let mut reported: Vec<(String, String)> = Vec::new();
    let mut findings = Vec::new();
    for through_ctes in [false, true] {
        for site in extracted {
            if crate::names::names_an_exchange_rate(&site.output_name) {
                continue;
            }
            let through = site.written.as_ref().unwrap_or(&site.computation);
            let form = if through_ctes {
                through
            } else {
                site.written_with_ctes.as_ref().unwrap_or(through)
            };
            let Some(mix) = crate::canon::currency::mixed_currencies(form) else {
                continue;
            };
            let pair = (mix.first.column.clone(), mix.second.column.clone());
            if through_ctes && reported.contains(&pair) {
                continue;
            }
            reported.push(pair);
            findings.push(CurrencyMismatch::mixed(path, site, form, &mix));
        }
    }
    findings
}

/// Tells a file's sites which dbt project they belong to: reports are
/// compared within their project only.
/// A metric's agreed computation as SQL to write in a report: its body
/// where that is plain SQL, else (a body of `metric('…')` references, a
/// numerator and a denominator) its canonical form written out, a ratio
/// guarded by `NULLIF`. `None` where a part aggregates with a filter or
/// is no plain aggregate.
fn agreed_sql(metric: &crate::registry::Metric) -> Option<String> {
    // A body that aggregates (`SUM(clicks) / NULLIF(SUM(impressions), 0)`),
    // not one of metrics by name (`metric('spend') / …`, `wins / bids`).
    let body = metric.body_text.trim();
    let lower = body.to_lowercase();
    let aggregates = ["sum(", "count(", "avg(", "min(", "max("]
        .iter()
        .any(|f| lower.replace(' ', "").contains(f));
    if aggregates && !lower.contains("metric(") {
        return Some(body.to_string());
    }
    let (scale, numerator, denominator) = metric.agreed.as_ratio();
    let plain = |e: &crate::canon::Expr| {
        let printed = e.to_string();
        let printed = match e {
            crate::canon::Expr::Sum(_) => format!("({printed})"),
            _ => printed,
        };
        (e.has_aggregate() && !printed.contains("filter (") && !printed.contains('…'))
            .then_some(printed)
    };
    let numerator = plain(&numerator)?;
    let scaled = if scale == Number::ONE {
        numerator
    } else if scale.to_string().contains('/') {
        // `* 1/3` would divide whole numbers in some dialects.
        return None;
    } else {
        format!("{numerator} * {scale}")
    };
    match denominator {
        crate::canon::Expr::Number(n) if n == Number::ONE => Some(scaled),
        denominator => Some(format!("{scaled} / NULLIF({}, 0)", plain(&denominator)?)),
    }
}

/// Marks a file's sites with its dbt project, and whether its folder says
/// it is retired.
fn mark_report(
    sites: &mut [MetricSite],
    file: &Path,
    project: Option<&crate::dbt::Project>,
    roots: &[PathBuf],
) {
    let root: Option<Arc<Path>> = project.map(|p| Arc::from(p.root.as_path()));
    let retired = !sites.is_empty() && is_retired_report(file, project, roots);
    for site in sites {
        site.project.clone_from(&root);
        site.retired = retired;
    }
}

/// The folders a run's paths are read from, for [`is_retired_report`]: the
/// working directory, the folders named, and the config's.
fn report_roots(options: &CheckOptions) -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = std::env::current_dir().into_iter().collect();
    roots.extend(options.paths.iter().filter(|p| p.is_dir()).cloned());
    roots.extend(options.config.as_ref().map(|c| c.root()));
    roots
        .iter()
        .filter_map(|r| crate::dbt::lexically_absolute(r))
        .collect()
}

/// Whether a report lives in a retired folder (`archive/`, `old queries/`:
/// see [`crate::drift::is_retired`]) below the deepest of `roots` or its
/// project's root that holds it: a folder above the repository (a checkout
/// kept in `~/backup/`) says nothing of its reports.
fn is_retired_report(
    file: &Path,
    project: Option<&crate::dbt::Project>,
    roots: &[PathBuf],
) -> bool {
    let as_written = file.to_string_lossy().replace('\\', "/");
    if !crate::drift::is_retired(&as_written) && !as_written.starts_with("..") {
        return false;
    }
    let Some(absolute) = crate::dbt::lexically_absolute(file) else {
        return false;
    };
    let deepest = roots
        .iter()
        .chain(project.map(|p| &p.root))
        .filter(|root| absolute.starts_with(root))
        .max_by_key(|root| root.components().count());
    let relative = deepest
        .and_then(|root| absolute.strip_prefix(root).ok())
        .unwrap_or(&absolute);
    crate::drift::is_retired(&relative.to_string_lossy().replace('\\', "/"))
}

/// The computation's form read by the names the report reads, when that
/// differs from `form` (it does only where columns are renamed).
fn read_form_if_other(
    computation: &crate::canon::Expr,
    form: &crate::canon::Expr,
) -> Option<Arc<crate::canon::Expr>> {
    Some(read_without_slice(computation))
        .filter(|read| read != form)
        .map(Arc::new)
}

/// The finding for one site against the registry, if any.
/// `published` holds what the site's statement publishes (its outputs'
/// forms without the slice).
pub fn judge_site(
    path: &str,
    site: &Site,
    registry: &Registry,
    published: &[&crate::canon::Expr],
) -> Option<Finding> {
    judged_site(path, site, registry, None, published, false).0
}

/// How many times `expected` the found form's constant factor is.
fn scale_between(found: &crate::canon::Expr, expected: &crate::canon::Expr) -> Option<Number> {
    let (found, _) = crate::judge::split_scale(found);
    let (expected, _) = crate::judge::split_scale(expected);
    found.mul(&expected.recip()?)
}

/// Whether `expected` filters none of its aggregates and `found` filters
/// every one alike: one scope of rows for the whole figure.
fn scopes_the_whole_figure(found: &crate::canon::Expr, expected: &crate::canon::Expr) -> bool {
    let (found, expected) = (
        crate::judge::aggregates(found),
        crate::judge::aggregates(expected),
    );
    expected.iter().all(|a| a.filter.is_empty())
        && found
            .first()
            .is_some_and(|first| found.iter().all(|a| a.filter == first.filter))
}

/// Whether a figure reads one base table, itself: no CTE, derived table
/// or model stands between it and the columns it aggregates, and no join
/// makes a bare column name ambiguous.
fn reads_only_base_tables(site: &Site) -> bool {
    site.reads_tables_itself
        && !site.over_a_join
        && site.written.is_none()
        && site.written_with_ctes.is_none()
        && !site.computation.has_renames()
        && !site.reads.is_empty()
        && site.reads.iter().all(|r| site.source_tables.contains(r))
}

/// Whether the figure with the metric's agreed filter added to each of its
/// aggregates is the agreed computation: what ML002's fix writes clears
/// its finding (a filter that differs otherwise, such as one that is on
/// the denominator too, is not cleared by adding one).
fn filtered_as_agreed(site: &Site, metric: &crate::registry::Metric, registry: &Registry) -> bool {
    let filtered = site.computation.clone().with_filter(&metric.filter);
    let computation = Computation {
        expr: &filtered,
        sources: &site.sources,
        reads_a_model: false,
        written: None,
    };
    judge(computation, metric, registry) == Verdict::Equivalent
}

/// The finding for one site, and whether it computes the agreement
/// (equivalent, under its name or a synonym). `described` is the unit the
/// model's property file gives the site's column, if any.
fn judged_site(
    path: &str,
    site: &Site,
    registry: &Registry,
    described: Option<crate::registry::Unit>,
    published: &[&crate::canon::Expr],
    dbt_model: bool,
) -> (Option<Finding>, bool) {
    let Some((metric, how)) = registry.lookup(&site.output_name) else {
        return (None, false);
    };
    // A metric compared across reports (`compare: reports`) leaves its
    // columns to the reports (ML010). A rate the built-in pack knows (a
    // CTR, a fill rate) is still known to be a ratio of totals: a site that
    // averages or sums per-row ratios of it is ML005 whatever its columns,
    // as it is with the pack alone. Another ratio's average (a price, an
    // order value) may be what a report means, as for any unregistered name.
    let judges_aggregation_only = metric.compare_reports && is_a_pack_rate(&metric.name);
    if metric.compare_reports && !judges_aggregation_only {
        return (None, false);
    }
    if let Some(kind) = &metric.not_comparable {
        return (
            Some(MetricNotComparable::finding(path, site, metric, kind)),
            false,
        );
    }
    let computation = Computation {
        expr: &site.computation,
        sources: &site.sources,
        // A model of this run, or, in a dbt file, a relation it names
        // unqualified: a `ref()` (a `source()` renders as `schema.table`),
        // whether or not the model is among the files checked.
        reads_a_model: site.sources.len() > site.source_tables.len()
            || (dbt_model && site.reads.iter().any(|r| !r.contains('.'))),
        written: site.written.as_ref(),
    };
    let verdict = judge(computation, metric, registry);
    let kinds = verdict.kinds();
    if judges_aggregation_only
        && !(kinds.len() == 1 && kinds.contains(&DifferenceKind::RatioStructure))
    {
        return (None, false);
    }
    let finding = match verdict {
        Verdict::Equivalent => {
            let finding = match how {
                NameMatch::Canonical => None,
                NameMatch::Synonym => Some(NonCanonicalName::finding(path, site, metric)),
            };
            return (finding, true);
        }
        Verdict::Unknown(_) => None,
        Verdict::Different {
            differences,
            found,
            expected,
        } => {
            let compared = Compared {
                found: &found,
                expected: &expected,
            };
            // One kind of difference has its own rule; several are ML001.
            let single = (kinds.len() == 1).then(|| *kinds.first().expect("one kind"));
            // A percent the model documents as one is the repository's own
            // choice of unit, not drift from the built-in pack's fraction,
            // also where a team's registry extends the pack without
            // defining the metric (as `init`'s does): the column's
            // description is the team's word. A team's own entry that
            // says fraction still reports it.
            if single == Some(DifferenceKind::Scale)
                && metric.is_the_packs()
                && described == Some(crate::registry::Unit::Percent)
                && scale_between(&found, &expected) == Some(Number::int(100))
            {
                return (None, false);
            }
            // Under the built-in pack, which filters none of its measures,
            // a filter the whole figure carries (`SUM(CASE WHEN event_type
            // = 'converted' THEN revenue END)` over an email event stream,
            // spend within a launch window) is the repository's scope of
            // its rows: the reports ground it (ML010), not the pack. A
            // share's filter that reaches its denominator too is still the
            // pack's to judge.
            if single == Some(DifferenceKind::Filter)
                && registry.judges_as_pack(metric)
                && scopes_the_whole_figure(&found, &expected)
            {
                return (None, false);
            }
            // Over groups of one row each, a sum or average of per-row
            // ratios is each row's ratio: its grain's ratio of totals, in
            // whatever scale the stored column has (TikTok's `cpm` is per
            // thousand already), which is upstream's.
            if kinds.contains(&DifferenceKind::RatioStructure) && site.one_row_per_group {
                return (None, false);
            }
            // A part published beside the rest of the agreed whole, or a
            // figure the report puts on its own basis with all its others
            // (a 1% sample's totals each ×100: a basis, not a unit), differs
            // on purpose (as ML010 sees it).
            if matches!(
                single,
                Some(DifferenceKind::Formula | DifferenceKind::Scale)
            ) && site.top_level
                && (crate::drift::publishes_the_rest(&found, &expected, published)
                    || crate::drift::rebases_its_figures(&found, &expected, published))
            {
                return (None, false);
            }
            Some(match single {
                Some(DifferenceKind::Filter) => {
                    FilterMismatch::finding(path, site, metric, compared, &differences)
                }
                Some(DifferenceKind::Source) => {
                    SourceMismatch::finding(path, site, metric, compared)
                }
                Some(DifferenceKind::Scale) => {
                    UnitMismatch::finding(path, site, metric, compared, &differences)
                }
                Some(DifferenceKind::RatioStructure) => {
                    RatioAggregationMismatch::finding(path, site, metric, compared, &differences)
                }
                Some(DifferenceKind::Formula) | None => DefinitionMismatch::finding(
                    path,
                    site,
                    metric,
                    compared,
                    &differences,
                    registry.agreement_name(metric),
                ),
            })
        }
    };
    (finding, false)
}
