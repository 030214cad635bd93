//! Output names with qualifiers: `daily_ctr`, `ctr_pct`, `total_spend`,
//! `click_through_rate_by_campaign` all name a metric the registry knows by
//! its bare name. The qualifier vocabulary is documented in the README.
//!
//! Words that change what is measured (`delta`, `growth`, `target`, `prev`,
//! `yoy`, `share_of` …) keep a name distinct: `ctr_delta` is not the CTR.

/// An identifier as written, without its quotes (`"x"`, `` `x` ``, `[x]`).
pub fn unquoted(name: &str) -> &str {
    name.trim_matches(['"', '`', '[', ']'])
}

/// Leading words that qualify a metric without changing it: time grains,
/// totals, rolling windows.
pub const QUALIFIER_PREFIXES: &[&str] = &[
    "daily",
    "weekly",
    "monthly",
    "hourly",
    "quarterly",
    "yearly",
    "annual",
    "total",
    "overall",
    "mtd",
    "ytd",
    "qtd",
    "wtd",
    "7d",
    "14d",
    "28d",
    "30d",
    "90d",
    "l7d",
    "l28d",
    "l30d",
    "rolling",
    "cumulative",
];

/// Trailing words that qualify a metric without changing it: time grains,
/// totals, display units, currency codes.
pub const QUALIFIER_SUFFIXES: &[&str] = &[
    "daily",
    "weekly",
    "monthly",
    "hourly",
    "quarterly",
    "yearly",
    "total",
    "overall",
    "pct",
    "percent",
    "percentage",
    "usd",
    "eur",
    "gbp",
    "jpy",
    "cad",
    "aud",
    "chf",
    "inr",
    "brl",
    "mtd",
    "ytd",
    "qtd",
    "wtd",
    "7d",
    "14d",
    "28d",
    "30d",
    "90d",
];

/// Words that make another metric of the one they qualify.
pub const MEANING_WORDS: &[&str] = &[
    "delta",
    "change",
    "growth",
    "target",
    "prev",
    "previous",
    "prior",
    "yoy",
    "mom",
    "wow",
    "dod",
    "lift",
    "diff",
    "forecast",
    "budget",
    "goal",
    "benchmark",
    "expected",
    "projected",
    "min",
    "max",
    "median",
    "p50",
    "p90",
    "p95",
    "p99",
    "stddev",
    "variance",
];

/// `avg` / `average` in front of a name: the metric of the period when the
/// rest names a ratio metric (`avg_ctr`), another metric otherwise (`avg_spend`).
pub const AVERAGE_WORDS: &[&str] = &["avg", "average", "mean"];

/// Last words of a column name that say each row holds a rate, a ratio or a
/// percentage.
const RATE_WORDS: &[&str] = &[
    "rate",
    "ratio",
    "pct",
    "percent",
    "percentage",
    "ctr",
    "cvr",
    "roas",
];

/// Units of time: a rate per day or per hour (`day_rate`, `hourly_rate`) is
/// a quantity per period, which adds up over periods.
const TIME_WORDS: &[&str] = &[
    "day", "daily", "hour", "hourly", "week", "weekly", "month", "monthly",
];

/// What a price is quoted per: a rate per unit (`unit_rate`, a TV spot's
/// `spot_rate`) is each row's price, which adds up to what the rows cost.
const PRICED_THINGS: &[&str] = &["unit", "spot", "item"];

/// Things a model is often one row per: a figure per one of them may be
/// that row's own total, not a rate.
const ROW_THINGS: &[&str] = &[
    "session", "sessions", "user", "users", "visit", "visits", "visitor", "customer", "order",
    "account", "device", "client", "member", "player", "trip",
];

