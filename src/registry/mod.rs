//! The registry: the agreed definitions of metrics.
//!
//! Loaded from the native YAML format (README, "The registry"; `load.rs`), or from the
//! built-in packs compiled into the binary (see [`builtin`]). Each metric's
//! body is lowered to the canonical form once, with `metric('x')` references
//! inlined, so judging a site is a tree comparison.

mod body;
pub mod builtin;
mod error;
mod load;
mod semantic;
pub use semantic::is_semantic as is_semantic_layer;
pub(crate) mod yaml_tree;

use std::collections::HashMap;

pub use error::{RegistryError, RegistryIssue};
pub use load::{load_builtin, load_files, load_str};

use crate::canon::Expr;

/// The scale of the value a metric's body computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Fraction,
    Percent,
    PerMille,
    Count,
    Currency,
    CurrencyMicros,
    Number,
}

impl Unit {
    pub const NAMES: &'static [(&'static str, Unit)] = &[
        ("fraction", Unit::Fraction),
        ("percent", Unit::Percent),
        ("per_mille", Unit::PerMille),
        ("count", Unit::Count),
        ("currency", Unit::Currency),
        ("currency_micros", Unit::CurrencyMicros),
        ("number", Unit::Number),
    ];

    pub fn parse(text: &str) -> Option<Unit> {
        Self::NAMES
            .iter()
            .find(|(n, _)| *n == text)
            .map(|(_, u)| *u)
    }

    pub fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, u)| *u == self)
            .map(|(n, _)| *n)
            .unwrap_or("number")
    }
}

/// Where something in a registry file was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// The registry file as the user named it, or `<built-in>/NAME.yaml`.
    pub path: String,
    pub line: u32,
    pub column: u32,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.path, self.line, self.column)
    }
}

/// One agreed metric definition.
#[derive(Clone, Debug)]
pub struct Metric {
    pub name: String,
    pub synonyms: Vec<String>,
    pub label: Option<String>,
    pub description: Option<String>,
    pub owner: Option<String>,
    pub unit: Option<Unit>,
    /// The currency the metric's money is agreed in (`USD`), uppercase.
    pub currency: Option<String>,
    /// Relations the metric must be computed from (lowercased last name parts).
    pub source: Vec<String>,
    /// Row conditions (canonical conjuncts) every aggregated row must satisfy.
    pub filter: Vec<Expr>,
    /// The body as written in the registry, for people.
    pub body_text: String,
    /// The body in canonical form, references inlined.
    pub definition: Expr,
    /// The definition with the metric's `filter` in every aggregate: what a
    /// site must compute.
    pub agreed: Expr,
    /// Columns the agreement puts a condition on; report conditions on other
    /// columns are the report's slice.
    pub constrained: std::collections::BTreeSet<String>,
    /// Where the body is written.
    pub origin: Origin,
    /// Why sites of the metric cannot be compared (a dbt cumulative or
    /// conversion metric is more than one SQL expression), if they cannot.
    pub not_comparable: Option<String>,
    /// `compare: reports`: the team has not agreed on a formula yet, so the
    /// reports computing the metric are compared with each other (ML010),
    /// never with the body, which only records the way most compute it.
    pub compare_reports: bool,
    /// Its `source` is the dbt model a Semantic Layer computes it over, not
    /// a relation the team requires every report to read (see
    /// [`crate::judge::Computation::reads_a_model`]).
    pub source_is_semantic_model: bool,
}

impl Metric {
    /// Whether a built-in pack defines it (alone, or extended by a team's
    /// file that does not define it again).
    pub fn is_the_packs(&self) -> bool {
        self.origin.path.starts_with(builtin::DISPLAY_PREFIX)
    }

    /// Whether the agreed formula divides (CTR, CPM, fill rate …).
    pub fn is_ratio(&self) -> bool {
        let mut divides = false;
        self.definition.walk(&mut |e| {
            if let Expr::Product(p) = e {
                divides |= p.factors.iter().any(|f| f.inverse);
            }
        });
        divides
    }
}

/// How an output name matched a metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameMatch {
    /// The metric's own name.
    Canonical,
    /// One of its synonyms.
    Synonym,
}

/// A loaded, validated set of metrics.
#[derive(Clone, Debug, Default)]
pub struct Registry {
    metrics: Vec<Metric>,
    /// How qualified output names are read.
    vocabulary: crate::names::Vocabulary,
    /// Lowercased name or synonym to (metric index, how it matched).
    by_name: HashMap<String, (usize, NameMatch)>,
    /// Whether only built-in packs are in force (no registry the team
    /// wrote): see [`Registry::is_pack_only`].
    pack_only: bool,
}

impl Registry {
    pub(crate) fn from_metrics(metrics: Vec<Metric>) -> Registry {
        let mut by_name = HashMap::new();
        for (i, m) in metrics.iter().enumerate() {
            for synonym in &m.synonyms {
                by_name.insert(synonym.to_lowercase(), (i, NameMatch::Synonym));
            }
        }
        for (i, m) in metrics.iter().enumerate() {
            by_name.insert(m.name.to_lowercase(), (i, NameMatch::Canonical));
        }
        Registry {
            metrics,
            by_name,
            vocabulary: Default::default(),
            pack_only: false,
        }
    }

