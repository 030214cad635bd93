//! Cross-report drift: the same unregistered metric computed several ways.
//!
//! Runs after the parallel per-file stage, on the metric sites that have no
//! registry entry (and, when only built-in packs are in force, those the pack
//! leaves to the repository): sites are grouped by name (qualifiers
//! stripped), then by canonical form, and the majority rule of ML010 decides
//! who is flagged.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

mod evidence;

use crate::canon::{AggFunc, Expr};
use crate::extract::same_relation;
use crate::finding::Finding;
use crate::judge::{explain, Counterpart};
use crate::registry::Registry;
use crate::rules::{reports_phrase, InconsistentComputation, OtherVariant};
use crate::source::Range;
use evidence::{evidence, Grains};
pub use evidence::{inverted, Evidence};

/// A place where a report computes a metric, as the cross-report views
/// (ML010, the inventory, `explain`) need it.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct MetricSite {
    /// Whether the report computes it per row (`clicks / impressions AS
    /// ctr`), its form being the ratio of the totals of what it divides.
    pub row_level: bool,
    /// The columns of the `SELECT DISTINCT` it reads, if it reads one (see
    /// [`crate::extract::Site::reads_distinct`]).
    #[serde(with = "crate::cache::shared")]
    pub reads_distinct: Box<[String]>,
    /// Shared by the sites of one file: a run of a million files keeps
    /// every site to the end, so what sites repeat is held once.
    #[serde(with = "crate::cache::shared")]
    pub path: Arc<str>,
    #[serde(with = "crate::cache::shared")]
    pub output_name: Arc<str>,
    pub range: Range,
    /// The computation as the report writes it (its slice in its aggregates'
    /// scopes), for judging it against a registry later: kept for `init`
    /// (and the other inventory commands) only.
    pub computation: Option<Box<Expr>>,
    /// The computation without the report's slice, renamed columns followed
    /// to their sources. Shared by every site of the run that computes the
    /// same (see [`SiteInterner`]).
    #[serde(with = "crate::cache::shared")]
    pub form: Arc<Expr>,
    /// The same, with renamed columns read by the names the report reads;
    /// `None` when that is `form` (see [`MetricSite::read_form`]).
    #[serde(with = "crate::cache::shared")]
    pub renamed_read_form: Option<Arc<Expr>>,
    /// Base relations the site reads.
    #[serde(with = "crate::cache::shared")]
    pub sources: Arc<[String]>,
    /// Of those, the tables no model of the project builds (see
    /// [`crate::extract::Site::source_tables`]).
    #[serde(with = "crate::cache::shared")]
    pub source_tables: Arc<[String]>,
    /// The tables and models its statement reads itself.
    #[serde(with = "crate::cache::shared")]
    pub reads: Arc<[String]>,
    /// Row conditions every aggregate of the site sees (its WHERE, through
    /// lineage); shared by the sites of a statement.
    #[serde(with = "crate::cache::shared")]
    pub slice: Arc<[Expr]>,
    /// The registered metric the name stands for, if any, and whether it was
    /// named by a synonym.
    pub registered: Option<(Arc<str>, bool)>,
    /// For a registered metric: the finding judging gave, as (code, message).
    #[serde(with = "crate::cache::static_verdict")]
    pub verdict: Option<Box<(&'static str, String)>>,
    /// A registered metric the reports agree on among themselves, because
    /// only built-in packs are in force and the pack left it to the
    /// repository (see [`Registry::is_pack_only`]).
    pub grounded_by_repository: bool,
    /// Of those, one the pack could not judge (it reads columns the pack
    /// does not know): neither agreeing nor differing.
    pub left_to_reports: bool,
    /// The template tag whose output is the whole site, when none of it is
    /// written in the file (a macro call's or an expression's output).
    pub generated_by: Option<Box<str>>,
    /// Its branch's label in a long-format UNION (see
    /// [`crate::extract::Site::label`]).
    pub label: Option<Box<str>>,
    /// The relation its statement writes, if any (see
    /// [`crate::extract::Site::target`]).
    pub target: Option<Box<str>>,
    /// Its statement in the file, and whether it is a UNION branch (see
    /// [`crate::extract::Site::statement`]).
    pub statement: usize,
    pub in_union: bool,
    /// Whether it is an output of its statement (see
    /// [`crate::extract::Site::top_level`]).
    pub top_level: bool,
    /// The dbt project the site's file belongs to: reports are compared with
    /// the other reports of their own project only.
    #[serde(with = "crate::cache::shared")]
    pub project: Option<Arc<std::path::Path>>,
    /// Whether its report is kept in a retired folder (see [`is_retired`]).
    pub retired: bool,
    /// The condition its model's `config(enabled = …)` sets, as written:
    /// models enabled under different conditions are alternatives (one
    /// connector's router or another's), never built together.
    #[serde(with = "crate::cache::shared")]
    pub enabled_when: Option<Arc<str>>,
    /// The keys of the things it is grouped by (see
    /// [`crate::extract::Site::entities`]).
    #[serde(with = "crate::cache::shared")]
    pub entities: Box<[String]>,
    /// Whether the SELECT that aggregates it reads more than one relation
    /// (see [`crate::extract::Site::over_a_join`]).
    pub over_a_join: bool,
    /// Its form as its own stage writes it, where that differs from `form`
    /// (see [`crate::extract::Site::written`]).
    #[serde(with = "crate::cache::shared")]
    pub written: Option<Arc<Expr>>,
    /// Its form with its CTEs read as stored too, where that differs (see
    /// [`crate::extract::Site::written_with_ctes`]).
    #[serde(with = "crate::cache::shared")]
    pub written_with_ctes: Option<Arc<Expr>>,
    /// The constant factor its expression writes itself (see
    /// [`crate::extract::Site::written_scale`]).
    pub written_scale: f64,
}

/// Every metric site of a run, by file, in file order. Kept as each file's
/// checker left them: flattening them into one list would hold every site
/// twice at the peak of a large run.
#[derive(Debug, Default)]
pub struct Sites {
    by_file: Vec<Vec<MetricSite>>,
}

impl Sites {
    /// Adds a file's sites, after those added before.
    pub fn add_file(&mut self, sites: Vec<MetricSite>) {
        if !sites.is_empty() {
            self.by_file.push(sites);
        }
    }

    pub fn extend(&mut self, other: Sites) {
        self.by_file.extend(other.by_file);
    }

    pub fn iter(&self) -> impl Iterator<Item = &MetricSite> + Clone {
        self.by_file.iter().flatten()
    }

    pub fn len(&self) -> usize {
        self.by_file.iter().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.by_file.is_empty()
    }
}

impl<'a> IntoIterator for &'a Sites {
    type Item = &'a MetricSite;
    type IntoIter = std::iter::Flatten<std::slice::Iter<'a, Vec<MetricSite>>>;

    fn into_iter(self) -> Self::IntoIter {
        self.by_file.iter().flatten()
    }
}

/// Holds each distinct form, slice, name and list of relations of a run
/// once: every site is kept to the end of the run, and across a million
/// reports most sites compute what others compute, under the same names.
#[derive(Default)]
pub struct SiteInterner {
    forms: std::sync::Mutex<std::collections::HashSet<Arc<Expr>>>,
    slices: std::sync::Mutex<std::collections::HashSet<Arc<[Expr]>>>,
    names: std::sync::Mutex<std::collections::HashSet<Arc<str>>>,
    relations: std::sync::Mutex<std::collections::HashSet<Arc<[String]>>>,
}

impl SiteInterner {
    /// Replaces what `sites` hold by the values held already, and holds
    /// the new ones.
    pub fn intern(&self, sites: &mut [MetricSite]) {
        for site in sites {
            site.form = Self::held(&self.forms, &site.form);
            if let Some(read) = &site.renamed_read_form {
                site.renamed_read_form = Some(Self::held(&self.forms, read));
            }
            site.slice = Self::held(&self.slices, &site.slice);
            site.output_name = Self::held(&self.names, &site.output_name);
            if let Some((metric, synonym)) = &site.registered {
                site.registered = Some((Self::held(&self.names, metric), *synonym));
            }
            site.sources = Self::held(&self.relations, &site.sources);
            site.reads = Self::held(&self.relations, &site.reads);
        }
    }

    fn held<T: Eq + std::hash::Hash + ?Sized>(
        set: &std::sync::Mutex<std::collections::HashSet<Arc<T>>>,
        value: &Arc<T>,
    ) -> Arc<T> {
        // A poisoned lock only means another file's check panicked; the
        // set itself is whole.
        let mut set = set.lock().unwrap_or_else(|e| e.into_inner());
        match set.get(value) {
            Some(held) => held.clone(),
            None => {
                set.insert(value.clone());
                value.clone()
            }
        }
    }
}

impl MetricSite {
    /// The computation without the report's slice, with renamed columns
    /// read by the names the report reads.
    pub fn read_form(&self) -> &Expr {
        self.renamed_read_form.as_deref().unwrap_or(&self.form)
    }
}

/// The conditions every aggregate of `computation` shares.
pub fn common_conditions(computation: &Expr) -> Vec<Expr> {
    let mut common: Option<Vec<Expr>> = None;
    computation.walk(&mut |e| {
        if let Expr::Aggregate(agg) = e {
            let here: Vec<Expr> = agg.scope.iter().cloned().collect();
            common = Some(match common.take() {
                None => here,
                Some(previous) => previous.into_iter().filter(|c| here.contains(c)).collect(),
            });
        }
    });
    common.unwrap_or_default()
}

/// Whether a computation is a metric: it aggregates, and is not a date or id
/// picked from a group (`MAX(event_date)`, `MIN(campaign_id)`).
pub fn is_metric(form: &Expr) -> bool {
    form.has_aggregate() && !form.is_uncertain() && !is_dimension_pick(form)
}

fn is_dimension_pick(form: &Expr) -> bool {
    match form {
        Expr::Aggregate(_) => is_pick(form),
        // `coalesce(max(value) filter (where key = 'utm_source'), split_part(url, …))`:
        // an attribute pieced together from picks, not a measure.
        Expr::Function { .. } | Expr::Cast { .. } => {
            let (mut picks, mut measures) = (0, 0);
            form.walk(&mut |e| {
                if matches!(e, Expr::Aggregate(_)) {
                    if is_pick(e) {
                        picks += 1;
                    } else {
                        measures += 1;
                    }
                }
            });
            picks > 0 && measures == 0
        }
        _ => false,
    }
}

/// `min`/`max` of a column that names a dimension (`max(event_date)`), or of
/// any column under a condition: the pivot of key/value rows
/// (`max(case when key = 'utm_source' then value end)`).
fn is_pick(form: &Expr) -> bool {
    let Expr::Aggregate(agg) = form else {
        return false;
    };
    let Expr::Column(column) = &agg.arg else {
        return false;
    };
    let pick = matches!(
        agg.func,
        crate::canon::AggFunc::Min | crate::canon::AggFunc::Max
    );
    let words: Vec<&str> = column.split('_').collect();
    let dimension_word = |w: &&str| {
        matches!(
            *w,
            "date"
                | "day"
                | "week"
                | "month"
                | "year"
                | "time"
                | "ts"
                | "timestamp"
                | "at"
                | "id"
                | "key"
                | "name"
        )
    };
    pick && (!agg.filter.is_empty() || words.last().is_some_and(dimension_word))
}

/// Whether a computation is one ML010 compares: additive aggregates of
/// measures (sums and counts, distinct counts among them), averages, and
/// ratios of those. A value picked from a group (`MAX(account_name)`,
/// `MIN(event_date)`), a boolean (`LOGICAL_OR(…)`), a list or a string is an
/// attribute of the group, not a metric.
pub fn is_metric_like(form: &Expr) -> bool {
    fn measure(e: &Expr) -> bool {
        match e {
            Expr::Aggregate(agg) => match &agg.func {
                AggFunc::Sum | AggFunc::Count | AggFunc::Avg => true,
                AggFunc::Other(name) => is_distinct_count(name),
                AggFunc::Min | AggFunc::Max => false,
            },
            Expr::Number(_) => true,
            // A guard on totals (`CASE WHEN SUM(d) = 0 THEN NULL ELSE
            // SUM(n) / SUM(d) END`): the measure it guards. A CASE on a
            // group's attribute (`WHEN browser <> 'Firefox'`) is no guard.
            Expr::Case {
                operand: None,
                branches,
                otherwise,
            } => {
                let value = |e: &Expr| matches!(e, Expr::Null) || measure(e);
                branches
                    .iter()
                    .all(|(when, then)| when.has_aggregate() && value(then))
                    && otherwise.as_deref().is_none_or(value)
            }
            Expr::Sum(terms) => terms.iter().all(|t| measure(&t.expr)),
            Expr::Product(p) => p.factors.iter().all(|f| measure(&f.expr)),
            Expr::Cast { expr, .. } => measure(expr),
            // Guards and rounding around a measure.
            Expr::Function { name, args } => {
                matches!(
                    name.as_str(),
                    "coalesce" | "ifnull" | "nvl" | "zeroifnull" | "round" | "nullif"
                ) && args.iter().all(measure)
            }
            _ => false,
        }
    }
    let mut readable = true;
    form.walk(&mut |e| readable &= !matches!(e, Expr::Column(c) if c.contains(' ')));
    // Lineage that could not be followed: cannot compare, never a finding.
    // An aggregate in a filter counts an inner query's groups (a HAVING in
    // disguise).
    form.has_aggregate()
        && readable
        && !form.is_uncertain()
        && !form.has_aggregate_in_condition()
        && measure(form)
}

