//! Currencies in a computation: which currency a value is in, as the names
//! of the money columns it reads say (`revenue_usd`,
//! `spend_in_local_currency`), and where it divides or adds money in two
//! currencies.
//!
//! Only what names say is known: a column without a currency in its name
//! may be money in any currency, and a value multiplied or divided by a
//! rate (`amount_eur * fx_rate`) is converted, so in no currency known.

use super::{AggFunc, Expr};
use crate::names::{currency_base, currency_in_name, Currency};

/// A money column and the currency its name says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Marked {
    pub column: String,
    pub currency: Currency,
}

/// Money in two currencies meeting in one arithmetic operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mix {
    pub first: Marked,
    pub second: Marked,
    pub how: Meeting,
}

/// How the two currencies meet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Meeting {
    /// `first / second`.
    Divided,
    /// `first + second`.
    Added,
    /// `first - second`.
    Subtracted,
}

/// The currency `expr`'s value is in, if its names say one.
pub fn currency_of(expr: &Expr) -> Option<Marked> {
    Walk::default().value(expr)
}

/// Where `expr` divides, adds or subtracts money in two currencies: the
/// first such place, walking its value (conditions are not values).
pub fn mixed_currencies(expr: &Expr) -> Option<Mix> {
    let mut walk = Walk::default();
    walk.value(expr);
    walk.mixes.into_iter().next()
}

#[derive(Default)]
struct Walk {
    mixes: Vec<Mix>,
}

impl Walk {
    fn value(&mut self, expr: &Expr) -> Option<Marked> {
        match expr {
            Expr::Column(column) => marked(column),
            // The alias is what the author says the value is: `spend * rate AS
            // spend_usd` is in dollars.
            Expr::Renamed { alias, source } => {
                let inner = self.value(source);
                marked(alias).or(inner)
            }
            Expr::Aggregate(agg) => {
                let inner = self.value(&agg.arg);
                match &agg.func {
                    AggFunc::Sum | AggFunc::Avg | AggFunc::Min | AggFunc::Max => inner,
                    AggFunc::Count => None,
                    AggFunc::Other(name) => {
                        matches!(name.as_str(), "any_value" | "median" | "arbitrary")
                            .then_some(inner)
                            .flatten()
                    }
                }
            }
            Expr::Sum(terms) => {
                let values: Vec<(bool, Option<Marked>)> = terms
                    .iter()
                    .map(|t| (t.negated, self.value(&t.expr)))
                    .collect();
                let known: Vec<(bool, &Marked)> = values
                    .iter()
                    .filter_map(|(negated, v)| v.as_ref().map(|m| (*negated, m)))
                    .collect();
                for (i, (first_negated, first)) in known.iter().enumerate() {
                    for (second_negated, second) in &known[i + 1..] {
                        if another_figure_in_another_currency(first, second) {
                            let (first, second, how) = match (first_negated, second_negated) {
                                (false, true) => (*first, *second, Meeting::Subtracted),
                                (true, false) => (*second, *first, Meeting::Subtracted),
                                _ => (*first, *second, Meeting::Added),
                            };
                            self.mixes.push(Mix {
                                first: first.clone(),
                                second: second.clone(),
                                how,
                            });
                            return None;
                        }
                    }
                }
                agreed(known.into_iter().map(|(_, m)| m))
            }
            Expr::Product(product) => {
                // A constant that is no power of ten (`* 1.08`) is a rate
                // written out: the value is converted.
                let power_of_ten = |n: &crate::canon::Number| {
                    n.as_f64().is_some_and(|v| {
                        let exponent = v.abs().log10();
                        v != 0.0 && (exponent - exponent.round()).abs() < 1e-9
                    })
                };
                let converted = !power_of_ten(&product.coefficient)
                    || product
                        .factors
                        .iter()
                        .any(|f| matches!(&f.expr, Expr::Number(n) if !power_of_ten(n)));
                if converted {
                    for factor in &product.factors {
                        self.value(&factor.expr);
                    }
                    return None;
                }
                let (mut above, mut below) = (Vec::new(), Vec::new());
                for factor in &product.factors {
                    if matches!(factor.expr, Expr::Number(_)) {
                        continue;
                    }
                    let value = self.value(&factor.expr);
                    if factor.inverse {
                        below.push((value, &factor.expr));
                    } else {
                        above.push(value);
                    }
                }
                // Money times anything but a constant is converted or
                // weighted: in no currency its names say.
                let [numerator] = above.as_slice() else {
                    return None;
                };
                let numerator = numerator.clone()?;
                match below.as_slice() {
                    [] => Some(numerator),
                    [(Some(denominator), _)] => {
                        if numerator.currency.is_fiat()
                            && denominator.currency.is_fiat()
                            && another_figure_in_another_currency(&numerator, denominator)
                        {
                            self.mixes.push(Mix {
                                first: numerator,
                                second: denominator.clone(),
                                how: Meeting::Divided,
                            });
                        }
                        // Money over money is a ratio, in no currency.
                        None
                    }
                    // Money per click, per row, per day: still in its
                    // currency, unless it is divided by a rate.
                    [(None, denominator)] => (!reads_a_rate(denominator)).then_some(numerator),
                    _ => None,
                }
            }
            Expr::Case {
                branches,
                otherwise,
                ..
            } => {
                let values: Vec<Option<Marked>> = branches
                    .iter()
                    .map(|(_, then)| then)
                    .chain(otherwise.as_deref())
                    .map(|e| self.value(e))
                    .collect();
                agreed(values.iter().flatten())
            }
            Expr::Function { name, args } => {
                let values: Vec<Option<Marked>> = args.iter().map(|a| self.value(a)).collect();
                let passes_value_through = matches!(
                    name.as_str(),
                    "round"
                        | "trunc"
                        | "truncate"
                        | "abs"
                        | "floor"
                        | "ceil"
                        | "ceiling"
                        | "nullif"
                        | "coalesce"
                        | "ifnull"
                        | "nvl"
                        | "isnull"
                        | "zeroifnull"
                        | "nullifzero"
                        | "greatest"
                        | "least"
                );
                if passes_value_through {
                    agreed(values.iter().flatten())
                } else {
                    None
                }
            }
            _ => None,
        }
    }
}

