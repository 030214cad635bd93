//! Throughput benchmark: parse-only versus the full check, on a generated corpus.
//!
//! `cargo bench --bench throughput -- [--files N]` writes N realistic report
//! files (default 2000) to a temporary folder and measures, single-threaded:
//!   (a) read + sqlparser parse of every file (the floor);
//!   (b) read + the full check of every file (parse, extract, canonicalise, judge);
//! then (c) the full parallel `check::run` as the CLI runs it; (d)–(f) a
//! process that checks again and again with its memo (the language server,
//! `check --watch`): first run, nothing changed, one report edited; and
//! (g)–(j) runs that share the on-disk cache as separate processes do: first
//! run (writing the cache), nothing changed, one report edited, one named
//! file (a pre-commit hook). It prints files/s and MB/s for each, the (b)/(a)
//! ratio, and the process's peak memory.
//!
//! `-- --dbt [--files N]` generates a dbt project of N models instead (layers
//! linked by `ref()`, project and package macros); (a) then parses the SQL the
//! models render to (rendered beforehand, untimed), (a') renders and parses,
//! and (c) includes the rechecks in `ref()` order.
//!
//! `-- --memory N[,N…] [--small]` measures peak memory per file: for each N it
//! writes N reports (realistic ones, or with `--small` one-metric reports of a
//! few lines) and runs one `check::run` in a child process of its own, so that
//! the peak resident size is that run's alone.
//!
//! `-- --large MB[,MB…] [--small]` measures one large file per size (a
//! generated dump): realistic reports one after the other, or with `--small`
//! `SELECT 1 AS x FROM t;` repeated; each is checked in a child process, and
//! it prints seconds per megabyte and the peak resident size.
//!
//! Every run uses the built-in pack as the CLI does with no registry.

mod corpus;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use metriclint::check::{self, check_file, CheckOptions};
use metriclint::dialect::Dialect;
use metriclint::discover::discover;
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn report(label: &str, files: usize, bytes: u64, elapsed: Duration) {
    let secs = elapsed.as_secs_f64();
    println!(
        "{label:<34} {:>9.1} ms  {:>9.0} files/s  {:>7.1} MB/s",
        secs * 1000.0,
        files as f64 / secs,
        bytes as f64 / secs / 1e6
    );
}

/// The built-in pack as the CLI loads it when no registry is named: the
/// repository grounds the base measures.
fn default_registry() -> metriclint::registry::Registry {
    let mut registry = metriclint::registry::load_builtin("programmatic").expect("built-in pack");
    registry.set_pack_only(true);
    registry
}

/// A plain `check` of `dir`, as the CLI would run it with no flags.
fn options_for(dir: &std::path::Path) -> CheckOptions {
    CheckOptions {
        paths: vec![dir.to_path_buf()],
        inventory: false,
        ..Default::default()
    }
}

/// Checks each file on its own, in one thread; gives the findings' count.
fn check_each(
    paths: &[PathBuf],
    options: &CheckOptions,
    registry: &metriclint::registry::Registry,
) -> usize {
    paths
        .iter()
        .map(|p| {
            check_file(p, options, registry, &Default::default())
                .findings
                .len()
        })
        .sum()
}

/// Best of `rounds` runs, to keep noise out of the comparison.
fn best_of(rounds: usize, mut run: impl FnMut() -> usize) -> (Duration, usize) {
    let mut best = Duration::MAX;
    let mut last = 0;
    for _ in 0..rounds {
        let start = Instant::now();
        last = run();
        best = best.min(start.elapsed());
    }
    (best, last)
}

