//! The command line (clap). `main.rs` only calls [`main`].

use std::collections::{HashMap, HashSet};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::builder::PossibleValue;
use clap::{Parser, Subcommand, ValueEnum};
use miette::{GraphicalReportHandler, GraphicalTheme};

use crate::check::{self, CheckOptions};
use crate::config::{self, Config};
use crate::dialect::Dialect;
use crate::inventory;
use crate::registry::{self, builtin, Registry, RegistryError};
use crate::report::inventory::InventoryFormat;
use crate::report::{self, human, Format};

/// Keeps business metrics honest: finds every place your SQL reports compute a
/// metric and flags the ones that differ from the agreed definition.
#[derive(Debug, Parser)]
#[command(name = "metriclint", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check SQL reports against the metric registry.
    ///
    /// Exit status: 0 when no finding has severity error, 1 when one has,
    /// 2 when the tool could not do its job (bad arguments, registry errors).
    Check(CheckArgs),
    /// List every metric the reports compute: registry status, sites,
    /// variants, files; the drifting ones first.
    Metrics(MetricsArgs),
    /// Tell one metric's story: its agreed definition and every site that
    /// computes it, grouped by variant.
    Explain(ExplainArgs),
    /// Write a starter registry from what the reports compute: per metric,
    /// the variant most sites use, with the other variants as comments.
    Init(InitArgs),
    /// Print a rule's documentation (what it checks, why, an example), or
    /// list every rule.
    Rule(RuleArgs),
    /// Print a Jinja SQL file as metriclint renders it, offline, with its dbt
    /// project's macros and vars (what `dbt compile` would give, without dbt
    /// or a warehouse); the macros it calls that are defined nowhere are
    /// listed on stderr. A model that asks for the columns of the models it
    /// `ref()`s is shown as first rendered, without them (`check` renders it
    /// again once they are known).
    ///
    /// Exit status: 0 when it renders, 2 when it cannot be read or rendered.
    Render(RenderArgs),
    /// Run a language server (LSP over stdin and stdout) for editors:
    /// diagnostics as you type, hover on a metric, fixes and `noqa` as code
    /// actions, and go to a metric's registry entry. The workspace folder
    /// the editor opens is the context and holds the config and registry.
    Server,
    /// Remove the cache of per-file results that `check` keeps between runs
    /// (`.metriclint_cache/` at the project root, or the config's
    /// `cache-dir`).
    ///
    /// Exit status: 0 when it is gone (or was never written), 2 when it
    /// cannot be removed.
    Clean(CleanArgs),
}

#[derive(Debug, clap::Args)]
pub struct CleanArgs {
    /// A path of the project whose cache to remove.
    #[arg(value_name = "PATHS", default_value = ".")]
    pub paths: Vec<PathBuf>,

    /// The config file whose `cache-dir` says where the cache is [default:
    /// the nearest metriclint.yaml above the paths].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Ignore any config file.
    #[arg(long, conflicts_with = "config")]
    pub isolated: bool,
}

#[derive(Debug, clap::Args)]
pub struct RenderArgs {
    /// The template file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// The SQL dialect, which is dbt's `target.type` [default: the config's,
    /// else generic].
    #[arg(long, value_name = "NAME")]
    pub dialect: Option<Dialect>,
}

#[derive(Debug, clap::Args)]
pub struct RuleArgs {
    /// The rule's code (ML001) or name (definition-mismatch).
    #[arg(value_name = "CODE", required_unless_present = "all")]
    pub code: Option<String>,

    /// List every rule: code, name, default severity.
    #[arg(long, conflicts_with = "code")]
    pub all: bool,
}

/// What to read and how: shared by every command.
#[derive(Debug, clap::Args)]
pub struct Inputs {
    /// Files or folders to check; folders are walked for *.sql and LookML *.lkml files
    /// (hidden folders, target/, dbt_packages/ and node_modules/ are skipped).
    #[arg(value_name = "PATHS", default_value = ".")]
    pub paths: Vec<PathBuf>,

    /// A registry file of agreed metric definitions (repeatable). It replaces
    /// the built-in pack; a registry can include the pack with
    /// `extends: [programmatic]`. Without it, the built-in pack is used.
    /// `dbt` is the dbt project's Semantic Layer YAML, all its files.
    #[arg(long, value_name = "FILE")]
    pub registry: Vec<PathBuf>,

    /// The SQL dialect of the reports [default: the config's, else generic].
    #[arg(long, value_name = "NAME")]
    pub dialect: Option<Dialect>,

    /// The config file [default: the nearest metriclint.yaml above the
    /// checked paths, else above the working directory].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Ignore any config file.
    #[arg(long, conflicts_with = "config")]
    pub isolated: bool,
}

/// The settings in force, and where each came from.
pub struct Settings {
    pub config: Option<Config>,
    /// When paths were checked under several config files: for each file
    /// with findings, the severity that fails the run by its own config.
    pub fail_on_by_path: HashMap<String, crate::finding::Severity>,
    /// Likewise, each file's baseline by its own config's `baseline:`.
    pub baseline_by_path: HashMap<String, PathBuf>,
    pub registry: Registry,
    pub registry_from: String,
    pub dialect: Dialect,
    pub dialect_from: String,
    /// The checked dbt project's metric YAML, where a registry of the
    /// team's own is in force instead: judged against it.
    pub definitions: Option<std::sync::Arc<Registry>>,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub inputs: Inputs,

    /// Output format: human (snippets and a summary), json (one object, the
    /// README's JSON output; schemas/output.schema.json),
    /// concise (one line per finding), github (workflow annotations), sarif
    /// (code scanning), gitlab (Code Quality) or junit (XML).
    #[arg(long, value_name = "FORMAT", default_value = "human")]
    pub format: Format,

    /// When to color human output.
    #[arg(long, value_name = "WHEN", default_value = "auto")]
    pub color: ColorChoice,

    /// Write the report to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// After the report, print how many findings each rule gave (to stderr
    /// for machine formats).
    #[arg(long)]
    pub statistics: bool,

    /// Check again whenever a report, registry or config under the paths
    /// changes (added, edited, removed), until interrupted (Ctrl-C).
    #[arg(long, conflicts_with_all = ["stdin_filename", "fix", "diff", "write_baseline", "show_settings"])]
    pub watch: bool,

    /// Neither read nor write the cache of per-file results (by default
    /// `.metriclint_cache/` at the project root, or the config's
    /// `cache-dir`): check every file afresh.
    #[arg(long)]
    pub no_cache: bool,

    /// Print nothing but findings of severity error (human and concise output).
    #[arg(long, short)]
    pub quiet: bool,

    /// The lowest severity that makes the run fail (exit 1) [default: the
    /// config's, else error].
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<FailOn>,

    /// Print the settings in force and where each came from, then exit.
    #[arg(long)]
    pub show_settings: bool,

    /// Record today's findings in FILE (by path, code, metric and content,
    /// not by line), to adopt metriclint on a repo that already drifts.
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,

    /// Report only findings not recorded in the baseline FILE.
    #[arg(long, value_name = "FILE", conflicts_with = "write_baseline")]
    pub baseline: Option<PathBuf>,