/// Dialect functions that count distinct values (approximately).
fn is_distinct_count(function: &str) -> bool {
    matches!(
        function,
        "approx_count_distinct" | "approx_distinct" | "hll_count.merge" | "hll_count_distinct"
    )
}

/// Output names too generic to say which metric they hold: a long-format
/// table's `value`, a scratch `agg1`, a `count`.
fn is_generic_name(name: &str) -> bool {
    let name = name.trim().to_lowercase();
    // A data test's or long-format table's value column.
    if ["result", "results", "test", "data_source"]
        .iter()
        .any(|p| name.starts_with(&format!("{p}_")))
    {
        return true;
    }
    let stem = name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '_');
    // A KPI card's columns (`prev_value`, `change_pct`, `current_value_usd`)
    // name a slot, not a metric: every card fills them with its own figure.
    let slot_words = stem.split('_').all(|w| {
        crate::names::CURRENCY_WORDS.contains(&w)
            || matches!(
                w,
                "prev"
                    | "previous"
                    | "prior"
                    | "curr"
                    | "current"
                    | "cur"
                    | "this"
                    | "last"
                    | "value"
                    | "val"
                    | "change"
                    | "delta"
                    | "diff"
                    | "pct"
                    | "percent"
                    | "ratio"
            )
    });
    name.is_empty()
        || slot_words
        || matches!(
            stem,
            "" | "value"
                | "values"
                | "val"
                | "count"
                | "cnt"
                | "counts"
                | "total"
                | "sum"
                | "n"
                | "num"
                | "agg"
                | "f"
                | "col"
                | "c"
                | "x"
                | "y"
                | "actual"
                | "expected"
                | "result"
                | "results"
                | "metric"
                | "metric_value"
                | "amount"
                // "How many": of orders in one query, of customers in the
                // next, of units in a third.
                | "qty"
                | "quantity"
                | "rows"
                | "row_count"
                | "rows_count"
                | "total_rows"
                | "num_rows"
                | "nrows"
                | "n_rows"
                | "record_count"
                | "records"
                // a dbt test's compiled query: failures of that test
                | "failures"
        )
}

/// A site that re-aggregates a column of its own name (`SUM(clicks) AS
/// clicks`, or `SUM(impression_count) AS total_impressions`, two names of one
/// metric): it adds no definition of its own. It is a vote for the way the
/// column is computed, but never the site to blame: the column's own
/// definition (upstream, or in another branch) is.
pub fn is_pass_through(site: &MetricSite, registry: &Registry) -> bool {
    let own_column = |agg: &crate::canon::Aggregate| matches!(&agg.arg, Expr::Column(c) if names_one_metric(unqualified(c), &site.output_name, registry));
    match site.read_form() {
        Expr::Aggregate(agg) => own_column(agg),
        // `SUM(total_paid) / COUNT(*) AS total_paid`: the stored figure,
        // averaged over this report's rows; its definition is upstream.
        Expr::Product(p) if p.factors.iter().any(|f| f.inverse) => p
            .factors
            .iter()
            .any(|f| !f.inverse && matches!(&f.expr, Expr::Aggregate(agg) if own_column(agg))),
        // Read by name, it aggregates nothing of its own: an upstream
        // model's computed column, passed on (a union of models).
        read => !read.has_aggregate(),
    }
}

/// Whether two names name one metric: equal, equal once qualifiers are
/// stripped, or the same registered metric.
fn names_one_metric(a: &str, b: &str, registry: &Registry) -> bool {
    if a.eq_ignore_ascii_case(b) {
        return true;
    }
    // As reports are grouped: `daily_active_users` is not
    // `monthly_active_users`, a sum of daily flags summed again.
    let vocabulary = registry.vocabulary();
    let grouped = |name: &str| vocabulary.group_name(name, !counts_entities(name));
    if grouped(a) == grouped(b) {
        return true;
    }
    match (registry.lookup(a), registry.lookup(b)) {
        (Some((x, _)), Some((y, _))) => x.name == y.name,
        _ => false,
    }
}

/// A column's name without its table (`t.clicks` is `clicks`).
fn unqualified(column: &str) -> &str {
    column.rsplit('.').next().unwrap_or(column)
}

/// Whether two reports' figures are two figures that share a name: they
/// aggregate wholly different columns (`SUM(otc_revenue)` and
/// `SUM(price * raw_amount)`; `SUM(volume_token * price_usd)` and
/// `SUM(amount_usd)`) of relations they read themselves apart, related only
/// upstream (a price table both join, a source both models come from).
/// Over a table both read, another column is a drift (`SUM(taps)` where
/// the others sum `clicks`), and so is one of the two counting rows alone
/// (`COUNT(*)`).
fn two_figures_sharing_a_name(a: &MetricSite, b: &MetricSite) -> bool {
    let apart = |x: &Expr, y: &Expr| {
        let (x, y) = (x.aggregated_columns(), y.aggregated_columns());
        !x.is_empty() && !y.is_empty() && x.is_disjoint(&y)
    };
    a.path != b.path
        && !a.reads.is_empty()
        && !b.reads.is_empty()
        && !reads_common(&a.reads, &b.reads)
        && apart(a.read_form(), b.read_form())
        && apart(&a.form, &b.form)
}

/// A pass-through that sums a stored column with no condition: the rollup
/// of whatever the column holds.
fn is_rollup(site: &MetricSite, registry: &Registry) -> bool {
    is_pass_through(site, registry)
        && matches!(site.read_form(), Expr::Aggregate(agg) if agg.func == AggFunc::Sum && agg.filter.is_empty())
}

/// Whether a site computes its figure from rows (`COUNTIF(event_name =
/// 'click')`, `SUM(x + y)`), which a rollup elsewhere (`SUM(click_count)`)
/// may re-aggregate: one figure at two stages of a pipeline. Summing another
/// raw column (`SUM(taps) AS clicks`) is no stage: that is another measure.
fn computed_from_rows(site: &MetricSite) -> bool {
    let sums_another_column = matches!(site.read_form(), Expr::Aggregate(agg)
        if agg.func == AggFunc::Sum && matches!(agg.arg, Expr::Column(_)));
    !sums_another_column && site.read_form().is_additive()
}

/// The form with spellings that only differ where the data makes them equal
/// brought to one: a count of a column is a count of rows where it is not
/// NULL, and of all rows when the column is a key (`COUNT(client_id)`); a
/// sum of a flag (`SUM(CAST(is_dau AS INT))`) counts the rows where it holds;
/// a 0/1 column compared with 1, or cast to a boolean, is that flag. Only
/// cross-report comparison uses it: the report's own form is kept.
pub fn with_counts_alike(form: &Expr) -> Expr {
    with_counts_alike_and(form, true)
}

/// Whether a comparison tests a 0/1 flag (`is_x`, `has_x`, `x_flag`) for
/// being set: `1 <= x`, `0 < x`, `x <> 0`.
fn is_flag_test(op: &crate::canon::CompareOp, l: &Expr, r: &Expr) -> bool {
    use crate::canon::CompareOp;
    let flag = |e: &Expr| {
        matches!(e, Expr::Column(c) if {
            let name = unqualified(c).to_lowercase();
            name.starts_with("is_") || name.starts_with("has_") || name.ends_with("_flag")
        })
    };
    let number = |e: &Expr, value: i128| matches!(e, Expr::Number(n) if *n == crate::canon::Number::int(value));
    match op {
        CompareOp::LtEq => number(l, 1) && flag(r),
        CompareOp::Lt => number(l, 0) && flag(r),
        CompareOp::NotEq => (number(l, 0) && flag(r)) || (flag(l) && number(r, 0)),
        _ => false,
    }
}

/// [`with_counts_alike`]; `across_reports` false keeps what only reports
/// compared with each other may overlook: column names as written (against
/// a registry, a column is the agreement) and a sum over per-group figures
/// (summed daily uniques are not the uniques agreed).
pub fn with_counts_alike_and(form: &Expr, across_reports: bool) -> Expr {
    let not_null = |c: &str| Expr::negate(Expr::IsNull(Box::new(Expr::Column(c.to_string()))));
    form.clone().rewrite(&mut |e| match e {
        // How a report qualifies a column, or inflects its name, is no
        // difference.
        Expr::Column(c) if across_reports => Expr::Column(plain_column_name(unqualified(&c))),
        Expr::Function { name, mut args } if args.len() == 1 && is_guard(&name) => args.remove(0),
        Expr::Compare(crate::canon::CompareOp::Eq, l, r) => match (*l, *r) {
            (Expr::Number(n), x) | (x, Expr::Number(n)) if n.is_one() => x,
            (Expr::Bool(true), x) | (x, Expr::Bool(true)) => x,
            (l, r) => Expr::Compare(crate::canon::CompareOp::Eq, Box::new(l), Box::new(r)),
        },
        // A 0/1 flag at least 1, above 0 or not 0 is the flag set
        // (`is_bop_vip >= 1` where others write `is_bop_vip = 1`).
        Expr::Compare(op, l, r) if is_flag_test(&op, &l, &r) => match (*l, *r) {
            (Expr::Number(_), x) | (x, Expr::Number(_)) => x,
            (l, r) => Expr::Compare(op, Box::new(l), Box::new(r)),
        },
        Expr::Cast { expr, to } if to.starts_with("bool") => *expr,
        // An id cast to text to be counted is the id.
        Expr::Cast { expr, to }
            if across_reports && ["char", "string", "text"].iter().any(|t| to.contains(t)) =>
        {
            *expr
        }
        Expr::Aggregate(agg) if !agg.distinct => {
            let mut filter: Vec<Expr> = agg.filter.clone();
            // `NOT key IS NULL` holds on every row.
            filter.retain(|c| !matches!(c, Expr::Not(inner)
                if matches!(inner.as_ref(), Expr::IsNull(k) if matches!(k.as_ref(), Expr::Column(c) if is_key(c)))));
            let star = |filter: Vec<Expr>| {
                Expr::aggregate(AggFunc::Count, false, Expr::Star, crate::canon::conjuncts(filter))
            };
            match (&agg.func, &agg.arg) {
                // Summing a figure computed per group (`SUM(COUNT(DISTINCT
                // session))` over a CTE): the same figure, re-aggregated.
                (AggFunc::Sum, inner @ Expr::Aggregate(_)) if across_reports && agg.filter.is_empty() => {
                    inner.clone()
                }
                (AggFunc::Count, Expr::Column(c)) => {
                    if !is_key(c) {
                        filter.push(not_null(c));
                    }
                    star(filter)
                }
                // `COUNT(COALESCE(user_id, id))`, `COUNT(CONCAT(year, month))`:
                // rows, across reports.
                (AggFunc::Count, arg)
                    if across_reports && !matches!(arg, Expr::Star | Expr::Column(_)) =>
                {
                    star(filter)
                }
                (AggFunc::Sum, Expr::Column(c)) if is_flag_column(c) => {
                    filter.push(Expr::Column(c.clone()));
                    star(filter)
                }
                (AggFunc::Count, Expr::Star) if filter.len() != agg.filter.len() => star(filter),
                _ => Expr::Aggregate(agg),
            }
        }
        other => other,
    })
}

/// A column's name without the words that only say it holds a total or a
/// count, in the singular, with its currency code last:
/// `total_conversions_value`, `conversion_value` and `like_count`, `likes`
/// and `usd_amount`, `amount_usd` (two generations of one schema) name one
/// column each. Words that change the figure (`in_local_currency`, `30_d`,
/// `unique`) stay.
fn plain_column_name(column: &str) -> String {
    let lower = column.to_lowercase();
    let mut words: Vec<&str> = lower.split('_').filter(|w| !w.is_empty()).collect();
    if words.len() > 1 && crate::names::CURRENCY_WORDS.contains(&words[0]) {
        words.rotate_left(1);
    }
    while words.len() > 1 && matches!(words[0], "total" | "num" | "n" | "sum") {
        words.remove(0);
    }
    while words.len() > 1 && matches!(words[words.len() - 1], "total" | "count" | "cnt" | "sum") {
        words.pop();
    }
    words
        .iter()
        .map(|w| match w.strip_suffix('s') {
            Some(stem) if stem.len() >= 3 && !w.ends_with("ss") => stem,
            _ => w,
        })
        .collect::<Vec<_>>()
        .join("_")
}

