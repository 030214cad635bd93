//! Judging: is a site's computation the agreed one, and if not, how does it differ?
//!
//! Both sides are first brought to their *effective* form: the registry's
//! `filter` goes into every aggregate of the definition (done once, at load),
//! and of the report's WHERE conditions only those on columns the definition
//! constrains go into the aggregates (the others are the report's slice:
//! dates, dimensions, join keys). Conditions written on an aggregate always
//! count; HAVING never does.
//!
//! The answer is three-valued. "Unknown" (a construct the canonical form does
//! not model) is never reported: a false alarm costs more trust than a missed
//! one costs coverage. A difference is classified by kind, so a site that
//! differs in exactly one way gets that way's rule (ML002–ML005) and anything
//! else is ML001 with every difference listed.

use std::collections::BTreeSet;

use crate::canon::{AggFunc, Aggregate, Expr, Number};
use crate::extract::same_relation;
use crate::registry::{Metric, Registry, Unit};

/// How a computation can differ from the agreement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DifferenceKind {
    Formula,
    Filter,
    Source,
    Scale,
    RatioStructure,
}

/// One difference, in the metric's own terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    pub kind: DifferenceKind,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Equivalent,
    Different {
        differences: Vec<Difference>,
        /// The site's effective canonical form.
        found: Expr,
        /// The agreement's effective canonical form.
        expected: Expr,
    },
    /// Why the comparison cannot be decided.
    Unknown(String),
}

impl Verdict {
    /// The kinds of difference, deduplicated.
    pub fn kinds(&self) -> BTreeSet<DifferenceKind> {
        match self {
            Verdict::Different { differences, .. } => differences.iter().map(|d| d.kind).collect(),
            _ => BTreeSet::new(),
        }
    }
}

/// Who holds the other computation in a message: the registry, or the other
/// reports (for cross-report drift).
#[derive(Clone, Debug)]
pub struct Counterpart {
    pub subject: String,
    pub plural: bool,
}

impl Counterpart {
    /// The agreement on `metric` in force: the registry, or the built-in pack.
    pub fn agreement(registry: &Registry, metric: &Metric) -> Counterpart {
        Counterpart {
            subject: registry.agreement_name(metric).to_string(),
            plural: false,
        }
    }

    /// "`subject` has", "`subject` reports" … with the verb agreeing.
    fn says(&self, verb: &str) -> String {
        if self.plural {
            let plural = match verb {
                "has" => "have",
                "does" => "do",
                "multiplies" => "multiply",
                other => other.strip_suffix('s').unwrap_or(other),
            };
            format!("{} {plural}", self.subject)
        } else {
            format!("{} {verb}", self.subject)
        }
    }
}

/// What a site computes, as the judge needs it.
pub struct Computation<'a> {
    pub expr: &'a Expr,
    /// Base relations read (lowercased last name parts).
    pub sources: &'a [String],
    /// Whether it reads a model of the dbt project (not only tables the
    /// project does not build).
    pub reads_a_model: bool,
    /// The computation as the report writes it at its own stage (the
    /// models it reads left unresolved), where that differs from `expr`.
    pub written: Option<&'a Expr>,
}

/// A computation without its report's slice (WHERE conditions) and with
/// renamed columns followed to their source: how reports compare with each
/// other when no agreement says which conditions matter.
pub fn without_slice(expr: &Expr) -> Expr {
    with_own_scopes_as_filters(expr.clone().followed_to_sources())
}

/// A computation without its report's slice, with renamed columns read by the
/// names the report reads: how reports compare in their own terms.
pub fn read_without_slice(expr: &Expr) -> Expr {
    with_own_scopes_as_filters(expr.clone().read_by_name())
}

/// The form with the conditions every aggregate sees (the report's slice)
/// dropped, and those only some see written as their filters: the filter of
/// a CTE reached through an outer join (`LEFT JOIN certificates` of
/// unrevoked certificates) keeps rows out of its own columns' aggregates
/// only, which is what a filter on the aggregate says.
fn with_own_scopes_as_filters(mut form: Expr) -> Expr {
    // Most figures' aggregates all see one scope (the report's WHERE): no
    // condition is any aggregate's own, and nothing is cloned to say so.
    let mut first: Option<crate::canon::Conditions> = None;
    let mut one_scope = true;
    form.walk(&mut |e| {
        if let Expr::Aggregate(agg) = e {
            match &first {
                None => first = Some(agg.scope.clone()),
                Some(scope) => one_scope &= *scope == agg.scope,
            }
        }
    });
    if one_scope {
        form.clear_scopes();
        return form;
    }
    // The figure's own aggregates, not one inside a condition (`date =
    // MAX(date)` of a one-row CTE) or argument of another.
    let all = aggregates(&form);
    let mut inner: Vec<Expr> = Vec::new();
    let mut note_inner = |e: &Expr| {
        if matches!(e, Expr::Aggregate(_)) {
            inner.push(e.clone());
        }
    };
    for agg in &all {
        agg.arg.walk(&mut note_inner);
        for condition in agg.filter.iter().chain(agg.scope.iter()) {
            condition.walk(&mut note_inner);
        }
    }
    let scopes: Vec<crate::canon::Conditions> = all
        .into_iter()
        .filter(|agg| !inner.contains(&Expr::Aggregate(Box::new(agg.clone()))))
        .map(|agg| agg.scope)
        .collect();
    let own = |scope: &crate::canon::Conditions| -> Vec<Expr> {
        scope
            .iter()
            .filter(|c| !scopes.iter().all(|other| other.contains(c)))
            .cloned()
            .collect()
    };
    if scopes.iter().all(|scope| own(scope).is_empty()) {
        form.clear_scopes();
        return form;
    }
    map_aggregates(form, &mut |agg| {
        let mut filter = agg.filter.clone();
        if scopes.contains(&agg.scope) {
            filter.extend(own(&agg.scope));
        }
        (filter, Vec::new())
    })
}

/// The site with the scope conditions on `constrained` columns moved into its
/// aggregates' filters, and the rest (the report's slice) dropped.
fn effective_site(expr: &Expr, constrained: &BTreeSet<String>) -> Expr {
    let has_scope = {
        let mut any = false;
        expr.walk(&mut |e| any |= matches!(e, Expr::Aggregate(a) if !a.scope.is_empty()));
        any
    };
    if !has_scope {
        return expr.clone();
    }
    map_aggregates(expr.clone(), &mut |agg| {
        let mut filter = agg.filter.clone();
        for condition in agg.scope.iter() {
            // A condition on an aggregate is a HAVING in disguise, never a filter.
            let relevant = !condition.has_aggregate()
                && !condition.columns().is_disjoint(constrained)
                && !is_date_predicate(condition);
            if relevant {
                filter.push(condition.clone());
            }
        }
        (filter, Vec::new())
    })
}