    /// Read the SQL from stdin and report it under NAME (the PATHS, default
    /// `.`, still give context for cross-report drift).
    #[arg(long, value_name = "NAME")]
    pub stdin_filename: Option<String>,

    /// Exit 0 even when findings would fail the run (2 still means the tool
    /// could not do its job).
    #[arg(long)]
    pub exit_zero: bool,

    /// Apply the safe fixes (ML011: rename an output to the registered
    /// name; ML020: remove an unused suppression; ML004: take out or put in
    /// a percent's or per-mille's factor) to the files, check again, and
    /// report what is left. A fix that would not clear its finding or
    /// would break the file's parse is not applied.
    #[arg(long, conflicts_with_all = ["diff", "write_baseline"])]
    pub fix: bool,

    /// Print what --fix would change, as a unified diff, without writing;
    /// exit 1 when it would change something.
    #[arg(long, conflicts_with = "write_baseline")]
    pub diff: bool,

    /// With --fix or --diff, also the fixes that change a figure to the
    /// agreed computation (ML005: an averaged ratio becomes the ratio of the
    /// totals; ML002: the registered filter is put in every aggregate;
    /// ML001: the registered formula replaces the figure).
    #[arg(long)]
    pub unsafe_fixes: bool,
}

/// The severity from which findings fail a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Info,
}