    /// A team's metrics with the pack's beside them: every metric of `pack`
    /// whose name and synonyms are none of the team's names or synonyms (a
    /// team's `clickthrough_rate` replaces the pack's `ctr`, whose synonym
    /// it is).
    pub fn beside_pack(team: Registry, pack: Registry) -> Registry {
        let names_of = |m: &Metric| {
            std::iter::once(m.name.to_lowercase())
                .chain(m.synonyms.iter().map(|s| s.to_lowercase()))
                .collect::<Vec<_>>()
        };
        let taken: std::collections::HashSet<String> =
            team.metrics.iter().flat_map(names_of).collect();
        let mut metrics = team.metrics;
        metrics.extend(
            pack.metrics
                .into_iter()
                .filter(|m| names_of(m).iter().all(|n| !taken.contains(n))),
        );
        Registry::from_metrics(metrics)
    }

    /// Marks the registry as the default pack that no one chose: the CLI
    /// does when neither `--registry` nor a config's `registry:` is given.
    pub fn set_pack_only(&mut self, pack_only: bool) {
        self.pack_only = pack_only;
    }

    /// The agreement on `metric` as messages name it: "the built-in pack"
    /// where it comes from the pack no one chose, else "the registry".
    pub fn agreement_name(&self, metric: &Metric) -> &'static str {
        if self.judges_as_pack(metric) {
            "the built-in pack"
        } else {
            "the registry"
        }
    }

    /// Whether `metric` is judged as the built-in pack no one chose judges
    /// (see [`Registry::is_pack_only`]): the default pack is in force and
    /// the metric comes from it, not from a team's file (a dbt Semantic
    /// Layer read by default defines its own metrics beside the pack's).
    pub fn judges_as_pack(&self, metric: &Metric) -> bool {
        self.pack_only && metric.is_the_packs()
    }

    /// Whether the default pack no one chose is in force (alone, or beside
    /// a dbt Semantic Layer read by default). A pack knows what a metric
    /// is (which measures a rate divides, its scale, how it aggregates) but
    /// not a repository's columns, grain or sources: then base measures
    /// (impressions, spend, …) are grounded by the repository itself (the
    /// reports are compared with each other, ML010), and a rate's formula is
    /// judged only where every measure in it is one the pack knows.
    pub fn is_pack_only(&self) -> bool {
        self.pack_only
    }

    /// Reads qualified names with a project's vocabulary.
    pub fn set_vocabulary(&mut self, vocabulary: crate::names::Vocabulary) {
        self.vocabulary = vocabulary;
    }

    pub fn vocabulary(&self) -> &crate::names::Vocabulary {
        &self.vocabulary
    }

    pub fn metrics(&self) -> &[Metric] {
        &self.metrics
    }

    /// Whether `column` (lowercased) is what a metric of the team's own
    /// registry with `unit: count` sums or takes as it is (`impressions:
    /// sum(impressions)`): a count. A built-in pack's metrics name no
    /// repository's columns.
    pub fn counts_column(&self, column: &str) -> bool {
        self.metrics.iter().any(|m| {
            m.unit == Some(Unit::Count)
                && !m.origin.path.starts_with(builtin::DISPLAY_PREFIX)
                && match &m.definition {
                    Expr::Aggregate(agg) => {
                        agg.func == crate::canon::AggFunc::Sum
                            && matches!(&agg.arg, Expr::Column(c) if c == column)
                    }
                    Expr::Column(c) => c == column,
                    _ => false,
                }
        })
    }

    pub fn get(&self, name: &str) -> Option<&Metric> {
        self.by_name
            .get(&name.to_lowercase())
            .filter(|(_, how)| *how == NameMatch::Canonical)
            .map(|(i, _)| &self.metrics[*i])
    }

    /// The metric a name is, or is a synonym of (case-insensitively), with
    /// no qualifier word stripped.
    pub fn lookup_exact(&self, name: &str) -> Option<(&Metric, NameMatch)> {
        self.by_name
            .get(&name.to_lowercase())
            .map(|(i, how)| (&self.metrics[*i], *how))
    }

    /// The metric an output column name stands for, case-insensitively, also
    /// after stripping qualifier words (`daily_ctr`, `ctr_by_campaign`; see
    /// [`crate::names`]). `avg_` in front counts only for ratio metrics.
    pub fn lookup(&self, output_name: &str) -> Option<(&Metric, NameMatch)> {
        let found = |name: &str| {
            self.by_name
                .get(name)
                .map(|(i, how)| (&self.metrics[*i], *how))
        };
        // Most names are exact (and most select items name no metric at all).
        let lower = output_name.to_lowercase();
        if let Some(hit) = found(&lower) {
            return Some(hit);
        }
        if !lower.contains('_') {
            return None;
        }
        self.vocabulary
            .candidates(&lower)
            .into_iter()
            .skip(1)
            .find_map(|candidate| {
                let (metric, how) = found(&candidate.name)?;
                // `spend_usd` is the registry's spend where spend is money;
                // `emissions_bal_usd` is another figure than the token
                // amount `emissions_bal`.
                let dropped_currency = crate::names::names_money(&lower)
                    && !crate::names::names_money(&candidate.name);
                let fits = (!candidate.dropped_average || metric.is_ratio())
                    && (!candidate.dropped_grain || metric.definition.is_additive())
                    && (!dropped_currency
                        || matches!(metric.unit, Some(Unit::Currency | Unit::CurrencyMicros)));
                fits.then_some((metric, how))
            })
    }

    pub fn len(&self) -> usize {
        self.metrics.len()
    }

    pub fn is_empty(&self) -> bool {
        self.metrics.is_empty()
    }
}