/// Whether a condition picks dates or partitions (`event_date >= '2024-01-01'`,
/// `submission_date = @submission_date`, `cohort_date >= date_sub(...)`):
/// which period a report shows, never which rows a metric counts. In a
/// report's WHERE it is always the report's slice.
pub fn is_date_predicate(condition: &Expr) -> bool {
    let columns = condition.columns();
    let dated = |c: &String| {
        let last = c.rsplit(['.', '_']).next().unwrap_or(c);
        matches!(
            last,
            "date"
                | "day"
                | "dt"
                | "ds"
                | "at"
                | "time"
                | "timestamp"
                | "ts"
                | "tstamp"
                | "hour"
                | "week"
                | "month"
                | "year"
                // A period picked by its label (`period = 'LAST YEAR TO
                // DATE'`, `fiscal_period = '2024-03'`).
                | "period"
                | "partition"
                | "partitiontime"
                | "partitiondate"
        ) || c.starts_with('@')
    };
    // Whole words only: `billing_interval = 'month'` picks no dates.
    let text = condition.to_string().to_lowercase();
    let moving = text
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .any(|word| {
            matches!(
                word,
                "current_date"
                    | "current_timestamp"
                    | "now"
                    | "getdate"
                    | "sysdate"
                    | "date_sub"
                    | "dateadd"
                    | "date_add"
                    | "interval"
            )
        });
    (!columns.is_empty() && columns.iter().any(dated)) || moving
}

/// An aggregate's (filter, scope) conditions.
type Conditions = (Vec<Expr>, Vec<Expr>);

/// Rebuilds every aggregate with new (filter, scope).
fn map_aggregates(expr: Expr, f: &mut dyn FnMut(&Aggregate) -> Conditions) -> Expr {
    expr.rewrite(&mut |e| match e {
        Expr::Aggregate(agg) => {
            let (filter, scope) = f(&agg);
            let scope = crate::canon::Conditions::new(crate::canon::conjuncts(scope));
            Expr::aggregate_scoped(
                agg.func.clone(),
                agg.distinct,
                agg.arg.clone(),
                filter,
                scope,
            )
        }
        other => other,
    })
}

/// `expr` with the conjuncts of `filter` taken out of each aggregate's
/// filter, if every aggregate has them all; `None` otherwise, or when
/// there is no filter.
fn without_agreed_filter(expr: &Expr, filter: &[Expr]) -> Option<Expr> {
    if filter.is_empty() {
        return None;
    }
    let mut every = true;
    expr.walk(&mut |e| {
        if let Expr::Aggregate(agg) = e {
            every &= filter.iter().all(|c| agg.filter.contains(c));
        }
    });
    every.then(|| {
        map_aggregates(expr.clone(), &mut |agg| {
            let kept = agg
                .filter
                .iter()
                .filter(|c| !filter.contains(c))
                .cloned()
                .collect();
            (kept, agg.scope.iter().cloned().collect())
        })
    })
}

pub(crate) fn without_filters(expr: &Expr) -> Expr {
    map_aggregates(expr.clone(), &mut |_| (Vec::new(), Vec::new()))
}

/// The column of rates a figure adds up, when the figure is that sum
/// (`SUM(conversion_rate)`, scaled or not), by the name the report reads.
pub fn summed_rate(computation: &Expr) -> Option<String> {
    // Every unregistered site passes here: the shape is read in place.
    let core = match computation {
        Expr::Product(p) if p.factors.len() == 1 && !p.factors[0].inverse => &p.factors[0].expr,
        other => other,
    };
    let Expr::Aggregate(agg) = core else {
        return None;
    };
    if agg.func != AggFunc::Sum || agg.distinct {
        return None;
    }
    let column = match &agg.arg {
        Expr::Column(column) | Expr::Renamed { alias: column, .. } => column,
        _ => return None,
    };
    (crate::names::names_a_rate(column) && !crate::names::names_a_share(column))
        .then(|| column.clone())
}

/// `(scale, core)`: the constant coefficient of the top-level product and the rest.
pub fn split_scale(expr: &Expr) -> (Number, Expr) {
    match expr {
        Expr::Product(p) if !p.coefficient.is_one() => {
            let core = Expr::product(Number::ONE, p.factors.clone());
            (p.coefficient.clone(), core)
        }
        other => (Number::ONE, other.clone()),
    }
}

pub(crate) fn aggregates(expr: &Expr) -> Vec<Aggregate> {
    let mut out = Vec::new();
    expr.walk(&mut |e| {
        if let Expr::Aggregate(agg) = e {
            out.push(agg.as_ref().clone());
        }
    });
    out
}

pub(crate) fn is_ratio(expr: &Expr) -> bool {
    matches!(expr, Expr::Product(p) if p.factors.iter().any(|f| f.inverse))
}

pub(crate) fn is_ratio_of_aggregates(expr: &Expr) -> bool {
    matches!(expr, Expr::Product(p) if p.factors.iter().any(|f| f.inverse)
        && p.factors.iter().all(|f| matches!(f.expr, Expr::Aggregate(_))))
}

/// `AVG(a / b)`, `SUM(a / b)`, or an aggregate over a column that is itself a
/// ratio metric (`AVG(ctr)`): an aggregate of per-row ratios.
pub(crate) fn aggregate_of_ratios(expr: &Expr, registry: &Registry) -> bool {
    let Expr::Aggregate(agg) = expr else {
        return false;
    };
    if !matches!(agg.func, AggFunc::Avg | AggFunc::Sum | AggFunc::Other(_)) {
        return false;
    }
    match &agg.arg {
        arg if is_ratio(arg) => true,
        Expr::Column(name) => registry
            .lookup(name)
            .is_some_and(|(m, _)| is_ratio(&split_scale(&m.definition).1)),
        _ => false,
    }
}

/// Words for a scale a ratio is reported at, e.g. "percent (×100)".
fn ratio_scale_words(scale: &Number) -> String {
    if scale.is_one() {
        "a fraction".to_string()
    } else if *scale == Number::int(100) {
        "percent (×100)".to_string()
    } else if *scale == Number::int(1000) {
        "per mille (×1000)".to_string()
    } else {
        format!("×{scale}")
    }
}

fn is_micros(scale: &Number) -> bool {
    let million = Number::int(1_000_000);
    *scale == million || Some(scale.clone()) == million.recip()
}

/// Words for a money scale, e.g. "micros (×1000000)".
fn money_scale_words(scale: &Number) -> String {
    if scale.is_one() {
        "currency units".to_string()
    } else if *scale == Number::int(1_000_000) {
        "micros (×1000000)".to_string()
    } else if is_micros(scale) {
        "millionths (÷1000000)".to_string()
    } else {
        format!("×{scale}")
    }
}