// The allocator the binary uses (see src/main.rs), so the timings are the tool's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let files = args
        .iter()
        .position(|a| a == "--files")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(2000usize);
    let dir = tempfile::tempdir().expect("temp dir");
    // `--keep DIR`: write the corpus there and keep it, to look at.
    let kept = args
        .iter()
        .position(|a| a == "--keep")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from);
    let dir_path = kept.clone().unwrap_or_else(|| dir.path().to_path_buf());
    let value_of = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
    };
    let small = args.iter().any(|a| a == "--small");
    if let Some(dir) = value_of("--child-check") {
        return child_check(std::path::Path::new(dir));
    }
    if let Some(sizes) = value_of("--memory") {
        return bench_memory(sizes, small);
    }
    if let Some(sizes) = value_of("--large") {
        return bench_large_files(sizes, small);
    }
    let dbt = args.iter().any(|a| a == "--dbt");
    if dbt {
        return bench_dbt(&dir_path, files);
    }
    let bytes = corpus::write_corpus(&dir_path, files).expect("write corpus");
    let paths: Vec<PathBuf> = discover(std::slice::from_ref(&dir_path))
        .expect("walk")
        .files;
    let registry = default_registry();
    println!(
        "corpus: {files} files, {:.1} MB, built-in registry of {} metrics",
        bytes as f64 / 1e6,
        registry.len()
    );

    let (parse_time, statements) = best_of(3, || {
        let dialect = GenericDialect {};
        paths
            .iter()
            .map(|p| {
                let text = std::fs::read_to_string(p).unwrap();
                Parser::parse_sql(&dialect, &text)
                    .map(|s| s.len())
                    .unwrap_or(0)
            })
            .sum()
    });
    report("(a) parse only, 1 thread", files, bytes, parse_time);

    let options = options_for(&dir_path);
    let (check_time, found) = best_of(3, || check_each(&paths, &options, &registry));
    report("(b) full check, 1 thread", files, bytes, check_time);

    let (parallel_time, _) = best_of(3, || {
        check::run(&options, &registry).unwrap().findings.len()
    });
    report(
        &format!("(c) full check, {} threads", rayon::current_num_threads()),
        files,
        bytes,
        parallel_time,
    );

    // A process that checks again and again (the language server, `check
    // --watch`): its first run, a run with nothing changed, and a run after
    // one report is edited.
    let memo = std::sync::Arc::new(check::Memo::default());
    let remembering = CheckOptions {
        memo: Some(memo.clone()),
        ..options.clone()
    };
    let started = Instant::now();
    let first = check::run(&remembering, &registry).unwrap().findings.len();
    report(
        "(d) remembering: first run",
        files,
        bytes,
        started.elapsed(),
    );
    let (unchanged, again) = best_of(3, || {
        check::run(&remembering, &registry).unwrap().findings.len()
    });
    report("(e) remembering: nothing changed", files, bytes, unchanged);
    let edited = &paths[paths.len() / 2];
    let (one_edit, _) = best_of(3, || {
        let mut text = std::fs::read_to_string(edited).unwrap();
        text.push('\n');
        std::fs::write(edited, text).unwrap();
        check::run(&remembering, &registry).unwrap().findings.len()
    });
    report("(f) remembering: one report edited", files, bytes, one_edit);
    assert_eq!(first, again, "a remembered run found something else");

    // Separate processes sharing the on-disk cache (`check` run again and
    // again, a pre-commit hook): each run starts from the cache folder
    // alone, and writes back what changed.
    let cache = tempfile::tempdir().expect("cache folder");
    let from_disk = |paths: Vec<std::path::PathBuf>| {
        let memo = std::sync::Arc::new(check::Memo::on_disk(cache.path().to_path_buf()));
        let run = CheckOptions {
            paths,
            memo: Some(memo.clone()),
            ..options.clone()
        };
        let found = check::run(&run, &registry).unwrap().findings.len();
        memo.persist().expect("cache written");
        found
    };
    let started = Instant::now();
    let cold = from_disk(options.paths.clone());
    report(
        "(g) cached: first run, cache written",
        files,
        bytes,
        started.elapsed(),
    );
    let (warm, cached) = best_of(3, || from_disk(options.paths.clone()));
    report("(h) cached: nothing changed", files, bytes, warm);
    let (edit, _) = best_of(3, || {
        let mut text = std::fs::read_to_string(edited).unwrap();
        text.push('\n');
        std::fs::write(edited, text).unwrap();
        from_disk(options.paths.clone())
    });
    report("(i) cached: one report edited", files, bytes, edit);
    let (named, _) = best_of(3, || from_disk(vec![edited.clone()]));
    report("(j) cached: one named file (pre-commit)", 1, 0, named);
    assert_eq!(cold, cached, "a cached run found something else");

    println!(
        "statements: {statements}, findings: {found}, check/parse ratio: {:.2}x, peak RSS: {} MiB",
        check_time.as_secs_f64() / parse_time.as_secs_f64(),
        peak_rss_kib().map(|k| k / 1024).unwrap_or(0)
    );
}

/// The dbt variant: render cost and `ref()` rechecks on a generated project.
fn bench_dbt(dir: &std::path::Path, models: usize) {
    let bytes = corpus::write_dbt_project(dir, models).expect("write project");
    let paths: Vec<PathBuf> = discover(&[dir.to_path_buf()])
        .expect("walk")
        .files
        .into_iter()
        .filter(|p| p.starts_with(dir.join("models")))
        .collect();
    let registry = default_registry();
    println!(
        "dbt project: {models} models, {:.1} MB of templates",
        bytes as f64 / 1e6
    );
    let options = options_for(dir);
    let project = |p: &PathBuf| options.projects.for_file(p);
    let render = |p: &PathBuf| {
        let text = std::fs::read_to_string(p).unwrap();
        metriclint::template::render(
            &text,
            Dialect::Generic,
            project(p).as_deref().map(|p| &p.jinja),
        )
        .map(|r| r.text)
        .unwrap_or_default()
    };
    let rendered: Vec<String> = paths.iter().map(render).collect();
    let parse = |sql: &str| {
        Parser::parse_sql(&GenericDialect {}, sql)
            .map(|s| s.len())
            .unwrap_or(0)
    };
    let (parse_time, statements) = best_of(3, || rendered.iter().map(|s| parse(s)).sum());
    report(
        "(a) parse rendered SQL, 1 thread",
        models,
        bytes,
        parse_time,
    );
    let (render_time, _) = best_of(3, || paths.iter().map(|p| parse(&render(p))).sum());
    report("(a') render + parse, 1 thread", models, bytes, render_time);
    let (check_time, _) = best_of(3, || check_each(&paths, &options, &registry));
    report(
        "(b) full check, 1 thread, no refs",
        models,
        bytes,
        check_time,
    );
    let (parallel_time, found) = best_of(3, || {
        check::run(&options, &registry).unwrap().findings.len()
    });
    report(
        &format!("(c) full check, {} threads", rayon::current_num_threads()),
        models,
        bytes,
        parallel_time,
    );
    println!(
        "statements: {statements}, findings: {found}, check/(render+parse): {:.2}x, check/parse: {:.2}x, peak RSS: {} MiB",
        check_time.as_secs_f64() / render_time.as_secs_f64(),
        check_time.as_secs_f64() / parse_time.as_secs_f64(),
        peak_rss_kib().map(|k| k / 1024).unwrap_or(0)
    );
}

