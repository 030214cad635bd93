//! Which differences between two reports are drift whatever each report meant.
//!
//! With no agreement to judge by, two reports computing one name two ways
//! say only that they differ. Some differences are a drift whichever report
//! a team takes for the agreement: one counts rows where the other counts
//! distinct keys, one averages per-row ratios where the other divides
//! totals, one is the other inverted or at another scale, one divides by
//! another single total. Others are as often a deliberate variant (a filter
//! that sits upstream, a clamp, a figure built from another model's
//! averages, a figure in thousands or millions for a dashboard tile, a
//! formula that shares nothing with the other): on real
//! repositories reviewers judged almost none of those a drift, so ML010
//! stays silent on them across reports, and `metrics` still lists every
//! way. Within one report every difference counts: its own parts must agree.

use crate::canon::{AggFunc, Expr};
use crate::judge::{
    aggregate_of_ratios, aggregates, is_clipped, is_ratio_of_aggregates, split_scale, unguarded,
    without_filters,
};
use crate::registry::Registry;

/// How far the repository itself shows that two ways of computing one name
/// are a drift.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Evidence {
    /// A drift whichever report is meant.
    Evident,
    /// A drift whichever report is meant where both reports read one
    /// relation: rows counted where the other counts distinct keys. Over
    /// other relations the rows counted may be one per key (a model of one
    /// row per user against distinct addresses in an event table).
    EvidentOverOneRelation,
    /// A drift where most reports, reading one table with it, agree on the
    /// other way: a filter left out.
    AgainstMajority,
    /// A drift where most reports of figures per the same things (see
    /// [`super::same_grain`]), reading one table with it, agree on the other
    /// way: another value totalled, one more total added. What a report
    /// per pool totals, reports per chain are no majority for.
    AgainstMajorityOfItsGrain,
    /// The same, for another column totalled, sharing none with the
    /// other's: a drift only where the two reports read the same base
    /// relations. Which column of one table is the measure is what a team
    /// agrees on (a balance in the document's currency beside the converted
    /// one); a column of another table is another figure under the name (a
    /// market's own sell-in source, a product's weight joined in where the
    /// others total the price).
    AnotherColumnOfItsSources,
    /// One is the other times a factor that is no scale (not ten or a
    /// hundred, not a display unit or a sign): a drift only where lineage
    /// made it (legs of a trade unioned and summed whole count each trade
    /// twice), not where a report writes it (the LPs' half of swap fees, a
    /// month of a year's cost, an estimate's rate).
    AnotherFactor,
    /// A difference a report may well mean.
    Unsettled,
}

/// What two reports' figures are per: whether the same things (see
/// [`super::same_grain`]), and the key columns each is per (its grouped
/// keys, and the keys its WHERE fixes to one value).
#[derive(Clone, Copy, Debug)]
pub struct Grains<'a> {
    pub same: bool,
    pub here_keys: &'a [String],
    pub there_keys: &'a [String],
}

#[cfg(test)]
impl Grains<'_> {
    /// Two figures per the same things, keys unknown.
    pub const ALIKE: Grains<'static> = Grains {
        same: true,
        here_keys: &[],
        there_keys: &[],
    };
    /// Two figures per different things, keys unknown.
    pub const APART: Grains<'static> = Grains {
        same: false,
        here_keys: &[],
        there_keys: &[],
    };
}

/// How far computing one name as `here` in one report and as `there` in
/// another is a drift: both are forms in one vocabulary (see `variants_of`).
/// `grains` says what the two figures are per: another value totalled per
/// pool than per chain (a pool's own liquidity against the protocol's share
/// of it) is as often another figure as a drift.
pub fn evidence(here: &Expr, there: &Expr, registry: &Registry, grains: Grains<'_>) -> Evidence {
    // A figure clipped at zero is a choice its report made on purpose; a
    // total of another model's averages or sums is a figure of that model's
    // grain, which no report here shows.
    if is_clipped(here)
        || is_clipped(there)
        || has_nested_aggregate(here)
        || has_nested_aggregate(there)
    {
        return Evidence::Unsettled;
    }
    let (here, there) = (unguarded(here), unguarded(there));
    if converts_some_rows(here, there) || converts_some_rows(there, here) {
        return Evidence::Unsettled;
    }
    let ((here_scale, here), (there_scale, there)) = (split_scale(here), split_scale(there));
    if here == there {
        // One is the other at another scale. A percent against a fraction,
        // or a figure ten times the other, is a slip whichever is meant.
        // Thousands, millions and billions are how a dashboard tile shows
        // a figure (or a connector's micros), as often as not on purpose;
        // so is a sign (sells drawn below a chart's axis). Any other factor
        // is a share or a period when a report writes it.
        return if a_slip_of_ten_or_a_hundred(&here_scale, &there_scale) {
            Evidence::Evident
        } else if in_display_units(&here_scale, &there_scale) || negated(&here_scale, &there_scale)
        {
            Evidence::Unsettled
        } else {
            Evidence::AnotherFactor
        };
    }
    if without_filters(&here) == without_filters(&there) {
        // A filter the others apply is missing here; a filter only this
        // report applies is as often a deliberate scope (a release-only
        // table) as the others' filter sitting upstream. `COUNT(*)` and
        // `COUNT(timestamp_tag)` (a count of rows where the column is set)
        // differ by the column's NULLs, as often none at all.
        // Another period (month to date against year to date, a window
        // of 7 days against 30) is another figure under the name.
        return if adds_filters(&here, &there)
            || only_not_null_apart(&here, &there)
            || only_periods_apart(&here, &there)
        {
            Evidence::Unsettled
        } else {
            Evidence::AgainstMajority
        };
    }
    if counts_distinct_where_the_other_counts_rows(&here, &there)
        || counts_distinct_where_the_other_counts_rows(&there, &here)
    {
        return Evidence::EvidentOverOneRelation;
    }
    if (aggregate_of_ratios(&here, registry) && is_ratio_of_aggregates(&there))
        || (aggregate_of_ratios(&there, registry) && is_ratio_of_aggregates(&here))
        || averages_what_the_other_divides(&here, &there)
        || averages_what_the_other_divides(&there, &here)
    {
        return Evidence::Evident;
    }
    let ((_, here_num, here_den), (_, there_num, there_den)) = (here.as_ratio(), there.as_ratio());
    let divides = |d: &Expr| !matches!(d, Expr::Number(n) if n.is_one());
    if divides(&here_den) != divides(&there_den) {
        // A share against a volume: two figures sharing a name.
        return Evidence::Unsettled;
    }
    if !divides(&here_den) {
        if counts_keys_of_one_thing(&here, &there) {
            return Evidence::Unsettled;
        }
        // Two totals: another value totalled, or one more total added.
        return match one_total_apart(&here, &there) {
            Some(apart) if apart.at_a_grain_alike(grains) && !apart.share_a_column => {
                Evidence::AnotherColumnOfItsSources
            }
            Some(apart) if apart.at_a_grain_alike(grains) => Evidence::AgainstMajorityOfItsGrain,
            _ if one_total_more(&here, &there) => Evidence::AgainstMajorityOfItsGrain,
            _ => Evidence::Unsettled,
        };
    }
    let same = |a: &Expr, b: &Expr| without_filters(a) == without_filters(b);
    let inverted = same(&here_num, &there_den) && same(&here_den, &there_num);
    let part_apart = if here_num == there_num {
        one_total_apart(&here_den, &there_den)
    } else if here_den == there_den {
        one_total_apart(&here_num, &there_num)
    } else {
        None
    };
    if inverted || part_apart.is_some_and(|a| a.at_a_grain_alike(grains)) {
        Evidence::Evident
    } else {
        Evidence::Unsettled
    }
}