/// How a scale difference reads, in the metric's unit where it has one.
pub fn scale_difference(
    found: &Number,
    expected: &Number,
    unit: Option<Unit>,
    cp: &Counterpart,
) -> String {
    match unit {
        Some(unit @ (Unit::Fraction | Unit::Percent | Unit::PerMille)) => {
            // In the unit's own terms: an agreed body that reads other
            // metrics carries their constants (micros made currency),
            // which its unit does not count.
            let declared = match unit {
                Unit::Fraction => Number::ONE,
                Unit::Percent => Number::int(100),
                _ => Number::int(1000),
            };
            let found_in_unit = expected
                .recip()
                .and_then(|r| found.mul(&r))
                .and_then(|relative| relative.mul(&declared))
                .unwrap_or_else(|| found.clone());
            format!(
                "it is in {} where {} {}",
                ratio_scale_words(&found_in_unit),
                cp.says("reports"),
                ratio_scale_words(&declared)
            )
        }
        Some(Unit::Currency | Unit::CurrencyMicros)
            if [found, expected]
                .iter()
                .any(|s| matches!(s.as_f64(), Some(v) if v == 1e6 || v == 1e-6)) =>
        {
            format!(
                "it is in {} where {} {}",
                money_scale_words(found),
                cp.says("reports"),
                money_scale_words(expected)
            )
        }
        _ => factor_difference(found, expected, cp),
    }
}

/// Two constant factors told apart: a power of ten is a scale (×100, ×1000),
/// any other factor (a conversion rate of 0.66, say) is what it is.
fn factor_difference(found: &Number, expected: &Number, cp: &Counterpart) -> String {
    if is_power_of_ten(found) && is_power_of_ten(expected) {
        format!("the scale is ×{found} where {} ×{expected}", cp.says("has"))
    } else {
        format!(
            "it multiplies by {found} where {} by {expected}",
            cp.says("multiplies")
        )
    }
}

/// 1, 10, 100, … or 0.1, 0.01, ….
fn is_power_of_ten(n: &Number) -> bool {
    let power = |mut v: i128| {
        while v > 1 && v % 10 == 0 {
            v /= 10;
        }
        v == 1
    };
    match n {
        Number::Ratio { num, den } => (*den == 1 && power(*num)) || (*num == 1 && power(*den)),
        Number::Text(_) => false,
    }
}

/// Names an aggregate without its filter, e.g. `sum(impressions)`.
fn bare(agg: &Aggregate) -> String {
    Expr::aggregate(agg.func.clone(), agg.distinct, agg.arg.clone(), Vec::new()).to_string()
}

/// Explains filter differences between aggregates of the same shape.
fn filter_differences(found: &Expr, expected: &Expr) -> Vec<Difference> {
    let found_aggs = aggregates(found);
    let expected_aggs = aggregates(expected);
    let all = found_aggs.len();
    // Conditions missing or extra on some aggregates, with the aggregates named.
    let mut missing: Vec<(Expr, Vec<String>)> = Vec::new();
    let mut extra: Vec<(Expr, Vec<String>)> = Vec::new();
    let note = |list: &mut Vec<(Expr, Vec<String>)>, condition: &Expr, agg: &Aggregate| match list
        .iter_mut()
        .find(|(c, _)| c == condition)
    {
        Some((_, aggs)) => aggs.push(bare(agg)),
        None => list.push((condition.clone(), vec![bare(agg)])),
    };
    // A flag compared with 1 and the flag cast to a boolean are one
    // condition (see `with_counts_alike`): neither is missing.
    let alike = |c: &Expr| crate::drift::with_counts_alike_and(c, false);
    let holds = |filter: &[Expr], c: &Expr| {
        let c = alike(c);
        filter.iter().any(|f| alike(f) == c)
    };
    for (f, e) in found_aggs.iter().zip(&expected_aggs) {
        for c in e.filter.iter().filter(|c| !holds(&f.filter, c)) {
            note(&mut missing, c, f);
        }
        for c in f.filter.iter().filter(|c| !holds(&e.filter, c)) {
            note(&mut extra, c, f);
        }
    }
    let mut out = Vec::new();
    for (condition, aggs) in missing {
        let text = if aggs.len() == all {
            format!("filter `{condition:.100}` is missing")
        } else {
            format!(
                "filter `{condition:.100}` is missing on {}",
                aggs.join(" and ")
            )
        };
        out.push(Difference {
            kind: DifferenceKind::Filter,
            text,
        });
    }
    for (condition, aggs) in extra {
        let applies_in_definition = expected_aggs.iter().any(|e| e.filter.contains(&condition));
        let text = if applies_in_definition {
            format!(
                "filter `{condition:.100}` applies to {} too",
                aggs.join(" and ")
            )
        } else if aggs.len() == all {
            format!("extra filter `{condition:.100}`")
        } else {
            format!("extra filter `{condition:.100}` on {}", aggs.join(" and "))
        };
        out.push(Difference {
            kind: DifferenceKind::Filter,
            text,
        });
    }
    out
}

/// Explains a formula difference by parts: numerator, denominator, scale.
fn formula_differences(found: &Expr, expected: &Expr, cp: &Counterpart) -> Vec<Difference> {
    let (found_scale, found_num, found_den) = unguarded(found).as_ratio();
    let (expected_scale, expected_num, expected_den) = unguarded(expected).as_ratio();
    let divides = |d: &Expr| !matches!(d, Expr::Number(n) if n.is_one());
    let formula = |text: String| Difference {
        kind: DifferenceKind::Formula,
        text,
    };
    // Numerator and denominator swapped: said so, the clearest of bugs.
    if divides(&found_den)
        && divides(&expected_den)
        && without_filters(&found_num) == without_filters(&expected_den)
        && without_filters(&found_den) == without_filters(&expected_num)
    {
        return vec![formula(format!(
            "it is inverted: it divides {found_num:.100} by {found_den:.100} where {} {expected_num:.100} by {expected_den:.100}",
            cp.says("divides")
        ))];
    }
    if !divides(&found_den) && !divides(&expected_den) {
        let (found, expected) = crate::canon::elide_apart(found, expected, 100);
        return vec![formula(format!(
            "it computes {found} where {} {expected}",
            cp.says("has")
        ))];
    }
    let mut out = Vec::new();
    if without_filters(&found_num) != without_filters(&expected_num) {
        let (found_num, expected_num) = crate::canon::elide_apart(&found_num, &expected_num, 100);
        out.push(formula(format!(
            "the numerator is {found_num} where {} {expected_num}",
            cp.says("has")
        )));
    }
    if without_filters(&found_den) != without_filters(&expected_den) {
        match (divides(&found_den), divides(&expected_den)) {
            (true, true) => {
                let (found_den, expected_den) =
                    crate::canon::elide_apart(&found_den, &expected_den, 100);
                out.push(formula(format!(
                    "the denominator is {found_den} where {} {expected_den}",
                    cp.says("has")
                )))
            }
            (false, true) => out.push(formula(format!(
                "it does not divide by {expected_den:.100}"
            ))),
            (true, false) => out.push(formula(format!(
                "it divides by {found_den:.100}, which {} not",
                cp.says("does")
            ))),
            (false, false) => {}
        }
    }
    if out.is_empty() {
        // Same parts up to filters: the filters are what differs.
        out.extend(filter_differences(found, expected));
    }
    if found_scale != expected_scale {
        out.push(Difference {
            kind: DifferenceKind::Scale,
            text: factor_difference(&found_scale, &expected_scale, cp),
        });
    }
    if out.is_empty() {
        let (found, expected) = crate::canon::elide_apart(found, expected, 100);
        out.push(formula(format!(
            "it computes {found} where {} {expected}",
            cp.says("has")
        )));
    }
    out
}

