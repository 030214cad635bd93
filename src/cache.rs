//! The cache of per-file results kept between runs, as ruff keeps one: a
//! `.metriclint_cache/` folder at the project root (or where the config's
//! `cache-dir` says), git-ignored by a `.gitignore` it writes inside itself.
//!
//! It holds what [`crate::check::Memo`] keeps in memory: the outcome of each
//! file that stands alone (outside any dbt project, reading no other checked
//! file), under a hash of the file's bytes. One cache file is kept per run
//! fingerprint: the metriclint version, the registry, config and dialect,
//! and the names of the checked files (a file's lineage may reach any other
//! by its name). A run loads the one of its fingerprint, re-checks only the
//! files whose bytes changed, re-runs the cross-report stage on everything,
//! and writes the cache back if anything changed.
//!
//! Safe under concurrent runs: a cache file is written to a temporary file
//! and renamed into place, so a reader sees a whole file or none, and a
//! cache file that does not decode (truncated, corrupt, of another version)
//! is a miss, never an error.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use serde::{Deserialize, Deserializer, Serializer};

use crate::check::{FileOutcome, LeftOut};
use crate::finding::Finding;

/// The folder's default name, at the project root.
pub const DEFAULT_DIR: &str = ".metriclint_cache";

/// How many cache files (run fingerprints) a folder keeps: the most
/// recently used.
const KEPT_RUNS: usize = 8;

/// The `.gitignore` a cache folder holds, exactly: it keeps the folder out
/// of git, and marks it as metriclint's (see [`clean`]).
const GITIGNORE: &str = "# Written by metriclint: its cache is never committed.\n*\n";

/// What one cache file holds, after a checksum of it.
#[derive(serde::Serialize, Deserialize)]
struct Stored {
    /// The build that wrote it (see [`build`]); another build's is a miss.
    build: String,
    run: u64,
    files: Vec<(PathBuf, u64, FileOutcome)>,
    /// The cross-report findings, under a hash of every file's path and
    /// bytes (see `check::Memo`).
    across: Option<(u64, Vec<Finding>)>,
}

/// What a cache file gives back: each file's outcome by path, with its
/// bytes' hash; and the cross-report findings, under their key.
pub type Loaded = (
    HashMap<PathBuf, (u64, FileOutcome)>,
    Option<(u64, Vec<Finding>)>,
);

/// What identifies the running build: its version, and its executable's
/// size and time of change, so that a rebuilt binary (another rule, the
/// same version) never reads what an older one kept.
fn build() -> &'static str {
    static BUILD: OnceLock<String> = OnceLock::new();
    BUILD.get_or_init(|| {
        let executable = std::env::current_exe()
            .and_then(std::fs::metadata)
            .map(|m| {
                let changed = m
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_nanos());
                format!("{:x}-{changed:x}", m.len())
            })
            .unwrap_or_default();
        format!("{}-{executable}", env!("CARGO_PKG_VERSION"))
    })
}

/// The cache file of run fingerprint `run` in `dir`, for this build.
fn file_of(dir: &Path, run: u64) -> PathBuf {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (build(), run).hash(&mut hasher);
    dir.join(format!("{:016x}.bin", hasher.finish()))
}

/// A checksum of a cache file's payload: a file changed after it was
/// written (a byte flipped, a message edited) is a miss.
fn checksum(payload: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    payload.hash(&mut hasher);
    hasher.finish()
}

/// The outcomes kept in `dir` for run `run`, by path with their bytes'
/// hash; empty when there is no cache file, or one that is not whole and
/// sound (truncated, changed, of another build).
pub fn load(dir: &Path, run: u64) -> Loaded {
    let file = file_of(dir, run);
    let Ok(bytes) = std::fs::read(&file) else {
        return Loaded::default();
    };
    let Some((sum, payload)) = bytes.split_first_chunk::<8>() else {
        return Loaded::default();
    };
    if u64::from_le_bytes(*sum) != checksum(payload) {
        return Loaded::default();
    }
    match shared::reading(|| postcard::from_bytes::<Stored>(payload)) {
        Ok(stored) if stored.build == build() && stored.run == run => {
            // Used now: the last to be pruned.
            let _ = std::fs::File::options()
                .write(true)
                .open(&file)
                .and_then(|f| f.set_modified(std::time::SystemTime::now()));
            let files = stored
                .files
                .into_iter()
                .map(|(path, hash, outcome)| (path, (hash, outcome)))
                .collect();
            (files, stored.across)
        }
        _ => Loaded::default(),
    }
}