/// Whether `here` totals what `there` totals, some rows converted by a
/// constant the report writes (`SUM(CASE WHEN is_marketplace = 0 THEN
/// shipping_amount * 10 / 11 ELSE shipping_amount END)`: retail fees net of
/// a 10% VAT, a whole report family's convention): a conversion on purpose,
/// as a factor a report writes is.
fn converts_some_rows(here: &Expr, there: &Expr) -> bool {
    let (Expr::Aggregate(h), Expr::Aggregate(t)) = (here, there) else {
        return false;
    };
    if h.func != t.func || h.distinct != t.distinct || h.filter != t.filter {
        return false;
    }
    let Expr::Case {
        branches,
        otherwise,
        ..
    } = &h.arg
    else {
        return false;
    };
    // `IFNULL(x, 0)` under a SUM is `x`.
    fn unzeroed(e: &Expr) -> &Expr {
        match e {
            Expr::Function { name, args }
                if args.len() == 2
                    && matches!(name.as_str(), "coalesce" | "ifnull" | "nvl" | "isnull")
                    && matches!(&args[1], Expr::Number(n) if n.is_zero()) =>
            {
                &args[0]
            }
            other => other,
        }
    }
    let mut converted = false;
    for value in branches.iter().map(|(_, v)| v).chain(otherwise.as_deref()) {
        let (scale, core) = split_scale(value);
        if unzeroed(&core) != unzeroed(&t.arg) {
            return false;
        }
        if scale.is_zero() {
            return false;
        }
        converted |= !scale.is_one();
    }
    converted
}

/// Whether two figures count the distinct values of two kinds of key of one
/// thing (`COUNT(DISTINCT id_sales_order)` and `COUNT(DISTINCT order_nr)`:
/// an order's id and its number): each is one per order, so both count the
/// orders. Keys of two things (`order_id` and `order_item_id`) are two
/// counts, and so are two ids of one thing (`ga_session_id`, unique per
/// user only, against `session_id`).
fn counts_keys_of_one_thing(here: &Expr, there: &Expr) -> bool {
    fn counted_key(form: &Expr) -> Option<(&str, &Vec<Expr>)> {
        match form {
            Expr::Aggregate(agg) if agg.func == AggFunc::Count && agg.distinct => match &agg.arg {
                Expr::Column(column) | Expr::Renamed { alias: column, .. } => {
                    Some((column, &agg.filter))
                }
                _ => None,
            },
            _ => None,
        }
    }
    /// The thing a key column names (its last word that is no key word)
    /// and its key word, if its name says it is a key.
    fn thing_keyed(column: &str) -> Option<(&str, &str)> {
        const KEY_WORDS: &[&str] = &["id", "nr", "no", "num", "number", "key", "code", "uuid"];
        let words: Vec<&str> = column.split('_').filter(|w| !w.is_empty()).collect();
        let key = words.iter().find(|w| KEY_WORDS.contains(w))?;
        let thing = words.iter().rev().find(|w| !KEY_WORDS.contains(w))?;
        Some((thing, key))
    }
    let (Some((a, a_filter)), Some((b, b_filter))) = (counted_key(here), counted_key(there)) else {
        return false;
    };
    match (thing_keyed(a), thing_keyed(b)) {
        (Some((a_thing, a_key)), Some((b_thing, b_key))) => {
            a_filter == b_filter && a_thing == b_thing && a_key != b_key
        }
        _ => false,
    }
}