/// The site reads none of the relations the metric must come from.
fn source_difference(site: &Computation<'_>, metric: &Metric) -> Option<Difference> {
    // A Semantic Layer's model is where MetricFlow computes the measure;
    // another model of the project may compute it at its own grain from its
    // own lineage (an account report beside the ad report). A report that
    // reads no model of the project bypasses its modelling: that differs.
    if metric.source_is_semantic_model && site.reads_a_model {
        return None;
    }
    // A stand-in for what a template left unrendered (a missing macro's
    // relation) may be any relation: it proves no difference.
    if site
        .sources
        .iter()
        .any(|s| s.starts_with(crate::template::PLACEHOLDER_PREFIX))
    {
        return None;
    }
    let differs = !metric.source.is_empty()
        && !site.sources.is_empty()
        && !site
            .sources
            .iter()
            .any(|s| metric.source.iter().any(|m| same_relation(m, s)));
    differs.then(|| Difference {
        kind: DifferenceKind::Source,
        text: format!(
            "it reads {} where the registry says {}",
            site.sources.join(", "),
            metric.source.join(" or ")
        ),
    })
}

/// Whether `found`, with only its scope conditions on `constrained` columns
/// counted, is `agreed` — without building the effective form. Answers
/// `false` when unsure; the full comparison then decides.
fn agrees(found: &Expr, agreed: &Expr, constrained: &BTreeSet<String>) -> bool {
    match (found, agreed) {
        (Expr::Aggregate(f), Expr::Aggregate(a)) => {
            if f.func != a.func || f.distinct != a.distinct || !agrees(&f.arg, &a.arg, constrained)
            {
                return false;
            }
            let relevant = |c: &&Expr| {
                !c.has_aggregate() && !c.columns().is_disjoint(constrained) && !is_date_predicate(c)
            };
            if constrained.is_empty() || f.scope.iter().filter(relevant).count() == 0 {
                f.filter == a.filter
            } else {
                let mut filter = f.filter.clone();
                filter.extend(f.scope.iter().filter(relevant).cloned());
                crate::canon::conjuncts(filter) == a.filter
            }
        }
        (Expr::Sum(f), Expr::Sum(a)) => {
            f.len() == a.len()
                && f.iter()
                    .zip(a)
                    .all(|(x, y)| x.negated == y.negated && agrees(&x.expr, &y.expr, constrained))
        }
        (Expr::Product(f), Expr::Product(a)) => {
            f.coefficient == a.coefficient
                && f.factors.len() == a.factors.len()
                && f.factors
                    .iter()
                    .zip(&a.factors)
                    .all(|(x, y)| x.inverse == y.inverse && agrees(&x.expr, &y.expr, constrained))
        }
        _ => found == agreed,
    }
}

/// The site read in `vocabulary` (the agreed definition's columns): renamed
/// columns by the name along their lineage the agreement uses, and a column
/// the registry knows as a base metric (summed under its own name) by that
/// name. `None` when nothing changes.
fn in_registry_vocabulary(
    expr: &Expr,
    vocabulary: &BTreeSet<String>,
    registry: &Registry,
) -> Option<Expr> {
    let base_metric_column = |column: &str| -> Option<String> {
        if vocabulary.contains(column) {
            return None;
        }
        // Its name or a synonym, or with a word that only says it is a total
        // (`total_conversions`); never a window or a running figure
        // (`clicks_30d`, `cumulative_clicks`), which the output-name
        // qualifiers strip.
        let neutral = |name: &str| -> Option<String> {
            const PREFIXES: &[&str] = &["total_", "num_", "n_", "sum_", "count_"];
            // A currency is a unit, as for output names (`spend_usd`).
            const SUFFIXES: &[&str] = &["_total", "_count", "_cnt", "_sum", "_usd", "_eur", "_gbp"];
            PREFIXES
                .iter()
                .find_map(|p| name.strip_prefix(p))
                .or_else(|| SUFFIXES.iter().find_map(|s| name.strip_suffix(s)))
                .map(str::to_string)
                .or_else(|| {
                    crate::names::currency_in_name(name).map(|_| crate::names::currency_base(name))
                })
        };
        let (metric, _) = registry
            .lookup_exact(column)
            .or_else(|| registry.lookup_exact(&neutral(&column.to_lowercase())?))?;
        let summed = matches!(
            &metric.agreed,
            Expr::Aggregate(agg) if agg.func == crate::canon::AggFunc::Sum
                && agg.filter.is_empty()
                && agg.arg == Expr::column(&metric.name)
        );
        (summed && vocabulary.contains(&metric.name)).then(|| metric.name.clone())
    };
    let mut renamed_columns = false;
    expr.walk(&mut |e| {
        if let Expr::Column(c) | Expr::Renamed { alias: c, .. } = e {
            renamed_columns |= base_metric_column(c).is_some();
        }
    });
    if !expr.has_renames() && !renamed_columns {
        return None;
    }
    // A column of one registered metric renamed to another's name (`revenue
    // as spend`) is still the first: no agreed name hides it.
    let metric_of = |name: &str| registry.lookup_exact(name).map(|(m, _)| m.name.clone());
    let expr = expr.clone().rewrite(&mut |e| match e {
        Expr::Renamed { alias, source } => match source.as_ref() {
            Expr::Column(base) => match (metric_of(base), metric_of(&alias)) {
                (Some(from), Some(to)) if from != to => Expr::Column(base.clone()),
                _ => Expr::Renamed { alias, source },
            },
            _ => Expr::Renamed { alias, source },
        },
        other => other,
    });
    let expr = expr.in_vocabulary(vocabulary);
    if !renamed_columns {
        return Some(expr);
    }
    Some(expr.rewrite(&mut |e| match e {
        Expr::Column(c) => match base_metric_column(&c) {
            Some(name) => Expr::Column(name),
            None => Expr::Column(c),
        },
        // A rename into a base metric's name (`cost_in_usd as cost`), unless
        // what is renamed is another registered metric (`revenue as cost`).
        Expr::Renamed { alias, source } => {
            let renamed_metric = match source.as_ref() {
                Expr::Column(base) => registry
                    .lookup_exact(base)
                    .map(|(m, _)| m.name.clone())
                    .filter(|m| base_metric_column(&alias).as_ref() != Some(m)),
                _ => None,
            };
            match (renamed_metric, base_metric_column(&alias)) {
                (Some(other), _) => Expr::Column(other),
                (None, Some(name)) => Expr::Column(name),
                (None, None) => Expr::Renamed { alias, source },
            }
        }
        other => other,
    }))
}