/// The form with every distinct count of a key (or of a composite key) a
/// plain count (`COUNT(DISTINCT client_id)` as `COUNT(client_id)`, after
/// [`with_counts_alike`] a `COUNT(*)`).
fn without_distinct(form: &Expr) -> Expr {
    form.clone().rewrite(&mut |e| match e {
        Expr::Aggregate(agg)
            if agg.distinct && agg.func == AggFunc::Count && is_key_value(&agg.arg) =>
        {
            let plain = Expr::aggregate(AggFunc::Count, false, agg.arg.clone(), agg.filter.clone());
            with_counts_alike(&plain)
        }
        other => other,
    })
}

/// Whether a value identifies rows: a key column, or a composite key built
/// of one (`CONCAT(member_id, '-', plan)`, `member_id || plan`).
fn is_key_value(value: &Expr) -> bool {
    match value {
        Expr::Column(c) => is_key(c),
        Expr::Function { name, args } if name == "concat" => args
            .iter()
            .any(|a| matches!(a, Expr::Column(c) if is_key(c))),
        _ => false,
    }
}

/// Whether a column names a flag (`is_active`, `has_paid`).
fn is_flag_column(column: &str) -> bool {
    let column = unqualified(column);
    ["is_", "has_", "was_", "did_"]
        .iter()
        .any(|p| column.starts_with(p))
}

/// Whether a column names a key (`id`, `client_id`, `order_key`).
pub(super) fn is_key(column: &str) -> bool {
    crate::names::names_a_key(unqualified(column))
}

/// A function that, with one argument, returns it (`COALESCE(x)`).
fn is_guard(name: &str) -> bool {
    matches!(name, "coalesce" | "ifnull" | "nvl" | "zeroifnull")
}

/// The form with every column named for a registered base measure, or its
/// synonym (`cost` for `spend`), or with a word that only says it is a total
/// (`total_conversions`), read as that measure: the registry says they mean
/// the same.
fn in_registry_names(form: &Expr, registry: &Registry) -> Expr {
    let measure = |column: &str| -> Option<String> {
        let lower = column.to_lowercase();
        let neutral = ["total_", "num_", "n_"]
            .iter()
            .find_map(|p| lower.strip_prefix(p))
            .or_else(|| {
                ["_total", "_count", "_cnt"]
                    .iter()
                    .find_map(|s| lower.strip_suffix(s))
            })
            .unwrap_or(&lower);
        let (metric, _) = registry
            .lookup_exact(&lower)
            .or_else(|| registry.lookup_exact(neutral))?;
        (!metric.is_ratio()).then(|| metric.name.clone())
    };
    form.clone().rewrite(&mut |e| match e {
        Expr::Column(c) => Expr::Column(measure(&c).unwrap_or(c)),
        other => other,
    })
}

/// The site's form with the conditions of its slice (its WHERE) on the
/// `columns` moved into its aggregates: `WHERE is_test = false … COUNT(1)`
/// reads as `COUNTIF(is_test = false)` when another site filters on
/// `is_test` inside its aggregate.
fn with_slice_on(site: &MetricSite, columns: &std::collections::BTreeSet<String>) -> Expr {
    let relevant: Vec<Expr> = site
        .slice
        .iter()
        .filter(|c| !c.has_aggregate() && !c.columns().is_disjoint(columns))
        .cloned()
        .collect();
    if relevant.is_empty() {
        return (*site.form).clone();
    }
    (*site.form).clone().rewrite(&mut |e| match e {
        Expr::Aggregate(agg) => {
            let mut filter = agg.filter.clone();
            filter.extend(relevant.iter().cloned());
            Expr::aggregate(agg.func.clone(), agg.distinct, agg.arg.clone(), filter)
        }
        other => other,
    })
}

/// A site's form as ways are told apart: in the registry's names, with
/// counts that the data makes equal alike.
fn in_vocabulary(site: &MetricSite, registry: &Registry) -> Expr {
    with_counts_alike(&in_registry_names(&site.form, registry))
}

/// How far the repository shows that two sites, in two reports, computing
/// one name differently is a drift (see [`Evidence`]).
pub fn evidence_between(a: &MetricSite, b: &MetricSite, registry: &Registry) -> Evidence {
    let (a_keys, b_keys) = (keys_it_is_for(a), keys_it_is_for(b));
    evidence(
        &in_vocabulary(a, registry),
        &in_vocabulary(b, registry),
        registry,
        Grains {
            same: same_grain(a, b),
            here_keys: &a_keys,
            there_keys: &b_keys,
        },
    )
}

/// Whether, among reports of figures per the same things as `site`, at
/// least two besides its own compute it as `majority` does, and more than
/// compute it as its own way `own` does (per pool, most reports may total
/// the pool's own liquidity where most reports per chain total the
/// protocol's).
pub fn majority_of_its_grain(
    site: &MetricSite,
    majority: &[&MetricSite],
    own: &[&MetricSite],
) -> bool {
    let reports = |sites: &[&MetricSite], besides: Option<&str>| {
        let mut paths: Vec<&str> = sites
            .iter()
            .filter(|o| Some(&*o.path) != besides && same_grain(site, o))
            .map(|o| &*o.path)
            .collect();
        paths.sort_unstable();
        paths.dedup();
        paths.len()
    };
    let theirs = reports(majority, Some(&site.path));
    theirs >= 2 && theirs > reports(own, None)
}

/// Whether two sites are figures per the same things: grouped by the same
/// keys, and fixed to one thing by the same keys (`WHERE pool_id = …`).
/// Reports name one thing's key differently (`pool_id`, `address`): figures
/// per some keys in common, or per none, are per the same things.
pub fn same_grain(a: &MetricSite, b: &MetricSite) -> bool {
    let (a, b) = (entities(a), entities(b));
    a.is_empty() == b.is_empty() && (a.is_empty() || !a.is_disjoint(&b))
}

/// The thing a key column names: `pool` for `pool_id`, `address` for any
/// address (`project_contract_address`, `exchange_contract_address`: two
/// tables' names for a pool's address).
fn entity_of(column: &str) -> Option<String> {
    if column.ends_with("address") {
        return Some("address".to_string());
    }
    ["_id", "_key", "_uuid"]
        .iter()
        .find_map(|suffix| column.strip_suffix(suffix))
        .or((column == "id").then_some(column))
        .map(str::to_string)
}

/// The things a site's figure is per.
fn entities(site: &MetricSite) -> std::collections::BTreeSet<String> {
    key_columns(site)
        .iter()
        .filter_map(|c| entity_of(c))
        .collect()
}

/// The key columns a site's figure is per: those it groups by, and those
/// its WHERE fixes to one value (`pool_id = 0x…`, `substr(pool_id, 1, 20) =
/// 0x…`: one thing).
fn key_columns(site: &MetricSite) -> Vec<String> {
    keys_fixed(site, false)
}

/// The key columns a site's figure is for (see [`key_columns`]), with those
/// a dashboard's parameter pins (`pool_id = {{1. Pool ID}}`, whatever the
/// viewer picks). A figure pinned to one tenant or pool is still a figure
/// of all alike (a tenant's sales are sales), but a measure named for the
/// pinned thing (`pool_liquidity_usd`) is that thing's own (see
/// [`Grains`]).
fn keys_it_is_for(site: &MetricSite) -> Vec<String> {
    keys_fixed(site, true)
}

fn keys_fixed(site: &MetricSite, parameters: bool) -> Vec<String> {
    let mut keys: Vec<String> = site
        .entities
        .iter()
        .filter(|c| entity_of(c).is_some())
        .cloned()
        .collect();
    for condition in site.slice.iter() {
        keys.extend(fixed_keys(condition, parameters));
    }
    keys
}

/// The key columns a condition fixes to one value. A dashboard's optional
/// parameter (`'{{pool}}' = 'All' OR pool_id = '{{pool}}'`) fixes the key
/// whenever one is chosen. With `parameters`, so does a bare parameter
/// (`pool_id = {{1. Pool ID}}`, read as a name).
fn fixed_keys(condition: &Expr, parameters: bool) -> Vec<String> {
    match condition {
        Expr::Compare(crate::canon::CompareOp::Eq, left, right) => [(left, right), (right, left)]
            .into_iter()
            .filter_map(|(keyed, value)| {
                let columns = keyed.columns();
                let is_value = value.columns().iter().all(|c| {
                    parameters && crate::template::is_query_parameter_name(unqualified(c))
                });
                (is_value && columns.len() == 1)
                    .then(|| columns.into_iter().next())
                    .flatten()
            })
            .map(|c| unqualified(&c).to_string())
            .filter(|c| entity_of(c).is_some())
            .collect(),
        Expr::Or(branches) => match branches
            .iter()
            .filter(|b| !b.columns().is_empty())
            .collect::<Vec<_>>()
            .as_slice()
        {
            [keyed] => fixed_keys(keyed, parameters),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// Whether two sites compute the same once each reads the other's filters
/// out of its own slice.
fn same_with_slices(a: &MetricSite, b: &MetricSite) -> bool {
    let (a_filters, b_filters) = (a.form.filtered_columns(), b.form.filtered_columns());
    if a_filters.is_empty() && b_filters.is_empty() {
        return false;
    }
    with_slice_on(a, &b_filters) == with_slice_on(b, &a_filters)
}

/// One way a metric is computed, and the sites computing it that way.
struct Variant<'s> {
    /// How it reads, from its first site.
    form: &'s Expr,
    sites: Vec<&'s MetricSite>,
    /// The distinct files (reports) computing it this way.
    reports: usize,
}

/// The variants among sites of one name, most reports first (ties in order
/// of first appearance). Two sites are one variant when they compute the
/// same from the same source columns (`form`), or the same from the columns
/// as the reports read them (`read_form`: two connectors' staging models
/// both define `spend`), or the same in the registry's names (`cost` is
/// `spend`), or the same once a WHERE filter is read as the aggregate filter
/// the other writes.
fn variants_of<'s>(sites: &[&'s MetricSite], registry: &Registry) -> Vec<Variant<'s>> {
    let mut parent: Vec<usize> = (0..sites.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    fn join(parent: &mut [usize], a: usize, b: usize) {
        let (a, b) = (root(parent, a), root(parent, b));
        // The earlier site stays the root, so variants keep their order.
        parent[a.max(b)] = a.min(b);
    }
    // The form in the registry's names is a function of the form: worked
    // out once per distinct form (a repository's ten thousand sites of one
    // metric share a handful), and kept for those sites only. Every root of
    // the union below is the first site of its form, so it has one.
    let mut named: HashMap<usize, Expr> = HashMap::new();
    let mut by_form: HashMap<&Expr, usize> = HashMap::new();
    let mut by_read_form: HashMap<&Expr, usize> = HashMap::new();
    let mut by_name: HashMap<Expr, usize> = HashMap::new();
    for (i, site) in sites.iter().enumerate() {
        let first_of_form = *by_form.entry(&site.form).or_insert(i);
        join(&mut parent, first_of_form, i);
        join(
            &mut parent,
            *by_read_form.entry(site.read_form()).or_insert(i),
            i,
        );
        if first_of_form == i {
            let in_names = in_vocabulary(site, registry);
            let first = *by_name.entry(in_names.clone()).or_insert(i);
            named.insert(i, in_names);
            join(&mut parent, first, i);
        }
    }
    // Few distinct ways remain: compare their first sites pairwise for
    // filters written in WHERE by one and inside the aggregate by the other.
    let mut roots: Vec<usize> = (0..sites.len())
        .filter(|&i| root(&mut parent, i) == i)
        .collect();
    roots.truncate(64);
    // Which ways hold a rollup of a stored column, among any of their sites.
    let mut has_rollup: HashMap<usize, bool> = HashMap::new();
    for (i, site) in sites.iter().enumerate() {
        let r = root(&mut parent, i);
        *has_rollup.entry(r).or_default() |= is_rollup(site, registry);
    }
    for (x, &a) in roots.iter().enumerate() {
        for &b in &roots[x + 1..] {
            let two_stages = |rollup: usize, rows: usize| {
                has_rollup.get(&rollup).copied().unwrap_or(false) && computed_from_rows(sites[rows])
            };
            // A distinct and a plain count of a key agree at a table's
            // grain (one row per client): over two tables, or over a join
            // (which may fan rows out, or not), that grain is not known, and
            // the difference is no evidence.
            let grain_unknown = {
                let (x, y) = (sites[a], sites[b]);
                (!reads_common(&x.reads, &y.reads) || x.reads.len() > 1 || y.reads.len() > 1)
                    && without_distinct(&named[&a]) == without_distinct(&named[&b])
            };
            if same_with_slices(sites[a], sites[b])
                || two_stages(a, b)
                || two_stages(b, a)
                || grain_unknown
            {
                join(&mut parent, a, b);
            }
        }
    }
    // A way's first site speaks for it above; a site of the way whose own
    // WHERE holds what another way filters inside its aggregates is of that
    // other way (`WHERE type IN (…) … COUNT(DISTINCT actor_id)` beside
    // sites with no such WHERE).
    let roots: Vec<usize> = (0..sites.len())
        .filter(|&i| root(&mut parent, i) == i)
        .take(64)
        .collect();
    let mut way_of: Vec<usize> = (0..sites.len()).map(|i| root(&mut parent, i)).collect();
    for (i, site) in sites.iter().enumerate() {
        if site.slice.is_empty() || way_of[i] == i {
            continue;
        }
        if let Some(&other) = roots
            .iter()
            .find(|&&b| b != way_of[i] && same_with_slices(site, sites[b]))
        {
            way_of[i] = other;
        }
    }
    let mut variants: Vec<Variant> = Vec::new();
    let mut index_of_root: HashMap<usize, usize> = HashMap::new();
    for (i, site) in sites.iter().enumerate() {
        let r = way_of[i];
        match index_of_root.get(&r) {
            Some(&v) => variants[v].sites.push(site),
            None => {
                index_of_root.insert(r, variants.len());
                variants.push(Variant {
                    form: sites[r].read_form(),
                    sites: vec![site],
                    reports: 0,
                });
            }
        }
    }
    for variant in &mut variants {
        let mut files: Vec<&str> = variant.sites.iter().map(|s| &*s.path).collect();
        files.sort_unstable();
        files.dedup();
        variant.reports = files.len();
    }
    variants.sort_by_key(|v| std::cmp::Reverse(v.reports));
    variants
}

