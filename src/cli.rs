//! The command line (clap). `main.rs` only calls [`main`].

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::builder::PossibleValue;
use clap::{Parser, Subcommand, ValueEnum};
use miette::{GraphicalReportHandler, GraphicalTheme};

use crate::check::{self, CheckOptions};
use crate::dialect::Dialect;
use crate::registry::{self, builtin, Registry, RegistryError};
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
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Files or folders to check; folders are walked for *.sql files
    /// (hidden folders, target/, dbt_packages/ and node_modules/ are skipped).
    #[arg(value_name = "PATHS", default_value = ".")]
    pub paths: Vec<PathBuf>,

    /// A registry file of agreed metric definitions (repeatable). It replaces
    /// the built-in pack; a registry can include the pack with
    /// `extends: [programmatic]`. Without it, the built-in pack is used.
    #[arg(long, value_name = "FILE")]
    pub registry: Vec<PathBuf>,

    /// The SQL dialect of the reports.
    #[arg(long, value_name = "NAME", default_value = "generic")]
    pub dialect: Dialect,

    /// Output format: human (snippets and a summary) or json (SPEC's object).
    #[arg(long, value_name = "FORMAT", default_value = "human")]
    pub format: Format,

    /// When to color human output.
    #[arg(long, value_name = "WHEN", default_value = "auto")]
    pub color: ColorChoice,
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

/// Loads the registries named, or the built-in pack.
pub fn load_registry(paths: &[PathBuf]) -> Result<Registry, RegistryError> {
    if paths.is_empty() {
        registry::load_builtin(builtin::DEFAULT_PACK)
    } else {
        registry::load_files(paths)
    }
}

/// Prints each registry problem with its YAML snippet, then one closing line.
fn print_registry_error(error: RegistryError) {
    let theme = if std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none() {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false);
    let mut out = String::new();
    for issue in &error.issues {
        let _ = handler.render_report(&mut out, issue);
        out.push('\n');
    }
    eprint!("{out}");
    eprintln!("error: {error}; no report was checked");
}

fn run_check(args: CheckArgs) -> ExitCode {
    let registry = match load_registry(&args.registry) {
        Ok(r) => r,
        Err(e) => {
            print_registry_error(e);
            return ExitCode::from(2);
        }
    };
    let options = CheckOptions {
        paths: args.paths,
        dialect: args.dialect,
    };
    let result = match check::run(&options, &registry) {
        Ok(result) => result,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    for problem in &result.walk_problems {
        eprintln!("warning: {problem}");
    }
    let summary = result.summary();
    let text = match args.format {
        Format::Json => report::json::render(&result.findings, summary),
        Format::Human => {
            let color = match args.color {
                ColorChoice::Always => true,
                ColorChoice::Never => false,
                ColorChoice::Auto => {
                    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
                }
            };
            let style = human::Style { color, width: 100 };
            human::render(&result.findings, summary, result.elapsed, style)
        }
    };
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error worth a panic.
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
    if summary.errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Runs the command line; the process exit code follows SPEC.
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
    }
}