/// Whether one form is the other at a scale ten or a hundred times apart,
/// or the other upside down: what a ratio per row shows of a drift, with no
/// filter or scope of what it divides to compare.
pub fn scaled_or_inverted(here: &Expr, there: &Expr) -> bool {
    let (here, there) = (unguarded(here), unguarded(there));
    let ((here_scale, here), (there_scale, there)) = (split_scale(here), split_scale(there));
    let (here, there) = (without_filters(&here), without_filters(&there));
    if here == there {
        return a_slip_of_ten_or_a_hundred(&here_scale, &there_scale);
    }
    inverted(&here, &there)
}

/// Whether one ratio divides what the other divides by: `SUM(clicks) /
/// SUM(spend)` against `SUM(spend) / SUM(clicks)`.
pub fn inverted(here: &Expr, there: &Expr) -> bool {
    let (_, here_num, here_den) = here.as_ratio();
    let (_, there_num, there_den) = there.as_ratio();
    let divides = |d: &Expr| !matches!(d, Expr::Number(n) if n.is_one());
    divides(&here_den) && divides(&there_den) && here_num == there_den && here_den == there_num
}

/// Whether two scales differ by a power of 1000: thousands, millions,
/// billions.
fn in_display_units(a: &crate::canon::Number, b: &crate::canon::Number) -> bool {
    let (Some(a), Some(b)) = (a.as_f64(), b.as_f64()) else {
        return false;
    };
    if a == 0.0 || b == 0.0 {
        return false;
    }
    let thousands = (a / b).abs().log10() / 3.0;
    thousands.abs() >= 1.0 && (thousands - thousands.round()).abs() < 1e-9
}

/// Whether one scale is the other's negative.
fn negated(a: &crate::canon::Number, b: &crate::canon::Number) -> bool {
    matches!((a.as_f64(), b.as_f64()), (Some(a), Some(b)) if a != 0.0 && a == -b)
}

/// Whether one scale is the other times 10 or 100 (or a tenth or a
/// hundredth of it), of the same sign: a percent against a fraction, a
/// slipped zero.
fn a_slip_of_ten_or_a_hundred(a: &crate::canon::Number, b: &crate::canon::Number) -> bool {
    let (Some(a), Some(b)) = (a.as_f64(), b.as_f64()) else {
        return false;
    };
    if a == 0.0 || b == 0.0 || (a < 0.0) != (b < 0.0) {
        return false;
    }
    let tens = (a / b).log10().abs();
    (tens - tens.round()).abs() < 1e-9 && (1.0..=2.0).contains(&tens.round())
}

/// Whether two formulas' aggregates differ in their filters only by
/// conditions that a column is set (`x IS NOT NULL`).
fn only_not_null_apart(here: &Expr, there: &Expr) -> bool {
    filters_apart_only_by(
        here,
        there,
        |c| matches!(c, Expr::Not(inner) if matches!(**inner, Expr::IsNull(_))),
    )
}

/// Whether two formulas' aggregates differ in their filters only by date
/// windows (see [`crate::judge::is_date_predicate`]).
fn only_periods_apart(here: &Expr, there: &Expr) -> bool {
    filters_apart_only_by(here, there, crate::judge::is_date_predicate)
}

/// Whether two formulas' aggregates, pair by pair, differ in their filters
/// only by conditions of one kind.
fn filters_apart_only_by(here: &Expr, there: &Expr, kind: impl Fn(&Expr) -> bool) -> bool {
    let (here, there) = (aggregates(here), aggregates(there));
    let only_of_kind = |a: &crate::canon::Aggregate, b: &crate::canon::Aggregate| {
        a.filter.iter().filter(|c| !b.filter.contains(c)).all(&kind)
    };
    here.len() == there.len()
        && here
            .iter()
            .zip(&there)
            .all(|(h, t)| only_of_kind(h, t) && only_of_kind(t, h))
}

/// Whether `here` keeps fewer rows than `there` on some aggregate: its
/// aggregates carry every condition of the other's, and more.
/// A condition the other's implies counts as carried: `x NOT LIKE '%-%'`
/// keeps only rows where `x` is set, as the other's `COUNT(x)` does.
fn adds_filters(here: &Expr, there: &Expr) -> bool {
    let (here, there) = (aggregates(here), aggregates(there));
    let carried = |c: &Expr, filter: &[Expr]| {
        filter.contains(c)
            || matches!(c, Expr::Not(inner) if matches!(&**inner, Expr::IsNull(column)
                if filter.iter().any(|h| rejects_nulls_of(h, column))))
    };
    here.iter()
        .zip(&there)
        .all(|(h, t)| t.filter.iter().all(|c| carried(c, &h.filter)))
        && here
            .iter()
            .zip(&there)
            .any(|(h, t)| h.filter.iter().any(|c| !t.filter.contains(c)))
}

/// Whether a condition is false or unknown wherever `column` is NULL: a
/// comparison, pattern match or list test of the column itself, its
/// negation, or a conjunction holding one.
fn rejects_nulls_of(condition: &Expr, column: &Expr) -> bool {
    match condition {
        Expr::Compare(_, l, r) => **l == *column || **r == *column,
        Expr::InList { expr, .. } => **expr == *column,
        Expr::Function { name, args } => {
            matches!(name.as_str(), "like" | "ilike" | "rlike" | "regexp_like")
                && args.first() == Some(column)
        }
        // `NOT (x = 'a' AND y = 'b')` keeps rows where `x` is NULL: only
        // a negated test of the column itself rejects them.
        Expr::Not(inner) => {
            matches!(
                **inner,
                Expr::Compare(..) | Expr::InList { .. } | Expr::Function { .. }
            ) && rejects_nulls_of(inner, column)
        }
        Expr::And(conditions) => conditions.iter().any(|c| rejects_nulls_of(c, column)),
        _ => false,
    }
}