/// Compares a site's computation with a registered metric.
pub fn judge(site: Computation<'_>, metric: &Metric, registry: &Registry) -> Verdict {
    let picked_by_joins = rows_picked_by_joins(site.expr);
    let verdict = judge_as_read(site, metric, registry);
    // Rows picked by how relations join (a table joined to itself under
    // filters of its own, an anti-join) are past what a filter says: no
    // filter difference can be told, the rest still can (an inverted or
    // averaged ratio is wrong whichever rows).
    match verdict {
        Verdict::Different {
            mut differences,
            found,
            expected,
        } if picked_by_joins => {
            // What holds whichever rows: how it aggregates, its scale, an
            // inversion. Another filter or count (rows where the other
            // counts distinct keys) depends on which rows.
            let inverted = crate::drift::inverted(&found, &expected);
            differences.retain(|d| match d.kind {
                DifferenceKind::RatioStructure | DifferenceKind::Scale => true,
                DifferenceKind::Formula => inverted,
                DifferenceKind::Filter | DifferenceKind::Source => false,
            });
            if differences.is_empty() {
                Verdict::Unknown(
                    "the rows it aggregates are picked by how its relations join, past what its filters say"
                        .to_string(),
                )
            } else {
                Verdict::Different {
                    differences,
                    found,
                    expected,
                }
            }
        }
        verdict => verdict,
    }
}

/// Whether an aggregate of `expr` reads rows picked by how relations join
/// (see [`crate::canon::ROWS_PICKED_BY_JOINS`]).
pub fn rows_picked_by_joins(expr: &Expr) -> bool {
    let mut found = false;
    expr.walk(&mut |e| {
        if let Expr::Aggregate(agg) = e {
            found |= agg.scope.iter().any(
                |c| matches!(c, Expr::Opaque(why) if why == crate::canon::ROWS_PICKED_BY_JOINS),
            );
        }
    });
    found
}

fn judge_as_read(site: Computation<'_>, metric: &Metric, registry: &Registry) -> Verdict {
    let source = source_difference(&site, metric);
    // Fast path: most sites match as written, and need no reading in the
    // agreement's vocabulary (which only ever makes more of them match).
    if source.is_none() && agrees(site.expr, &metric.agreed, &metric.constrained) {
        return Verdict::Equivalent;
    }
    // Renamed columns are read in the agreement's own column names, and so
    // are columns named for a registered base metric (`cost`, a synonym of
    // `spend`; `total_conversions`).
    let vocabulary = metric.agreed.columns();
    let in_vocabulary;
    let site = match in_registry_vocabulary(site.expr, &vocabulary, registry) {
        Some(expr) => {
            in_vocabulary = expr;
            Computation {
                expr: &in_vocabulary,
                sources: site.sources,
                reads_a_model: site.reads_a_model,
                written: site.written,
            }
        }
        None => site,
    };
    let agreed = agrees(site.expr, &metric.agreed, &metric.constrained);
    if agreed && source.is_none() {
        return Verdict::Equivalent;
    }
    let expected = metric.agreed.clone();
    let found = effective_site(site.expr, &metric.constrained);
    if agreed || found == expected {
        return match source {
            None => Verdict::Equivalent,
            Some(d) => Verdict::Different {
                differences: vec![d],
                found,
                expected,
            },
        };
    }
    // Spellings equal where the data makes them equal (`SUM(is_dau)`,
    // `COUNTIF(is_dau)`; `COUNT(key)`, `COUNT(*)`).
    let alike = |e: &Expr| crate::drift::with_counts_alike_and(e, false);
    if source.is_none() && alike(&found) == alike(&expected) {
        return Verdict::Equivalent;
    }
    if !found.has_aggregate() {
        if let Some(verdict) = judge_row_level_ratio(&found, &expected, metric, registry) {
            return verdict;
        }
    }
    // A value picked from a group, a flag or a list under a metric's name
    // is not a computation of it that can be compared.
    let boolean = matches!(
        found,
        Expr::Compare(..) | Expr::And(_) | Expr::Or(_) | Expr::Not(_) | Expr::Bool(_)
    );
    if (boolean || !measures_anything(&found)) && crate::drift::is_metric_like(&expected) {
        return Verdict::Unknown(format!("`{found}` is no measure metriclint compares"));
    }
    if found.has_aggregate_in_condition() {
        return Verdict::Unknown(format!(
            "`{found:.100}` counts the groups of an inner query (its condition aggregates): what that adds up to depends on the inner query's grain"
        ));
    }
    if is_clipped(&found) {
        return Verdict::Unknown(format!(
            "`{found:.100}` clips the figure at a bound: it differs only where the figure is out of bounds, which the reports' data decides"
        ));
    }
    if found.is_uncertain() {
        return Verdict::Unknown(format!(
            "`{found}` uses a construct metriclint cannot compare yet"
        ));
    }
    if expected.is_uncertain() {
        return Verdict::Unknown(
            "the registry definition uses a construct metriclint cannot compare yet".to_string(),
        );
    }
    if !found.has_aggregate() {
        // A row-level expression over rows whose grain we cannot see (a base
        // table that may hold daily totals) may well be right; against a
        // row-level definition, it is a column passed on under another
        // name, or a placeholder (`NULL AS mtd_forecast`), not a computation.
        return Verdict::Unknown(format!(
            "`{found}` aggregates nothing here; its inputs come from elsewhere"
        ));
    }

    // The registered filter, where both apply it in every aggregate, is no
    // difference: the forms are shown without it (the help says it once).
    let (found, expected) = match (
        without_agreed_filter(&found, &metric.filter),
        without_agreed_filter(&expected, &metric.filter),
    ) {
        (Some(found), Some(expected)) => (found, expected),
        _ => (found, expected),
    };
    let mut differences = explain(
        &found,
        &expected,
        metric.unit,
        registry,
        &Counterpart::agreement(registry, metric),
    );
    differences.extend(source);
    if let Some(column) = stored_column_of(&found, metric, registry) {
        if differences
            .iter()
            .any(|d| d.kind == DifferenceKind::Formula)
        {
            return Verdict::Unknown(format!(
                "it re-aggregates `{column}`, a stored column of {}: how that column is computed is upstream, where lineage does not reach",
                metric.name
            ));
        }
    }
    // A Semantic Layer measure's `expr` names columns of its semantic
    // model. A model of the project that does not read that model has
    // columns of its own (Amazon's `cost`, mapped to `spend` for a union of
    // platforms): a difference in column names alone says nothing there.
    // Not over a column named for another metric: a CTR of `conversions`
    // is another figure, whatever the model.
    let agreed_columns = expected.columns();
    let another_metrics_column = found
        .columns()
        .iter()
        .filter(|c| !agreed_columns.contains(*c))
        .any(|c| {
            registry
                .lookup_exact(c)
                .is_some_and(|(m, _)| m.name != metric.name)
        });
    if metric.source_is_semantic_model
        && site.reads_a_model
        && !reads_the_semantic_model(&site, metric)
        && !another_metrics_column
        && differs_in_column_names_only(&found, &expected)
    {
        return Verdict::Unknown(format!(
            "`{found}` reads columns of another model than {}'s semantic model, whose columns the Semantic Layer names",
            metric.name
        ));
    }
    if registry.judges_as_pack(metric) {
        if let Some(why) = beyond_the_pack(&differences, &found, site.written, metric, registry) {
            return Verdict::Unknown(why);
        }
    }
    Verdict::Different {
        differences,
        found,
        expected,
    }
}