/// Whether `dir` is a cache folder of metriclint's: it holds exactly the
/// `.gitignore` metriclint writes.
fn is_ours(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join(".gitignore")).is_ok_and(|text| text == GITIGNORE)
}

/// Writes `files` as the cache of run `run` in `dir`, atomically, and
/// removes the least recently used cache files beyond [`KEPT_RUNS`]. A
/// folder that exists and is not a cache folder (it holds other files) is
/// left alone: an error, as is a cache that cannot be written.
pub fn store<'a>(
    dir: &Path,
    run: u64,
    files: impl Iterator<Item = (&'a PathBuf, &'a (u64, FileOutcome))>,
    across: Option<&'a (u64, Vec<Finding>)>,
) -> std::io::Result<()> {
    let empty = |dir: &Path| std::fs::read_dir(dir).is_ok_and(|mut e| e.next().is_none());
    if dir.exists() && !is_ours(dir) && !empty(dir) {
        return Err(std::io::Error::other(format!(
            "{} holds files of its own; a cache folder must be a folder of its own",
            dir.display()
        )));
    }
    std::fs::create_dir_all(dir)?;
    if !is_ours(dir) {
        std::fs::write(dir.join(".gitignore"), GITIGNORE)?;
    }
    let stored = StoredRef {
        build: build(),
        run,
        files: files
            .map(|(path, (hash, outcome))| (path, *hash, outcome))
            .collect(),
        across,
    };
    let payload =
        shared::writing(|| postcard::to_stdvec(&stored)).map_err(std::io::Error::other)?;
    let mut bytes = checksum(&payload).to_le_bytes().to_vec();
    bytes.extend_from_slice(&payload);
    let target = file_of(dir, run);
    // A name of this process and moment, so two runs never write one
    // temporary file.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let temporary = dir.join(format!(".{}.{nanos}.tmp", std::process::id()));
    if let Err(error) =
        std::fs::write(&temporary, bytes).and_then(|()| std::fs::rename(&temporary, &target))
    {
        let _ = std::fs::remove_file(&temporary);
        return Err(error);
    }
    prune(dir);
    Ok(())
}

/// [`Stored`], borrowing what it writes.
#[derive(serde::Serialize)]
struct StoredRef<'a> {
    build: &'a str,
    run: u64,
    files: Vec<(&'a PathBuf, u64, &'a FileOutcome)>,
    across: Option<&'a (u64, Vec<Finding>)>,
}

/// Removes all but the [`KEPT_RUNS`] most recently used cache files of
/// `dir`, and temporary files an interrupted run left an hour ago or more.
fn prune(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let now = std::time::SystemTime::now();
    let mut caches: Vec<(std::time::SystemTime, PathBuf)> = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(changed) = entry.metadata().ok().and_then(|m| m.modified().ok()) else {
            continue;
        };
        match path.extension().and_then(|x| x.to_str()) {
            Some("bin") => caches.push((changed, path)),
            Some("tmp")
                if now
                    .duration_since(changed)
                    .is_ok_and(|age| age.as_secs() >= 3600) =>
            {
                let _ = std::fs::remove_file(path);
            }
            _ => {}
        }
    }
    caches.sort_by_key(|c| std::cmp::Reverse(c.0));
    for (_, path) in caches.into_iter().skip(KEPT_RUNS) {
        let _ = std::fs::remove_file(path);
    }
}

/// What [`clean`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Cleaned {
    /// The folder is gone.
    Removed,
    /// There was no folder.
    Absent,
    /// The folder is not a cache folder of metriclint's: left alone.
    NotOurs,
    /// Its cache files are gone, but the folder holds other files, kept.
    KeptOtherFiles,
}

