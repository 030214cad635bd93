use crate::canon::currency::{Marked, Meeting, Mix};
use crate::canon::Expr;
use crate::extract::Site;
use crate::finding::{Finding, Related};
use crate::registry::Metric;
use crate::rules::{agreement_help, rule, shown_name};

rule! {
    /// ## What it does
    /// Finds money in two currencies meeting in one figure: a ratio whose
    /// numerator and denominator are in different currencies
    /// (`SUM(conversions_value_in_local_currency) / SUM(spend_usd)`), or a
    /// total that adds or subtracts them (`SUM(revenue_usd) - SUM(cost_eur)`).
    /// A column's currency is what its name says: a currency code as a word
    /// (`_usd`, `_eur`, `_gbp`, …) or the local currency
    /// (`_in_local_currency`). Names are read through the report's CTEs and
    /// subqueries, as the column each output finally reads.
    ///
    /// With a registry, a metric may say which currency it is agreed in
    /// (`currency: USD`); a report whose figure of it is in another
    /// currency by its names (`SUM(spend_eur) AS spend`, a CPC over
    /// `cost_in_local_currency`) is reported too. A ratio of money over
    /// money in one currency (ROAS in euros) is no figure in a currency and
    /// is not reported.
    ///
    /// Never reported: columns whose names say no currency; one figure in two
    /// currencies (`SUM(spend_usd) / SUM(spend_in_local_currency)` is an
    /// exchange rate); a value converted on the way (multiplied by anything
    /// but a constant, or divided by a rate: `amount_eur * fx_rate`); a
    /// price of a crypto asset (`volume_usd / volume_eth`); a CASE that
    /// picks one currency's column per row; an output named for an exchange
    /// rate or a price (`fx_rate`, `usd_eur`, `avg_price`).
    ///
    /// ## Why is this bad?
    /// The figure is off by the exchange rate, and by a different amount
    /// each day the rate moves: a ROAS of local-currency revenue over dollar
    /// spend is 150 times too high for an account in yen, and a team
    /// comparing it across markets compares currencies, not campaigns.
    ///
    /// ## Example
    /// ```sql
    /// SELECT campaign_id,
    ///        SUM(conversions_value_in_local_currency) / NULLIF(SUM(spend_usd), 0) AS roas
    /// FROM ad_report GROUP BY 1
    /// ```
    ///
    /// Use instead:
    /// ```sql
    /// SELECT campaign_id,
    ///        SUM(conversions_value_in_local_currency) / NULLIF(SUM(spend_in_local_currency), 0) AS roas
    /// FROM ad_report GROUP BY 1
    /// ```
    pub struct CurrencyMismatch {
        code: "ML008",
        name: "currency-mismatch",
        severity: Error,
        summary: "Money in two currencies meeting in one figure",
    }
}

impl CurrencyMismatch {
    /// Money in two currencies meeting at `site`.
    /// `form` is the computation the mix was found in.
    pub fn mixed(path: &str, site: &Site, form: &Expr, mix: &Mix) -> Finding {
        let Mix { first, second, how } = mix;
        let (verb, between) = match how {
            Meeting::Divided => ("divides", "by"),
            Meeting::Added => ("adds", "and"),
            Meeting::Subtracted => ("subtracts", "from"),
        };
        // `subtracts b from a` reads in the order of the words.
        let (left, right) = match how {
            Meeting::Subtracted => (second, first),
            _ => (first, second),
        };
        let message = format!(
            "{} {verb} {} {between} {}: money in two currencies, so the figure is off by the exchange rate",
            site.output_name,
            shown(left),
            shown(right),
        );
        Finding {
            metric: Some(site.output_name.clone()),
            found: Some(form.to_string()),
            help: Some(format!(
                "convert one side to the other's currency first (for example `{} * exchange_rate`), or use columns of one currency",
                first.column
            )),
            label: Some(format!("{} and {}", first.currency, second.currency)),
            ..Finding::of(&Self::INFO, path, site.range, message)
        }
    }

    /// A figure of a metric agreed in `currency` that is in another one.
    pub fn against_registry(
        path: &str,
        site: &Site,
        metric: &Metric,
        currency: &str,
        found: &Marked,
    ) -> Finding {
        let message = format!(
            "{} is agreed in {currency}, but this report's figure is in {}: it reads {}",
            shown_name(site, metric),
            found.currency,
            found.column,
        );
        Finding {
            metric: Some(metric.name.clone()),
            found: Some(site.computation.to_string()),
            expected: Some(metric.agreed.to_string()),
            related: vec![Related {
                path: metric.origin.path.clone(),
                line: metric.origin.line,
                column: metric.origin.column,
                message: format!("agreed in {currency}"),
            }],
            help: Some(format!(
                "{}\nconvert it to {currency} before it is added up, or read the {currency} column",
                agreement_help(metric)
            )),
            label: Some(format!("in {}, not {currency}", found.currency)),
            ..Finding::of(&Self::INFO, path, site.range, message)
        }
    }
}

/// `revenue_eur (EUR)`.
fn shown(marked: &Marked) -> String {
    format!("{} ({})", marked.column, marked.currency)
}