/// The ratio a CASE guards on totals (`CASE WHEN SUM(d) = 0 THEN NULL ELSE
/// SUM(n) / SUM(d) END` is `SUM(n) / SUM(d)`, whichever total the guard
/// tests), for explaining how two formulas differ.
/// A ratio per row of two columns (`clicks / NULLIF(impressions, 0) * 100`)
/// as the ratio of their totals (`SUM(clicks) / SUM(impressions) * 100`):
/// what it is at its grain, whatever the grain.
pub fn row_level_ratio_as_totals(computation: &Expr) -> Option<Expr> {
    let (scale, numerator, denominator) = computation.as_ratio();
    let column = |e: &Expr| matches!(e, Expr::Column(_) | Expr::Renamed { .. });
    if !column(&numerator) || !column(&denominator) {
        return None;
    }
    let total = |e: Expr| Expr::aggregate(AggFunc::Sum, false, e, Vec::new());
    Some(Expr::product(
        scale,
        vec![
            crate::canon::Factor::mul(total(numerator)),
            crate::canon::Factor::div(total(denominator)),
        ],
    ))
}

/// A row-level ratio of two columns (`clicks / NULLIF(impressions, 0)` in a
/// model per ad per day) is the ratio of its grain's totals, whatever the
/// grain: judged as `SUM(clicks) / SUM(impressions)` is, for what holds at
/// any grain only. An inverted ratio (`conversions / spend AS
/// cost_per_conversion`) or another scale is reported; another column
/// (which the model's rows may hold as a total of the agreed one) is not.
fn judge_row_level_ratio(
    found: &Expr,
    expected: &Expr,
    metric: &Metric,
    registry: &Registry,
) -> Option<Verdict> {
    let lifted = LiftedRowRatio::of(found, expected)?;
    if lifted.agrees() {
        return None;
    }
    let LiftedRowRatio {
        lifted,
        expected_unfiltered,
        ..
    } = lifted;
    let differences = explain(
        &lifted,
        &expected_unfiltered,
        metric.unit,
        registry,
        &Counterpart::agreement(registry, metric),
    )
    .into_iter()
    .filter(|d| matches!(d.kind, DifferenceKind::Scale | DifferenceKind::Formula))
    .collect::<Vec<_>>();
    (!differences.is_empty()).then(|| Verdict::Different {
        differences,
        found: found.clone(),
        expected: expected.clone(),
    })
}

/// A ratio of one row's columns (`clicks / impressions`) read as its
/// grain's ratio of totals, beside an agreed ratio of totals of the same
/// two columns, either way round.
struct LiftedRowRatio {
    lifted: Expr,
    expected_unfiltered: Expr,
    /// The same numerator and denominator as agreed (not inverted).
    same: bool,
}

impl LiftedRowRatio {
    fn of(found: &Expr, expected: &Expr) -> Option<LiftedRowRatio> {
        let (scale, numerator, denominator) = found.as_ratio();
        let column = |e: &Expr| matches!(e, Expr::Column(_) | Expr::Renamed { .. });
        if !column(&numerator) || !column(&denominator) {
            return None;
        }
        let total = |e: Expr| Expr::aggregate(AggFunc::Sum, false, e, Vec::new());
        let lifted = Expr::product(
            scale,
            vec![
                crate::canon::Factor::mul(total(numerator)),
                crate::canon::Factor::div(total(denominator)),
            ],
        );
        let (_, expected_core) = split_scale(expected);
        let (_, expected_numerator, expected_denominator) =
            without_filters(&expected_core).as_ratio();
        let (_, lifted_core) = split_scale(&lifted);
        let (_, lifted_numerator, lifted_denominator) = lifted_core.as_ratio();
        let same =
            lifted_numerator == expected_numerator && lifted_denominator == expected_denominator;
        let inverted =
            lifted_numerator == expected_denominator && lifted_denominator == expected_numerator;
        if !(same || inverted) || !is_ratio_of_aggregates(&expected_core) {
            return None;
        }
        Some(LiftedRowRatio {
            lifted,
            expected_unfiltered: without_filters(expected),
            same,
        })
    }

    /// The agreed ratio, at the agreed scale.
    fn agrees(&self) -> bool {
        self.same && split_scale(&self.lifted).0 == split_scale(&self.expected_unfiltered).0
    }
}

/// Whether a ratio of one row's columns is the metric's agreed ratio of
/// totals at its grain, at the agreed scale (`safe_divide(clicks,
/// impressions) AS ctr` for a fraction CTR): a witness of the agreed scale.
pub fn row_level_ratio_agrees(found: &Expr, metric: &Metric) -> bool {
    !found.has_aggregate() && LiftedRowRatio::of(found, &metric.agreed).is_some_and(|l| l.agrees())
}

pub(crate) fn unguarded(expr: &Expr) -> &Expr {
    match expr {
        Expr::Case {
            operand: None,
            branches,
            otherwise: Some(value),
        } if branches.len() == 1
            && branches[0].0.has_aggregate()
            && matches!(branches[0].1, Expr::Null | Expr::Number(_)) =>
        {
            value
        }
        other => other,
    }
}