/// Whether grain and window words may be dropped from a site's name to group
/// it: a figure that sums (`weekly_revenue`), or a ratio of a sum
/// (`weekly_avg_order_value`, revenue over distinct orders). Counts keep them: `daily_users` and
/// `monthly_users` may both count rows, of tables at two grains.
pub fn sums_across_slices(form: &Expr) -> bool {
    let (mut sums, mut others) = (false, false);
    form.walk(&mut |e| {
        if let Expr::Aggregate(agg) = e {
            sums |= agg.func == AggFunc::Sum && !agg.distinct;
            others |= !matches!(agg.func, AggFunc::Sum | AggFunc::Count);
        }
    });
    sums && !others
}

/// Reports their owners marked deprecated, by the `metadata.yaml` beside
/// them (`deprecated: true`, as bigquery-etl marks a table kept only until
/// its successor is adopted): a successor redefines on purpose.
#[derive(Default)]
struct Deprecated {
    by_folder: HashMap<std::path::PathBuf, bool>,
}

impl Deprecated {
    fn is_deprecated(&mut self, report: &str) -> bool {
        let Some(folder) = std::path::Path::new(report).parent() else {
            return false;
        };
        *self
            .by_folder
            .entry(folder.to_path_buf())
            .or_insert_with(|| {
                std::fs::read_to_string(folder.join("metadata.yaml")).is_ok_and(|text| {
                    text.lines().any(|l| {
                        l.trim()
                            .replace(' ', "")
                            .eq_ignore_ascii_case("deprecated:true")
                    })
                })
            })
    }
}

/// Whether a report's folder says it is retired: a folder named `archive`,
/// `archived`, `deprecated`, `obsolete`, `retired`, `backup`, `unused` or
/// `old`, alone or as the first or last word of a two-word name (`old
/// queries`, `z_archive`). Its figures were kept for the record, not
/// maintained: they neither vote on how a metric is computed nor get blamed
/// for differing. (`legacy` is not among the words: dbt projects build and
/// read `models/legacy/`.)
/// `report` is its path from the folder the project lives in.
pub fn is_retired(report: &str) -> bool {
    let folders = report.rsplit_once('/').map_or("", |(folders, _)| folders);
    folders.split('/').any(|folder| {
        let folder = folder.to_ascii_lowercase();
        let words: Vec<&str> = folder
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        let retired = |word: &&str| {
            matches!(
                *word,
                "archive"
                    | "archived"
                    | "archives"
                    | "deprecated"
                    | "obsolete"
                    | "retired"
                    | "backup"
                    | "backups"
                    | "unused"
                    | "old"
            )
        };
        // Portuguese, Spanish and French put "old" after its noun, at the
        // end of a longer name (`Histórico PC Antigo`, `servidor antiguo`).
        // Singular only: a plural names a group of things, often a live
        // segment (`clientes antigos`, long-standing customers).
        let old_after_its_noun = |word: &&str| {
            matches!(
                *word,
                "antigo"
                    | "antiga"
                    | "antiguo"
                    | "antigua"
                    | "viejo"
                    | "vieja"
                    | "ancien"
                    | "ancienne"
            )
        };
        match words.as_slice() {
            [word] => retired(word) || old_after_its_noun(word),
            [first, last] => retired(first) || retired(last) || old_after_its_noun(last),
            [.., last] => old_after_its_noun(last),
            _ => false,
        }
    })
}

/// The site's sources a template rendered: see [`comparable`].
fn rendered_sources(site: &MetricSite) -> Vec<&String> {
    site.sources.iter().filter(|r| is_rendered(r)).collect()
}

/// Whether a relation's name is one a template rendered, not a placeholder.
fn is_rendered(relation: &str) -> bool {
    !crate::template::is_placeholder_name(relation.rsplit('.').next().unwrap_or(relation))
}

/// Whether two sites write the same constant factor themselves, so that a
/// Whether `site` totals a part of what `other` totals, and its statement
/// publishes the rest beside it: `SUM(fx_usd) AS dif_fx` next to
/// `SUM(fx_air_usd) AS dif_fx_air`, where another report's `dif_fx` sums
/// both. The report splits the whole on purpose; its parts are no drift.
pub fn publishes_the_rest(part: &Expr, whole: &Expr, beside: &[&Expr]) -> bool {
    // A total of a sum is the sum of its terms' totals.
    fn terms(form: &Expr) -> Vec<Expr> {
        match form {
            Expr::Sum(terms) if terms.iter().all(|t| !t.negated) => {
                terms.iter().flat_map(|t| terms_of(&t.expr)).collect()
            }
            other => terms_of(other),
        }
    }
    fn terms_of(form: &Expr) -> Vec<Expr> {
        match form {
            Expr::Aggregate(agg) if agg.func == AggFunc::Sum && !agg.distinct => match &agg.arg {
                Expr::Sum(terms) if terms.iter().all(|t| !t.negated) => terms
                    .iter()
                    .map(|t| {
                        Expr::aggregate_scoped(
                            AggFunc::Sum,
                            false,
                            t.expr.clone(),
                            agg.filter.clone(),
                            agg.scope.clone(),
                        )
                    })
                    .collect(),
                _ => vec![form.clone()],
            },
            other => vec![other.clone()],
        }
    }
    let (part, whole) = (terms(part), terms(whole));
    if part.len() >= whole.len() || !part.iter().all(|t| whole.contains(t)) {
        return false;
    }
    whole
        .iter()
        .filter(|t| !part.contains(t))
        .all(|rest| beside.contains(&rest))
}

/// Whether a report puts all its figures on another basis, where `site`
/// differs from `other` by that basis alone: each of its figures divided by
/// one column (`SUM(revenue_usd / confirmation_gradient)`, Despegar's P&L
/// without the booking gradient, line after line), or each of its totals
/// scaled by one constant (`SUM(clv) * 100` beside `COUNT(DISTINCT
/// client_id) * 100`, a 1% sample scaled up). A figure the report treats
/// like all the others is not one slip: the report measures on purpose.
/// One figure with the factor among others without it is still a drift.
pub fn rebases_its_figures(form: &Expr, other: &Expr, beside: &[&Expr]) -> bool {
    let beside: Vec<&Expr> = beside.iter().copied().filter(|f| *f != form).collect();
    // The report's other figures with the factor: two at least.
    let shared_by_others =
        |has: &dyn Fn(&Expr) -> bool| beside.iter().filter(|f| has(f)).count() >= 2;
    let others_factors = column_factors(other);
    for factor in column_factors(form) {
        if others_factors.contains(&factor) {
            continue;
        }
        let without = form.clone().rewrite(&mut |e| match e {
            Expr::Product(p) => Expr::product(
                p.coefficient,
                p.factors.into_iter().filter(|f| *f != factor).collect(),
            ),
            e => e,
        });
        if without == *other
            && shared_by_others(&|form: &Expr| column_factors(form).contains(&factor))
        {
            return true;
        }
    }
    // A constant on a total (not a ratio's percent, which is ML004's).
    if let Expr::Product(p) = form {
        let scaled = |form: &Expr| {
            matches!(form, Expr::Product(q) if q.coefficient == p.coefficient
                && q.factors.iter().all(|f| !f.inverse && matches!(&f.expr,
                    Expr::Aggregate(agg) if matches!(agg.func, AggFunc::Sum | AggFunc::Count))))
        };
        if scaled(form)
            && Expr::product(crate::canon::Number::int(1), p.factors.clone()) == *other
            && shared_by_others(&scaled)
        {
            return true;
        }
    }
    false
}

/// Whether a site counts or sums what a subquery in its WHERE picks
/// (`COUNT(id) … WHERE id IN (SELECT MIN(event_id) … approvals …)`,
/// devstats' "reviews" that are `/lgtm` approvals): the subquery, which no
/// canonical form models, says which rows the figure is of, so another
/// report's figure of the same name cannot be compared with it.
fn counts_what_a_subquery_picks(site: &MetricSite) -> bool {
    let counted = site.form.aggregated_columns();
    site.slice.iter().any(|condition| {
        let Expr::Opaque(text) = condition else {
            return false;
        };
        let text = text.to_lowercase();
        let Some((picked, _)) = text.split_once(" in (select") else {
            return false;
        };
        let picked = picked.trim().trim_end_matches(" not").trim();
        counted.contains(picked.rsplit('.').next().unwrap_or(picked))
    })
}

/// The columns a form multiplies or divides by, anywhere in it.
fn column_factors(form: &Expr) -> Vec<crate::canon::Factor> {
    let mut found = Vec::new();
    form.walk(&mut |e| {
        if let Expr::Product(p) = e {
            for factor in &p.factors {
                if matches!(factor.expr, Expr::Column(_) | Expr::Renamed { .. })
                    && !found.contains(factor)
                {
                    found.push(factor.clone());
                }
            }
        }
    });
    found
}

/// factor between their forms is lineage's (see [`Evidence::AnotherFactor`]).
pub fn writes_the_same_factor(a: &MetricSite, b: &MetricSite) -> bool {
    (a.written_scale - b.written_scale).abs() <= 1e-12 * a.written_scale.abs().max(1.0)
}

/// Whether two sites' figures come from the same tables in the end (the
/// tables no model builds), every one a template rendered (see
/// [`Evidence::AnotherColumnOfItsSources`]).
pub fn same_sources(a: &MetricSite, b: &MetricSite) -> bool {
    let rendered = |tables: &[String]| tables.iter().all(|r| is_rendered(r));
    let within = |x: &[String], y: &[String]| {
        x.iter()
            .all(|r| y.iter().any(|s| same_relation(r.as_str(), s.as_str())))
    };
    !a.source_tables.is_empty()
        && rendered(&a.source_tables)
        && rendered(&b.source_tables)
        && within(&a.source_tables, &b.source_tables)
        && within(&b.source_tables, &a.source_tables)
}

/// Whether, of two sites where one counts rows and the other distinct keys
/// (see [`Evidence::EvidentOverOneRelation`]), both read one relation and
/// the rows counted are its rows, not a join's (a generated range of block
/// numbers LEFT JOINed to the blocks is as many rows as blocks tested).
/// `here` and `there` are the two sites' forms in one vocabulary (see
/// `in_vocabulary`).
fn counted_rows_are_one_relations(
    site: &MetricSite,
    here: &Expr,
    other: &MetricSite,
    there: &Expr,
) -> bool {
    let (counts_rows, counts_keys) =
        if evidence::counts_distinct_where_the_other_counts_rows(here, there) {
            (other, here)
        } else {
            (site, there)
        };
    reads_common(&site.reads, &other.reads)
        && !counts_rows.over_a_join
        && !rows_are_keys(counts_rows, counts_keys)
        && !counts_a_key_per_row(site, here, other, there)
}