fn marked(column: &str) -> Option<Marked> {
    currency_in_name(column).map(|currency| Marked {
        column: column.to_string(),
        currency,
    })
}

/// The one currency every known value is in, if they agree.
fn agreed<'a>(mut values: impl Iterator<Item = &'a Marked>) -> Option<Marked> {
    let first = values.next()?;
    values
        .all(|v| v.currency == first.currency)
        .then(|| first.clone())
}

/// Two money columns of two figures in two currencies. One figure in two
/// currencies (`spend_usd` and `spend_in_local_currency`) meets itself in an
/// exchange rate, on purpose.
fn another_figure_in_another_currency(a: &Marked, b: &Marked) -> bool {
    a.currency != b.currency && currency_base(&a.column) != currency_base(&b.column)
}

/// Whether a divisor reads an exchange rate (`fx_rate`, `exchange_rate`,
/// `usd_conversion_rate`): dividing by it converts.
fn reads_a_rate(expr: &Expr) -> bool {
    let mut found = false;
    expr.walk(&mut |e| {
        let name = match e {
            Expr::Column(c) => c,
            Expr::Renamed { alias, .. } => alias,
            _ => return,
        };
        found |= name.split(|c: char| !c.is_ascii_alphanumeric()).any(|w| {
            matches!(
                w,
                "fx" | "rate" | "rates" | "exchange" | "conversion" | "forex"
            )
        }) || crate::names::names_an_exchange_rate(name);
    });
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(sql: &str) -> Expr {
        let parsed = sqlparser::parser::Parser::new(&sqlparser::dialect::GenericDialect {})
            .try_with_sql(sql)
            .and_then(|mut p| p.parse_expr())
            .expect("parses");
        crate::canon::lower::Lowerer::for_registry(&crate::canon::lower::BaseColumns).lower(&parsed)
    }

    #[test]
    fn money_in_two_currencies_is_found() {
        let mixed = [
            (
                "SUM(conversions_value_in_local_currency) / SUM(spend_usd)",
                "conversions_value_in_local_currency",
                "spend_usd",
                Meeting::Divided,
            ),
            (
                "SUM(revenue_eur) / NULLIF(SUM(spend_usd), 0)",
                "revenue_eur",
                "spend_usd",
                Meeting::Divided,
            ),
            (
                "SUM(revenue_usd) - SUM(cost_eur)",
                "revenue_usd",
                "cost_eur",
                Meeting::Subtracted,
            ),
            (
                "SUM(revenue_usd + payout_gbp)",
                "payout_gbp",
                "revenue_usd",
                Meeting::Added,
            ),
            (
                "COALESCE(SUM(revenue_eur), 0) / SUM(ROUND(spend_usd, 2))",
                "revenue_eur",
                "spend_usd",
                Meeting::Divided,
            ),
        ];
        for (sql, first, second, how) in mixed {
            let mix = mixed_currencies(&canonical(sql)).unwrap_or_else(|| panic!("{sql}"));
            let mut columns = [mix.first.column.as_str(), mix.second.column.as_str()];
            let mut expected = [first, second];
            if how == Meeting::Added {
                columns.sort_unstable();
                expected.sort_unstable();
            }
            assert_eq!(columns, expected, "{sql}");
            assert_eq!(mix.how, how, "{sql}");
        }
    }

    #[test]
    fn money_in_one_currency_or_converted_is_not() {
        let fine = [
            // One currency.
            "SUM(revenue_usd) / SUM(spend_usd)",
            "SUM(revenue_in_local_currency) / SUM(spend_in_local_currency)",
            // Names that say no currency: anything.
            "SUM(revenue) / SUM(spend_usd)",
            // One figure in two currencies: an exchange rate.
            "SUM(spend_usd) / SUM(spend_in_local_currency)",
            "SUM(amount_eur) / SUM(amount_usd)",
            // Converted before it meets the other.
            "SUM(revenue_eur * fx_rate) / SUM(spend_usd)",
            "SUM(revenue_eur / eur_per_usd) - SUM(cost_usd)",
            "SUM(revenue_eur * 1.08) - SUM(cost_usd)",
            "SUM(revenue_eur / eur_per_usd_rate) - SUM(cost_usd)",
            // A price of a token.
            "SUM(volume_usd) / SUM(fees_eth)",
            // A condition is no value.
            "SUM(CASE WHEN revenue_eur > 0 THEN spend_usd END) / SUM(clicks)",
            // Picking one currency per row.
            "SUM(CASE WHEN currency = 'EUR' THEN amount_eur ELSE cost_usd END)",
            // Counted, not summed.
            "COUNT(revenue_eur) / SUM(spend_usd)",
        ];
        for sql in fine {
            assert_eq!(mixed_currencies(&canonical(sql)), None, "{sql}");
        }
    }

    #[test]
    fn a_value_is_in_the_currency_its_money_is_in() {
        let cases = [
            ("SUM(spend_eur)", Some("EUR")),
            ("SUM(spend_eur) / SUM(clicks)", Some("EUR")),
            ("1000 * SUM(cost_gbp) / SUM(impressions)", Some("GBP")),
            (
                "ROUND(SUM(spend_in_local_currency), 2)",
                Some("local currency"),
            ),
            // Money over money in one currency: a ratio.
            ("SUM(revenue_eur) / SUM(spend_eur)", None),
            // Converted.
            ("SUM(spend_eur * usd_rate)", None),
            ("SUM(spend_eur) / AVG(fx_rate)", None),
            ("SUM(spend)", None),
        ];
        for (sql, currency) in cases {
            let found = currency_of(&canonical(sql)).map(|m| m.currency.to_string());
            assert_eq!(found.as_deref(), currency, "{sql}");
        }
    }
}