/// Whether `expr` is an aggregate figure clipped at a constant:
/// `GREATEST(SUM(x), 0)`, `CASE WHEN SUM(x) < 0 THEN 0 ELSE SUM(x) END`.
pub(crate) fn is_clipped(expr: &Expr) -> bool {
    let constant = |e: &Expr| matches!(e, Expr::Number(_));
    match expr {
        Expr::Function { name, args } if matches!(name.as_str(), "greatest" | "least") => {
            args.iter().any(Expr::has_aggregate) && args.iter().any(constant)
        }
        Expr::Case {
            operand: None,
            branches,
            otherwise: Some(figure),
        } => {
            figure.has_aggregate()
                && matches!(branches.as_slice(), [(Expr::Compare(_, l, r), bound)]
                    if constant(bound)
                        && ((**l == **figure && **r == *bound) || (**r == **figure && **l == *bound)))
        }
        _ => false,
    }
}

/// Whether some aggregate of `expr` sums, counts or averages.
fn measures_anything(expr: &Expr) -> bool {
    let mut measures = false;
    expr.walk(&mut |e| {
        measures |= matches!(e, Expr::Aggregate(agg)
            if matches!(agg.func, AggFunc::Sum | AggFunc::Count | AggFunc::Avg));
    });
    measures
}

/// The column a site sums when it only re-aggregates a stored column named
/// for the metric itself (`SUM(impressions)` for impressions, by its name or
/// a synonym): another stage of the same figure, not another formula.
fn stored_column_of<'e>(found: &'e Expr, metric: &Metric, registry: &Registry) -> Option<&'e str> {
    let Expr::Aggregate(agg) = found else {
        return None;
    };
    let Expr::Column(column) = &agg.arg else {
        return None;
    };
    let names_metric = registry
        .lookup(column)
        .is_some_and(|(m, _)| m.name == metric.name);
    (agg.func == AggFunc::Sum && agg.filter.is_empty() && names_metric).then_some(column.as_str())
}

/// Whether the site reads the model a Semantic Layer metric's measures are
/// defined over.
fn reads_the_semantic_model(site: &Computation<'_>, metric: &Metric) -> bool {
    site.sources
        .iter()
        .any(|s| metric.source.iter().any(|m| same_relation(m, s)))
}

/// Whether two forms are the same but for the names of the columns they
/// read (`SUM(cost)` and `SUM(spend)`), each of the agreed columns kept in
/// its place or named otherwise, never moved to another's (an inverted
/// `SUM(impressions) / SUM(clicks)` is another formula).
fn differs_in_column_names_only(found: &Expr, expected: &Expr) -> bool {
    let erased = |e: &Expr| {
        e.clone().rewrite(&mut |e| match e {
            Expr::Column(_) | Expr::Renamed { .. } => Expr::column("_"),
            other => other,
        })
    };
    if found == expected || erased(found) != erased(expected) {
        return false;
    }
    let leaves = |e: &Expr| {
        let mut names = Vec::new();
        e.walk(&mut |e| match e {
            Expr::Column(c) => names.push(c.clone()),
            Expr::Renamed { alias, .. } => names.push(alias.clone()),
            _ => {}
        });
        names
    };
    let (found, expected_leaves, agreed) = (leaves(found), leaves(expected), expected.columns());
    found.len() == expected_leaves.len()
        && found
            .iter()
            .zip(expected_leaves)
            .all(|(f, e)| *f == e || !agreed.contains(f))
}

/// Why a difference from a built-in pack's definition is not the pack's to
/// judge, if it is not. The pack does not know a repository's columns or
/// grain: a base measure (`COUNT(*) AS impressions` over an impression-level
/// table, `SUM(impression)`) and a rate whose formula differs in a measure
/// the pack does not know (`SUM(clicks) / COUNT(*)`) are left to the
/// repository (the reports compared with each other, ML010). What the pack
/// knows whatever the columns is still judged: a scale, an aggregate of
/// per-row ratios, a rate over another known measure (`clicks / spend`).
fn beyond_the_pack(
    differences: &[Difference],
    found: &Expr,
    written: Option<&Expr>,
    metric: &Metric,
    registry: &Registry,
) -> Option<String> {
    let formula = differences
        .iter()
        .any(|d| matches!(d.kind, DifferenceKind::Formula | DifferenceKind::Source));
    // A base measure's scale is its column's unit (`cost / 1e6` turns a
    // connector's micros into currency units): this repository's to know.
    let scale = differences.iter().any(|d| d.kind == DifferenceKind::Scale);
    if !metric.is_ratio() && (formula || scale) {
        return Some(format!(
            "the built-in pack does not know this repository's columns: its reports agree on how {} is computed",
            metric.name
        ));
    }
    if formula && is_the_other_side(found, written, metric, registry) {
        return Some(format!(
            "`{found}` is {}'s other side (revenue and spend trade places): which side a repository reports is its own",
            metric.name
        ));
    }
    if !formula {
        return None;
    }
    (!measures_known_to(found, registry)).then(|| {
        format!(
            "`{found}` divides measures the built-in pack does not know: its reports agree on how {} is computed",
            metric.name
        )
    })
}

/// Whether `found` is the agreed rate with revenue and spend trading
/// places, and the pack has that side as a metric of its own. A
/// publisher's `cpm` of revenue is the seller's side of the buyer's CPM
/// (the pack's `ecpm`); an advertiser's `ecpm` of cost is the buyer's
/// effective CPM, as its ad server reports it. Which side a repository
/// reports is its own. ROAS over revenue or a CPA of revenue have no such
/// metric: they are drift. Only where the report writes the column itself:
/// a staging model's `revenue AS spend` is revenue passed off as spend.
fn is_the_other_side(
    found: &Expr,
    written: Option<&Expr>,
    metric: &Metric,
    registry: &Registry,
) -> bool {
    let last = |c: &str| c.rsplit('.').next().unwrap_or(c).to_string();
    let is_revenue = |c: &str| last(c) == "revenue";
    let is_spend = |c: &str| {
        registry
            .lookup_exact(&last(c))
            .is_some_and(|(m, _)| m.name == "spend")
    };
    let replaced = |e: &Expr, from: &dyn Fn(&str) -> bool, to: &str| {
        e.clone().rewrite(&mut |e| match e {
            Expr::Column(c) if from(&c) => Expr::column(to),
            other => other,
        })
    };
    let writes =
        |is: &dyn Fn(&str) -> bool| written.unwrap_or(found).columns().iter().any(|c| is(c));
    // A side: which columns are on it, its name, the other side's name.
    let traded = |is_this_side: &dyn Fn(&str) -> bool, this: &str, other: &str| {
        let as_the_other = replaced(found, is_this_side, other);
        let on_this_side = replaced(found, is_this_side, this);
        writes(is_this_side)
            && as_the_other != on_this_side
            && as_the_other == metric.agreed
            && registry
                .metrics()
                .iter()
                .any(|m| m.name != metric.name && m.agreed == on_this_side)
    };
    traded(&is_revenue, "revenue", "spend") || traded(&is_spend, "spend", "revenue")
}