/// Whether the rows `counts_rows` counts are one per key a distinct count
/// of `counts_keys` counts: a table named for its things
/// (`fact_transactions` and `tx_hash`, `orders` and `order_id`), or a
/// `SELECT DISTINCT` of the key, or a query grouped by it, with attributes
/// of the thing beside it and no other thing's key (rows per address and
/// token are no addresses).
fn rows_are_keys(counts_rows: &MetricSite, counts_keys: &Expr) -> bool {
    crate::judge::aggregates(counts_keys).iter().any(|a| {
        let Expr::Column(key) = &a.arg else {
            return false;
        };
        let key = unqualified(key);
        a.func == AggFunc::Count
            && a.distinct
            && (matches!(&*counts_rows.sources, [table] if named_for(table, key))
                || distinct_on(&counts_rows.reads_distinct, key))
    })
}

/// Whether of two sites, one counts the values of a key (`COUNT(order_nr)`)
/// over rows that are one per that key, where the other counts its
/// distinct values: the same count.
fn counts_a_key_per_row(site: &MetricSite, here: &Expr, other: &MetricSite, there: &Expr) -> bool {
    rows_are_keys(site, there)
        || rows_are_keys(other, here)
        || both_count_the_key(site, here, there)
        || both_count_the_key(other, there, here)
}

/// Whether both sites write `COUNT(key)`, and `counts_keys` counts distinct
/// keys only because its rows are grouped by the key
/// (`COUNT(bob_id_sales_order_item)` over a subquery `GROUP BY
/// bob_id_sales_order_item`), where `counts_rows` counts the rows that have
/// the key. Whether the other's rows repeat a key the repository does not
/// show: the two wrote one count.
fn both_count_the_key(
    counts_keys_site: &MetricSite,
    counts_keys: &Expr,
    counts_rows: &Expr,
) -> bool {
    let keys_counted: Vec<String> = crate::judge::aggregates(counts_keys)
        .iter()
        .filter(|a| a.func == AggFunc::Count && a.distinct)
        .filter_map(|a| match &a.arg {
            Expr::Column(key) => Some(unqualified(key).to_string()),
            _ => None,
        })
        .filter(|key| {
            counts_keys_site
                .reads_distinct
                .iter()
                .any(|c| plain_column_name(unqualified(c)) == plain_column_name(key))
        })
        .collect();
    // `COUNT(key)` reads as the rows where the key is set.
    crate::judge::aggregates(counts_rows).iter().any(|a| {
        a.func == AggFunc::Count
            && !a.distinct
            && matches!(a.arg, Expr::Star)
            && matches!(&a.filter[..], [Expr::Not(inner)]
                if matches!(&**inner, Expr::IsNull(column)
                    if matches!(&**column, Expr::Column(c)
                    if keys_counted.iter().any(|k| k == unqualified(c)))))
    })
}

/// Whether rows distinct on `columns` are one per `key`: the key is among
/// them and no other column names a thing of its own (`token_address`,
/// `user_id`).
fn distinct_on(columns: &[String], key: &str) -> bool {
    // Keys spelled with the word first (`id_package_dispatching`,
    // `bob_id_supplier`) name things of their own too.
    let names_a_thing =
        |c: &str| crate::names::names_an_entity(c) || c.starts_with("id_") || c.contains("_id_");
    columns.iter().any(|c| c.eq_ignore_ascii_case(key))
        && columns
            .iter()
            .all(|c| c.eq_ignore_ascii_case(key) || !names_a_thing(c))
}

/// Whether a table's name says it holds one row per thing `key` identifies:
/// `fact_transactions` for `tx_hash`, `orders` for `order_id`, `users` for
/// `user_id`, and in the Hungarian spelling of SQL Server shops `tblOrder`
/// for `ixOrder`. `order_items` is no table of orders.
fn named_for(table: &str, key: &str) -> bool {
    let table = table.rsplit('.').next().unwrap_or(table).to_lowercase();
    let table = crate::names::unquoted(&table);
    let table = ["fact_", "fct_", "dim_", "tbl"]
        .iter()
        .find_map(|p| table.strip_prefix(p))
        .unwrap_or(table);
    let things = table.strip_suffix('s').unwrap_or(table);
    let key = unqualified(key).to_lowercase();
    let Some(thing) = ["_id", "_hash", "_key", "_uuid"]
        .iter()
        .find_map(|s| key.strip_suffix(s))
        .or_else(|| key.strip_prefix("ix"))
    else {
        return false;
    };
    let spelled_out = |t: &str| {
        if t == "tx" {
            "transaction".to_string()
        } else {
            t.to_string()
        }
    };
    !thing.is_empty() && spelled_out(things) == spelled_out(thing)
}

/// [`counted_rows_are_one_relations`], for sites not yet in one vocabulary.
pub fn counted_rows_of_one_relation(
    site: &MetricSite,
    other: &MetricSite,
    registry: &Registry,
) -> bool {
    counted_rows_are_one_relations(
        site,
        &in_vocabulary(site, registry),
        other,
        &in_vocabulary(other, registry),
    )
}

/// A site's form as its own stage writes it (the models it reads as stored
/// tables, see [`MetricSite::written`]), in one vocabulary.
/// The forms the sites of one way write, for the test that a site of
/// another way writes one of them (see [`as_written`]).
struct WrittenForms {
    /// Whether each site only passes a figure on (see `is_pass_through`).
    pass_through: Vec<bool>,
    /// Every site's form as written.
    written: HashSet<Expr>,
    /// Those of the sites whose own stage writes them otherwise than
    /// lineage computes them.
    written_at_own_stage: HashSet<Expr>,
    /// Every site's form as written, with the reports writing it.
    written_in: FormsIn,
    /// The forms as the final SELECTs of sites whose CTEs compute
    /// something write them, with their reports.
    alone_in: FormsIn,
}

impl WrittenForms {
    fn of(sites: &[&MetricSite], registry: &Registry) -> WrittenForms {
        let mut forms = WrittenForms {
            pass_through: sites.iter().map(|o| is_pass_through(o, registry)).collect(),
            written: HashSet::new(),
            written_at_own_stage: HashSet::new(),
            written_in: FormsIn::default(),
            alone_in: FormsIn::default(),
        };
        for o in sites {
            let written = as_written(o, registry);
            if o.written_with_ctes.is_some() {
                forms.alone_in.add(as_written_alone(o, registry), &o.path);
            }
            forms.written_in.add(written.clone(), &o.path);
            if o.written.is_some() {
                forms.written_at_own_stage.insert(written.clone());
            }
            forms.written.insert(written);
        }
        forms
    }
}

/// Forms with up to two of the reports that write them: enough to say
/// whether a report other than a given one writes a form.
#[derive(Default)]
struct FormsIn(HashMap<Expr, (Arc<str>, Option<Arc<str>>)>);

impl FormsIn {
    fn add(&mut self, form: Expr, path: &Arc<str>) {
        match self.0.get_mut(&form) {
            Some((first, second @ None)) if **first != **path => *second = Some(path.clone()),
            Some(_) => {}
            None => {
                self.0.insert(form, (path.clone(), None));
            }
        }
    }

    fn elsewhere_than(&self, form: &Expr, path: &str) -> bool {
        self.0
            .get(form)
            .is_some_and(|(first, second)| &**first != path || second.is_some())
    }
}

fn as_written(site: &MetricSite, registry: &Registry) -> Expr {
    with_counts_alike(&in_registry_names(
        site.written.as_deref().unwrap_or(&site.form),
        registry,
    ))
}

/// A site's form as its final SELECT writes it (the models and CTEs it
/// reads as stored), in one vocabulary.
fn as_written_alone(site: &MetricSite, registry: &Registry) -> Expr {
    match &site.written_with_ctes {
        Some(alone) => with_counts_alike(&in_registry_names(alone, registry)),
        None => as_written(site, registry),
    }
}

/// The conditions a site's aggregates filter on, date windows aside (they
/// differ from report to report without making subjects), in spellings
/// alike (`bounces = 1`, `CAST(bounces AS BOOL)`).
fn subject_filters(site: &MetricSite) -> Vec<Expr> {
    crate::judge::aggregates(&with_counts_alike(&site.form))
        .iter()
        .flat_map(|agg| agg.filter.iter())
        .filter(|c| !crate::judge::is_date_predicate(c))
        .cloned()
        .collect()
}

/// The conditions of a site's WHERE, date windows aside, in spellings alike.
fn subject_scope(site: &MetricSite) -> impl Iterator<Item = Expr> + '_ {
    site.slice
        .iter()
        .filter(|c| !crate::judge::is_date_predicate(c))
        .map(with_counts_alike)
}

/// Whether the conditions two parts of one report differ by constrain a
/// column both constrain, each its own way (`asset_id IN ('7857', '8857')`
/// in one UNION branch beside `asset_id IN ('10767', …)` in another): each
/// part is its own subject's figure, as branches labelled by a literal
/// column are. (Across reports, `event_name = 'opened'` where the others
/// count `'open'` is a drift.)
fn each_picks_its_own_subject(a: &MetricSite, b: &MetricSite) -> bool {
    let (a_filters, b_filters) = (subject_filters(a), subject_filters(b));
    let everything = |s: &MetricSite, filters: &[Expr]| -> Vec<Expr> {
        filters.iter().cloned().chain(subject_scope(s)).collect()
    };
    let (a_all, b_all) = (everything(a, &a_filters), everything(b, &b_filters));
    // A condition one formula has and the other lacks, where the other
    // constrains the same column its own way.
    let picked_otherwise = |condition: &Expr, lacking: &[Expr]| {
        let columns = unqualified_columns(condition);
        lacking
            .iter()
            .any(|other| other != condition && !unqualified_columns(other).is_disjoint(&columns))
    };
    a_filters
        .iter()
        .filter(|c| !b_filters.contains(c))
        .any(|c| picked_otherwise(c, &b_all))
        || b_filters
            .iter()
            .filter(|c| !a_filters.contains(c))
            .any(|c| picked_otherwise(c, &a_all))
}

/// The columns a condition reads, without their tables.
fn unqualified_columns(condition: &Expr) -> std::collections::BTreeSet<String> {
    condition
        .columns()
        .iter()
        .map(|c| unqualified(c).to_string())
        .collect()
}

/// Whether two sites' WHEREs (their JOINs' filters on what they total
/// included) constrain a column each its own way (`is_end_product = 'N'`,
/// the materials a production consumed, against `= 'Y'`, what it made):
/// another column totalled over other rows is another figure.
pub fn wheres_pick_their_own_subjects(a: &MetricSite, b: &MetricSite) -> bool {
    let (a_scope, b_scope): (Vec<Expr>, Vec<Expr>) =
        (subject_scope(a).collect(), subject_scope(b).collect());
    pick_their_own_subjects(&a_scope, &b_scope)
}

/// [`wheres_pick_their_own_subjects`], for UNION branches of one statement:
/// a condition each branch writes alike over its own table
/// (`o.properties_session_id >= mm.min_session_id` over the web orders in
/// one, the app orders in the other) is one condition, and a join's key no
/// subject.
fn branches_pick_their_own_subjects(a: &MetricSite, b: &MetricSite) -> bool {
    // A join's key (`d.product_id = o.product_id` in one branch, `=
    // TRY_TO_NUMBER(o.bundle_product_id)` in the other) picks which rows
    // meet, not a value of their own: branches joined on their own keys each
    // total their own kind of row (single products, bundles).
    let joins = |c: &Expr| {
        matches!(c, Expr::Compare(_, l, r)
            if !l.columns().is_empty() && !r.columns().is_empty())
    };
    let unqualified_scope = |s: &MetricSite| -> Vec<Expr> {
        subject_scope(s)
            .filter(|c| !joins(c))
            .map(|c| {
                c.rewrite(&mut |e| match e {
                    Expr::Column(name) => Expr::Column(unqualified(&name).into()),
                    other => other,
                })
            })
            .collect()
    };
    pick_their_own_subjects(&unqualified_scope(a), &unqualified_scope(b))
}

fn pick_their_own_subjects(a_scope: &[Expr], b_scope: &[Expr]) -> bool {
    a_scope.iter().filter(|c| !b_scope.contains(c)).any(|c| {
        let columns = unqualified_columns(c);
        b_scope
            .iter()
            .any(|o| o != c && !unqualified_columns(o).is_disjoint(&columns))
    })
}