/// Whether a column's name says each row holds a rate (`conversion_rate`,
/// `discount_pct`, `cost_per_click`): adding such rows up makes no figure.
/// A bare `rate` (a price as often as a ratio), a rate per period
/// (`day_rate`: tokens emitted per day add up over days), a rate per unit
/// (`unit_rate`: a price) and a price per unit (`cpm`, `cpc`: over
/// impression or click rows, their sum is what the rows cost) say no such
/// thing.
pub fn names_a_rate(column: &str) -> bool {
    let column = column.to_lowercase();
    let words: Vec<&str> = column.split('_').filter(|w| !w.is_empty()).collect();
    // Per a thing rows are often kept one of (`page_views_per_session` in a
    // model of sessions), the column may hold each thing's own count.
    let per_something = words.iter().enumerate().any(|(i, w)| {
        *w == "per"
            && i > 0
            && words
                .get(i + 1)
                .is_some_and(|thing| !ROW_THINGS.contains(thing))
    });
    let rate_word = match words.as_slice() {
        [.., before, "rate"] => !TIME_WORDS.contains(before) && !PRICED_THINGS.contains(before),
        [.., last] => RATE_WORDS.contains(last) && *last != "rate",
        [] => false,
    };
    rate_word || per_something
}

/// Whether a column's name says each row holds a share of one whole
/// (`views_percentage` of a video's views per demographic split,
/// `distribution_rate` of a trip's cost per cost centre): shares of one
/// whole add up to the share of their union, so their sum may be a figure.
/// Whether the rows share one whole, nothing in the SQL says: ML005 stays
/// silent on them.
pub fn names_a_share(column: &str) -> bool {
    const SHARE_WORDS: &[&str] = &[
        "percentage",
        "share",
        "distribution",
        "allocation",
        "split",
        "mix",
        "contribution",
        "weight",
    ];
    column
        .to_lowercase()
        .split('_')
        .any(|word| SHARE_WORDS.contains(&word))
}

/// The words that qualify a metric name, and those that change its meaning:
/// the defaults above, which a project's config file can extend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vocabulary {
    pub prefixes: Vec<String>,
    pub suffixes: Vec<String>,
    pub meaning: Vec<String>,
}

impl Default for Vocabulary {
    fn default() -> Self {
        let owned = |words: &[&str]| words.iter().map(|w| w.to_string()).collect();
        Vocabulary {
            prefixes: owned(QUALIFIER_PREFIXES),
            suffixes: owned(QUALIFIER_SUFFIXES),
            meaning: owned(MEANING_WORDS),
        }
    }
}

impl Vocabulary {
    /// The defaults plus a project's own words.
    pub fn extended(prefixes: &[String], suffixes: &[String], meaning: &[String]) -> Vocabulary {
        let mut v = Vocabulary::default();
        let lower = |words: &[String]| words.iter().map(|w| w.to_lowercase()).collect::<Vec<_>>();
        v.prefixes.extend(lower(prefixes));
        v.suffixes.extend(lower(suffixes));
        v.meaning.extend(lower(meaning));
        v
    }

    /// The name with its qualifier words removed, lowercased; `None` when a
    /// word changes its meaning. `click_through_rate_by_campaign` is
    /// `click_through_rate`; `ctr_yoy` is `None`. Grain and window words are
    /// stripped too: right for additive metrics only (see [`Self::strip_with`]).
    pub fn strip(&self, name: &str) -> Option<String> {
        self.strip_with(name, true)
    }

    /// [`Self::strip`], stripping time grains and windows (`daily_`, `_7d`,
    /// `_mtd`) only when the metric is `additive` (a sum or count, or a ratio
    /// of those): daily and weekly active users are two metrics, daily and
    /// weekly clicks one metric over two slices.
    ///
    /// A rate per something (`cost_per_click`, `clicks_per_user`) is never its
    /// numerator, and a date basis (`revenue_by_ship_date`) is never stripped:
    /// `by` only drops a breakdown (`ctr_by_campaign`).
    pub fn strip_with(&self, name: &str, additive: bool) -> Option<String> {
        self.strip_keeping(name, additive, false)
    }