/// How one spelling of a figure is sturdier than another (see
/// [`sturdier`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sturdier {
    /// A distinct count where the other counts the same column with
    /// repeats (`COUNT(DISTINCT account)` against `COUNT(account)`): equal
    /// wherever the column holds no repeats, as often it does not.
    DistinctCount,
    /// A ratio of totals where the other totals or averages per-row ratios
    /// of the same columns, or a total per distinct count where the other
    /// averages rows: a drift whichever report is meant.
    RatioOfTotals,
}

/// Whether `here` is the sturdier of two spellings of one figure, the one
/// that stays right where a join repeats rows: a distinct count where
/// `there` counts the same column with repeats (`COUNT(DISTINCT account)`
/// against `COUNT(account)`; not of a key, whose plain count counts rows:
/// `COUNT(user_id) AS page_views`), a ratio of totals where `there` totals
/// or averages the per-row ratio of the same numerator and denominator
/// (`SUM(clicks) / SUM(impressions)` against `AVG(clicks / impressions)`),
/// a total over a distinct count where `there` averages the same value
/// (`SUM(revenue) / COUNT(DISTINCT order_id)` against `AVG(revenue)`); at
/// one scale and under the same filters. Whichever way most reports vote,
/// it is not the one to change. (`init` likewise takes a ratio of totals
/// over averaged ratios, whatever the vote.)
pub fn sturdier(here: &Expr, there: &Expr) -> Option<Sturdier> {
    let (here, there) = (unguarded(here), unguarded(there));
    let counts_a_key = || counted_columns(here).iter().any(|c| super::is_key(c));
    if has_distinct_count(here) && with_plain_counts(here) == *there && !counts_a_key() {
        return Some(Sturdier::DistinctCount);
    }
    let ((here_scale, here_core), (there_scale, there_core)) =
        (split_scale(here), split_scale(there));
    let Expr::Aggregate(aggregate) = &there_core else {
        return None;
    };
    if !matches!(aggregate.func, AggFunc::Avg | AggFunc::Sum)
        || aggregate.distinct
        || aggregates(&here_core)
            .iter()
            .any(|a| a.filter != aggregate.filter)
    {
        return None;
    }
    let (_, numerator, denominator) = here_core.as_ratio();
    let total_of = |total: &Expr, value: &Expr| {
        matches!(total, Expr::Aggregate(t)
            if t.func == AggFunc::Sum && !t.distinct && t.arg == *value)
    };
    // `AVG(clicks / impressions * 100)`: the per-row ratio's own scale
    // counts with the aggregate's.
    let (row_scale, row_ratio) = split_scale(unguarded(&aggregate.arg));
    let (_, row_numerator, row_denominator) = row_ratio.as_ratio();
    let of_the_same_ratio = crate::judge::is_ratio(&row_ratio)
        && there_scale.mul(&row_scale) == Some(here_scale.clone())
        && total_of(&numerator, &row_numerator)
        && total_of(&denominator, &row_denominator);
    let per_distinct_count = aggregate.func == AggFunc::Avg
        && here_scale == there_scale
        && total_of(&numerator, &aggregate.arg)
        && matches!(&denominator, Expr::Aggregate(count)
            if count.func == AggFunc::Count && count.distinct);
    (of_the_same_ratio || per_distinct_count).then_some(Sturdier::RatioOfTotals)
}

/// Whether `here` counts distinct values where `there` counts rows (or
/// values, with repeats) of the same column, the formulas otherwise alike:
/// `COUNT(DISTINCT account)` against `COUNT(*)`. Another column counted
/// (`COUNT(DISTINCT address)` against `COUNT(DISTINCT user_id)`) is not
/// this difference.
pub fn counts_distinct_where_the_other_counts_rows(here: &Expr, there: &Expr) -> bool {
    let (here_columns, there_columns) = (counted_columns(here), counted_columns(there));
    has_distinct_count(here)
        && as_row_counts(here) == as_row_counts(there)
        && there_columns.is_subset(&here_columns)
}

/// The formula with every distinct count a count of the same values with
/// repeats (`COUNT(DISTINCT account)` as `COUNT(account)`). A count of rows
/// (`COUNT(*)`) is not brought to it: a distinct count of a key counts
/// another thing than the rows (`COUNT(DISTINCT user_id) AS page_views`).
fn with_plain_counts(expr: &Expr) -> Expr {
    expr.clone().rewrite(&mut |e| match e {
        Expr::Aggregate(agg) if agg.func == AggFunc::Count && agg.distinct => {
            let mut plain = *agg;
            plain.distinct = false;
            Expr::Aggregate(Box::new(plain))
        }
        other => other,
    })
}

fn has_distinct_count(expr: &Expr) -> bool {
    aggregates(expr)
        .iter()
        .any(|a| a.func == AggFunc::Count && a.distinct)
}

/// The columns whose values some count counts.
fn counted_columns(expr: &Expr) -> std::collections::BTreeSet<String> {
    aggregates(expr)
        .into_iter()
        .filter(|a| a.func == AggFunc::Count)
        .flat_map(|a| a.arg.columns())
        .collect()
}

/// The formula with every count, of rows or of values, distinct or not, a
/// count of rows.
fn as_row_counts(expr: &Expr) -> Expr {
    expr.clone().rewrite(&mut |e| match e {
        Expr::Aggregate(agg) if agg.func == AggFunc::Count && !agg.arg.has_aggregate() => {
            Expr::aggregate(AggFunc::Count, false, Expr::Star, agg.filter.clone())
        }
        other => other,
    })
}