/// Whether a filter `other` applies and `site` lacks constrains a column
/// `site` scopes its own way: in its WHERE (devstats' utility scripts count
/// contributors `WHERE type IN` three event types, its dashboards `FILTER`
/// seven), or in a filter of its own that reads a column of it and others
/// (a category with its overrides, `COALESCE(category_override, category)
/// = 'SPECIAL'`, where the others filter `category = 'SPECIAL'`): a scope
/// the report chose, not a filter left out. A filter on the same columns
/// alone (`event = 'opened'` where the others count `'open'`) is no scope
/// of its own.
fn scopes_it_in_its_where(site: &MetricSite, other: &MetricSite) -> bool {
    let (own, theirs) = (subject_filters(site), subject_filters(other));
    let where_conditions: Vec<Expr> = subject_scope(site).collect();
    let own_only: Vec<std::collections::BTreeSet<String>> = own
        .iter()
        .filter(|c| !theirs.contains(c))
        .map(unqualified_columns)
        .collect();
    theirs.iter().filter(|c| !own.contains(c)).any(|missing| {
        let columns = unqualified_columns(missing);
        where_conditions
            .iter()
            .any(|w| w != missing && !unqualified_columns(w).is_disjoint(&columns))
            || own_only
                .iter()
                .any(|read| !read.is_disjoint(&columns) && !read.is_subset(&columns))
    })
}

/// Whether two lists of relations share one that is no dimension table: a
/// store dimension joined for its attributes beside two fact tables (media
/// cost already in dollars, a platform's spend converted) is no common
/// source of what the two total.
fn reads_common_facts<A: AsRef<str>, B: AsRef<str>>(a: &[A], b: &[B]) -> bool {
    let dimension = |relation: &str| {
        let table = relation
            .rsplit('.')
            .next()
            .unwrap_or(relation)
            .to_lowercase();
        table.starts_with("dim_") || table.ends_with("_dim")
    };
    let facts: Vec<&str> = a
        .iter()
        .map(AsRef::as_ref)
        .filter(|x| !dimension(x))
        .collect();
    reads_common(&facts, b)
}

/// Whether two lists of relations share one (see [`same_relation`]).
fn reads_common<A: AsRef<str>, B: AsRef<str>>(a: &[A], b: &[B]) -> bool {
    a.iter()
        .any(|x| b.iter().any(|y| same_relation(x.as_ref(), y.as_ref())))
}

/// Whether two sites must compute a metric the same way: they are in one
/// report, or read a common relation (or either's relations are unknown).
pub fn comparable(a: &MetricSite, b: &MetricSite) -> bool {
    // A relation a template left unrendered (`api.Relation.create(…)` reads
    // as `__jinja_api_relation_create`) is a different table in every model
    // that writes it: it proves nothing in common, and a site that reads
    // only such relations is compared within its own report only.
    let (a_known, b_known) = (rendered_sources(a), rendered_sources(b));
    if a.path != b.path
        && ((a_known.is_empty() && !a.sources.is_empty())
            || (b_known.is_empty() && !b.sources.is_empty()))
    {
        return false;
    }
    let common_relation =
        a_known.is_empty() || b_known.is_empty() || reads_common(&a_known, &b_known);
    if !common_relation {
        return false;
    }
    if a.path != b.path
        && a.enabled_when.is_some()
        && b.enabled_when.is_some()
        && a.enabled_when != b.enabled_when
    {
        return false;
    }
    // Branches of a long-format UNION labelled apart hold different figures.
    if a.label.is_some() && b.label.is_some() && a.label != b.label {
        return false;
    }
    // Two versions of one report (`…_v1/query.sql`, `…_v2/query.sql`): the
    // newer redefines on purpose.
    if a.path != b.path && same_without_versions(&a.path, &b.path) {
        return false;
    }
    // One model per chain, protocol or product, each over its own tables:
    // a shared name is each entity's own figure.
    if a.path != b.path && (per_entity_models(a, b) || on_two_date_bases(&a.path, &b.path)) {
        return false;
    }
    // Two queries side by side in one file, neither writing a table, that
    // count a table's rows and then its distinct values (`COUNT(*)`, then
    // `COUNT(DISTINCT sku)`): an analyst exploring the table, on purpose.
    if a.path == b.path
        && a.statement != b.statement
        && a.target.is_none()
        && b.target.is_none()
        && counts_a_whole_table(a)
        && counts_a_whole_table(b)
    {
        return false;
    }
    // Queries side by side in one file, neither writing a table, each over
    // a slice of its own (`WHERE category = 'EBAY'`, then `'WEB'`) and
    // totalling its segment's column in one formula (`SUM(ebaytotal) /
    // COUNT(DISTINCT ixcustomer)`, then `SUM(webtotal) / …`): a breakdown.
    if a.path == b.path
        && a.statement != b.statement
        && a.target.is_none()
        && b.target.is_none()
        && a.slice != b.slice
        && alike_but_for_columns(a.read_form(), b.read_form())
        && totals_its_slices_column(a, b)
        && totals_its_slices_column(b, a)
    {
        return false;
    }
    if a.path == b.path && a.statement == b.statement {
        // Within one statement only UNION branches over a common relation
        // must agree: branches over each platform's table map each
        // platform's own column to the shared name (Apple's taps are its
        // clicks), and a CTE and the query over it are two stages.
        // Branches over tables of their own, or of unknown lineage, are
        // components of one output (OTC revenue beside on-chain revenue).
        return a.in_union
            && b.in_union
            && !a_known.is_empty()
            && !b_known.is_empty()
            && reads_common(&a_known, &b_known);
    }
    common_relation
}

/// Whether every column `site` reads that `other` does not is named for a
/// value its own slice picks (`ebaytotal` where `category = 'EBAY'`): the
/// segment's own column.
fn totals_its_slices_column(site: &MetricSite, other: &MetricSite) -> bool {
    let picked: Vec<String> = site
        .slice
        .iter()
        .flat_map(|condition| {
            let mut values = Vec::new();
            condition.walk(&mut |e| {
                if let Expr::String(value) = e {
                    let value: String = value
                        .chars()
                        .filter(char::is_ascii_alphanumeric)
                        .map(|c| c.to_ascii_lowercase())
                        .collect();
                    if value.len() >= 3 {
                        values.push(value);
                    }
                }
            });
            values
        })
        .collect();
    let theirs = other.read_form().columns();
    let own: Vec<String> = site
        .read_form()
        .columns()
        .into_iter()
        .filter(|c| !theirs.contains(c))
        .collect();
    !own.is_empty()
        && own.iter().all(|column| {
            let column = unqualified(column).to_lowercase();
            picked.iter().any(|value| column.contains(value.as_str()))
        })
}

/// Whether two forms are one formula over different columns.
fn alike_but_for_columns(a: &Expr, b: &Expr) -> bool {
    let erased = |e: &Expr| {
        e.clone().rewrite(&mut |e| match e {
            Expr::Column(_) | Expr::Renamed { .. } => Expr::column("_"),
            other => other,
        })
    };
    a != b && erased(a) == erased(b)
}

/// `COUNT(*)`, `COUNT(x)` or `COUNT(DISTINCT x)` of one relation's rows,
/// unfiltered.
fn counts_a_whole_table(site: &MetricSite) -> bool {
    site.sources.len() == 1
        && matches!(site.read_form(), Expr::Aggregate(agg)
            if agg.func == AggFunc::Count && agg.filter.is_empty() && agg.scope.is_empty())
}

/// Whether a site is a labelled segment's row of a long-format table that
/// totals its segment's own column: a word of the label ('Token Sales',
/// '2 for 1 Token') names the column (`token_qty_sold`,
/// `two_for_one_qty_sold`). A label of a dimension ('mobile') beside a
/// column of the figure (`adau`) is no segment's column.
fn totals_its_labels_column(site: &MetricSite) -> bool {
    let Some(label) = &site.label else {
        return false;
    };
    let spelled = |word: &str| -> String {
        match word {
            "1" => "one".into(),
            "2" => "two".into(),
            "3" => "three".into(),
            "4" => "four".into(),
            other => other.to_string(),
        }
    };
    let label_words: Vec<String> = label
        .to_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .map(spelled)
        .filter(|w| w.len() >= 3 && !matches!(w.as_str(), "for" | "and" | "the"))
        .collect();
    crate::judge::aggregates(&site.form).iter().any(|agg| {
        agg.arg.columns().iter().any(|column| {
            unqualified(column)
                .split('_')
                .any(|word| label_words.iter().any(|l| l == word))
        })
    })
}

/// Whether two sites are parts of one figure of one report, which must agree
/// whatever the repository shows: UNION branches of one statement, or
/// statements of one file that fill one table (`INSERT INTO t … ; INSERT INTO
/// t …`). Statements of a procedure that build different tables are stages
/// (a temporary table's `SUM(unit_count) AS exchange_units`, then a slice's
/// re-sum of it) and differ as reports do: by what the repository shows.
fn parts_of_one_figure(a: &MetricSite, b: &MetricSite) -> bool {
    a.path == b.path && (a.statement == b.statement || (a.target.is_some() && a.target == b.target))
}

/// Whether two reports' paths differ in one folder, each naming a date basis
/// (`key-metrics/by-order-date/` and `key-metrics/by-delivered-date/`): a
/// figure by order date and one by delivery date are two figures, as
/// `revenue_by_ship_date` is no `revenue_by_order_date`.
fn on_two_date_bases(a: &str, b: &str) -> bool {
    let (a_dirs, b_dirs): (Vec<&str>, Vec<&str>) = (
        a.rsplit_once('/')
            .map_or("", |(d, _)| d)
            .split('/')
            .collect(),
        b.rsplit_once('/')
            .map_or("", |(d, _)| d)
            .split('/')
            .collect(),
    );
    if a_dirs.len() != b_dirs.len() {
        return false;
    }
    let differing: Vec<(&str, &str)> = a_dirs
        .iter()
        .zip(&b_dirs)
        .filter(|(x, y)| x != y)
        .map(|(x, y)| (*x, *y))
        .collect();
    let names_a_date = |folder: &str| {
        folder
            .to_lowercase()
            .split(['-', '_', ' '])
            .any(|word| word == "date")
    };
    matches!(differing[..], [(x, y)] if names_a_date(x) && names_a_date(y))
}

/// Whether two reports are one model written per entity (chain, protocol,
/// product), each over that entity's own tables, so that a shared output name
/// is no promise of one definition: `models/gpay/fct_gpay_journeys.sql` and
/// `models/gnosis_app/fct_gnosis_app_journeys_7d.sql` (paths that differ in
/// one folder, each file named by its folder), or
/// `agg_daily_ethereum_revenue.sql` beside `agg_daily_gnosis_revenue.sql`
/// where each reads its own entity's relations. Report grains and breakdowns
/// (`daily`, `campaign`, `ad_group`) are not entities: an ad and a campaign
/// report compute one ctr.
fn per_entity_models(a: &MetricSite, b: &MetricSite) -> bool {
    let (a_parts, b_parts): (Vec<&str>, Vec<&str>) =
        (a.path.split('/').collect(), b.path.split('/').collect());
    let (Some((a_file, a_dirs)), Some((b_file, b_dirs))) =
        (a_parts.split_last(), b_parts.split_last())
    else {
        return false;
    };
    let stem = |file: &'_ str| -> String { file.split('.').next().unwrap_or(file).to_lowercase() };
    let (a_stem, b_stem) = (stem(a_file), stem(b_file));
    if a_dirs.len() == b_dirs.len() {
        let differing: Vec<usize> = (0..a_dirs.len())
            .filter(|&i| a_dirs[i] != b_dirs[i])
            .collect();
        if let [k] = differing[..] {
            let (x, y) = (a_dirs[k].to_lowercase(), b_dirs[k].to_lowercase());
            if is_breakdown(&x) || is_breakdown(&y) {
                return false;
            }
            // The file names may differ in their windows too (`_7d`, `_30d`).
            return a_stem == b_stem
                || (x.len() > 1
                    && y.len() > 1
                    && has_word_run(&a_stem, &x)
                    && has_word_run(&b_stem, &y));
        }
        if !differing.is_empty() {
            return false;
        }
        // One folder: the file names differ in one run of words, each
        // report's own relations named by its run and not by the other's.
        let (aw, bw) = (words_of(&a_stem, &['_']), words_of(&b_stem, &['_']));
        let prefix = aw.iter().zip(&bw).take_while(|(x, y)| x == y).count();
        let suffix = aw[prefix..]
            .iter()
            .rev()
            .zip(bw[prefix..].iter().rev())
            .take_while(|(x, y)| x == y)
            .count();
        let (x, y) = (
            aw[prefix..aw.len() - suffix].join("_"),
            bw[prefix..bw.len() - suffix].join("_"),
        );
        if x.is_empty() || y.is_empty() || is_breakdown(&x) || is_breakdown(&y) {
            return false;
        }
        let names =
            |site: &MetricSite, entity: &str| site.sources.iter().any(|r| has_word_run(r, entity));
        return names(a, &x) && names(b, &y) && !names(a, &y) && !names(b, &x);
    }
    false
}