/// Checks `dir` in a child process, twice, and gives the faster run's time,
/// peak resident size in KiB and number of sites kept. The first run after
/// the corpus is written is often slower by itself: the kernel hands it
/// fresh huge pages to clear (75% of a first run's time on the development
/// machine, none of the next).
fn check_in_child(dir: &std::path::Path) -> (Duration, u64, u64) {
    let first = check_once_in_child(dir);
    let second = check_once_in_child(dir);
    if second.0 < first.0 {
        second
    } else {
        first
    }
}

fn check_once_in_child(dir: &std::path::Path) -> (Duration, u64, u64) {
    let started = Instant::now();
    let output = std::process::Command::new(std::env::current_exe().expect("own path"))
        .arg("--child-check")
        .arg(dir)
        .output()
        .expect("run the child");
    let elapsed = started.elapsed();
    let said = String::from_utf8_lossy(&output.stdout);
    let field = |name: &str| -> u64 {
        said.split_whitespace()
            .find_map(|w| w.strip_prefix(name))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (elapsed, field("peak_kib="), field("sites="))
}

/// Time and peak memory of one large file per size.
fn bench_large_files(sizes: &str, small: bool) {
    let shape = if small {
        "`SELECT 1 AS x FROM t;` repeated"
    } else {
        "realistic reports one after the other"
    };
    println!("one large file of {shape}, built-in pack:");
    for megabytes in sizes
        .split(',')
        .filter_map(|n| n.trim().parse::<usize>().ok())
    {
        let dir = tempfile::tempdir().expect("temp dir");
        let target = megabytes * 1_000_000;
        let mut text = String::with_capacity(target + 4096);
        let mut i = 0;
        while text.len() < target {
            if small {
                text.push_str("SELECT 1 AS x FROM t;\n");
            } else {
                text.push_str(&corpus::report(i));
                text.push('\n');
            }
            i += 1;
        }
        std::fs::write(dir.path().join("dump.sql"), &text).expect("write the file");
        let (elapsed, peak, sites) = check_in_child(dir.path());
        let mb = text.len() as f64 / 1e6;
        println!(
            "{mb:>6.1} MB  {:>7.2} s  {:>5.3} s/MB  {sites:>8} sites  peak RSS {:>7.1} MiB",
            elapsed.as_secs_f64(),
            elapsed.as_secs_f64() / mb,
            peak as f64 / 1024.0,
        );
    }
}

/// Peak memory of one check per corpus size, each in a child process.
fn bench_memory(sizes: &str, small: bool) {
    let shape = if small {
        "one-metric reports"
    } else {
        "realistic reports"
    };
    println!("peak memory of `check::run`, {shape}, built-in pack:");
    // What each file adds, between one size and the next: the fixed cost
    // (binary, thread stacks, registry) cancels out.
    let mut previous: Option<(usize, u64)> = None;
    for files in sizes
        .split(',')
        .filter_map(|n| n.trim().parse::<usize>().ok())
    {
        let dir = tempfile::tempdir().expect("temp dir");
        let bytes = if small {
            corpus::write_small_corpus(dir.path(), files)
        } else {
            corpus::write_corpus(dir.path(), files)
        }
        .expect("write corpus");
        let (elapsed, peak, sites) = check_in_child(dir.path());
        let added = previous
            .filter(|(before, _)| files > *before)
            .map(|(before, peak_before)| {
                format!(
                    "  {:.2} KiB per file added",
                    (peak as f64 - peak_before as f64) / (files - before) as f64
                )
            })
            .unwrap_or_default();
        println!(
            "{files:>9} files {:>8.1} MB  {sites:>9} sites  {:>7.1} s  peak RSS {:>8.1} MiB{added}",
            bytes as f64 / 1e6,
            elapsed.as_secs_f64(),
            peak as f64 / 1024.0,
        );
        previous = Some((files, peak));
    }
}

/// The child of [`bench_memory`]: one check, then its peak resident size.
fn child_check(dir: &std::path::Path) {
    let result = check::run(&options_for(dir), &default_registry()).expect("check");
    println!(
        "findings={} sites={} peak_kib={}",
        result.findings.len(),
        result.sites.len(),
        peak_rss_kib().unwrap_or(0)
    );
}
