use super::{listed, shown_name, site_finding, Compared, Explanation};
use crate::extract::Site;
use crate::finding::Finding;
use crate::judge::Difference;
use crate::registry::Metric;
use crate::rules::rule;

rule! {
    /// ## What it does
    /// Flags a site that aggregates per-row ratios (`AVG(clicks / impressions)`,
    /// `SUM(a / NULLIF(b, 0))`, or `AVG(ctr)` over a column that is itself a
    /// ratio) where the registry defines the metric as a ratio of aggregates
    /// (`SUM(clicks) / SUM(impressions)`), or the reverse.
    ///
    /// Whatever a figure is called, and with no registry entry for it, a
    /// figure that is the sum of a column whose name says each row holds a
    /// rate, a ratio or a percentage (`SUM(conversion_rate)`,
    /// `SUM(discount_pct)`, `SUM(cost_per_click)`) is flagged too. Averages of
    /// such columns are left alone there: an average of per-campaign rates
    /// is sometimes what a report means. So are a sum of per-unit prices
    /// (`SUM(win_cpm) / 1000`, `SUM(cpc)`: over impression or click rows,
    /// what they cost), a figure per a thing models are often one row per
    /// (`page_views_per_session`: each session's own count), a bare `rate`
    /// (as often a price), a rate per
    /// period (`SUM(day_rate)` over days), a figure named for an exchange
    /// rate (`SUM(conversion_rate) AS tipo_cambio`), and a sum or average over
    /// groups of one row each, under any name: grouped by Fivetran's row id
    /// `_fivetran_id` (each group one synced row), or by every column of
    /// the key of the one relation it reads (a dbt model's
    /// `config(unique_key=…)`, or the GROUP BY or DISTINCT of the model,
    /// CTE or temporary table it reads, a name grouped beside an id there
    /// (`GROUP BY po_dtl_id, vend_name`) being only carried along), a key
    /// column fixed by `WHERE day = …` counting as grouped: each group's
    /// rate is passed through.
    ///
    /// A dbt project's metric YAML read as the registry (Semantic Layer or
    /// legacy `metrics:`) is checked the same way: a definition that sums a
    /// column of rates (`calculation_method: sum` over `engagement_rate`)
    /// or averages a ratio per row (`average` over `roas`) is found at the
    /// definition, since every query of the metric repeats it.
    ///
    /// ## Why is this bad?
    /// The average of daily CTRs weighs a day with ten impressions like a day
    /// with ten million: a campaign's "average CTR" can be several times its
    /// real CTR. A sum of ratios is not a ratio at all.
    ///
    /// ## Fix
    /// `check --fix --unsafe-fixes` rewrites an average or sum of per-row
    /// ratios written as one (`AVG(a / b)`) as the ratio of the totals
    /// (`SUM(a) / NULLIF(SUM(b), 0)`). It changes the figure, to the agreed
    /// one, so it waits for `--unsafe-fixes`.
    ///
    /// ## Example
    /// ```sql
    /// SELECT campaign_id, AVG(daily_ctr) AS ctr FROM campaign_daily GROUP BY 1
    /// ```
    ///
    /// Use instead:
    /// ```sql
    /// SELECT campaign_id, SUM(clicks) / NULLIF(SUM(impressions), 0) AS ctr
    /// FROM campaign_daily GROUP BY 1
    /// ```
    pub struct RatioAggregationMismatch {
        code: "ML005",
        name: "ratio-aggregation-mismatch",
        severity: Error,
        summary: "Per-row ratios summed or averaged instead of a ratio of totals",
    }
}

/// The label of a summed-rate finding (see [`RatioAggregationMismatch::summed_rate`]).
const SUMMED_RATE_LABEL: &str = "adds up per-row rates";

impl RatioAggregationMismatch {
    /// Whether a finding is [`Self::summed_rate`]'s: a figure with no
    /// registry entry adding up a column of rates.
    pub fn is_summed_rate(finding: &Finding) -> bool {
        finding.code == Self::INFO.code && finding.label.as_deref() == Some(SUMMED_RATE_LABEL)
    }

    /// A figure with no registry entry that adds up `column`, a column of rates.
    pub fn summed_rate(path: &str, site: &Site, column: &str) -> Finding {
        let info = Self::INFO;
        Finding {
            metric: Some(site.output_name.clone()),
            found: Some(format!("sum({column})")),
            help: Some(format!(
                "sum what `{column}` divides, and divide the sums (`SUM(numerator) / NULLIF(SUM(denominator), 0)`)"
            )),
            label: Some(SUMMED_RATE_LABEL.to_string()),
            ..Finding::of(&info, path, site.range, format!(
                "{} adds up `{column}`, a rate per row: a sum of rates is no rate of the total (two rows at 50% add up to 100%)",
                site.output_name
            ))
        }
    }

    /// A definition a dbt project's YAML gives the registry that adds up
    /// `column`, a column of rates (`calculation_method: sum` over
    /// `engagement_rate`): found at the definition (see
    /// [`crate::definitions`]).
    pub fn summed_rate_in_definition(
        path: &str,
        range: crate::source::Range,
        metric: &Metric,
        column: &str,
    ) -> Finding {
        let info = Self::INFO;
        Finding {
            metric: Some(metric.name.clone()),
            found: Some(format!("sum({column})")),
            help: Some(format!(
                "define it as a ratio of totals: a `ratio` metric (or a `derived` one) dividing the sum of what `{column}` divides by the sum of its denominator"
            )),
            label: Some(SUMMED_RATE_LABEL.to_string()),
            ..Finding::of(&info, path, range, format!(
                "the definition of {} adds up `{column}`, a rate per row: every query of it sums rates, and a sum of rates is no rate of the total (two rows at 50% add up to 100%)",
                metric.name
            ))
        }
    }

    /// A definition a dbt project's YAML gives the registry that averages
    /// or adds up per-row ratios (`calculation_method: average` over
    /// `roas`).
    pub fn ratios_aggregated_in_definition(
        path: &str,
        range: crate::source::Range,
        metric: &Metric,
    ) -> Finding {
        let info = Self::INFO;
        let how = match &metric.definition {
            crate::canon::Expr::Aggregate(agg) if agg.func == crate::canon::AggFunc::Avg => {
                "averages"
            }
            _ => "adds up",
        };
        Finding {
            metric: Some(metric.name.clone()),
            found: Some(metric.definition.to_string()),
            help: Some(
                "define it as a ratio of totals: a `ratio` metric (or a `derived` one) dividing the summed numerator by the summed denominator"
                    .to_string(),
            ),
            label: Some("aggregates per-row ratios".to_string()),
            ..Finding::of(&info, path, range, format!(
                "the definition of {} {how} per-row ratios, {:.100}: every query of it weighs a small row like a large one, where a ratio of totals weighs each row by its size",
                metric.name, metric.definition
            ))
        }
    }

    pub fn finding(
        path: &str,
        site: &Site,
        metric: &Metric,
        compared: Compared<'_>,
        differences: &[Difference],
    ) -> Finding {
        let text = listed(differences);
        let message = format!(
            "{} {}",
            shown_name(site, metric),
            text.strip_prefix("it ").unwrap_or(&text)
        );
        let label = "aggregates per-row ratios".to_string();
        site_finding(
            Self::INFO,
            path,
            site,
            metric,
            compared,
            Explanation::against(metric, message, label),
        )
    }
}