impl FailOn {
    fn severity(self) -> crate::finding::Severity {
        match self {
            FailOn::Error => crate::finding::Severity::Error,
            FailOn::Warning => crate::finding::Severity::Warning,
            FailOn::Info => crate::finding::Severity::Info,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct MetricsArgs {
    #[command(flatten)]
    pub inputs: Inputs,

    /// Output format: human (a table), json (with each variant's canonical
    /// form and sites) or markdown (for a pull request or wiki).
    #[arg(long, value_name = "FORMAT", default_value = "human")]
    pub format: InventoryFormat,
}

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    #[command(flatten)]
    pub inputs: Inputs,

    /// Write the registry to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Overwrite FILE if it exists.
    #[arg(long)]
    pub force: bool,

    /// Write the definitions of a dbt Semantic Layer YAML file in the native
    /// format instead (no reports are read).
    #[arg(long, value_name = "YAML", conflicts_with = "from_lookml")]
    pub from_dbt: Option<PathBuf>,

    /// Propose the registry from a LookML project's measures only (the
    /// `.lkml` files under DIR; its SQL files are not read), with the same
    /// rules as from reports.
    #[arg(long, value_name = "DIR", conflicts_with = "paths")]
    pub from_lookml: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// The metric: its registered name, a synonym, or a name the reports use.
    #[arg(value_name = "METRIC", required_unless_present = "expr")]
    pub metric: Option<String>,

    /// A SQL expression to show in canonical form, instead of a metric;
    /// given twice, says whether the two are the same computation and how
    /// they differ (`--expr "SUM(a)/NULLIF(SUM(b),0)" --expr
    /// "SAFE_DIVIDE(SUM(a), SUM(b))"`).
    #[arg(long, value_name = "SQL", num_args = 1, action = clap::ArgAction::Append, conflicts_with = "metric")]
    pub expr: Vec<String>,

    #[command(flatten)]
    pub inputs: Inputs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Color when stdout is a terminal and NO_COLOR is unset.
    Auto,
    Always,
    Never,
}

impl ValueEnum for Dialect {
    fn value_variants<'a>() -> &'a [Self] {
        &[
            Dialect::Generic,
            Dialect::Ansi,
            Dialect::BigQuery,
            Dialect::Snowflake,
            Dialect::Postgres,
            Dialect::Redshift,
            Dialect::MySql,
            Dialect::DuckDb,
            Dialect::Databricks,
            Dialect::ClickHouse,
            Dialect::MsSql,
            Dialect::Sqlite,
            Dialect::Hive,
        ]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        let (_, name, aliases) = Dialect::ALL.iter().find(|(d, _, _)| d == self)?;
        Some(PossibleValue::new(*name).aliases(aliases.iter().copied()))
    }
}

/// Prints each problem with its YAML snippet, then one closing line.
fn print_issues(issues: &[crate::registry::RegistryIssue], closing: String) {
    let theme = if std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none() {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false);
    let mut out = String::new();
    for issue in issues {
        // A snippet on a line too long to draw (a minified or hostile file)
        // is left out; the message says where instead.
        let drawable = match (&issue.source_code, issue.span) {
            (Some(source), Some(span)) => crate::report::human::shown_lines_fit(
                source.inner(),
                span.offset(),
                span.offset() + span.len(),
            ),
            _ => true,
        };
        if drawable {
            let _ = handler.render_report(&mut out, issue);
        } else {
            let plain = crate::registry::RegistryIssue {
                message: format!(
                    "{} (at {}:{}:{})",
                    issue.message, issue.path, issue.line, issue.column
                ),
                source_code: None,
                span: None,
                label: issue.label.clone(),
                help: issue.help.clone(),
                path: issue.path.clone(),
                line: issue.line,
                column: issue.column,
            };
            let _ = handler.render_report(&mut out, &plain);
        }
        out.push('\n');
    }
    eprint!("{out}");
    eprintln!("error: {closing}; no report was checked");
}

/// The registry entry that stands for the dbt project's Semantic Layer.
const DBT: &str = "dbt";

/// `entries` with `dbt` (where no file of that name exists) replaced by the
/// Semantic Layer files of the dbt project at or above `start`.
fn with_dbt_semantic_layer(entries: &[PathBuf], start: &Path) -> Result<Vec<PathBuf>, ExitCode> {
    let mut out = Vec::new();
    for entry in entries {
        let is_dbt = entry.as_os_str() == DBT && !start.join(entry).is_file() && !entry.is_file();
        if !is_dbt {
            out.push(entry.clone());
            continue;
        }
        match crate::dbt::semantic_layer(start) {
            Ok(layer) => out.extend(layer.files),
            Err(message) => {
                eprintln!("error: registry `dbt`: {message}");
                return Err(ExitCode::from(2));
            }
        }
    }
    Ok(out)
}

/// The registry no one named: the built-in pack, with the Semantic Layer of
/// the dbt project checked (see `dbt::semantic_layer`) beside it when every
/// path is inside that one project and it has one (a run over two projects,
/// or over files beside a project, has no one agreement to read). A
/// Semantic Layer that cannot be read as a registry is reported as a
/// warning, and the pack alone is in force: no one chose it.
fn default_registry(paths: &[PathBuf]) -> (Result<Registry, RegistryError>, String) {
    let pack = || registry::load_builtin(builtin::DEFAULT_PACK);
    let pack_name = format!("built-in pack {}", builtin::DEFAULT_PACK);
    let roots: Vec<Option<PathBuf>> = paths
        .iter()
        .map(|p| crate::dbt::project_root_above(p))
        .collect();
    let one_project = match roots.first() {
        Some(Some(first)) => roots.iter().all(|r| r.as_ref() == Some(first)),
        _ => false,
    };
    if !one_project {
        return (pack(), pack_name);
    }
    let Ok(crate::dbt::SemanticLayer { root, files }) = crate::dbt::semantic_layer(&paths[0])
    else {
        return (pack(), pack_name);
    };
    let project = format!(" of {}", root.display());
    match registry::load_files(&files).and_then(|team| Ok(Registry::beside_pack(team, pack()?))) {
        Ok(merged) => (
            Ok(merged),
            format!(
                "the dbt Semantic Layer{project} ({} files), with the {pack_name} for other metrics",
                files.len()
            ),
        ),
        Err(error) => {
            eprintln!(
                "warning: the dbt Semantic Layer{project} is not used as the registry ({error}); the {pack_name} alone is in force. Name it (--registry dbt) to see why."
            );
            (pack(), pack_name)
        }
    }
}

fn print_registry_error(error: RegistryError) {
    print_issues(&error.issues, error.to_string());
}

/// Resolves the config file, the registry and the dialect; `Err` holds the
/// exit code already reported.
fn settings(inputs: &Inputs) -> Result<Settings, ExitCode> {
    let config_path = match (&inputs.config, inputs.isolated) {
        (_, true) => None,
        (Some(path), false) => Some(path.clone()),
        (None, false) => config::discover(&inputs.paths),
    };
    let config = match config_path {
        None => None,
        Some(path) => match Config::load(&path) {
            Ok(c) => Some(c),
            Err(e) => {
                print_issues(&e.issues, e.to_string());
                return Err(ExitCode::from(2));
            }
        },
    };
    let config_name = |c: &Config| {
        c.path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    };
    // The default pack, which no one on the team chose (no `--registry`, no
    // `registry:` in a config): the repository grounds the base measures
    // (see `Registry::is_pack_only`). A team that names a pack adopts it.
    let pack_only =
        inputs.registry.is_empty() && config.as_ref().is_none_or(|c| c.registry.is_empty());
    let here = [PathBuf::from(".")];
    let checked_paths = if inputs.paths.is_empty() {
        &here[..]
    } else {
        &inputs.paths[..]
    };
    let (registry, registry_from) = if !inputs.registry.is_empty() {
        let names: Vec<String> = inputs
            .registry
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        let start = inputs
            .paths
            .first()
            .map_or(Path::new("."), PathBuf::as_path);
        let files = with_dbt_semantic_layer(&inputs.registry, start)?;
        (
            registry::load_files(&files),
            format!("{} (--registry)", names.join(", ")),
        )
    } else if let Some(c) = config.as_ref().filter(|c| !c.registry.is_empty()) {
        let missing: Vec<&String> = c
            .registry
            .iter()
            .filter(|r| {
                builtin::find(r).is_none() && !c.root().join(r).exists() && r.as_str() != DBT
            })
            .collect();
        if !missing.is_empty() {
            let names: Vec<&str> = missing.iter().map(|m| m.as_str()).collect();
            eprintln!(
                "error: {}: registry {} not found (paths are relative to the config file; built-in packs: {})",
                config_name(c),
                names.join(", "),
                builtin::PACKS.iter().map(|p| p.name).collect::<Vec<_>>().join(", ")
            );
            return Err(ExitCode::from(2));
        }
        // The config's entries are files next to it or built-in packs, as in
        // `extends`; `dbt` is the project's Semantic Layer files.
        let entries: Vec<PathBuf> = c.registry.iter().map(PathBuf::from).collect();
        let listed: Vec<String> = with_dbt_semantic_layer(&entries, &c.root())?
            .iter()
            .map(|r| format!("'{}'", r.display().to_string().replace('\'', "''")))
            .collect();
        let text = format!(
            "version: 1\nextends: [{}]\nmetrics: []\n",
            listed.join(", ")
        );
        let anchor = c.root().join(config::FILE_NAMES[0]);
        (
            registry::load_str(&anchor.display().to_string(), &text),
            format!("{} ({})", c.registry.join(", "), config_name(c)),
        )
    } else {
        default_registry(checked_paths)
    };
    let mut registry = match registry {
        Ok(r) => r,
        Err(e) => {
            print_registry_error(e);
            return Err(ExitCode::from(2));
        }
    };
    registry.set_pack_only(pack_only);
    // Only a registry someone named stands beside the project's own YAML:
    // with none named, that YAML is the registry.
    let definitions = if pack_only {
        None
    } else {
        project_definitions(checked_paths, &registry).map(std::sync::Arc::new)
    };
    if let Some(vocabulary) = config.as_ref().and_then(|c| c.vocabulary.clone()) {
        registry.set_vocabulary(vocabulary);
    }
    let (dialect, dialect_from) = match (
        inputs.dialect,
        config.as_ref().and_then(|c| c.dialect.map(|d| (d, c))),
    ) {
        (Some(d), _) => (d, "--dialect".to_string()),
        (None, Some((d, c))) => (d, config_name(c)),
        (None, None) => (Dialect::Generic, "default".to_string()),
    };
    Ok(Settings {
        config,
        fail_on_by_path: HashMap::new(),
        baseline_by_path: HashMap::new(),
        registry,
        registry_from,
        dialect,
        dialect_from,
        definitions,
    })
}

/// The metric YAML of the one dbt project all `paths` are in (see
/// `dbt::semantic_layer`), where `registry` is not made of it: its
/// definitions are then judged against `registry`. One that cannot be read
/// is said in a warning.
fn project_definitions(paths: &[PathBuf], registry: &Registry) -> Option<Registry> {
    if registry
        .metrics()
        .iter()
        .any(|m| m.source_is_semantic_model)
    {
        return None;
    }
    let roots: Vec<Option<PathBuf>> = paths
        .iter()
        .map(|p| crate::dbt::project_root_above(p))
        .collect();
    let first = roots.first()?.as_ref()?;
    if !roots.iter().all(|r| r.as_ref() == Some(first)) {
        return None;
    }
    let crate::dbt::SemanticLayer { root, files } = crate::dbt::semantic_layer(&paths[0]).ok()?;
    match registry::load_files(&files) {
        Ok(definitions) => Some(definitions),
        Err(error) => {
            eprintln!(
                "warning: the dbt metric YAML of {} is not checked against the registry ({error})",
                root.display()
            );
            None
        }
    }
}

/// Loads the settings and runs the check (keeping every metric site for the
/// inventory commands); `Err` holds the exit code already reported.
fn run_inputs(
    inputs: &Inputs,
    inventory: bool,
) -> Result<(Settings, check::CheckResult), ExitCode> {
    run_with_stdin(inputs, inventory, None)
}

/// As [`run_inputs`], with SQL from stdin checked under a name.
fn run_with_stdin(
    inputs: &Inputs,
    inventory: bool,
    stdin: Option<(String, Vec<u8>)>,
) -> Result<(Settings, check::CheckResult), ExitCode> {
    run_remembering(inputs, inventory, stdin, None)
}

/// As [`run_with_stdin`], reusing what earlier runs of this process found
/// in files that have not changed (see [`check::Memo`]).
fn run_remembering(
    inputs: &Inputs,
    inventory: bool,
    stdin: Option<(String, Vec<u8>)>,
    memo: Option<&std::sync::Arc<check::Memo>>,
) -> Result<(Settings, check::CheckResult), ExitCode> {
    // Paths under different config files are each checked with their own,
    // as separate agreements, and reported together.
    if inputs.config.is_none() && !inputs.isolated && stdin.is_none() && inputs.paths.len() > 1 {
        let mut groups: Vec<(Option<PathBuf>, Vec<PathBuf>)> = Vec::new();
        for path in &inputs.paths {
            let config = config::discover(std::slice::from_ref(path));
            match groups.iter_mut().find(|(c, _)| *c == config) {
                Some((_, paths)) => paths.push(path.clone()),
                None => groups.push((config, vec![path.clone()])),
            }
        }
        if groups.len() > 1 {
            let mut merged: Option<(Settings, check::CheckResult)> = None;
            for (_, paths) in groups {
                let group = Inputs {
                    paths,
                    registry: inputs.registry.clone(),
                    dialect: inputs.dialect,
                    config: None,
                    isolated: false,
                };
                let (mut settings, result) = run_with_stdin(&group, inventory, None)?;
                let fail_on = settings
                    .config
                    .as_ref()
                    .and_then(|c| c.fail_on)
                    .unwrap_or(crate::finding::Severity::Error);
                let by_path = result.findings.iter().map(|f| (f.path.clone(), fail_on));
                let baseline = settings.config.as_ref().and_then(configured_baseline);
                let baselines = result
                    .findings
                    .iter()
                    .filter_map(|f| Some((f.path.clone(), baseline.clone()?)));
                match &mut merged {
                    None => {
                        settings.fail_on_by_path.extend(by_path);
                        settings.baseline_by_path.extend(baselines);
                    }
                    Some((first, _)) => {
                        first.fail_on_by_path.extend(by_path);
                        first.baseline_by_path.extend(baselines);
                    }
                }
                match &mut merged {
                    None => merged = Some((settings, result)),
                    Some((_, all)) => all.merge(result),
                }
            }
            return merged.ok_or(ExitCode::from(2));
        }
    }
    let settings = settings(inputs)?;
    run_settled(inputs, settings, inventory, stdin, memo)
}

/// Checks `text` as the file `name`, with `inputs` as context, as
/// `check --stdin-filename` does, keeping every metric site (for the
/// language server). `Err` holds the exit code already reported on stderr.
pub fn check_buffer(
    inputs: &Inputs,
    name: &str,
    text: &[u8],
    memo: &std::sync::Arc<check::Memo>,
) -> Result<(Settings, check::CheckResult), ExitCode> {
    run_remembering(
        inputs,
        true,
        Some((name.to_string(), text.to_vec())),
        Some(memo),
    )
}

/// Runs the check over `inputs` with `settings` already read.
fn run_settled(
    inputs: &Inputs,
    settings: Settings,
    inventory: bool,
    stdin: Option<(String, Vec<u8>)>,
    memo: Option<&std::sync::Arc<check::Memo>>,
) -> Result<(Settings, check::CheckResult), ExitCode> {
    let options = CheckOptions {
        paths: inputs.paths.clone(),
        dialect: settings.dialect,
        inventory,
        config: settings.config.clone().map(std::sync::Arc::new),
        stdin,
        progress: true,
        definitions: settings.definitions.clone(),
        memo: memo.cloned(),
        projects: crate::dbt::Projects::with_vars(
            settings
                .config
                .as_ref()
                .map(|c| c.vars.clone())
                .unwrap_or_default(),
        ),
    };
    match check::run(&options, &settings.registry) {
        Ok(result) => {
            for problem in &result.walk_problems {
                eprintln!("warning: {problem}");
            }
            Ok((settings, result))
        }
        Err(e) => {
            eprintln!("error: {e}");
            Err(ExitCode::from(2))
        }
    }
}

fn print(text: &str) {
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error worth a panic.
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

fn run_metrics(args: MetricsArgs) -> ExitCode {
    let (settings, result) = match run_inputs(&args.inputs, true) {
        Ok(done) => done,
        Err(code) => return code,
    };
    let entries = inventory::build(&result.sites, settings.registry.vocabulary());
    let text = match args.format {
        InventoryFormat::Human => report::inventory::human(&entries, result.files),
        InventoryFormat::Json => report::inventory::json(&entries, result.files),
        InventoryFormat::Markdown => report::inventory::markdown(&entries, result.files),
    };
    print(&text);
    ExitCode::SUCCESS
}

fn run_explain(args: ExplainArgs) -> ExitCode {
    if !args.expr.is_empty() {
        return explain_expressions(&args);
    }
    let (settings, result) = match run_inputs(&args.inputs, true) {
        Ok(done) => done,
        Err(code) => return code,
    };
    let registry = &settings.registry;
    let asked = args.metric.as_deref().unwrap_or_default();
    let metric = registry.lookup(asked).map(|(m, _)| m);
    let entries = inventory::build(&result.sites, registry.vocabulary());
    // The name as it groups a non-additive metric (grain words kept) first,
    // then as it groups an additive one.
    let wanted = metric
        .map(|m| m.name.clone())
        .unwrap_or_else(|| registry.vocabulary().group_name(asked, false));
    let additive_name = registry.vocabulary().group_name(asked, true);
    // The name as asked wins; its additive grouping only when nothing
    // else is named so (`weekly_active_users` is not `active_users`).
    let named = |name: &str| -> Vec<&inventory::Entry> {
        entries.iter().filter(|e| e.name == name).collect()
    };
    let mut matching = named(&wanted);
    if matching.is_empty() && metric.is_none() {
        matching = named(&additive_name);
    }
    if metric.is_none() && matching.is_empty() {
        let mut known: Vec<&str> = registry.metrics().iter().map(|m| m.name.as_str()).collect();
        known.extend(entries.iter().map(|e| e.name.as_str()));
        let hint = known
            .iter()
            .map(|k| (strsim::jaro_winkler(&wanted, k), *k))
            .filter(|(score, _)| *score > 0.8)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, k)| format!("; did you mean `{k}`?"))
            .unwrap_or_default();
        eprintln!("error: no metric named `{asked}` in the registry or the reports{hint}");
        return ExitCode::from(2);
    }
    let mut text = report::inventory::explain(&wanted, metric, &matching);
    // Definitions of the name left out rather than guessed at (a LookML
    // measure of a type metriclint does not read).
    let left_out: Vec<&crate::check::LeftOut> = result
        .left_out
        .iter()
        .filter(|l| {
            let named = registry.lookup(&l.name).map(|(m, _)| m.name.clone());
            named.as_deref() == Some(wanted.as_str()) || l.name.eq_ignore_ascii_case(&wanted)
        })
        .collect();
    if !left_out.is_empty() {
        text.push_str("\nLeft out, not read (never guessed):\n");
        for l in left_out {
            text.push_str(&format!(
                "      {}:{}  {}  ({})\n",
                l.path, l.line, l.name, l.why
            ));
        }
    }
    print(&text);
    ExitCode::SUCCESS
}

/// `explain --expr`: canonical forms, and whether two are the same.
fn explain_expressions(args: &ExplainArgs) -> ExitCode {
    if args.expr.len() > 2 {
        eprintln!("error: --expr takes one expression, or two to compare");
        return ExitCode::from(2);
    }
    let settings = match settings(&args.inputs) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    match report::expressions::explain_expressions(&args.expr, settings.dialect, &settings.registry)
    {
        Ok(text) => {
            print(&text);
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

fn run_init(args: InitArgs) -> ExitCode {
    if let Some(path) = &args.output {
        if path.exists() && !args.force {
            eprintln!(
                "error: {} exists; pass --force to overwrite it",
                path.display()
            );
            return ExitCode::from(2);
        }
    }
    if let Some(dbt) = &args.from_dbt {
        if let Err(e) = std::fs::metadata(dbt) {
            eprintln!(
                "error: cannot read {}: {e}\n  help: pass --from-dbt the dbt Semantic Layer or metrics YAML file to convert",
                dbt.display()
            );
            return ExitCode::from(2);
        }
    }
    let text = match &args.from_dbt {
        Some(dbt) => match registry::load_files(std::slice::from_ref(dbt)) {
            Ok(semantic) => crate::init::native_registry(&semantic, &dbt.display().to_string()),
            Err(e) => {
                print_registry_error(e);
                return ExitCode::from(2);
            }
        },
        None => {
            let run = match &args.from_lookml {
                Some(dir) => run_lookml_only(&args.inputs, dir),
                None => run_inputs(&args.inputs, true),
            };
            let (settings, result) = match run {
                Ok(done) => done,
                Err(code) => return code,
            };
            crate::init::starter_registry(
                &result.sites,
                &settings.registry,
                result.files,
                &result.findings,
                &result.repositorys_units,
            )
        }
    };
    match &args.output {
        None => print(&text),
        Some(path) => {
            if let Err(e) = std::fs::write(path, &text) {
                eprintln!("error: cannot write {}: {e}", path.display());
                return ExitCode::from(2);
            }
            eprintln!("wrote {}", path.display());
        }
    }
    ExitCode::SUCCESS
}

/// The inventory run of `init --from-lookml DIR`: DIR's LookML files only,
/// with the settings `inputs` give (its registry, config and dialect).
fn run_lookml_only(
    inputs: &Inputs,
    dir: &Path,
) -> Result<(Settings, check::CheckResult), ExitCode> {
    if !dir.is_dir() {
        eprintln!(
            "error: {} is no folder\n  help: pass --from-lookml the folder of a LookML project (its .lkml files)",
            dir.display()
        );
        return Err(ExitCode::from(2));
    }
    let inputs = Inputs {
        paths: vec![dir.to_path_buf()],
        registry: inputs.registry.clone(),
        dialect: inputs.dialect,
        config: inputs.config.clone(),
        isolated: inputs.isolated,
    };
    let mut settings = settings(&inputs)?;
    settings.config.get_or_insert_with(Config::default).layers = vec!["lookml".to_string()];
    run_settled(&inputs, settings, true, None, None)
}

fn run_render(args: RenderArgs) -> ExitCode {
    let text = match std::fs::read_to_string(&args.file) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", args.file.display());
            return ExitCode::from(2);
        }
    };
    // The config file's vars and dialect, as `check` would use them.
    let config = config::discover(std::slice::from_ref(&args.file))
        .and_then(|path| Config::load(&path).ok());
    let projects = crate::dbt::Projects::with_vars(
        config.as_ref().map(|c| c.vars.clone()).unwrap_or_default(),
    );
    let project = projects
        .for_file(&args.file)
        .or_else(|| projects.standalone());
    let dialect = args
        .dialect
        .or(config.as_ref().and_then(|c| c.dialect))
        .unwrap_or_default();
    match crate::template::render(&text, dialect, project.as_deref().map(|p| &p.jinja)) {
        Ok(rendered) => {
            let newline = if rendered.text.ends_with('\n') {
                ""
            } else {
                "\n"
            };
            print(&format!("{}{newline}", rendered.text));
            if rendered.wants_upstream_columns {
                eprintln!("note: the template asks for the columns of models it ref()s (adapter.get_columns_in_relation), unknown here; `metriclint check` renders it again once they are known");
            }
            for name in &rendered.unknown_macros {
                eprintln!("note: macro `{name}` is defined nowhere; rendered as a placeholder");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {}:{}: {}", args.file.display(), e.line, e.message);
            ExitCode::from(2)
        }
    }
}

fn run_rule(args: RuleArgs) -> ExitCode {
    if args.all {
        let mut text = String::new();
        for rule in crate::rules::RULES {
            text.push_str(&format!(
                "{}  {:<28} {:<8} {}\n",
                rule.code,
                rule.name,
                rule.severity.name(),
                rule.summary
            ));
        }
        print(&text);
        return ExitCode::SUCCESS;
    }
    let code = args.code.unwrap_or_default();
    match crate::rules::by_code(&code) {
        Some(rule) => {
            let body: String = rule
                .doc
                .lines()
                .map(|l| l.strip_prefix(' ').unwrap_or(l))
                .collect::<Vec<_>>()
                .join("\n");
            print(&format!(
                "# {} {}\n\nDefault severity: {}\n\n{}\n",
                rule.code,
                rule.name,
                rule.severity.name(),
                body.trim_end()
            ));
            ExitCode::SUCCESS
        }
        None => {
            eprintln!("error: no rule `{code}`; `metriclint rule --all` lists them");
            ExitCode::from(2)
        }
    }
}

fn show_settings(inputs: &Inputs, args: &CheckArgs) -> ExitCode {
    let settings = match settings(inputs) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let config = settings.config.as_ref();
    let from_config = |what: &str| {
        config
            .and_then(|c| c.path.as_ref())
            .map(|p| format!("{} ({what})", p.display()))
    };
    let mut out = String::new();
    out.push_str(&format!(
        "config:    {}\n",
        config
            .and_then(|c| c.path.as_ref())
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| if inputs.isolated {
                "none (--isolated)".to_string()
            } else {
                "none found".to_string()
            })
    ));
    out.push_str(&format!(
        "registry:  {} [{} metrics]\n",
        settings.registry_from,
        settings.registry.len()
    ));
    out.push_str(&format!(
        "dialect:   {} ({})\n",
        settings.dialect, settings.dialect_from
    ));
    let paths: Vec<String> = inputs
        .paths
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    out.push_str(&format!("paths:     {}\n", paths.join(", ")));
    out.push_str(&format!(
        "cache:     {}\n",
        if args.no_cache {
            "off (--no-cache)".to_string()
        } else {
            cache_folder(inputs).display().to_string()
        }
    ));
    if let Some(c) = config {
        let list = |v: &[String]| {
            if v.is_empty() {
                "-".to_string()
            } else {
                v.join(", ")
            }
        };
        out.push_str(&format!("include:   {}\n", list(&c.include)));
        out.push_str(&format!("exclude:   {}\n", list(&c.exclude)));
        out.push_str(&format!(
            "layers:    {}\n",
            if c.layers.is_empty() {
                "sql, lookml".to_string()
            } else {
                c.layers.join(", ")
            }
        ));
        out.push_str(&format!(
            "select:    {}\n",
            if c.select.is_empty() {
                "all".to_string()
            } else {
                c.select.join(", ")
            }
        ));
        out.push_str(&format!("ignore:    {}\n", list(&c.ignore)));
        for (code, severity) in &c.severity {
            out.push_str(&format!("severity:  {code} = {}\n", severity.name()));
        }
        if let Some(v) = &c.vocabulary {
            let defaults = crate::names::Vocabulary::default();
            let added = |all: &[String], base: &[String]| {
                all.iter()
                    .filter(|w| !base.contains(w))
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            out.push_str(&format!(
                "names:     prefixes +[{}], suffixes +[{}], meaning words +[{}]\n",
                added(&v.prefixes, &defaults.prefixes),
                added(&v.suffixes, &defaults.suffixes),
                added(&v.meaning, &defaults.meaning)
            ));
        }
        for (glob, codes) in &c.per_file_ignores {
            out.push_str(&format!("per-file:  {glob} ignores {}\n", codes.join(", ")));
        }
    }
    let fail_on = match (args.fail_on, config.and_then(|c| c.fail_on)) {
        (Some(f), _) => format!("{} (--fail-on)", f.severity().name()),
        (None, Some(s)) => format!(
            "{} ({})",
            s.name(),
            from_config("fail-on").unwrap_or_default()
        ),
        (None, None) => "error (default)".to_string(),
    };
    out.push_str(&format!("fail-on:   {fail_on}\n"));
    let baseline = match (&args.baseline, config.and_then(|c| c.baseline.as_ref())) {
        (Some(file), _) => format!("{} (--baseline)", file.display()),
        (None, Some(file)) => format!(
            "{} ({})",
            file.display(),
            from_config("baseline").unwrap_or_default()
        ),
        (None, None) => "none".to_string(),
    };
    out.push_str(&format!("baseline:  {baseline}\n"));
    out.push_str(&format!("format:    {:?}\n", args.format).to_lowercase());
    print(&out);
    ExitCode::SUCCESS
}

/// Leaves out of `result` the findings recorded in the baseline in force:
/// `--baseline`, else the config's `baseline:` (relative to its folder)
/// where the command line records none. `tell` says how many on stderr.
fn leave_out_baseline(
    args: &CheckArgs,
    settings: &Settings,
    result: &mut crate::check::CheckResult,
    tell: bool,
) -> Result<(), ExitCode> {
    if args.write_baseline.is_some() && args.baseline.is_none() {
        return Ok(());
    }
    // Which baseline each finding is held against: the command line's for
    // all, else its own config's (several configs: each file's own).
    let single = args
        .baseline
        .clone()
        .or_else(|| settings.config.as_ref().and_then(configured_baseline));
    let baseline_of = |path: &str| -> Option<PathBuf> {
        if args.baseline.is_some() || settings.baseline_by_path.is_empty() {
            single.clone()
        } else {
            settings.baseline_by_path.get(path).cloned()
        }
    };
    let mut by_baseline: std::collections::BTreeMap<Option<PathBuf>, Vec<crate::finding::Finding>> =
        std::collections::BTreeMap::new();
    for finding in std::mem::take(&mut result.findings) {
        by_baseline
            .entry(baseline_of(&finding.path))
            .or_default()
            .push(finding);
    }
    for (baseline, findings) in by_baseline {
        let Some(path) = baseline else {
            result.findings.extend(findings);
            continue;
        };
        match crate::baseline::Baseline::read(&path) {
            Ok(baseline) => {
                let (new, known) = baseline.filter(findings, &path);
                result.findings.extend(new);
                if tell && known > 0 && args.format == Format::Human && !args.quiet {
                    eprintln!(
                        "{known} findings are in the baseline {} and not shown",
                        path.display()
                    );
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                return Err(ExitCode::from(2));
            }
        }
    }
    result
        .findings
        .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    Ok(())
}

/// A config's `baseline:`, relative to its folder.
fn configured_baseline(config: &Config) -> Option<PathBuf> {
    let file = config.baseline.as_ref()?;
    let folder = config
        .path
        .as_deref()
        .and_then(Path::parent)
        .unwrap_or(Path::new("."));
    Some(folder.join(file))
}

/// The texts of the files of the checked projects where a renamed output
/// may be read by its old name: every SQL and LookML file, and the dbt
/// property files (YAML with `models:`), under the project of each path
/// (see [`project_root_of`]), whatever part of it the run checks.
fn context_texts(paths: &[PathBuf], checked: &[String]) -> Vec<(String, String)> {
    let mut texts: Vec<(String, String)> = checked
        .iter()
        .filter_map(|p| Some((p.clone(), std::fs::read_to_string(p).ok()?)))
        .collect();
    let mut roots: Vec<PathBuf> = Vec::new();
    for path in paths {
        let root = project_root_of(path);
        if !roots.iter().any(|r| root.starts_with(r)) {
            roots.retain(|r| !r.starts_with(&root));
            roots.push(root);
        }
    }
    // The checked files are read already, however a walk shows their paths.
    let read: HashSet<PathBuf> = texts
        .iter()
        .filter_map(|(p, _)| std::fs::canonicalize(p).ok())
        .collect();
    for root in &roots {
        for entry in walkdir::WalkDir::new(root)
            .into_iter()
            .filter_entry(|e| !crate::discover::is_skipped_dir(e))
            .flatten()
            .filter(|e| e.file_type().is_file())
        {
            let extension = entry.path().extension().and_then(|e| e.to_str());
            let extension = extension.map(str::to_ascii_lowercase);
            let yaml = matches!(extension.as_deref(), Some("yml" | "yaml"));
            let wanted = yaml || matches!(extension.as_deref(), Some("sql" | "lkml"));
            if !wanted || std::fs::canonicalize(entry.path()).is_ok_and(|path| read.contains(&path))
            {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(entry.path()) else {
                continue;
            };
            // Of YAML, a dbt property file (not a registry, which names
            // synonyms).
            if !yaml || text.lines().any(|l| l.starts_with("models:")) {
                texts.push((shown_path(entry.path()), text));
            }
        }
    }
    texts
}

/// A path as findings show it: relative to the working folder where it is
/// under it.
fn shown_path(path: &Path) -> String {
    let relative = std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf));
    relative
        .unwrap_or_else(|| path.to_path_buf())
        .display()
        .to_string()
}

/// The project a checked path belongs to: the nearest folder holding it
/// (a folder path itself included) with a metriclint config, a dbt
/// project or a git repository; else the folder itself, or the file's.
fn project_root_of(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let folder = if absolute.is_dir() {
        absolute
    } else {
        absolute
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    };
    folder
        .ancestors()
        .find(|folder| {
            crate::config::FILE_NAMES
                .iter()
                .chain(&["dbt_project.yml", ".git"])
                .any(|name| folder.join(name).exists())
        })
        .map_or(folder.clone(), Path::to_path_buf)
}

/// `--diff`: prints what the safe fixes of `result`'s findings would change,
/// and returns the exit code (1 when something would change). `--fix`:
/// writes them, checks again, puts back any file whose fixes did not clear
/// their findings or broke its parse, and leaves the new check in `result`.
fn fix_files(
    args: &CheckArgs,
    result: &mut crate::check::CheckResult,
) -> Result<Option<ExitCode>, ExitCode> {
    if args.stdin_filename.is_some() {
        eprintln!("error: --fix and --diff edit files; they do not take --stdin-filename");
        return Err(ExitCode::from(2));
    }
    let findings = std::mem::take(&mut result.findings);
    // The other files of the run, and the YAML beside them (a dbt model's
    // columns), where a renamed output may be read by its old name.
    let context = std::cell::OnceCell::new();
    let named_elsewhere = |name: &str, own: &str| -> Option<String> {
        let bare = crate::names::unquoted(name).to_ascii_lowercase();
        // Read only when a rename asks.
        context
            .get_or_init(|| context_texts(&args.inputs.paths, &result.checked))
            .iter()
            .filter(|(path, _)| path != own)
            .find(|(_, text)| crate::fix::names_word(text, &bare))
            .map(|(path, _)| path.clone())
    };
    let files = crate::fix::plan(
        &findings,
        &|path| std::fs::read_to_string(path).ok(),
        &named_elsewhere,
        args.unsafe_fixes,
    );
    result.findings = findings;
    let tell_skipped = |file: &crate::fix::FileFix| {
        for (code, line, why) in &file.skipped {
            eprintln!("not fixed: {}:{line}: {code}: {why}", file.path);
        }
    };
    if args.diff {
        let mut changed = false;
        for file in &files {
            tell_skipped(file);
            if file.after != file.before {
                changed = true;
                print(&crate::fix::unified_diff(file));
            }
        }
        return Ok(Some(if changed {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        }));
    }
    let changed: Vec<&crate::fix::FileFix> = files.iter().filter(|f| f.after != f.before).collect();
    for file in &files {
        tell_skipped(file);
    }
    if changed.is_empty() {
        without_fixes_tried(&mut result.findings, &files, &[]);
        return Ok(None);
    }
    // Whatever goes wrong once a file is written, every written file is
    // put back as it was.
    let put_back_all = |written: &[&crate::fix::FileFix]| {
        for file in written {
            if let Err(e) = std::fs::write(&file.path, &file.before) {
                eprintln!("error: cannot restore {}: {e}", file.path);
            }
        }
    };
    let mut written: Vec<&crate::fix::FileFix> = Vec::new();
    for file in &changed {
        if let Err(e) = std::fs::write(&file.path, &file.after) {
            eprintln!(
                "error: cannot write {}: {e}; the files fixed so far are put back",
                file.path
            );
            put_back_all(&written);
            return Err(ExitCode::from(2));
        }
        written.push(file);
    }
    let recheck = || -> Result<crate::check::CheckResult, ExitCode> {
        let (settings, mut again) = run_with_stdin(&args.inputs, false, None)?;
        leave_out_baseline(args, &settings, &mut again, false)?;
        Ok(again)
    };
    let mut again = match recheck() {
        Ok(again) => again,
        Err(code) => {
            put_back_all(&written);
            return Err(code);
        }
    };
    // A fix must clear its finding and keep the file parsing.
    let put_back: Vec<&crate::fix::FileFix> = changed
        .iter()
        .copied()
        .filter(|file| !crate::fix::cleared(file, &result.findings, &again.findings))
        .collect();
    for file in &put_back {
        eprintln!(
            "not fixed: {}: the fixes did not clear their findings, or broke the file's parse; it is left as it was",
            file.path
        );
    }
    put_back_all(&put_back);
    if !put_back.is_empty() {
        again = recheck()?;
    }
    let fixed: usize = changed
        .iter()
        .filter(|f| !put_back.iter().any(|p| p.path == f.path))
        .map(|f| f.fixed.len())
        .sum();
    let files_fixed = changed.len() - put_back.len();
    eprintln!(
        "fixed {fixed} finding{} in {files_fixed} file{}",
        if fixed == 1 { "" } else { "s" },
        if files_fixed == 1 { "" } else { "s" }
    );
    without_fixes_tried(&mut again.findings, &files, &put_back);
    *result = again;
    Ok(None)
}

/// After `--fix`, a finding whose fix was tried and left ("not fixed": a
/// reason given, or its file put back) offers no fix: the summary must not
/// say `--fix` applies what it just could not.
fn without_fixes_tried(
    findings: &mut [crate::finding::Finding],
    files: &[crate::fix::FileFix],
    put_back: &[&crate::fix::FileFix],
) {
    for finding in findings.iter_mut().filter(|f| f.fix.is_some()) {
        let skipped = files.iter().any(|file| {
            file.path == finding.path
                && file.skipped.iter().any(|(code, line, _)| {
                    *code == finding.code && *line == finding.range.start.line
                })
        });
        if skipped || put_back.iter().any(|file| file.path == finding.path) {
            finding.fix = None;
        }
    }
}

fn run_check(args: CheckArgs) -> ExitCode {
    if args.watch {
        return watch(&args);
    }
    let memo = (!args.no_cache)
        .then(|| std::sync::Arc::new(check::Memo::on_disk(cache_folder(&args.inputs))));
    let code = check_once(&args, memo.as_ref());
    persist(memo.as_deref());
    code
}

/// Where the cache of `inputs` lives: the config's `cache-dir` (relative
/// to its folder), else `.metriclint_cache` at the project root of the first
/// path (see [`project_root_of`]).
pub fn cache_folder(inputs: &Inputs) -> PathBuf {
    let config_path = match (&inputs.config, inputs.isolated) {
        (_, true) => None,
        (Some(path), false) => Some(path.clone()),
        (None, false) => config::discover(&inputs.paths),
    };
    // A config that does not load is reported by the run itself.
    let configured = config_path.and_then(|path| {
        let dir = Config::load(&path).ok()?.cache_dir?;
        Some(path.parent().unwrap_or(Path::new(".")).join(dir))
    });
    configured.unwrap_or_else(|| {
        let first = inputs
            .paths
            .first()
            .map_or(Path::new("."), PathBuf::as_path);
        project_root_of(first).join(crate::cache::DEFAULT_DIR)
    })
}

/// `clean`: removes the cache folder of the paths' project.
fn run_clean(args: CleanArgs) -> ExitCode {
    let folder = cache_folder(&Inputs {
        paths: args.paths,
        registry: Vec::new(),
        dialect: None,
        config: args.config,
        isolated: args.isolated,
    });
    use crate::cache::Cleaned;
    match crate::cache::clean(&folder) {
        Ok(Cleaned::Removed) => {
            eprintln!("removed the cache {}", folder.display());
            ExitCode::SUCCESS
        }
        Ok(Cleaned::Absent) => {
            eprintln!("no cache at {}", folder.display());
            ExitCode::SUCCESS
        }
        Ok(Cleaned::KeptOtherFiles) => {
            eprintln!(
                "removed the cache files of {}; the folder holds other files, kept",
                folder.display()
            );
            ExitCode::SUCCESS
        }
        Ok(Cleaned::NotOurs) => {
            eprintln!(
                "error: {} is not a metriclint cache (it has no .gitignore written by metriclint); nothing removed",
                folder.display()
            );
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("error: cannot remove the cache {}: {e}", folder.display());
            ExitCode::from(2)
        }
    }
}

/// Writes what a run kept to its cache folder; a cache that cannot be
/// written only costs the next run time, so it is said, not failed on.
fn persist(memo: Option<&check::Memo>) {
    if let Some(Err(e)) = memo.map(check::Memo::persist) {
        eprintln!("warning: cannot write the cache: {e} (--no-cache skips it)");
    }
}

/// `check --watch`: checks, then waits for a file under the paths to
/// change, and checks again, until interrupted.
fn watch(args: &CheckArgs) -> ExitCode {
    let interactive = std::io::IsTerminal::is_terminal(&std::io::stdout());
    // Files that did not change are not checked again.
    let memo = std::sync::Arc::new(if args.no_cache {
        check::Memo::default()
    } else {
        check::Memo::on_disk(cache_folder(&args.inputs))
    });
    loop {
        let before = watched_files(&args.inputs.paths);
        if interactive {
            // A fresh screen for each run, as a watcher shows it.
            print("\x1b[2J\x1b[H");
        }
        check_once(args, Some(&memo));
        persist(Some(&memo));
        eprintln!("watching for changes (Ctrl-C stops)");
        while watched_files(&args.inputs.paths) == before {
            std::thread::sleep(std::time::Duration::from_millis(250));
        }
    }
}

/// What `--watch` compares: every report, registry and config file under
/// `paths` (SQL, LookML, YAML), with its size and time of change, in order.
fn watched_files(paths: &[PathBuf]) -> Vec<(PathBuf, u64, Option<std::time::SystemTime>)> {
    let mut files = Vec::new();
    for path in paths {
        let walk = walkdir::WalkDir::new(path)
            .follow_links(true)
            .into_iter()
            .filter_entry(|e| !crate::discover::is_skipped_dir(e));
        for entry in walk.flatten() {
            let watched = entry.file_type().is_file()
                && entry
                    .path()
                    .extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| {
                        matches!(
                            e.to_ascii_lowercase().as_str(),
                            "sql" | "lkml" | "yml" | "yaml"
                        )
                    });
            if watched {
                let meta = entry.metadata().ok();
                files.push((
                    entry.path().to_path_buf(),
                    meta.as_ref().map_or(0, |m| m.len()),
                    meta.and_then(|m| m.modified().ok()),
                ));
            }
        }
    }
    files.sort();
    files
}

fn check_once(args: &CheckArgs, memo: Option<&std::sync::Arc<check::Memo>>) -> ExitCode {
    if args.show_settings {
        return show_settings(&args.inputs, args);
    }
    let stdin = match &args.stdin_filename {
        None => None,
        Some(name) => {
            // Bytes: text that is not UTF-8 is an ML900, as in a file.
            let mut bytes = Vec::new();
            if let Err(e) = std::io::Read::read_to_end(&mut std::io::stdin(), &mut bytes) {
                eprintln!("error: cannot read SQL from stdin: {e}");
                return ExitCode::from(2);
            }
            Some((name.clone(), bytes))
        }
    };
    let (settings, mut result) = match run_remembering(&args.inputs, false, stdin, memo) {
        Ok(done) => done,
        Err(code) => return code,
    };
    if let Some(path) = &args.write_baseline {
        if let Err(e) = crate::baseline::Baseline::of(&result.findings, path).write(path) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return ExitCode::from(2);
        }
        let n = result.findings.len();
        eprintln!(
            "wrote {n} finding{} to the baseline {}",
            if n == 1 { "" } else { "s" },
            path.display()
        );
    }
    if let Err(code) = leave_out_baseline(args, &settings, &mut result, true) {
        return code;
    }
    // A run of named files sees only them: a suppression of something
    // other files would show may look unused, so none is removed (nor said
    // to be fixable).
    let keep_suppressions = |result: &mut crate::check::CheckResult| {
        if args.inputs.paths.iter().any(|p| p.is_file()) {
            for f in &mut result.findings {
                if f.code == crate::rules::UnusedSuppression::INFO.code {
                    f.fix = None;
                }
            }
        }
    };
    keep_suppressions(&mut result);
    if args.fix || args.diff {
        match fix_files(args, &mut result) {
            Ok(Some(code)) => return code,
            Ok(None) => {}
            Err(code) => return code,
        }
        keep_suppressions(&mut result);
    }
    let fail_on = args
        .fail_on
        .map(FailOn::severity)
        .or(settings.config.as_ref().and_then(|c| c.fail_on))
        .unwrap_or(crate::finding::Severity::Error);
    let summary = result.summary();
    let shown: Vec<crate::finding::Finding> = if args.quiet {
        result
            .findings
            .iter()
            .filter(|f| f.severity == crate::finding::Severity::Error)
            .cloned()
            .collect()
    } else {
        result.findings.clone()
    };
    // Under several config files, each file fails by its own (unless the
    // command line says).
    let fails_run = |f: &crate::finding::Finding| {
        let threshold = match args.fail_on {
            Some(_) => fail_on,
            None => settings
                .fail_on_by_path
                .get(&f.path)
                .copied()
                .unwrap_or(fail_on),
        };
        f.severity >= threshold
    };
    let machine = !matches!(args.format, Format::Human | Format::Concise);
    let mut text = match args.format {
        Format::Json => report::json::render(&result.findings, summary),
        Format::Concise => report::machine::concise(&shown),
        Format::Github => report::machine::github(&result.findings),
        Format::Sarif => report::machine::sarif(&result.findings),
        Format::Gitlab => report::machine::gitlab(&result.findings),
        Format::Junit => report::machine::junit(
            &result.findings,
            &result.checked,
            &|f| fails_run(f) && !args.exit_zero,
            result.elapsed,
            &result.times,
        ),
        Format::Human => {
            let color = match args.color {
                ColorChoice::Always => true,
                ColorChoice::Never => false,
                ColorChoice::Auto => {
                    args.output.is_none()
                        && std::io::stdout().is_terminal()
                        && std::env::var_os("NO_COLOR").is_none()
                }
            };
            let style = human::Style { color, width: 100 };
            if args.quiet {
                human::render_findings(&shown, style, &result.texts)
            } else {
                human::render(
                    &result.findings,
                    summary,
                    result.elapsed,
                    style,
                    &result.texts,
                )
            }
        }
    };
    if args.statistics {
        let table = human::statistics(&result.findings);
        if machine {
            eprint!("{table}");
        } else {
            text.push_str(&table);
        }
    }
    match &args.output {
        None => print(&text),
        Some(path) => {
            if let Err(e) = std::fs::write(path, &text) {
                eprintln!("error: cannot write {}: {e}", path.display());
                return ExitCode::from(2);
            }
        }
    }
    let fails = result.findings.iter().any(fails_run);
    // Recording a baseline is not a check: it succeeds.
    if fails && !args.exit_zero && args.write_baseline.is_none() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Runs the command line; the process exit code is 0, 1 or 2 (README's Exit codes).
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::SUCCESS
                }
                _ => ExitCode::from(2),
            };
        }
    };
    match cli.command {
        Command::Check(args) => run_check(args),
        Command::Metrics(args) => run_metrics(args),
        Command::Explain(args) => run_explain(args),
        Command::Init(args) => run_init(args),
        Command::Rule(args) => run_rule(args),
        Command::Render(args) => run_render(args),
        Command::Clean(args) => run_clean(args),
        Command::Server => match crate::server::serve() {
            Ok(crate::server::Ended::ShutDown) => ExitCode::SUCCESS,
            Ok(crate::server::Ended::ExitedWithoutShutdown) => ExitCode::from(1),
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
        },
    }
}