/// Removes the cache folder `dir` (`metriclint clean`), if it is one (see
/// [`is_ours`]): its cache files, temporary files and `.gitignore`, then
/// the folder, if nothing else is in it. Nothing else is ever removed.
pub fn clean(dir: &Path) -> std::io::Result<Cleaned> {
    if !dir.exists() {
        return Ok(Cleaned::Absent);
    }
    if !is_ours(dir) {
        return Ok(Cleaned::NotOurs);
    }
    for entry in std::fs::read_dir(dir)?.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|x| x == "bin" || x == "tmp") {
            std::fs::remove_file(path)?;
        }
    }
    let others = std::fs::read_dir(dir)?
        .flatten()
        .any(|e| e.file_name() != ".gitignore");
    if others {
        return Ok(Cleaned::KeptOtherFiles);
    }
    std::fs::remove_file(dir.join(".gitignore"))?;
    std::fs::remove_dir(dir)?;
    Ok(Cleaned::Removed)
}

/// One `&'static str` per distinct text read back: rule codes and names,
/// verdicts, reasons left out. They are few, so each is leaked once.
fn intern(text: &str) -> &'static str {
    static HELD: OnceLock<Mutex<std::collections::HashSet<&'static str>>> = OnceLock::new();
    let mut held = HELD
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(kept) = held.get(text) {
        return kept;
    }
    let leaked: &'static str = Box::leak(text.to_string().into_boxed_str());
    held.insert(leaked);
    leaked
}

/// A [`Finding`] as a cache file holds it: its code and rule name as text,
/// interned when read back (serde cannot read a `&'static str` itself).
#[derive(Deserialize)]
struct FindingOnDisk {
    code: String,
    rule: String,
    severity: crate::finding::Severity,
    path: String,
    range: crate::source::Range,
    metric: Option<String>,
    message: String,
    found: Option<String>,
    expected: Option<String>,
    related: Vec<crate::finding::Related>,
    help: Option<String>,
    label: Option<String>,
    fix: Option<crate::fix::Fix>,
}

impl<'de> Deserialize<'de> for Finding {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Finding, D::Error> {
        FindingOnDisk::deserialize(deserializer).map(Finding::from)
    }
}

impl From<FindingOnDisk> for Finding {
    fn from(read: FindingOnDisk) -> Finding {
        Finding {
            code: intern(&read.code),
            rule: intern(&read.rule),
            severity: read.severity,
            path: read.path,
            range: read.range,
            metric: read.metric,
            message: read.message,
            found: read.found,
            expected: read.expected,
            related: read.related,
            help: read.help,
            label: read.label,
            fix: read.fix,
        }
    }
}

/// A [`LeftOut`] as a cache file holds it (see [`FindingOnDisk`]).
#[derive(Deserialize)]
struct LeftOutOnDisk {
    path: String,
    line: u32,
    name: String,
    why: String,
}

impl<'de> Deserialize<'de> for LeftOut {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<LeftOut, D::Error> {
        LeftOutOnDisk::deserialize(deserializer).map(LeftOut::from)
    }
}

impl From<LeftOutOnDisk> for LeftOut {
    fn from(read: LeftOutOnDisk) -> LeftOut {
        LeftOut {
            path: read.path,
            line: read.line,
            name: read.name,
            why: intern(&read.why),
        }
    }
}

/// Serde for a metric site's verdict (a rule's code and its message).
pub mod static_verdict {
    use super::*;
    use serde::Serialize;