    /// [`Self::strip_with`]; `keep_windows` keeps rolling and to-date
    /// windows (`_qtd`, `_7d`, `cumulative_`) and totals even on additive
    /// figures, and currency codes: reports are compared under those names
    /// (a model's `gas` in the chain's token and its `gas_usd` are two
    /// figures, where a registry's `spend` may well be named `spend_usd`).
    fn strip_keeping(&self, name: &str, additive: bool, keep_windows: bool) -> Option<String> {
        let lower = name.to_lowercase();
        let mut words: Vec<&str> = lower.split('_').filter(|w| !w.is_empty()).collect();
        if words.iter().any(|w| self.meaning.iter().any(|m| m == w)) {
            return None;
        }
        if words.windows(2).any(|pair| pair == ["share", "of"]) {
            return None;
        }
        // `…_by_campaign`: a breakdown, not another metric; `…_by_order_date`
        // is a date basis, which is.
        if let Some(at) = words.iter().skip(1).position(|w| *w == "by").map(|i| i + 1) {
            if !is_date_basis(&words[at + 1..]) {
                words.truncate(at);
            }
        }
        // `total_clients` may count rows where `clients` counts distinct ids:
        // like a grain, a total qualifies only what adds up.
        let strippable = |w: &str, list: &[String]| {
            list.iter().any(|p| p == w)
                && (additive
                    || !(GRAIN_WORDS.contains(&w)
                        || WINDOW_WORDS.contains(&w)
                        || TOTAL_WORDS.contains(&w)))
                && !(keep_windows
                    && (WINDOW_WORDS.contains(&w)
                        || TOTAL_WORDS.contains(&w)
                        || CURRENCY_WORDS.contains(&w)))
        };
        while words.len() > 1 && strippable(words[0], &self.prefixes) {
            words.remove(0);
        }
        // A percent word qualifies a rate (`ctr_pct` is the ctr, in
        // percent); after an amount it makes a ratio of it
        // (`gross_margin_percent` is the margin over revenue).
        let percent_of_an_amount = |words: &[&str]| {
            matches!(words.last(), Some(&("pct" | "percent" | "percentage")))
                && !names_a_rate(&words[..words.len() - 1].join("_"))
        };
        while words.len() > 1
            && strippable(words[words.len() - 1], &self.suffixes)
            && !percent_of_an_amount(&words)
        {
            words.pop();
        }
        Some(words.join("_"))
    }

    /// Candidate metric names for an output name, most specific first: the
    /// name itself, without qualifiers, and without a leading `avg_` (which
    /// the caller accepts only for ratio metrics).
    pub fn candidates(&self, name: &str) -> Vec<Candidate> {
        let lower = name.to_lowercase();
        let mut out = vec![Candidate {
            name: lower.clone(),
            dropped_average: false,
            dropped_grain: false,
        }];
        let push = |out: &mut Vec<Candidate>, c: Candidate| {
            if !out.iter().any(|o| o.name == c.name) {
                out.push(c);
            }
        };
        // Without grain words first: the name a non-additive metric can have.
        for additive in [false, true] {
            let Some(stripped) = self.strip_with(&lower, additive) else {
                continue;
            };
            let dropped_grain =
                additive && self.strip_with(&lower, false) != Some(stripped.clone());
            push(
                &mut out,
                Candidate {
                    name: stripped.clone(),
                    dropped_average: false,
                    dropped_grain,
                },
            );
            if let Some((first, rest)) = stripped.split_once('_') {
                if AVERAGE_WORDS.contains(&first) {
                    if let Some(inner) = self.strip_with(rest, additive) {
                        // A grain dropped inside (`avg_daily_x`) counts too.
                        let inner_grain = additive
                            && self.strip_with(rest, false).as_deref() != Some(inner.as_str());
                        push(
                            &mut out,
                            Candidate {
                                name: inner,
                                dropped_average: true,
                                dropped_grain: dropped_grain || inner_grain,
                            },
                        );
                    }
                }
            }
        }
        out
    }