/// `SUM(x)`, `COUNT(*)`, `COUNT(DISTINCT x)`, `SUM(toInt64(x))`: a total
/// of rows or of one column's values.
fn is_total_of_one_value(agg: &crate::canon::Aggregate) -> bool {
    (agg.func == AggFunc::Count || (agg.func == AggFunc::Sum && !agg.distinct))
        && !agg.arg.has_aggregate()
        && agg.arg.columns().len() <= 1
}

/// Whether an aggregate's value or condition holds another aggregate.
fn has_nested_aggregate(expr: &Expr) -> bool {
    let mut nested = false;
    expr.walk(&mut |e| {
        if let Expr::Aggregate(agg) = e {
            nested |= agg.arg.has_aggregate() || agg.filter.iter().any(Expr::has_aggregate);
        }
    });
    nested
}

/// `AVG(x)` where the other divides `SUM(x)` by a count: a mean per row
/// against a mean per counted thing (an order, a user).
fn averages_what_the_other_divides(average: &Expr, ratio: &Expr) -> bool {
    let Expr::Aggregate(avg) = average else {
        return false;
    };
    let (_, numerator, denominator) = ratio.as_ratio();
    avg.func == AggFunc::Avg
        && matches!(&numerator, Expr::Aggregate(sum) if sum.func == AggFunc::Sum && sum.arg == avg.arg)
        && matches!(&denominator, Expr::Aggregate(count) if count.func == AggFunc::Count)
}

/// Whether two formulas are one but for one total, each a total of rows or
/// of one value, or both of values of a column they share, and not only in
/// the rows it keeps: `SUM(measurable_impressions)` where the other has
/// `SUM(impressions)`, `COUNT(*)` where it has `SUM(impressions)`,
/// `SUM(revenue) - SUM(spend)` where it has `SUM(revenue) - SUM(payout)`.
fn one_total_apart(here: &Expr, there: &Expr) -> Option<TotalApart> {
    let (here_totals, there_totals) = (aggregates(here), aggregates(there));
    if here_totals.len() != there_totals.len() || skeleton(here) != skeleton(there) {
        return None;
    }
    let only_here: Vec<_> = here_totals
        .iter()
        .filter(|a| !there_totals.contains(a))
        .collect();
    let only_there: Vec<_> = there_totals
        .iter()
        .filter(|a| !here_totals.contains(a))
        .collect();
    match (only_here.as_slice(), only_there.as_slice()) {
        ([h], [t]) => {
            let (h_columns, t_columns) = (h.arg.columns(), t.arg.columns());
            let share_a_column = !h_columns.is_disjoint(&t_columns);
            // A factor swapped for another (`qty * weight` where the others
            // total `qty * price`) is another unit of the shared quantity:
            // kilograms against money.
            if share_a_column
                && !h_columns.is_subset(&t_columns)
                && !t_columns.is_subset(&h_columns)
            {
                return None;
            }
            let totals = |a: &crate::canon::Aggregate| {
                is_total_of_one_value(a) || (share_a_column && !a.arg.has_aggregate())
            };
            // A window only one of them totals over (`block_date` in the
            // last 7 days) is a second difference: another period of
            // another value.
            let windows = |a: &crate::canon::Aggregate| -> Vec<Expr> {
                a.filter
                    .iter()
                    .filter(|c| crate::judge::is_date_predicate(c))
                    .cloned()
                    .collect()
            };
            let same_period = windows(h) == windows(t);
            (totals(h) && totals(t) && h.arg != t.arg && same_period).then(|| TotalApart {
                share_a_column,
                variants_of_one_measure: variants_of_one_measure(&h.arg, &t.arg),
                in_another_currency: in_another_currency(&h.arg, &t.arg),
                measures: (measure_column(&h.arg), measure_column(&t.arg)),
            })
        }
        _ => None,
    }
}

/// Two formulas one total apart (see [`one_total_apart`]).
struct TotalApart {
    /// Whether the two totals read a column in common (one weighted, one
    /// not) rather than wholly different values.
    share_a_column: bool,
    /// Whether they are columns named as variants of one measure
    /// (`pool_liquidity_usd`, `protocol_liquidity_usd`).
    variants_of_one_measure: bool,
    /// Whether they are one column in two currencies
    /// (`protocol_liquidity_eth`, `protocol_liquidity_usd`): a unit a
    /// report chooses, as it chooses thousands.
    in_another_currency: bool,
    /// The single columns each side totals, where each totals one.
    measures: (Option<String>, Option<String>),
}

impl TotalApart {
    /// Whether the difference tells a drift given whether the figures are
    /// per the same things. A model that offers variants of one measure
    /// offers one per grain as often as not: a pool's own liquidity for
    /// figures per pool, the protocol's share for figures per chain; time
    /// open per project, time assigned per user. Another measure
    /// (`spend` where the others subtract `payout`) is a drift per
    /// advertiser as per exchange.
    ///
    /// A variant named for a thing its report's figure is per (a pool's
    /// `pool_liquidity_usd` grouped by `pool_address`) is that thing's own
    /// figure, whatever other reports per pools total.
    fn at_a_grain_alike(&self, grains: Grains<'_>) -> bool {
        let named_for_its_grain = |measure: &Option<String>, keys: &[String]| {
            measure
                .as_deref()
                .is_some_and(|m| named_for_one_of(m, keys))
        };
        !self.in_another_currency
            && (grains.same || self.share_a_column || !self.variants_of_one_measure)
            && !(self.variants_of_one_measure
                && (named_for_its_grain(&self.measures.0, grains.here_keys)
                    || named_for_its_grain(&self.measures.1, grains.there_keys)))
    }
}

/// The column a total totals, when it is one column.
fn measure_column(arg: &Expr) -> Option<String> {
    match arg {
        Expr::Column(c) => Some(c.rsplit('.').next().unwrap_or(c).to_string()),
        _ => None,
    }
}