/// Whether the words of `run` stand in `name` one after another, as whole
/// words (`gnosis_app` in `fct_gnosis_app_journeys`, not `app` in `happy`);
/// words end at `_`, `.` and `-`.
fn has_word_run(name: &str, run: &str) -> bool {
    const ENDS: &[char] = &['_', '.', '-'];
    let (name, run) = (words_of(name, ENDS), words_of(run, ENDS));
    !run.is_empty()
        && name
            .windows(run.len())
            .any(|w| w.iter().zip(&run).all(|(a, b)| a.eq_ignore_ascii_case(b)))
}

/// The non-empty words of `text` between `separators`.
fn words_of<'t>(text: &'t str, separators: &[char]) -> Vec<&'t str> {
    text.split(separators).filter(|w| !w.is_empty()).collect()
}

/// Words that name a report's grain or breakdown rather than an entity whose
/// own data it reads.
fn is_breakdown(word: &str) -> bool {
    let word = word.trim_end_matches('s');
    // Words with a digit are windows or versions (`7d`, `v2`).
    crate::names::GRAIN_WORDS.contains(&word)
        || word.bytes().any(|b| b.is_ascii_digit())
        || matches!(
            word,
            "ad" | "ad_group"
                | "adgroup"
                | "ad_set"
                | "adset"
                | "campaign"
                | "account"
                | "advertiser"
                | "keyword"
                | "creative"
                | "country"
                | "region"
                | "city"
                | "url"
                | "search_term"
                | "user"
                | "customer"
                | "project"
                | "team"
                | "product"
                | "channel"
                | "device"
                | "platform"
                | "day"
                | "week"
                | "month"
                | "quarter"
                | "year"
                | "hour"
                | "date"
                | "summary"
                | "detail"
                | "report"
                | "staging"
                | "stg"
                | "intermediate"
                | "int"
                | "mart"
                | "core"
                | "base"
                | "raw"
                | "agg"
                | "fct"
                | "fact"
                | "dim"
        )
}

/// Whether two paths are equal once version words (`_v2`, a `v2` folder,
/// `stats_v2.sql`) are left out. It runs for pairs of sites, so it compares
/// the words as they come, without building new strings.
fn same_without_versions(a: &str, b: &str) -> bool {
    fn words(path: &str) -> impl Iterator<Item = &str> {
        path.split(['/', '_'])
            .filter(|w| version_number(w.split('.').next().unwrap_or(w)).is_none())
    }
    words(a)
        .map(|w| w.split('.').next().unwrap_or(w))
        .eq(words(b).map(|w| w.split('.').next().unwrap_or(w)))
        && a.rsplit_once('.').map(|(_, e)| e) == b.rsplit_once('.').map(|(_, e)| e)
}

/// A report's path without its version words, and its version (the largest
/// `vN` in the path; 0 without one).
fn version_key(path: &str) -> (String, u32) {
    let mut version = 0;
    let mut words: Vec<&str> = Vec::new();
    for word in path.split(['/', '_']) {
        let word = word.split('.').next().unwrap_or(word);
        match version_number(word) {
            Some(n) => version = version.max(n),
            None => words.push(word),
        }
    }
    (words.join("/"), version)
}

/// The first folder of a report's path that names a version
/// (`shipment-charges-v3.0`), as (the path to it without its version
/// words, the version).
fn folder_generation(path: &str) -> Option<(String, u32)> {
    let (folders, _) = path.rsplit_once('/')?;
    let mut prefix = String::new();
    for folder in folders.split('/') {
        let mut version = None;
        let base: Vec<&str> = folder
            .split(['-', '_'])
            .filter(
                |word| match version_number(word.split('.').next().unwrap_or(word)) {
                    Some(n) => {
                        version = Some(n);
                        false
                    }
                    None => true,
                },
            )
            .collect();
        if let Some(version) = version {
            return Some((format!("{prefix}{}", base.join("-")), version));
        }
        prefix.push_str(folder);
        prefix.push('/');
    }
    None
}

/// The number of a version word (`v2` is 2), or `None` for another word.
fn version_number(word: &str) -> Option<u32> {
    let digits = word.strip_prefix('v')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(digits.parse().unwrap_or(u32::MAX))
}

/// Whether a site's rows are picked by how its relations join (see
/// [`crate::canon::ROWS_PICKED_BY_JOINS`]).
fn picked_by_joins(site: &MetricSite) -> bool {
    site.slice
        .iter()
        .any(|c| matches!(c, Expr::Opaque(why) if why == crate::canon::ROWS_PICKED_BY_JOINS))
}

/// The metric a site computes: its registered metric, or its output name
/// without qualifiers (grain words kept on counts).
pub fn metric_name(site: &MetricSite, registry: &Registry) -> String {
    match &site.registered {
        Some((metric, _)) => metric.to_string(),
        None => registry.vocabulary().group_name(
            &site.output_name,
            sums_across_slices(&site.form) && !counts_entities(&site.output_name),
        ),
    }
}

/// Whether a name counts people or things (`active_users`, `clients`):
/// daily and monthly ones are two metrics, even summed from daily flags.
fn counts_entities(name: &str) -> bool {
    let last = name.to_lowercase();
    let last = last.rsplit('_').next().unwrap_or_default().to_string();
    matches!(
        last.as_str(),
        "users"
            | "clients"
            | "customers"
            | "visitors"
            | "members"
            | "accounts"
            | "profiles"
            | "devices"
            | "people"
            | "subscribers"
            | "buyers"
            | "sellers"
            | "players"
            | "patients"
            | "mau"
            | "dau"
            | "wau"
    )
}

/// Whether reports are compared on this site: a metric-like computation
/// under a name that says which metric it is.
pub fn is_compared(site: &MetricSite) -> bool {
    // A CTE's or subquery's column is a step of its report, named for the
    // step (`hours` of one kind, then of another): the report's outputs are
    // what it publishes under a metric's name.
    site.top_level
        && !is_generic_name(&site.output_name)
        && !named_for_its_segment(site)
        && is_metric_like(&site.form)
}