    type Verdict = Option<Box<(&'static str, String)>>;

    pub fn serialize<S: Serializer>(verdict: &Verdict, serializer: S) -> Result<S::Ok, S::Error> {
        verdict
            .as_deref()
            .map(|(code, message)| (*code, message))
            .serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Verdict, D::Error> {
        let read = Option::<(String, String)>::deserialize(deserializer)?;
        Ok(read.map(|(code, message)| Box::new((intern(&code), message))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome_with_a_finding() -> FileOutcome {
        let info = crate::rules::by_code("ML010").unwrap();
        FileOutcome {
            findings: vec![Finding::of(
                info,
                "a.sql",
                crate::source::Range::file_start(),
                "a message".to_string(),
            )],
            content_hash: Some(7),
            ..FileOutcome::default()
        }
    }

    #[test]
    fn a_cache_file_reads_back_under_its_run_only() {
        let dir = tempfile::tempdir().unwrap();
        let mut files = HashMap::new();
        files.insert(PathBuf::from("a.sql"), (7, outcome_with_a_finding()));
        store(dir.path(), 42, files.iter(), None).unwrap();
        let (read, _) = load(dir.path(), 42);
        let (hash, outcome) = &read[Path::new("a.sql")];
        assert_eq!(*hash, 7);
        assert_eq!(outcome.findings[0].code, "ML010");
        assert_eq!(outcome.findings[0].message, "a message");
        // Near miss: another run's fingerprint reads nothing.
        assert!(load(dir.path(), 43).0.is_empty());
    }

    #[derive(serde::Serialize, Deserialize, PartialEq, Debug)]
    struct Holder {
        #[serde(with = "shared")]
        tables: std::sync::Arc<[String]>,
    }

    #[test]
    fn shared_values_are_written_once_and_read_back_shared() {
        let tables: std::sync::Arc<[String]> = vec!["a_long_table_name".to_string(); 8].into();
        let holders: Vec<Holder> = (0..50)
            .map(|_| Holder {
                tables: tables.clone(),
            })
            .collect();
        let whole = postcard::to_stdvec(&holders).unwrap();
        let bytes = shared::writing(|| postcard::to_stdvec(&holders)).unwrap();
        assert!(
            bytes.len() * 10 < whole.len(),
            "{} against {}",
            bytes.len(),
            whole.len()
        );
        let read: Vec<Holder> = shared::reading(|| postcard::from_bytes(&bytes)).unwrap();
        assert_eq!(read, holders);
        assert!(std::sync::Arc::ptr_eq(&read[0].tables, &read[49].tables));
        // Near miss: written whole, read whole, outside a cache file too.
        let plain: Vec<Holder> = postcard::from_bytes(&whole).unwrap();
        assert_eq!(plain, holders);
        // A number read outside a cache file is an error, not a panic.
        assert!(postcard::from_bytes::<Vec<Holder>>(&bytes).is_err());
    }

    /// A finding is written by its own field order and read by its
    /// mirror's: every field must come back where it was.
    #[test]
    fn a_finding_with_every_field_set_reads_back_whole() {
        let mut finding = outcome_with_a_finding().findings.remove(0);
        let at = |line| crate::source::Range {
            start: crate::source::Position::new(line, 2),
            end: crate::source::Position::new(line, 9),
        };
        finding.range = at(3);
        finding.metric = Some("ctr".to_string());
        finding.found = Some("avg(clicks / impressions)".to_string());
        finding.expected = Some("sum(clicks) / sum(impressions)".to_string());
        finding.related = vec![crate::finding::Related {
            path: "b.sql".to_string(),
            line: 4,
            column: 5,
            message: "computed so here".to_string(),
        }];
        finding.help = Some("align it".to_string());
        finding.label = Some("computed as".to_string());
        finding.fix = Some(crate::fix::Fix {
            title: "rename".to_string(),
            edits: vec![crate::fix::Edit {
                range: at(3),
                old: "click_rate".to_string(),
                new: "ctr".to_string(),
            }],
            renames: true,
            changes_the_figure: false,
        });
        let bytes = postcard::to_stdvec(&finding).unwrap();
        let read: Finding = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(format!("{read:?}"), format!("{finding:?}"));
    }

    #[test]
    fn the_least_recently_used_runs_and_stale_temporary_files_go() {
        let dir = tempfile::tempdir().unwrap();
        let files: HashMap<PathBuf, (u64, FileOutcome)> = HashMap::new();
        let an_hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
        for run in 0..KEPT_RUNS as u64 {
            store(dir.path(), run, files.iter(), None).unwrap();
            // Older the earlier written, so "least recently used" is run 0.
            let age = std::time::Duration::from_secs(60 * (KEPT_RUNS as u64 - run));
            std::fs::File::options()
                .write(true)
                .open(file_of(dir.path(), run))
                .unwrap()
                .set_modified(std::time::SystemTime::now() - age)
                .unwrap();
        }
        // Run 0 is read (used now), so run 1 is the one to go.
        let _ = load(dir.path(), 0);
        let stale = dir.path().join(".1.2.tmp");
        let fresh = dir.path().join(".3.4.tmp");
        std::fs::write(&stale, "").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&stale)
            .unwrap()
            .set_modified(an_hour_ago)
            .unwrap();
        std::fs::write(&fresh, "").unwrap();
        store(dir.path(), 100, files.iter(), None).unwrap();
        assert!(file_of(dir.path(), 0).exists(), "the run just used went");
        assert!(
            !file_of(dir.path(), 1).exists(),
            "the least recently used stayed"
        );
        assert!(file_of(dir.path(), 100).exists());
        assert!(!stale.exists(), "a stale temporary file stayed");
        assert!(fresh.exists(), "a running write's temporary file went");
    }

    #[test]
    fn only_the_newest_runs_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let files: HashMap<PathBuf, (u64, FileOutcome)> = HashMap::new();
        for run in 0..(KEPT_RUNS as u64 + 3) {
            store(dir.path(), run, files.iter(), None).unwrap();
            // Modification times must differ for "newest" to mean anything.
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let kept = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "bin"))
            .count();
        assert_eq!(kept, KEPT_RUNS);
        assert!(dir.path().join(".gitignore").exists());
    }
}

/// Serde for a value many metric sites share (a file's path, the tables a
/// report reads, its WHERE conditions, a form): within one cache file, the
/// first occurrence is written whole and every later equal one as its
/// number, and reading gives each one value shared (an `Arc` cloned), as
/// in memory. Outside [`shared::writing`] and [`shared::reading`] every
/// value is written whole.
pub mod shared {
    use std::any::{Any, TypeId};
    use std::cell::RefCell;
    use std::collections::HashMap;
    use std::hash::Hash;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Per type of value, the values met so far: by value when writing
    /// (`HashMap<T, u32>`), in order when reading (`Vec<T>`).
    type Tables = HashMap<TypeId, Box<dyn Any>>;

    thread_local! {
        static WRITING: RefCell<Option<Tables>> = const { RefCell::new(None) };
        static READING: RefCell<Option<Tables>> = const { RefCell::new(None) };
    }

    #[derive(Serialize)]
    enum Written<'a, T> {
        Whole(&'a T),
        Seen(u32),
    }

    #[derive(Deserialize)]
    enum Read<T> {
        Whole(T),
        Seen(u32),
    }

    /// Runs `write` with values shared within it.
    pub fn writing<R>(write: impl FnOnce() -> R) -> R {
        WRITING.with(|w| *w.borrow_mut() = Some(Tables::new()));
        let result = write();
        WRITING.with(|w| *w.borrow_mut() = None);
        result
    }

    /// Runs `read` with values shared within it, as [`writing`] wrote them.
    pub fn reading<R>(read: impl FnOnce() -> R) -> R {
        READING.with(|r| *r.borrow_mut() = Some(Tables::new()));
        let result = read();
        READING.with(|r| *r.borrow_mut() = None);
        result
    }

    pub fn serialize<T, S>(value: &T, serializer: S) -> Result<S::Ok, S::Error>
    where
        T: Serialize + Hash + Eq + Clone + 'static,
        S: Serializer,
    {
        let seen = WRITING.with(|w| {
            let mut tables = w.borrow_mut();
            let table = tables
                .as_mut()?
                .entry(TypeId::of::<T>())
                .or_insert_with(|| Box::new(HashMap::<T, u32>::new()))
                .downcast_mut::<HashMap<T, u32>>()
                .expect("one table per type");
            if let Some(number) = table.get(value) {
                return Some(*number);
            }
            let number = u32::try_from(table.len()).unwrap_or(u32::MAX);
            table.insert(value.clone(), number);
            None
        });
        match seen {
            Some(number) => Written::<T>::Seen(number).serialize(serializer),
            None => Written::Whole(value).serialize(serializer),
        }
    }

    pub fn deserialize<'de, T, D>(deserializer: D) -> Result<T, D::Error>
    where
        T: Deserialize<'de> + Clone + 'static,
        D: Deserializer<'de>,
    {
        let read = Read::<T>::deserialize(deserializer)?;
        READING.with(|r| {
            let mut tables = r.borrow_mut();
            let table = tables.as_mut().map(|tables| {
                tables
                    .entry(TypeId::of::<T>())
                    .or_insert_with(|| Box::new(Vec::<T>::new()))
                    .downcast_mut::<Vec<T>>()
                    .expect("one table per type")
            });
            match (read, table) {
                (Read::Whole(value), Some(table)) => {
                    table.push(value.clone());
                    Ok(value)
                }
                (Read::Whole(value), None) => Ok(value),
                (Read::Seen(number), Some(table)) => {
                    table.get(number as usize).cloned().ok_or_else(|| {
                        serde::de::Error::custom("a shared value refers to none read before")
                    })
                }
                (Read::Seen(_), None) => Err(serde::de::Error::custom(
                    "a shared value read outside a cache file",
                )),
            }
        })
    }
}