/// Whether a measure's first word names the thing one of `keys` identifies:
/// `pool_liquidity_usd` per `pool_address` or `pool_id`.
fn named_for_one_of(measure: &str, keys: &[String]) -> bool {
    let Some(qualifier) = measure.split('_').find(|w| !w.is_empty()) else {
        return false;
    };
    keys.iter().any(|key| {
        key.rsplit('.')
            .next()
            .unwrap_or(key)
            .split('_')
            .any(|w| w == qualifier)
    })
}

/// Whether two values are one column named with two currency codes.
fn in_another_currency(a: &Expr, b: &Expr) -> bool {
    fn split(e: &Expr) -> Option<(Vec<&str>, Vec<&str>)> {
        match e {
            Expr::Column(c) => {
                let words: Vec<&str> = c.rsplit('.').next().unwrap_or(c).split('_').collect();
                let (codes, rest): (Vec<&str>, Vec<&str>) = words
                    .into_iter()
                    .partition(|w| crate::names::CURRENCY_WORDS.contains(w));
                Some((codes, rest))
            }
            _ => None,
        }
    }
    match (split(a), split(b)) {
        (Some((a_codes, a_rest)), Some((b_codes, b_rest))) => {
            a_rest == b_rest && !a_codes.is_empty() && !b_codes.is_empty() && a_codes != b_codes
        }
        _ => false,
    }
}

/// Whether two values are single columns whose names end in the same word,
/// currency codes aside: `pool_liquidity_usd` and `protocol_liquidity_usd`,
/// `open_duration_seconds` and `last_assignment_duration_seconds`.
fn variants_of_one_measure(a: &Expr, b: &Expr) -> bool {
    let head = |e: &Expr| match e {
        Expr::Column(c) => c
            .rsplit('.')
            .next()
            .unwrap_or(c)
            .split('_')
            .rev()
            .find(|w| !w.is_empty() && !crate::names::CURRENCY_WORDS.contains(w))
            .map(str::to_string),
        _ => None,
    };
    matches!((head(a), head(b)), (Some(x), Some(y)) if x == y)
}

/// Whether one formula is the other with one more total of one value added
/// or subtracted (`SUM(fee_usd) + SUM(rebate_usd)` where the others have
/// `SUM(fee_usd)`).
fn one_total_more(here: &Expr, there: &Expr) -> bool {
    let terms = |e: &Expr| match e {
        Expr::Sum(terms) => terms.iter().map(|t| (t.negated, t.expr.clone())).collect(),
        other => vec![(false, other.clone())],
    };
    let (here, there) = (terms(here), terms(there));
    let (longer, shorter) = if here.len() > there.len() {
        (here, there)
    } else {
        (there, here)
    };
    let extra: Vec<_> = longer.iter().filter(|t| !shorter.contains(t)).collect();
    longer.len() == shorter.len() + 1
        && shorter.iter().all(|t| longer.contains(t))
        && matches!(extra.as_slice(), [(_, Expr::Aggregate(agg))] if is_total_of_one_value(agg))
}