    /// The name reports are compared under: stripped, or the whole name.
    /// Grain words stay on the names of non-additive computations, and
    /// windows (`_qtd`, `_7d`) and totals on all: a quarter-to-date figure
    /// and the figure, `slot_hours_total` and `slot_hours`, are two columns
    /// of one report, not two spellings of one. (A registry's name is still
    /// found through them: `total_impressions` is impressions.)
    pub fn group_name(&self, output_name: &str, additive: bool) -> String {
        self.strip_keeping(output_name, additive, true)
            .unwrap_or_else(|| output_name.to_lowercase())
    }
}

/// A metric name an output name may stand for (see [`Vocabulary::candidates`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub name: String,
    /// A leading `avg_` was dropped: only a ratio metric may be meant.
    pub dropped_average: bool,
    /// A time grain or window was dropped: only an additive metric may be meant.
    pub dropped_grain: bool,
}

/// Words that say a figure is a total: they qualify an additive metric.
const TOTAL_WORDS: &[&str] = &["total", "overall"];

/// Calendar grains (and, below, windows): they qualify an additive metric (a slice of it)
/// but make another metric of a distinct count or an average.
pub const GRAIN_WORDS: &[&str] = &[
    "daily",
    "weekly",
    "monthly",
    "hourly",
    "quarterly",
    "yearly",
    "annual",
];

/// Whether a lowercase column name names a key (`id`, `client_id`,
/// `order_key`).
pub fn names_a_key(c: &str) -> bool {
    c == "id" || c.ends_with("_id") || c.ends_with("_key") || c.ends_with("_uuid")
}

/// Whether a lowercase column name names one thing a figure may be per: a
/// key, or an address (a pool's, a wallet's, a contract's).
pub fn names_an_entity(c: &str) -> bool {
    names_a_key(c) || c.ends_with("address")
}

/// Whether a name carries a currency code as a word (`value_usd`,
/// `revenue_eur`): it is money, whatever else it is.
pub fn names_money(name: &str) -> bool {
    name.to_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|word| CURRENCY_WORDS.contains(&word))
}

/// Currency codes: a unit, stripped to find a registered metric, kept in the
/// names reports are compared under.
pub const CURRENCY_WORDS: &[&str] = &[
    "usd", "eur", "gbp", "jpy", "cad", "aud", "chf", "inr", "brl", "mxn", "cny", "sek", "nok",
    "dkk", "pln", "zar", "krw", "sgd", "hkd", "nzd", "ars", "clp", "czk", "huf", "ils", "aed",
    "idr", "thb", "myr", "twd", "eth", "btc",
];

/// Crypto assets among the currency codes: a quantity of a token, which a
/// price divides money by (`volume_usd / volume_eth`).
const CRYPTO_WORDS: &[&str] = &["eth", "btc"];

/// The currency a money column's name says its values are in.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Currency {
    /// An ISO code, uppercase (`USD`).
    Code(String),
    /// The account's or the market's own currency, unconverted
    /// (`spend_in_local_currency`).
    Local,
}

impl Currency {
    /// Whether it is a currency of money rather than a crypto asset.
    pub fn is_fiat(&self) -> bool {
        match self {
            Currency::Code(code) => !CRYPTO_WORDS.contains(&code.to_lowercase().as_str()),
            Currency::Local => true,
        }
    }
}

impl std::fmt::Display for Currency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Currency::Code(code) => f.write_str(code),
            Currency::Local => f.write_str("local currency"),
        }
    }
}

/// The currency a name says a value is in: one currency code as a word
/// (`revenue_usd`), or the local currency (`spend_in_local_currency`).
/// None for a name with none, or with two codes (`usd_to_eur`, a rate).
pub fn currency_in_name(name: &str) -> Option<Currency> {
    let lower = name.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let local = words
        .windows(2)
        .any(|pair| matches!(pair, ["local", "currency" | "ccy" | "curr"]))
        || words.contains(&"localcurrency");
    let mut codes: Vec<&str> = words
        .iter()
        .copied()
        .filter(|w| CURRENCY_WORDS.contains(w))
        .collect();
    codes.dedup();
    match (local, codes.as_slice()) {
        (true, []) => Some(Currency::Local),
        (false, [code]) => Some(Currency::Code(code.to_uppercase())),
        _ => None,
    }
}