/// Whether a figure is named for the value its own filter picks
/// (`COUNT(*) FILTER (WHERE channel = 'AUCTION') AS Auction`, a breakdown's
/// column): the name says which segment, not what is measured, and the
/// same breakdown of revenue names its columns alike.
fn named_for_its_segment(site: &MetricSite) -> bool {
    let squeezed = |text: &str| -> String {
        text.chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    let name = squeezed(&site.output_name);
    if name.is_empty() {
        return false;
    }
    // A long-format table's key (`metric_name = 'revenue'`, `event =
    // 'signups'`) picks the metric itself: the name is what is measured.
    let picks_a_metric = |column: &str| {
        unqualified(column).split('_').any(|w| {
            matches!(
                w,
                "metric" | "metrics" | "kpi" | "measure" | "event" | "events" | "action" | "stat"
            )
        })
    };
    let mut picked = false;
    for agg in crate::judge::aggregates(&site.form) {
        for condition in &agg.filter {
            condition.walk(&mut |e| {
                if let Expr::Compare(_, left, right) = e {
                    if let (Expr::Column(column), Expr::String(value))
                    | (Expr::String(value), Expr::Column(column)) = (&**left, &**right)
                    {
                        picked |= squeezed(value) == name && !picks_a_metric(column);
                    }
                }
            });
        }
    }
    picked
}

/// The ways `sites` (of one metric) compute it, most reports first, each as
/// (its form, its sites); see ML010 for when two sites are one way.
pub fn ways_of<'s>(
    sites: &[&'s MetricSite],
    registry: &Registry,
) -> Vec<(Expr, Vec<&'s MetricSite>)> {
    variants_of(sites, registry)
        .into_iter()
        .map(|v| (v.form.clone(), v.sites))
        .collect()
}

/// ML010 findings for the drift sites of a whole run.
pub fn inconsistent_computations<'s>(
    sites: impl IntoIterator<Item = &'s MetricSite>,
    registry: &Registry,
) -> Vec<Finding> {
    let mut groups: HashMap<(Option<&std::path::Path>, String), Vec<&MetricSite>> = HashMap::new();
    // A newer version of a report beside a live older one (`…_v2.sql` next
    // to `….sql`) redefines its figures on purpose: it is compared once the
    // older one is retired (removed, or marked deprecated).
    let mut deprecated = Deprecated::default();
    let sites: Vec<&MetricSite> = sites.into_iter().collect();
    let all_sites = sites.clone();
    // A report that publishes a metric under its name or a synonym
    // (`gross_revenue`) beside a figure whose name reaches the metric only
    // once a qualifier is stripped (`total_revenue`, of another column) says
    // they are two figures: the second keeps its own name.
    let named_exactly: std::collections::HashSet<(&str, &str)> = sites
        .iter()
        .filter(|s| registry.lookup_exact(&s.output_name).is_some())
        .filter_map(|s| s.registered.as_ref().map(|(m, _)| (&*s.path, &**m)))
        .collect();
    let keeps_its_name = |site: &MetricSite| {
        site.registered.as_ref().is_some_and(|(metric, _)| {
            registry.lookup_exact(&site.output_name).is_none()
                && named_exactly.contains(&(&*site.path, &**metric))
        })
    };
    let mut versions: HashMap<&str, (String, u32)> = HashMap::new();
    for site in &sites {
        if !versions.contains_key(&*site.path)
            && !site.retired
            && !deprecated.is_deprecated(&site.path)
        {
            versions.insert(&site.path, version_key(&site.path));
        }
    }
    let mut oldest: HashMap<&str, u32> = HashMap::new();
    for (key, version) in versions.values() {
        let at = oldest.entry(key).or_insert(*version);
        *at = (*at).min(*version);
    }
    // Likewise a newer generation of a folder of reports
    // (`shipment-charges-v3.0/` beside `shipment-charges-v2.0/`), whatever
    // its reports are called.
    let generations: HashMap<&str, (String, u32)> = versions
        .keys()
        .filter_map(|path| Some((*path, folder_generation(path)?)))
        .collect();
    let mut oldest_generation: HashMap<&str, u32> = HashMap::new();
    for (key, version) in generations.values() {
        let at = oldest_generation.entry(key).or_insert(*version);
        *at = (*at).min(*version);
    }
    let superseding: std::collections::HashSet<&str> = versions
        .iter()
        .filter(|(path, (key, version))| {
            oldest[key.as_str()] < *version
                || generations
                    .get(*path)
                    .is_some_and(|(key, version)| oldest_generation[key.as_str()] < *version)
        })
        .map(|(path, _)| *path)
        .collect();
    for site in sites
        .into_iter()
        .filter(|s| s.registered.is_none() || s.grounded_by_repository)
        .filter(|s| !superseding.contains(&*s.path))
    {
        let name = if keeps_its_name(site) {
            site.output_name.to_lowercase()
        } else {
            metric_name(site, registry)
        };
        groups
            .entry((site.project.as_deref(), name))
            .or_default()
            .push(site);
    }
    // What each statement publishes, for the parts a report splits a whole
    // into (see `publishes_the_rest`): worked out on first need.
    let published: std::cell::OnceCell<HashMap<(&str, usize), Vec<&Expr>>> =
        std::cell::OnceCell::new();
    let publishing = || {
        published.get_or_init(|| {
            let mut by_statement: HashMap<(&str, usize), Vec<&Expr>> = HashMap::new();
            for site in &all_sites {
                by_statement
                    .entry((&*site.path, site.statement))
                    .or_default()
                    .push(&*site.form);
            }
            by_statement
        })
    };
    let mut findings = Vec::new();
    for sites in groups.values() {
        let sites: Vec<&MetricSite> = sites
            .iter()
            .copied()
            .filter(|s| is_compared(s) && !s.retired && !deprecated.is_deprecated(&s.path))
            .collect();
        let mut variants = variants_of(&sites, registry);
        if variants.len() < 2 {
            continue;
        }
        // Reports vote, not sites: a report's inner query and its outer
        // re-aggregation count once.
        let mut reports: Vec<&str> = sites.iter().map(|s| &*s.path).collect();
        reports.sort_unstable();
        reports.dedup();
        let mut majority =
            variants[0].reports * 2 > reports.len() && variants[0].reports > variants[1].reports;
        // The way the built-in pack itself agrees with is the agreement,
        // however many reports use it: the others are compared with it.
        let agreed_by_pack = |v: &Variant| {
            v.sites
                .iter()
                .any(|s| s.grounded_by_repository && !s.left_to_reports && s.verdict.is_none())
        };
        // Whether `other` spells `site`'s figure the sturdier way, as
        // written or in the repository's vocabulary.
        let sturdier_of = |site: &MetricSite, other: &MetricSite| {
            evidence::sturdier(other.read_form(), site.read_form()).or_else(|| {
                evidence::sturdier(
                    &in_vocabulary(other, registry),
                    &in_vocabulary(site, registry),
                )
            })
        };
        if let Some(at) = variants.iter().position(agreed_by_pack) {
            let agreed = variants.remove(at);
            variants.insert(0, agreed);
            majority = true;
        } else if let Some(at) = variants.iter().position(|v| {
            sturdier_of(variants[0].sites[0], v.sites[0]) == Some(evidence::Sturdier::RatioOfTotals)
        }) {
            // A ratio of totals against the most reports' averaged ratios
            // is the agreement, as `init` takes it: the others are compared
            // with it.
            let sturdy = variants.remove(at);
            variants.insert(0, sturdy);
            majority = true;
        }
        // What the two ways compared against have written, worked out once
        // per way (not once per way compared with it, nor per pair of sites).
        let known: [std::cell::OnceCell<WrittenForms>; 2] = Default::default();
        for (index, variant) in variants.iter().enumerate() {
            if majority && index == 0 {
                continue;
            }
            // Compare with the majority, or with the largest other variant.
            let other_index = if index == 0 { 1 } else { 0 };
            let other = &variants[other_index];
            let written_forms =
                || known[other_index].get_or_init(|| WrittenForms::of(&other.sites, registry));
            let other_pass_through = &written_forms().pass_through;
            // A way that only reads a stored column (`COALESCE(t.dau, 0)
            // AS spot_dau` in 25 reports) shows no computation to differ
            // from: what the column holds is upstream, where lineage does
            // not reach.
            if other.sites.iter().all(|o| !o.read_form().has_aggregate()) {
                continue;
            }
            let other_reports: std::collections::HashSet<&str> =
                other.sites.iter().map(|o| &*o.path).collect();
            let other_written_known = other.sites.iter().any(|o| o.written.is_some());
            let other_ctes_known = other.sites.iter().any(|o| o.written_with_ctes.is_some());
            for site in variant
                .sites
                .iter()
                .filter(|s| !is_pass_through(s, registry))
            {
                // Two connectors' schemas name their columns differently: only
                // sites that read a common relation, or are combined in one
                // report (UNION branches), must agree.
                // A re-sum of a stored column anchors only over the same
                // table: over an upstream model (a union of platforms' own
                // columns) it re-aggregates whatever each branch defined.
                let elsewhere =
                    other_reports.len() - usize::from(other_reports.contains(&*site.path));
                // Across reports, only a difference the repository shows
                // to be a drift (see `evidence`): some whichever report is
                // meant, others where most reports, reading one table with
                // this one, agree on the other way. A UNION branch is a
                // part of its report's figure, not a report of its own.
                let against_majority = majority && index > 0 && elsewhere >= 2 && !site.in_union;
                let here = in_vocabulary(site, registry);
                let here_keys = keys_it_is_for(site);
                let of_its_grain = std::cell::OnceCell::new();
                let evident = |o: &MetricSite| {
                    let beside = publishing()
                        .get(&(&*site.path, site.statement))
                        .map(Vec::as_slice)
                        .unwrap_or_default();
                    if publishes_the_rest(&site.form, &o.form, beside)
                        || rebases_its_figures(&site.form, &o.form, beside)
                        || counts_what_a_subquery_picks(site)
                    {
                        return false;
                    }
                    let there = in_vocabulary(o, registry);
                    let grains = Grains {
                        same: same_grain(site, o),
                        here_keys: &here_keys,
                        there_keys: &keys_it_is_for(o),
                    };
                    let evidence = evidence(&here, &there, registry, grains);
                    // Rows picked by how relations join (an anti-join, a
                    // table joined to itself under filters of its own) are
                    // past what the forms say: only a drift whatever rows.
                    if (picked_by_joins(site) || picked_by_joins(o))
                        && evidence != Evidence::Evident
                    {
                        return false;
                    }
                    // A labelled segment of a long-format table (`'Token
                    // Sales' AS token_breakdown, SUM(token_qty_sold) AS
                    // total_qty_sold`) totals its segment's own column under
                    // the shared name: another column is no drift from a
                    // report of the whole.
                    if (totals_its_labels_column(site) || totals_its_labels_column(o))
                        && matches!(
                            evidence,
                            Evidence::AnotherColumnOfItsSources
                                | Evidence::AgainstMajorityOfItsGrain
                        )
                    {
                        return false;
                    }
                    // A ratio per row shows no filter or scope of what it
                    // divides: only what is a drift whatever is meant.
                    if (site.row_level || o.row_level)
                        && !(evidence == Evidence::Evident
                            && evidence::scaled_or_inverted(&here, &there))
                    {
                        return false;
                    }
                    match evidence {
                        Evidence::Evident => true,
                        Evidence::EvidentOverOneRelation => {
                            counted_rows_are_one_relations(site, &here, o, &there)
                        }
                        Evidence::AgainstMajority => {
                            against_majority
                                && reads_common_facts(&o.reads, &site.reads)
                                && !scopes_it_in_its_where(site, o)
                        }
                        Evidence::AgainstMajorityOfItsGrain => {
                            against_majority
                                && reads_common_facts(&o.reads, &site.reads)
                                && *of_its_grain.get_or_init(|| {
                                    majority_of_its_grain(site, &other.sites, &variant.sites)
                                })
                        }
                        Evidence::AnotherFactor => writes_the_same_factor(site, o),
                        Evidence::AnotherColumnOfItsSources => {
                            against_majority
                                && same_sources(site, o)
                                && !counts_a_key_per_row(site, &here, o, &there)
                                && !wheres_pick_their_own_subjects(site, o)
                                && *of_its_grain.get_or_init(|| {
                                    majority_of_its_grain(site, &other.sites, &variant.sites)
                                })
                        }
                        Evidence::Unsettled => false,
                    }
                };
                // How this site differs from another part of its report.
                let evidence_against = |o: &MetricSite| {
                    evidence(
                        &here,
                        &in_vocabulary(o, registry),
                        registry,
                        Grains {
                            same: same_grain(site, o),
                            here_keys: &here_keys,
                            there_keys: &keys_it_is_for(o),
                        },
                    )
                };
                // UNION branches that each pick their own kind of row (joined
                // on a key of their own, or narrowed to it) and total a column
                // of their own under one name (bundles' quantity beside single
                // products') stack the components of one figure. Branches over
                // the same rows (first touch beside last touch, unlabelled),
                // or over rows each picks by a value of its own (`platform =
                // 'a'` beside `platform = 'b'`), hold one figure, computed
                // alike.
                let stacks_components = |o: &MetricSite| {
                    site.in_union
                        && o.in_union
                        && site.statement == o.statement
                        && site.slice != o.slice
                        && !branches_pick_their_own_subjects(site, o)
                        && matches!(
                            evidence_against(o),
                            Evidence::AnotherColumnOfItsSources
                                | Evidence::AgainstMajorityOfItsGrain
                        )
                };
                // UNION branches over tables of their own (each platform's
                // report, with a lookup joined to each) map each table's own
                // column to the shared name, in its own units (Search Ads
                // 360's `cost_micros / 1e6`, Pinterest's `impression_1`):
                // only a difference that is a drift whatever is meant.
                let maps_its_own_tables_columns = |site: &MetricSite, o: &MetricSite| {
                    site.path == o.path
                        && site.statement == o.statement
                        && site.in_union
                        && o.in_union
                        && site.sources != o.sources
                };
                let evident_whatever_is_meant =
                    |o: &MetricSite| evidence_against(o) == Evidence::Evident;
                // The sturdier spelling (a distinct count, a ratio of
                // totals) is not the one to change, however the reports vote.
                let sturdier_than = |o: &MetricSite| sturdier_of(o, site).is_some();
                // As its own stage writes it (a model's column read as
                // stored: Malaysia's `SUM(b.si_sls_qty)` over a model whose
                // `si_sls_qty` sums `bill_qty_pc`), it may be computed as
                // some report of the other way writes it, over tables of
                // unknown lineage: how far lineage reaches is no difference
                // of definition.
                if site.written.is_some() || other_written_known {
                    let own = as_written(site, registry);
                    let forms = written_forms();
                    let alike = if site.written.is_some() {
                        forms.written.contains(&own)
                    } else {
                        forms.written_at_own_stage.contains(&own)
                    };
                    if alike {
                        continue;
                    }
                }
                // So may a report whose final SELECT, its CTEs read as
                // stored, writes what another computes over a stored column
                // (a CTE counting each batch's trades as `num_trades`, summed,
                // beside a table's stored `num_trades`, summed). Reports whose
                // CTEs both define the column are compared by what those
                // define.
                if site.written_with_ctes.is_some() || other_ctes_known {
                    let (own_alone, own) =
                        (as_written_alone(site, registry), as_written(site, registry));
                    let forms = written_forms();
                    let alike = (site.written_with_ctes.is_some()
                        && forms.written_in.elsewhere_than(&own_alone, &site.path))
                        || forms.alone_in.elsewhere_than(&own, &site.path);
                    if alike {
                        continue;
                    }
                }
                let counterpart = Counterpart {
                    subject: reports_phrase(elsewhere),
                    plural: elsewhere > 1,
                };
                // Each side as its own site reads: a way gathers spellings
                // that differ (a distinct count of a key over another table),
                // and the message quotes the two sites it names. A site of
                // the other way that reads alike, differing in nothing a
                // message can name (a WHERE no printed form shows), gives the
                // user nothing to act on: the next one is quoted, or none.
                let here = site.read_form();
                let quoted = other
                    .sites
                    .iter()
                    .zip(other_pass_through)
                    .filter(|(o, pass)| {
                        comparable(site, o)
                            && (!**pass || reads_common(&o.reads, &site.reads))
                            && !two_figures_sharing_a_name(site, o)
                            && (site.path != o.path || !each_picks_its_own_subject(site, o))
                            && (if maps_its_own_tables_columns(site, o) {
                                evident_whatever_is_meant(o)
                            } else if parts_of_one_figure(site, o) {
                                !stacks_components(o)
                            } else {
                                evident(o)
                            })
                            // Last: it reads both forms in the repository's
                            // vocabulary, for the candidates left only.
                            && !sturdier_than(o)
                    })
                    .find_map(|(o, _)| {
                        let there = o.read_form();
                        let differences: Vec<String> =
                            explain(here, there, None, registry, &counterpart)
                                .into_iter()
                                .map(|d| d.text)
                                .collect();
                        (!differences.is_empty() || here.to_string() != there.to_string())
                            .then_some((o, there, differences))
                    });
                let Some((anchor, there, differences)) = quoted else {
                    continue;
                };
                let mut finding = InconsistentComputation::finding(
                    &site.path,
                    site.range,
                    &site.output_name,
                    here,
                    OtherVariant {
                        path: &anchor.path,
                        range: anchor.range,
                        form: there,
                        reports: elsewhere,
                        majority,
                        sturdier: sturdier_of(site, anchor).is_some(),
                    },
                    &differences,
                );
                if site.row_level {
                    finding
                        .message
                        .push_str(" (here a ratio per row, read as its row's ratio of totals)");
                }
                if let Some(tag) = &site.generated_by {
                    finding.note_generated_by(tag);
                }
                findings.push(finding);
            }
        }
    }
    // Sites a macro wrote share the call's place: one finding each.
    findings.sort_by(|a, b| {
        (
            &a.path,
            a.range.start.line,
            a.range.start.column,
            &a.message,
        )
            .cmp(&(
                &b.path,
                b.range.start.line,
                b.range.start.column,
                &b.message,
            ))
    });
    findings.dedup_by(|a, b| a.path == b.path && a.range == b.range && a.message == b.message);
    findings
}

#[cfg(test)]
mod tests {
    use super::named_for;

    #[test]
    fn a_table_is_named_for_the_things_it_holds_one_row_of() {
        for (table, key, named) in [
            ("monad.testnet.fact_transactions", "tx_hash", true),
            ("fact_transactions", "transaction_id", true),
            ("analytics.orders", "order_id", true),
            ("dim_users", "user_id", true),
            ("txs", "tx_hash", true),
            ("order_items", "order_id", false),
            ("fact_transactions", "block_hash", false),
            ("events", "session_id", false),
            ("orders", "order_date", false),
            ("dbo.tblOrder", "O.ixOrder", true),
            ("[dbo].[tblOrder]", "ixOrder", true),
            ("customer", "customer_id", true),
            ("tblOrderLine", "ixOrder", false),
            ("tblOrder", "ixCustomer", false),
            ("order_item", "order_id", false),
        ] {
            assert_eq!(named_for(table, key), named, "{table} / {key}");
        }
    }
}