/// The formula with every total the same placeholder.
fn skeleton(expr: &Expr) -> Expr {
    expr.clone().rewrite(&mut |e| match e {
        Expr::Aggregate(_) => Expr::Opaque("total".to_string()),
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `expression`'s cross-report form, as `variants_of` compares it.
    fn form(expression: &str) -> Expr {
        let sql = format!("select {expression} as m from t");
        let dialect = sqlparser::dialect::GenericDialect {};
        let statements = sqlparser::parser::Parser::parse_sql(&dialect, &sql).unwrap();
        let sites = crate::extract::extract_sites(&statements, &sql, &|_| true);
        super::super::with_counts_alike(&crate::judge::without_slice(&sites[0].computation))
    }

    /// Checks `pairs` read both ways give `expected`.
    fn expect(expected: Evidence, pairs: &[(&str, &str)]) {
        let registry = crate::registry::load_builtin("programmatic").unwrap();
        for (here, there) in pairs {
            for (a, b) in [(here, there), (there, here)] {
                assert_eq!(
                    evidence(&form(a), &form(b), &registry, Grains::ALIKE),
                    expected,
                    "{a} against {b}"
                );
            }
        }
    }

    #[test]
    fn a_test_of_the_column_itself_rejects_its_nulls() {
        let x = Expr::Column("x".to_string());
        let like = |column: &Expr| Expr::Function {
            name: "like".to_string(),
            args: vec![column.clone(), Expr::String("%-%".to_string())],
        };
        let region = Expr::Compare(
            crate::canon::CompareOp::Eq,
            Box::new(Expr::Column("region".to_string())),
            Box::new(Expr::String("eu".to_string())),
        );
        assert!(rejects_nulls_of(&like(&x), &x));
        assert!(rejects_nulls_of(&Expr::Not(Box::new(like(&x))), &x));
        assert!(rejects_nulls_of(
            &Expr::And(vec![like(&x), region.clone()]),
            &x
        ));
        // Near misses: a negated conjunction keeps rows where `x` is NULL
        // and `region` is not 'eu'; a test of another column says nothing.
        assert!(!rejects_nulls_of(
            &Expr::Not(Box::new(Expr::And(vec![like(&x), region.clone()]))),
            &x
        ));
        assert!(!rejects_nulls_of(&region, &x));
        assert!(!rejects_nulls_of(
            &Expr::Not(Box::new(Expr::IsNull(Box::new(x.clone())))),
            &Expr::Column("y".to_string())
        ));
    }

    #[test]
    fn the_sturdier_spelling_of_one_figure() {
        let sturdy = |here: &str, there: &str| sturdier(&form(here), &form(there));
        let ratio = Some(Sturdier::RatioOfTotals);
        assert_eq!(sturdy("sum(a) / sum(b)", "avg(a / b)"), ratio);
        assert_eq!(sturdy("sum(a) * 100 / sum(b)", "avg(a * 100 / b)"), ratio);
        assert_eq!(sturdy("sum(a) / sum(b)", "sum(a / b)"), ratio);
        assert_eq!(sturdy("sum(v) / count(distinct k)", "avg(v)"), ratio);
        // As written: the repository's vocabulary reads a count of values
        // as a count of rows where the value is set.
        let as_written = |expression: &str| {
            let sql = format!("select {expression} as m from t");
            let dialect = sqlparser::dialect::GenericDialect {};
            let statements = sqlparser::parser::Parser::parse_sql(&dialect, &sql).unwrap();
            let sites = crate::extract::extract_sites(&statements, &sql, &|_| true);
            crate::judge::without_slice(&sites[0].computation)
        };
        let counts = |here: &str, there: &str| sturdier(&as_written(here), &as_written(there));
        assert_eq!(
            counts("count(distinct account)", "count(account)"),
            Some(Sturdier::DistinctCount)
        );
        assert_eq!(counts("count(distinct user_id)", "count(user_id)"), None);
        assert_eq!(counts("count(account)", "count(distinct account)"), None);
        for (here, there) in [
            // the other way round
            ("avg(a / b)", "sum(a) / sum(b)"),
            ("count(account)", "count(distinct account)"),
            // upside down, other columns, another scale, other rows
            ("sum(a) / sum(b)", "avg(b / a)"),
            ("sum(a) / sum(c)", "avg(a / b)"),
            ("sum(a) * 100 / sum(b)", "avg(a / b)"),
            ("sum(a) / sum(b)", "avg(case when s = 'x' then a / b end)"),
            (
                "sum(case when s = 'x' then v end) / count(distinct k)",
                "avg(v)",
            ),
            // a plain count of a key counts rows
            ("count(distinct user_id)", "count(user_id)"),
            ("sum(v) / count(k)", "avg(v)"),
            // a registered ratio's column is no ratio of these columns
            ("sum(conversions) / sum(sessions)", "avg(ctr)"),
        ] {
            assert_eq!(sturdy(here, there), None, "{here} against {there}");
        }
    }

    #[test]
    fn differences_that_are_drift_whichever_report_is_meant() {
        // Counted rows where the other counts distinct keys: over one
        // relation (the rows of another may be one per key).
        expect(
            Evidence::EvidentOverOneRelation,
            &[
                ("count(*)", "count(distinct account_id)"),
                ("count(user_id)", "count(distinct user_id)"),
                ("count(*)", "count(distinct account)"),
                ("count(*)", "count(distinct concat(year, '-', month))"),
                (
                    "count(distinct date_trunc('week', ts))",
                    "count(distinct date_trunc('day', ts))",
                ),
                (
                    "count(distinct user_id) / count(*)",
                    "count(distinct user_id) / count(distinct session_id)",
                ),
            ],
        );
        expect(
            Evidence::Evident,
            &[
                // scale
                (
                    "sum(clicks) * 100 / sum(impressions)",
                    "sum(clicks) / sum(impressions)",
                ),
                ("sum(amount_usd) * 10", "sum(amount_usd)"),
                ("sum(served) / 14000", "sum(served) / 140000"),
                // averaged per-row ratios where the other divides totals
                (
                    "avg(clicks / impressions)",
                    "sum(clicks) / sum(impressions)",
                ),
                (
                    "avg(order_value)",
                    "sum(order_value) / count(distinct order_id)",
                ),
                // inverted
                ("sum(spend) / sum(downloads)", "sum(downloads) / sum(spend)"),
                // one total apart
                ("sum(clicks) / count(*)", "sum(clicks) / sum(impressions)"),
                (
                    "sum(invalid) / sum(measurable_impressions)",
                    "sum(invalid) / sum(impressions)",
                ),
                (
                    "(sum(revenue) - sum(spend)) / sum(revenue)",
                    "(sum(revenue) - sum(payout)) / sum(revenue)",
                ),
            ],
        );
    }

    #[test]
    fn differences_that_are_drift_against_a_majority() {
        expect(
            Evidence::AnotherColumnOfItsSources,
            &[
                // another column counted
                ("count(distinct user_pseudonym)", "count(distinct address)"),
                // another value totalled
                ("sum(taps)", "sum(clicks)"),
                (
                    "sum(taps) filter (where day >= '2024-01-01')",
                    "sum(clicks) filter (where day >= '2024-01-01')",
                ),
                ("count(*)", "sum(wins)"),
            ],
        );
        expect(
            Evidence::AgainstMajorityOfItsGrain,
            &[
                ("sum(fee_usd)", "sum(fee_usd) + sum(rebate_usd)"),
                ("sum(toInt64(amount_usd))", "sum(amount_usd)"),
                (
                    "sum(coalesce(is_active, is_trial, false))",
                    "sum(coalesce(is_active, false))",
                ),
            ],
        );
        // A filter the others apply, missing here: against them only.
        let registry = crate::registry::load_builtin("programmatic").unwrap();
        let (filtered, unfiltered) = (
            form("count(*) filter (where is_test = false)"),
            form("count(*)"),
        );
        assert_eq!(
            evidence(&unfiltered, &filtered, &registry, Grains::ALIKE),
            Evidence::AgainstMajority
        );
        assert_eq!(
            evidence(&filtered, &unfiltered, &registry, Grains::ALIKE),
            Evidence::Unsettled
        );
    }

    #[test]
    fn variants_of_one_measure_depend_on_the_grain() {
        let registry = crate::registry::load_builtin("programmatic").unwrap();
        let pairs = [
            ("sum(pool_liquidity_usd)", "sum(protocol_liquidity_usd)"),
            (
                "sum(open_duration_seconds) / count(*)",
                "sum(last_assignment_duration_seconds) / count(*)",
            ),
        ];
        for (here, there) in pairs {
            let (here, there) = (form(here), form(there));
            assert_eq!(
                evidence(&here, &there, &registry, Grains::APART),
                Evidence::Unsettled,
                "{here} per other things than {there}"
            );
            assert_ne!(
                evidence(&here, &there, &registry, Grains::ALIKE),
                Evidence::Unsettled,
                "{here} per the same things as {there}"
            );
        }
        // A pool's own liquidity, per pool, is that pool's figure; totalled
        // per pool type it is still held to the protocol's.
        let (pool, protocol) = (
            form("sum(pool_liquidity_usd)"),
            form("sum(protocol_liquidity_usd)"),
        );
        let per_pool = ["pool_address".to_string(), "block_date".to_string()];
        let per_chain = ["blockchain_id".to_string()];
        for (here_keys, there_keys) in [(&per_pool[..], &per_chain[..]), (&per_pool, &per_pool)] {
            let grains = Grains {
                same: true,
                here_keys,
                there_keys,
            };
            assert_eq!(
                evidence(&pool, &protocol, &registry, grains),
                Evidence::Unsettled
            );
        }
        let per_pool_type = Grains {
            same: true,
            here_keys: &["pool_type_id".to_string()],
            there_keys: &per_chain,
        };
        assert_eq!(
            evidence(
                &form("sum(pool_balance_usd)"),
                &protocol,
                &registry,
                per_pool_type
            ),
            Evidence::AnotherColumnOfItsSources,
            "not a variant of one measure: another value"
        );
        assert_eq!(
            evidence(
                &form("sum(chain_liquidity_usd)"),
                &protocol,
                &registry,
                Grains {
                    same: true,
                    here_keys: &per_pool,
                    there_keys: &per_chain
                }
            ),
            Evidence::AnotherColumnOfItsSources,
            "a variant named for no key its report is per"
        );
        // One column in another currency is a unit the report chose.
        assert_eq!(
            evidence(
                &form("sum(protocol_liquidity_eth)"),
                &form("sum(protocol_liquidity_usd)"),
                &registry,
                Grains::ALIKE
            ),
            Evidence::Unsettled
        );
        assert_ne!(
            evidence(
                &form("sum(pool_liquidity_eth)"),
                &form("sum(protocol_liquidity_usd)"),
                &registry,
                Grains::ALIKE
            ),
            Evidence::Unsettled,
            "another column, whatever its currency"
        );
        // Another measure is a drift per other things too.
        assert_eq!(
            evidence(
                &form("(sum(revenue) - sum(spend)) / sum(revenue)"),
                &form("(sum(revenue) - sum(payout)) / sum(revenue)"),
                &registry,
                Grains::APART
            ),
            Evidence::Evident
        );
    }

    #[test]
    fn a_factor_is_a_drift_where_lineage_made_it() {
        expect(
            Evidence::AnotherFactor,
            &[
                (
                    "sum(amount_usd * swap_fee) / 2",
                    "sum(amount_usd * swap_fee)",
                ),
                ("-sum(amount_usd) / 2", "sum(amount_usd)"),
                ("sum(cost) / 12", "sum(cost)"),
                ("sum(downloads) * 0.66", "sum(downloads)"),
                ("-sum(amount_usd) * 10", "sum(amount_usd)"),
            ],
        );
    }

    #[test]
    fn differences_a_report_may_mean() {
        expect(
            Evidence::Unsettled,
            &[
                // display units: thousands, millions, billions
                ("sum(amount_usd) / 1000000", "sum(amount_usd)"),
                // a sign: sells below the axis, returns negative
                (
                    "-sum(amount_usd) filter (where trade_type = 'sell')",
                    "sum(amount_usd) filter (where trade_type = 'sell')",
                ),
                ("sum(amount_usd) / 1000000000", "sum(amount_usd) / 1000"),
                // a clamp at zero
                (
                    "case when sum(tvl) < 0 then 0 else sum(tvl) end",
                    "sum(tvl)",
                ),
                // a share against a volume
                ("sum(n) / sum(n)", "sum(n)"),
                (
                    "sum(deposit_usd) * 100 / sum(deposit_usd)",
                    "sum(deposit_usd)",
                ),
                // totals of other models' averages
                (
                    "sum(downloads) * avg(avg(clv))",
                    "sum(downloads) * avg(clv)",
                ),
                ("avg(sum(holders))", "sum(avg(holders))"),
                // two totals apart
                ("(sum(a) - sum(b)) / sum(c)", "(sum(a) - sum(d)) / sum(e)"),
                // another period
                (
                    "sum(x) filter (where period = 'YEAR TO DATE')",
                    "sum(x) filter (where period = 'LAST MONTH')",
                ),
                (
                    "sum(x) filter (where day >= current_date - 7 and is_test = false)",
                    "sum(x) filter (where day >= current_date - 30 and is_test = false)",
                ),
                // rows against a column's values: its NULLs, if any
                ("count(*)", "count(timestamp_tag)"),
                // another value over a window of its own: two differences
                (
                    "sum(swap_amount_usd) filter (where block_date >= current_date - 7)",
                    "sum(amount_usd)",
                ),
                // formulas that share nothing but a price
                ("sum(block_burn) * avg(price)", "sum(price * raw_amount)"),
                ("sum(volume * price)", "sum(amount_usd)"),
            ],
        );
    }
}
