use crate::canon::Expr;
use crate::finding::{Finding, Related};
use crate::rules::rule;
use crate::source::Range;

rule! {
    /// ## What it does
    /// Flags an output name with no registry entry (or, with no registry of
    /// your own, a measure the built-in pack leaves to the repository) that is
    /// computed in two or more non-equivalent ways across the checked reports.
    /// Only metric-like computations are compared: sums, counts, distinct
    /// counts, averages and ratios of those; never a value picked from a group
    /// (`MAX(account_name)`), a flag, a date, lineage that could not be
    /// followed, a generic name (`value`, `count`, `qty`, `agg1`,
    /// `total_rows`), or a name of the segment its own filter picks
    /// (`SUM(CASE WHEN channel = 'AUCTION' THEN 1 ELSE 0 END) AS Auction`).
    /// Names are compared case-insensitively after stripping qualifier words
    /// (`_pct`, `_by_campaign`; grain words such as `daily_` only where the
    /// figure sums). The reports of a dbt project are compared with each
    /// other only, never with another project's.
    ///
    /// A ratio per row under a rate's name (`opens / sends * 100 AS
    /// open_rate`, no aggregate, in a model per campaign per day) is compared
    /// too, as its row's ratio of totals, for what it shows whatever its
    /// filters: a scale ten or a hundred times the others', or the ratio
    /// upside down.
    ///
    /// Reports vote, not sites: if one variant is used by more than half of
    /// the reports, only the other sites are flagged, each pointing at a
    /// majority site; otherwise every site is flagged, each pointing at a site
    /// of another variant. Whatever the vote, the sturdier of two spellings
    /// of one figure (at one scale, under the same filters) is never the
    /// one flagged: a distinct count against a count of the same column
    /// with repeats (not of a key, whose plain count counts rows), a ratio
    /// of totals against averaged or summed per-row ratios of the same
    /// numerator and denominator, a total divided by a distinct count
    /// against an average (`SUM(order_value) / COUNT(DISTINCT order_id)`
    /// against `AVG(order_value)`). Those stay right where a join repeats
    /// rows. A ratio of totals is the agreement even against most reports,
    /// as `init` takes it: the averaged ratios are flagged against it. A
    /// count with repeats is flagged where the vote says so. The help of a
    /// site flagged against a sturdier one names it. The report's own slice (its WHERE conditions) is
    /// not part of the comparison, except that a WHERE filter equals the same
    /// filter another report writes inside its aggregate.
    ///
    /// It stays silent where the difference is one of stage or schema, not of
    /// agreement: a re-aggregation of a stored column of the metric's name
    /// (`SUM(click_count)`) and the count it stores; a CTE and the query over
    /// it; sites that read no common relation and are not UNION branches of
    /// one report (two connectors); branches of a long-format UNION labelled
    /// by a literal column; two versions of one report (`…_v1`, `…_v2`);
    /// rows of one relation against distinct keys of another (a model of one
    /// row per user against distinct addresses of a transfers model); a
    /// measure named for the thing its report is per (`pool_liquidity_usd`
    /// grouped by `pool_address`) against another variant of it; a figure
    /// negated (`-SUM(amount_usd)`, sells drawn below a chart's axis); a
    /// count of a column the report groups by (rows per user, not users);
    /// rows of a table named for the things the other counts
    /// (`fact_transactions` against `DISTINCT tx_hash`), or of a `SELECT
    /// DISTINCT` of one thing's key and its attributes, against distinct
    /// keys; a part of a whole with the rest published beside it
    /// (`SUM(fx_usd) AS dif_fx` next to `SUM(fx_air_usd) AS dif_fx_air`,
    /// where the others' `dif_fx` sums both); a
    /// filter the others apply on a column this report scopes its own way
    /// in its WHERE, or in a filter of its own that reads that column and
    /// others (a category with its overrides); another period (month to date
    /// against year to date); a constant factor the report writes that is no
    /// scale (`/ 2`, the liquidity providers' half of the fees); another
    /// column totalled where the two reports' figures come from different
    /// tables in the end, or from rows their WHEREs and LEFT JOINs pick
    /// each their own way (`IsEndProduct = 'N'` against `'Y'`); two bare
    /// queries side by side in one file that count one table's rows and then
    /// its distinct values (a scratch file exploring the table), or that
    /// total each its own slice's column in one formula (`SUM(ebaytotal)`
    /// where `category = 'EBAY'`, `SUM(webtotal)` where `'WEB'`); a temporary
    /// table's column nothing the file publishes reads;
    /// and
    /// spellings equal in the data (`COUNT(key)` and `COUNT(*)`, `SUM(is_x)`
    /// and `COUNTIF(is_x)`, `x = 1` and `CAST(x AS BOOL)`, plurals and
    /// `total_` in column names).
    ///
    /// ## Why is this bad?
    /// Without a registry nobody has agreed what "active users" means yet, but
    /// when five reports count distinct users and one counts rows, the sixth is
    /// almost certainly wrong, and when two teams split evenly they are about
    /// to present two numbers under one name. Either fix the drift, or record
    /// the agreement in a registry (`metriclint init` writes a first one).
    ///
    /// ## Example
    /// ```sql
    /// -- five reports:
    /// SELECT COUNT(DISTINCT user_id) AS active_users FROM events
    /// -- this one:
    /// SELECT COUNT(user_id) AS active_users FROM events
    /// ```
    ///
    /// Use instead:
    /// ```sql
    /// SELECT COUNT(DISTINCT user_id) AS active_users FROM events
    /// ```
    pub struct InconsistentComputation {
        code: "ML010",
        name: "inconsistent-computation",
        severity: Warning,
        summary: "One metric name computed in different ways across reports",
    }
}

/// A site of the variant this one is compared with.
pub struct OtherVariant<'a> {
    pub path: &'a str,
    pub range: Range,
    pub form: &'a Expr,
    /// How many reports (files) compute it that way.
    pub reports: usize,
    pub majority: bool,
    /// Whether it is the sturdier spelling of the figure (a distinct count,
    /// a ratio of totals), the one `init` takes for the agreement.
    pub sturdier: bool,
}

/// "1 other report", "3 other reports"; with none, the same report's other
/// statement or branch.
pub fn reports_phrase(reports: usize) -> String {
    match reports {
        0 => "another part of this report".to_string(),
        1 => "1 other report".to_string(),
        n => format!("{n} other reports"),
    }
}

impl InconsistentComputation {
    pub fn finding(
        path: &str,
        range: Range,
        name: &str,
        form: &Expr,
        other: OtherVariant<'_>,
        differences: &[String],
    ) -> Finding {
        let info = Self::INFO;
        let where_else = reports_phrase(other.reports);
        let message = format!(
            "{name} is computed as {form:.100} here, but as {:.100} in {where_else}: {}",
            other.form,
            differences.join("; ")
        );
        let help = if other.sturdier {
            format!("{:.100} stays right where a join repeats rows; compute {name} that way, or register the agreed definition", other.form)
        } else if other.majority {
            format!("most reports compute {name} as {:.100}; align this one, or register the agreed definition", other.form)
        } else {
            format!("the reports split on {name}; agree on one definition and record it in a registry (`metriclint init` writes one)")
        };
        Finding {
            metric: Some(name.to_string()),
            found: Some(form.to_string()),
            related: vec![Related {
                path: other.path.to_string(),
                line: other.range.start.line,
                column: other.range.start.column,
                message: format!("computed as {:.100} here", other.form),
            }],
            help: Some(help),
            label: Some(format!("computed as {form:.100}")),
            ..Finding::of(&info, path, range, message)
        }
    }
}
