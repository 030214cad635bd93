//! Output names with qualifiers: `daily_ctr`, `ctr_pct`, `total_spend`,
//! `click_through_rate_by_campaign` all name a metric the registry knows by
//! its bare name. The qualifier vocabulary is documented in the README.
//!
//! Words that change what is measured (`delta`, `growth`, `target`, `prev`,
//! `yoy`, `share_of` …) keep a name distinct: `ctr_delta` is not the CTR.

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
    /// `click_through_rate`; `ctr_yoy` is `None`.
    pub fn strip(&self, name: &str) -> Option<String> {
        let lower = name.to_lowercase();
        let mut words: Vec<&str> = lower.split('_').filter(|w| !w.is_empty()).collect();
        if words.iter().any(|w| self.meaning.iter().any(|m| m == w)) {
            return None;
        }
        if words.windows(2).any(|pair| pair == ["share", "of"]) {
            return None;
        }
        // `…_by_campaign`, `…_per_day`: a breakdown, not another metric.
        if let Some(at) = words
            .iter()
            .skip(1)
            .position(|w| *w == "by" || *w == "per")
            .map(|i| i + 1)
        {
            words.truncate(at);
        }
        while words.len() > 1 && self.prefixes.iter().any(|p| p == words[0]) {
            words.remove(0);
        }
        while words.len() > 1
            && self
                .suffixes
                .iter()
                .any(|s| s == words.last().expect("non-empty"))
        {
            words.pop();
        }
        Some(words.join("_"))
    }

    /// Candidate metric names for an output name, most specific first: the
    /// name itself, without qualifiers, and without a leading `avg_` (which
    /// the caller accepts only for ratio metrics). The flag says whether
    /// `avg` was dropped.
    pub fn candidates(&self, name: &str) -> Vec<(String, bool)> {
        let mut out = vec![(name.to_lowercase(), false)];
        if let Some(stripped) = self.strip(name) {
            if !out.iter().any(|(n, _)| *n == stripped) {
                out.push((stripped.clone(), false));
            }
            if let Some((first, rest)) = stripped.split_once('_') {
                if AVERAGE_WORDS.contains(&first) {
                    if let Some(inner) = self.strip(rest) {
                        out.push((inner, true));
                    }
                }
            }
        }
        out
    }

    /// The name sites are grouped under: stripped, or the whole name.
    pub fn group_name(&self, output_name: &str) -> String {
        self.strip(output_name)
            .unwrap_or_else(|| output_name.to_lowercase())
    }
}

/// [`Vocabulary::strip`] with the default vocabulary.
pub fn strip_qualifiers(name: &str) -> Option<String> {
    Vocabulary::default().strip(name)
}

/// [`Vocabulary::candidates`] with the default vocabulary.
pub fn candidates(name: &str) -> Vec<(String, bool)> {
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
            ("impressions_per_day", "impressions"),
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
        assert_eq!(
            candidates("avg_ctr"),
            vec![("avg_ctr".to_string(), false), ("ctr".to_string(), true)]
        );
        assert_eq!(
            candidates("daily_avg_ctr").last(),
            Some(&("ctr".to_string(), true))
        );
        assert_eq!(candidates("ctr"), vec![("ctr".to_string(), false)]);
    }
}