/// Whether an output's name says it is an exchange rate or a price
/// (`fx_rate`, `usd_to_eur`, `eur_rate`, `avg_price`, Spanish and
/// Portuguese `tipo_cambio`): a ratio of two currencies on purpose.
pub fn names_an_exchange_rate(name: &str) -> bool {
    let lower = name.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let codes = words.iter().filter(|w| CURRENCY_WORDS.contains(w)).count();
    words.iter().any(|w| {
        matches!(
            *w,
            "fx" | "forex"
                | "exchange"
                | "xr"
                | "price"
                | "prices"
                | "xrate"
                | "cambio"
                | "wechselkurs"
        )
    }) || codes >= 2
        || (codes == 1 && words.iter().any(|w| matches!(*w, "rate" | "to" | "per")))
}

/// A money column's name without its currency: `spend` for `spend_usd` and
/// for `spend_in_local_currency`. Two columns of one base are one figure in
/// two currencies, and their ratio is an exchange rate.
pub fn currency_base(name: &str) -> String {
    let lower = name.to_lowercase();
    lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| {
            !w.is_empty()
                && !CURRENCY_WORDS.contains(w)
                && !matches!(
                    *w,
                    "in" | "local" | "currency" | "ccy" | "curr" | "localcurrency"
                )
        })
        .collect::<Vec<_>>()
        .join("_")
}

/// Rolling and to-date windows: like a grain, and never stripped from the
/// names reports are compared under.
const WINDOW_WORDS: &[&str] = &[
    "mtd",
    "ytd",
    "qtd",
    "wtd",
    "7d",
    "14d",
    "28d",
    "30d",
    "90d",
    "l7d",
    "l28d",
    "l30d",
    "rolling",
    "cumulative",
];

/// Whether the words after `by` name the date a figure is attributed by
/// (`ship_date`, `order_created_at`), which makes another metric, rather than
/// a breakdown (`campaign`, `day`, `date`).
fn is_date_basis(words: &[&str]) -> bool {
    words.len() >= 2
        && words
            .last()
            .is_some_and(|w| matches!(*w, "date" | "at" | "time" | "timestamp" | "ts"))
}

/// [`Vocabulary::strip`] with the default vocabulary.
pub fn strip_qualifiers(name: &str) -> Option<String> {
    Vocabulary::default().strip(name)
}