/// Whether every aggregate of `expr` aggregates measures the registry knows:
/// columns its definitions read, or columns named for one of its metrics.
/// `COUNT(*)` counts rows of a grain no registry column tells.
fn measures_known_to(expr: &Expr, registry: &Registry) -> bool {
    let known_name = |c: &str| {
        registry.lookup_exact(c).is_some()
            || registry
                .metrics()
                .iter()
                .any(|m| m.agreed.columns().contains(c))
    };
    // A column renamed on its way (`bid_request_count AS bid_requests` in
    // staging) is known by either name.
    fn leaves_known(e: &Expr, known: &dyn Fn(&str) -> bool, any: &mut bool) -> bool {
        match e {
            Expr::Column(c) => {
                *any = true;
                known(c)
            }
            Expr::Renamed { alias, source } => {
                *any = true;
                known(alias) || leaves_known(source, known, &mut false)
            }
            Expr::Aggregate(agg) => leaves_known(&agg.arg, known, any),
            Expr::Sum(terms) => terms.iter().all(|t| leaves_known(&t.expr, known, any)),
            Expr::Product(p) => p.factors.iter().all(|f| leaves_known(&f.expr, known, any)),
            Expr::Cast { expr, .. } => leaves_known(expr, known, any),
            Expr::Function { args, .. } => args.iter().all(|a| leaves_known(a, known, any)),
            Expr::Case {
                branches,
                otherwise,
                ..
            } => {
                branches
                    .iter()
                    .all(|(_, then)| leaves_known(then, known, any))
                    && otherwise
                        .as_ref()
                        .is_none_or(|o| leaves_known(o, known, any))
            }
            _ => true,
        }
    }
    let mut known = true;
    expr.walk(&mut |e| {
        if let Expr::Aggregate(agg) = e {
            // `COUNT(*)` counts rows of a grain no registry column tells.
            let mut any = false;
            known &= leaves_known(&agg.arg, &known_name, &mut any) && any;
        }
    });
    known
}

/// How `found` differs from `expected`, classified: both effective forms,
/// known to differ, with `unit` the agreed unit if any.
pub fn explain(
    found: &Expr,
    expected: &Expr,
    unit: Option<Unit>,
    registry: &Registry,
    cp: &Counterpart,
) -> Vec<Difference> {
    let (found_scale, found_core) = split_scale(found);
    let (expected_scale, expected_core) = split_scale(expected);
    let scale = (found_scale != expected_scale).then(|| Difference {
        kind: DifferenceKind::Scale,
        text: scale_difference(&found_scale, &expected_scale, unit, cp),
    });
    let ratio = |text: String| Difference {
        kind: DifferenceKind::RatioStructure,
        text,
    };
    let mut differences = Vec::new();
    if without_filters(&found_core) == without_filters(&expected_core) {
        differences.extend(filter_differences(&found_core, &expected_core));
        differences.extend(scale);
    } else if aggregate_of_ratios(&found_core, registry) && is_ratio_of_aggregates(&expected_core) {
        let verb = match &found_core {
            Expr::Aggregate(agg) if agg.func == AggFunc::Sum => "sums",
            Expr::Aggregate(agg) if agg.func == AggFunc::Avg => "averages",
            _ => "aggregates",
        };
        differences.push(ratio(format!(
            "it {verb} per-row ratios, {found_core:.100}, where {} totals, {expected_core:.100}",
            cp.says("divides")
        )));
        // A stored ratio column (`SUM(cpm)`) has the scale its model gave
        // it (a CPM is per mille already): only a ratio the report writes
        // shows its scale.
        let stored_column =
            matches!(&found_core, Expr::Aggregate(agg) if matches!(agg.arg, Expr::Column(_)));
        if !stored_column {
            differences.extend(scale);
        }
    } else if is_ratio_of_aggregates(&found_core) && aggregate_of_ratios(&expected_core, registry) {
        differences.push(ratio(format!(
            "it divides totals, {found_core:.100}, where {} per-row ratios, {expected_core:.100}",
            cp.says("aggregates")
        )));
        differences.extend(scale);
    } else {
        differences.extend(formula_differences(found, expected, cp));
    }
    differences
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn powers_of_ten_are_scales_other_factors_are_factors() {
        let one_report = Counterpart {
            subject: "1 other report".to_string(),
            plural: false,
        };
        for (found, expected, said) in [
            ("100", "1", "the scale is ×100 where 1 other report has ×1"),
            (
                "0.001",
                "1",
                "the scale is ×0.001 where 1 other report has ×1",
            ),
            (
                "0.66",
                "1",
                "it multiplies by 0.66 where 1 other report multiplies by 1",
            ),
            (
                "3",
                "1",
                "it multiplies by 3 where 1 other report multiplies by 1",
            ),
        ] {
            let text =
                factor_difference(&Number::parse(found), &Number::parse(expected), &one_report);
            assert_eq!(text, said);
        }
    }

    /// `condition` in canonical form, as a report's WHERE gives it.
    fn condition(condition: &str) -> Expr {
        let sql = format!("select count(*) as n from t where {condition}");
        let dialect = sqlparser::dialect::BigQueryDialect {};
        let statements = sqlparser::parser::Parser::parse_sql(&dialect, &sql).unwrap();
        let sites = crate::extract::extract_sites(&statements, &sql, &|_| true);
        let conditions = crate::drift::common_conditions(&sites[0].computation);
        assert_eq!(conditions.len(), 1, "{sql}");
        conditions[0].clone()
    }

    #[test]
    fn date_and_partition_predicates_are_told_from_row_conditions() {
        for dated in [
            "event_date >= '2024-01-01'",
            "submission_date = @submission_date",
            "cohort_date >= date_sub(current_date, interval 180 day)",
            "created_at < current_timestamp",
            "period = 'LAST MONTH LAST YEAR'",
            "fiscal_period = '2024-03'",
        ] {
            assert!(is_date_predicate(&condition(dated)), "{dated}");
        }
        for row in [
            "is_test = false",
            "email like '%@acme.com'",
            "status = 'Won'",
            "period_type = 'recurring'",
        ] {
            assert!(!is_date_predicate(&condition(row)), "{row}");
        }
    }
}