/// [`Vocabulary::candidates`] with the default vocabulary.
pub fn candidates(name: &str) -> Vec<Candidate> {
    Vocabulary::default().candidates(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualified_names_reduce_to_the_metric() {
        let same = [
            ("daily_ctr", "ctr"),
            ("CTR_PCT", "ctr"),
            ("total_spend", "spend"),
            ("monthly_cpc", "cpc"),
            ("click_through_rate_by_campaign", "click_through_rate"),
            ("spend_usd", "spend"),
            ("weekly_total_impressions", "impressions"),
            ("7d_fill_rate", "fill_rate"),
            ("win_rate_by_exchange_and_day", "win_rate"),
            ("s2s_share", "s2s_share"),
            ("cost_per_click_by_campaign", "cost_per_click"),
            ("revenue_by_day", "revenue"),
            ("revenue_by_date", "revenue"),
        ];
        for (name, want) in same {
            assert_eq!(strip_qualifiers(name).as_deref(), Some(want), "{name}");
        }
    }

    #[test]
    fn meaning_words_keep_a_name_distinct() {
        for name in [
            "ctr_delta",
            "spend_change",
            "revenue_growth",
            "cpm_target",
            "prev_ctr",
            "ctr_yoy",
            "share_of_spend",
            "max_bid",
            "p95_latency",
        ] {
            assert_eq!(strip_qualifiers(name), None, "{name}");
        }
        // A name that is only a qualifier stays itself.
        assert_eq!(strip_qualifiers("total").as_deref(), Some("total"));
        assert_eq!(strip_qualifiers("daily").as_deref(), Some("daily"));
    }

    #[test]
    fn a_project_can_add_words() {
        let v = Vocabulary::extended(
            &["fy".to_string()],
            &["net".to_string()],
            &["proj".to_string()],
        );
        assert_eq!(v.strip("fy_spend_net").as_deref(), Some("spend"));
        assert_eq!(v.strip("spend_proj"), None);
        assert_eq!(strip_qualifiers("fy_spend").as_deref(), Some("fy_spend"));
    }

    #[test]
    fn average_is_offered_separately() {
        let names = |name: &str| -> Vec<(String, bool)> {
            candidates(name)
                .into_iter()
                .map(|c| (c.name, c.dropped_average))
                .collect()
        };
        assert_eq!(
            names("avg_ctr"),
            vec![("avg_ctr".to_string(), false), ("ctr".to_string(), true)]
        );
        assert_eq!(
            names("daily_avg_ctr").last(),
            Some(&("ctr".to_string(), true))
        );
        assert_eq!(names("ctr"), vec![("ctr".to_string(), false)]);
    }

    /// Near-misses the real world showed: names that look like a metric plus
    /// a qualifier but name another metric.
    #[test]
    fn rates_per_thing_and_date_bases_are_other_metrics() {
        let distinct = [
            ("cost_per_click", "cost"),
            ("avg_cost_per_conversion", "avg_cost_per_click"),
            ("clicks_per_user", "clicks"),
            ("impressions_per_session", "impressions"),
            ("revenue_by_ship_date", "revenue_by_order_date"),
            ("revenue_by_order_created_at", "revenue"),
        ];
        for (a, b) in distinct {
            assert_ne!(strip_qualifiers(a), strip_qualifiers(b), "{a} vs {b}");
        }
    }

    #[test]
    fn grain_words_are_stripped_only_from_additive_metrics() {
        let v = Vocabulary::default();
        // Distinct counts at different windows are different metrics.
        assert_ne!(
            v.group_name("daily_active_users", false),
            v.group_name("weekly_active_users", false)
        );
        assert_ne!(
            v.strip_with("users_7d", false),
            v.strip_with("users_30d", false)
        );
        assert_eq!(v.strip_with("mau_total", true).as_deref(), Some("mau"));
        assert_eq!(v.group_name("slot_hours_total", true), "slot_hours_total");
        assert_ne!(
            v.group_name("total_clients", false),
            v.group_name("clients", false)
        );
        // Sums over different slices are one metric.
        assert_eq!(v.group_name("daily_clicks", true), "clicks");
        assert_eq!(v.group_name("clicks_mtd", true), "clicks_mtd");
        assert_eq!(v.strip_with("clicks_mtd", true).as_deref(), Some("clicks"));
        // A currency code is a unit: another figure to compare, the same
        // metric to look up.
        assert_eq!(v.group_name("gas_usd", true), "gas_usd");
        assert_ne!(v.group_name("gas_usd", true), v.group_name("gas", true));
        assert_eq!(v.group_name("daily_gas_usd", true), "gas_usd");
        assert_eq!(v.strip_with("spend_usd", true).as_deref(), Some("spend"));
        // A registry lookup learns which word was dropped.
        let dropped: Vec<(String, bool)> = v
            .candidates("weekly_active_users")
            .into_iter()
            .map(|c| (c.name, c.dropped_grain))
            .collect();
        assert_eq!(
            dropped,
            vec![
                ("weekly_active_users".to_string(), false),
                ("active_users".to_string(), true)
            ]
        );
    }
}
