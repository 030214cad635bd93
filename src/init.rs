//! `metriclint init`: a first registry, written from what the reports compute.
//!
//! One entry per metric found (see [`starter_registry`]), so the team can
//! decide, then commit it.

use std::fmt::Write;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::canon::Expr;
use crate::drift::{self, MetricSite};
use crate::registry::Registry;

/// Writes a comment line: a form's string literal may hold a line break,
/// which would end the comment and leave the rest as YAML.
macro_rules! comment {
    ($out:expr, $($arg:tt)*) => {{
        let _ = writeln!($out, "{}", format!($($arg)*).replace(['\n', '\r'], " "));
    }};
}

/// A YAML single-quoted scalar.
fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// A metric's `filter:` line, when it has conditions.
fn write_filter(out: &mut String, filter: &[Expr]) {
    if !filter.is_empty() {
        let list: Vec<String> = filter.iter().map(|c| quoted(&c.to_string())).collect();
        let _ = writeln!(out, "    filter: [{}]", list.join(", "));
    }
}

/// A registry name from an output name: lowercase snake_case.
fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for c in name.trim().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_matches('_').to_string();
    match out.chars().next() {
        Some(c) if c.is_ascii_lowercase() => out,
        _ => format!("m_{out}"),
    }
}

/// One metric of the starter registry, before it is written.
struct Proposal<'s> {
    name: String,
    /// The agreed computation proposed: the way most reports compute it, a
    /// ratio of totals over an average or sum of ratios.
    definition: Expr,
    /// Its sites, and the sites of the other ways.
    chosen: Vec<&'s MetricSite>,
    others: Vec<(Expr, Vec<&'s MetricSite>)>,
    /// Conditions every site of the metric applies (two sites or more),
    /// whichever way, and those most but not all apply.
    filter: Vec<Expr>,
    usual_filter: Vec<(Expr, usize)>,
    /// The one relation every chosen site reads, or the one most read.
    source: Option<String>,
    usual_source: Option<(String, usize)>,
    /// Why it is not proposed, if it is not.
    left_out: Option<&'static str>,
    /// Every site of the metric, whichever way.
    all_sites: Vec<&'s MetricSite>,
    /// Written as an entry, the registry would not load (it contradicts a
    /// pack metric computed from it): left to the team, as a comment only.
    unwritable: bool,
}

/// The text of a starter registry for `sites`: one entry per metric the
/// reports compute, extending the built-in pack. Each definition is the way
/// most reports compute the metric (a ratio of totals wins over averaged or
/// summed ratios), with the pack's unit and synonyms where it knows the
/// metric; the filter is the conditions all its sites share and the source
/// the relation all the chosen way's sites read, never a date or partition
/// predicate. The comments above each entry list exactly
/// the sites `check --registry` with this file then reports, and the filter
/// or source most sites use when not all do.
/// `findings` are what `check` found with `registry` alone: those no
/// definition can take back (a sum of per-row rates, under any name) are
/// listed at the end, as `check` reports them with the registry written.
pub fn starter_registry(
    sites: &drift::Sites,
    registry: &Registry,
    files: usize,
    findings: &[crate::finding::Finding],
    units: &crate::rules::RepositoryUnits,
) -> String {
    let mut proposals = proposals(sites, registry);
    leave_out_unwritable(&mut proposals, registry, files);
    // What `check` will report against the registry, by metric: judged
    // here, the same way, so that the comments say exactly that.
    let judge = |proposals: &[Proposal<'_>], packs: &PackEntries| {
        let draft = write_registry(proposals, packs, registry, files, &BTreeMap::new());
        match crate::registry::load_str("metrics.yaml", &draft) {
            Ok(proposed) => drifts_against(sites, &proposed),
            Err(_) => BTreeMap::new(),
        }
    };
    let drifts = judge(&proposals, &PackEntries::default());
    // A definition that its own sites do not meet (a filter or a column
    // lost in printing it) would be a false alarm on the reports it came
    // from: left to the team (a metric the pack defines is judged anyway).
    let mut changed = false;
    for proposal in proposals.iter_mut().filter(|p| p.left_out.is_none()) {
        let among = |sites: &[&MetricSite], path: &str, line: u32| {
            sites
                .iter()
                .any(|s| *s.path == *path && s.range.start.line == line)
        };
        let flagged = || drifts.get(&proposal.name).into_iter().flatten();
        if flagged().any(|(_, _, path, line)| among(&proposal.chosen, path, *line)) {
            proposal.left_out =
                Some("its own sites do not meet the definition metriclint can write");
            changed = true;
        } else if flagged().any(|(_, _, path, line)| !among(&proposal.all_sites, path, *line)) {
            // Reports that compute it in a form ML010 does not compare (a
            // CASE over totals, a value picked) were never weighed: one way
            // chosen without them would call them wrong unheard.
            proposal.left_out =
                Some("some of its reports compute it in a form metriclint does not weigh");
            changed = true;
        }
    }
    // A base measure of the pack that no proposal covers, flagged at sites
    // init never weighed (a nonprofit's `revenue_total` summing donations
    // and interest): the pack does not know the repository's columns, so
    // its reports are compared with each other instead.
    // So is a rate of the pack flagged at a site the pack alone left to the
    // reports (a `conversion_rate` that is a unit conversion factor, over
    // columns the pack does not know): adopting init's registry must not
    // judge what the pack alone did not.
    let judged_alone: BTreeSet<(&str, u32)> = sites
        .iter()
        .filter(|s| s.verdict.is_some())
        .map(|s| (&*s.path, s.range.start.line))
        .collect();
    let judged_by_the_pack_alone = |path: &str, line: u32| judged_alone.contains(&(path, line));
    let mut packs = PackEntries::default();
    for (name, flagged) in &drifts {
        if proposals.iter().any(|p| p.name == *name) {
            continue;
        }
        let newly_judged = || {
            flagged
                .iter()
                .any(|(_, _, path, line)| !judged_by_the_pack_alone(path, *line))
        };
        if let Some(metric) = registry
            .get(name)
            .filter(|m| !m.is_ratio() || newly_judged())
        {
            packs.unweighed.push((name.clone(), metric.agreed.clone()));
            changed = true;
        }
    }
    let drifts = if changed {
        judge(&proposals, &packs)
    } else {
        drifts
    };
    // A rate of the pack every report gives in percent, which the pack
    // alone took as the repository's unit: written in percent, so that
    // adopting this registry keeps that agreement.
    packs.in_percent = in_the_repositorys_percent(units, &proposals, &packs, registry);
    let drifts = if packs.in_percent.is_empty() {
        drifts
    } else {
        judge(&proposals, &packs)
    };
    let mut out = write_registry(&proposals, &packs, registry, files, &drifts);
    // A figure that adds up a column of per-row rates gets no definition
    // (one would agree with it): `check` reports it under any name.
    let summed_rates: Vec<&crate::finding::Finding> = findings
        .iter()
        .filter(|f| crate::rules::RatioAggregationMismatch::is_summed_rate(f))
        .collect();
    if !summed_rates.is_empty() {
        let _ = writeln!(out);
        comment!(
            out,
            "# Also reported, with no definition: a sum of per-row rates is no figure to agree on:"
        );
        for finding in summed_rates {
            comment!(
                out,
                "#   ML005: {} adds up {} at {}:{}",
                finding.metric.as_deref().unwrap_or("?"),
                finding.found.as_deref().unwrap_or("?"),
                finding.path,
                finding.range.start.line
            );
        }
    }
    out
}

/// Entries for the pack's own metrics, beside the proposals.
#[derive(Default)]
struct PackEntries {
    /// Pack metrics whose reports are compared with each other, not with
    /// the pack's formula: (name, the pack's body).
    unweighed: Vec<(String, Expr)>,
    /// Pack rates (a fraction in the pack) every report gives in percent:
    /// (name, the pack's body times a hundred, the pack's synonyms,
    /// quoted).
    in_percent: Vec<(String, Expr, Vec<String>)>,
}

/// The pack's fraction-valued rates the repository keeps in percent (the
/// pack alone took a scale no report contradicts as the repository's unit,
/// see [`crate::rules::UnitMismatch::in_the_repositorys_unit`]) and no
/// proposal defines: the registry `init` writes must keep that unit, not
/// turn it into drift from the pack it extends.
fn in_the_repositorys_percent(
    units: &crate::rules::RepositoryUnits,
    proposals: &[Proposal<'_>],
    packs: &PackEntries,
    registry: &Registry,
) -> Vec<(String, Expr, Vec<String>)> {
    use crate::registry::Unit;
    let mut out = Vec::new();
    for (name, scale) in units {
        let entered = proposals.iter().any(|p| p.name == *name)
            || packs.unweighed.iter().any(|(n, _)| n == name);
        let Some(metric) = registry.get(name) else {
            continue;
        };
        if entered
            || !crate::rules::is_percent_for_a_fraction(scale)
            || metric.unit != Some(Unit::Fraction)
        {
            continue;
        }
        let body = Expr::product(
            crate::canon::Number::int(100),
            vec![crate::canon::Factor {
                inverse: false,
                expr: metric.agreed.clone(),
            }],
        );
        if writable_with_unit(&body, Some(Unit::Percent)) {
            // All the pack's synonyms: the entry takes the pack's place,
            // and a column per row under a synonym (`click_through_rate`)
            // is no site to tell which the reports use.
            let synonyms = metric.synonyms.iter().map(|s| quoted(s)).collect();
            out.push((name.clone(), body, synonyms));
        }
    }
    out
}

/// Marks the proposals whose entry would stop the registry loading: an
/// override of a pack metric that other pack metrics are computed from
/// (`revenue` with a constant factor, under the pack's fraction-valued take
/// rate). Checked one by one only when the whole draft does not load.
fn leave_out_unwritable(proposals: &mut [Proposal<'_>], registry: &Registry, files: usize) {
    let loads = |proposals: &[Proposal<'_>]| {
        let draft = write_registry(
            proposals,
            &PackEntries::default(),
            registry,
            files,
            &BTreeMap::new(),
        );
        crate::registry::load_str("metrics.yaml", &draft).is_ok()
    };
    if loads(proposals) {
        return;
    }
    for proposal in proposals.iter_mut() {
        if !loads(std::slice::from_ref(proposal)) {
            proposal.unwritable = true;
            proposal.left_out =
                Some("written as the reports compute it, it would contradict the built-in pack's metrics computed from it");
        }
    }
}

/// The metrics to propose, by name.
fn proposals<'s>(sites: &'s drift::Sites, registry: &Registry) -> Vec<Proposal<'s>> {
    let mut groups: BTreeMap<String, Vec<&MetricSite>> = BTreeMap::new();
    // Retired reports (an `archive/` folder) say how a figure was made, not
    // how it is: they propose nothing.
    for site in sites.iter().filter(|s| drift::is_compared(s) && !s.retired) {
        groups
            .entry(snake_case(&drift::metric_name(site, registry)))
            .or_default()
            .push(site);
    }
    let mut out = Vec::new();
    for (name, group) in groups {
        let mut ways = drift::ways_of(&group, registry);
        let reports = |sites: &[&MetricSite]| {
            sites
                .iter()
                .map(|s| &*s.path)
                .collect::<BTreeSet<_>>()
                .len()
        };
        // A ratio of totals, where the reports have one, over averaged or
        // summed per-row ratios; then the most reports; then the pack's.
        let has_ratio_of_totals = ways.iter().any(|(form, _)| is_ratio_of_totals(form));
        let agreed = registry.get(&name).map(|m| &m.agreed);
        // A way made only of re-aggregations of a stored column (`SUM(x)
        // AS x`) says nothing of how the figure is made: last.
        ways.sort_by_key(|(form, sites)| {
            (
                sites.iter().all(|s| drift::is_pass_through(s, registry)),
                has_ratio_of_totals && !is_ratio_of_totals(form),
                std::cmp::Reverse(reports(sites)),
                agreed != Some(form),
            )
        });
        let (definition, chosen) = ways.remove(0);
        let definition = most_shared_form(&chosen).unwrap_or(definition);
        // Adding up a column of per-row rates (`SUM(margin_percent)`) makes
        // no figure: no definition agrees with it, and `check` reports it
        // (ML005) whatever the registry.
        if crate::judge::summed_rate(&definition).is_some() {
            continue;
        }
        // A definition aggregates: a column passed on by name, or a ratio
        // of one row's columns, says how no total is made.
        if !definition.has_aggregate() {
            continue;
        }
        // Where the pack divides totals and the reports only total a ratio
        // (`SUM(cpc)`, `AVG(ctr)`), the ratio of totals wins: the pack's
        // definition stands, and judges them as it did with no registry.
        if agreed.is_some_and(is_ratio_of_totals) && !is_ratio_of_totals(&definition) {
            continue;
        }
        // Where the reports divide what the pack divides by (clicks over
        // spend for a CPC), the pack's definition stands: an inversion is
        // the drift, never the agreement.
        if agreed.is_some_and(|agreed| drift::inverted(&definition, agreed)) {
            continue;
        }
        // Ways computed from other relations, in other reports, are other
        // connectors' schemas (ML010 leaves them be): one definition would
        // call them all wrong. Left to the team.
        let apart = ways.iter().any(|(_, sites)| {
            sites
                .iter()
                .any(|s| !chosen.iter().any(|c| drift::comparable(s, c)))
        });
        // (A metric the extended pack defines is judged by it anyway: it is
        // proposed, and the comments say what check will report.)
        // Reports that split with no majority have not agreed on anything
        // one definition could say, unless a ratio of totals settles it or
        // the pack agrees with the way chosen.
        let total = reports(&group);
        let settled = (is_ratio_of_totals(&definition)
            && ways.iter().all(|(form, _)| !is_ratio_of_totals(form)))
            || agreed == Some(&definition);
        let split = !ways.is_empty() && reports(&chosen) * 2 <= total && !settled;
        // Ways that differ as a report may mean to (a filter of its own, a
        // clamp, a total of another model's averages) are no drift ML010
        // reports: one definition would call them wrong.
        let unsettled = ways.iter().any(|(_, sites)| {
            sites
                .iter()
                .any(|s| match drift::evidence_between(s, chosen[0], registry) {
                    drift::Evidence::Evident => false,
                    drift::Evidence::EvidentOverOneRelation => !chosen
                        .iter()
                        .any(|c| drift::counted_rows_of_one_relation(s, c, registry)),
                    drift::Evidence::AgainstMajority => reports(&chosen) < 2,
                    drift::Evidence::AgainstMajorityOfItsGrain => {
                        !drift::majority_of_its_grain(s, &chosen, sites)
                    }
                    drift::Evidence::AnotherFactor => !drift::writes_the_same_factor(s, chosen[0]),
                    drift::Evidence::AnotherColumnOfItsSources => {
                        !drift::same_sources(s, chosen[0])
                            || drift::wheres_pick_their_own_subjects(s, chosen[0])
                            || !drift::majority_of_its_grain(s, &chosen, sites)
                    }
                    drift::Evidence::Unsettled => true,
                })
        });
        if apart || split || unsettled || !writable(&definition) {
            out.push(Proposal {
                name,
                definition,
                chosen,
                others: ways,
                filter: Vec::new(),
                usual_filter: Vec::new(),
                source: None,
                usual_source: None,
                all_sites: group.clone(),
                unwritable: false,
                left_out: Some(if apart {
                    "computed from different relations in different reports"
                } else if split {
                    "the reports split with no majority"
                } else if unsettled {
                    "its reports differ in ways each may mean (a filter of its own, a clamp, a total of another model's figures)"
                } else {
                    "its computation cannot be written as registry SQL"
                }),
            });
            continue;
        }
        // The conditions every site of the metric applies, whichever way.
        let (filter, usual_filter) = shared_conditions(&group);
        let (source, usual_source) = shared_source(&chosen);
        out.push(Proposal {
            name,
            definition,
            chosen,
            others: ways,
            filter,
            usual_filter,
            source,
            usual_source,
            left_out: None,
            all_sites: group.clone(),
            unwritable: false,
        });
    }
    out
}

/// The form most of one way's sites compute as a registry reads them: a way
/// gathers spellings that only reports compared with each other overlook (a
/// rollup's `SUM(balance_cents)` over a model is the model's own figure,
/// summed again), and its definition must be the one its reports write, not
/// a rollup's (ties go to a form with no aggregate inside an aggregate).
fn most_shared_form(sites: &[&MetricSite]) -> Option<Expr> {
    let mut counts: Vec<(Expr, usize, &Expr)> = Vec::new();
    for site in sites {
        let key = drift::with_counts_alike_and(site.read_form(), false);
        match counts.iter_mut().find(|(k, _, _)| *k == key) {
            Some((_, n, _)) => *n += 1,
            None => counts.push((key, 1, site.read_form())),
        }
    }
    let nested = |e: &Expr| {
        let mut found = false;
        e.walk(&mut |x| {
            if let Expr::Aggregate(agg) = x {
                found |= agg.arg.has_aggregate();
            }
        });
        found
    };
    counts
        .iter()
        .enumerate()
        .max_by_key(|(i, (_, n, form))| (*n, !nested(form), std::cmp::Reverse(*i)))
        .map(|(_, (_, _, form))| (*form).clone())
}

/// Whether a definition, printed, loads back as registry SQL.
fn writable(definition: &Expr) -> bool {
    writable_with_unit(definition, None)
}

/// Whether a definition loads back with `unit` (a pack's fraction over a
/// body the reports write ×100 does not).
fn writable_with_unit(definition: &Expr, unit: Option<crate::registry::Unit>) -> bool {
    let unit = unit
        .map(|u| format!("    unit: {}\n", u.name()))
        .unwrap_or_default();
    let text = format!(
        "version: 1\nmetrics:\n  - name: m\n{unit}    sql: {}\n",
        quoted(&definition.to_string())
    );
    crate::registry::load_str("check.yaml", &text).is_ok()
}

/// The unit to write: the pack's where the chosen body is at its scale,
/// percent for a fraction the reports write ×100, else none.
fn unit_for(
    definition: &Expr,
    pack: Option<crate::registry::Unit>,
) -> Option<crate::registry::Unit> {
    use crate::registry::Unit;
    let pack = pack?;
    if writable_with_unit(definition, Some(pack)) {
        return Some(pack);
    }
    (pack == Unit::Fraction && writable_with_unit(definition, Some(Unit::Percent)))
        .then_some(Unit::Percent)
}

/// `SUM(a) / SUM(b)`: aggregates divided, none of them over a ratio.
fn is_ratio_of_totals(form: &Expr) -> bool {
    let (_, numerator, denominator) = form.as_ratio();
    let divides = !matches!(&denominator, Expr::Number(n) if n.is_one());
    let per_row_ratio = |e: &Expr| {
        let mut found = false;
        e.walk(&mut |x| {
            if let Expr::Aggregate(agg) = x {
                found |=
                    matches!(&agg.arg, Expr::Product(p) if p.factors.iter().any(|f| f.inverse));
            }
        });
        found
    };
    divides
        && numerator.has_aggregate()
        && denominator.has_aggregate()
        && !per_row_ratio(&numerator)
        && !per_row_ratio(&denominator)
}

/// Whether a condition is fit for a registry filter: printable SQL that
/// says which rows a metric counts, not which dates or partitions a report
/// reads, nor a window or a template's placeholder.
fn is_row_condition(condition: &Expr) -> bool {
    // A constant (`1 = 1`, a macro's typed NULL filler) says nothing.
    if condition.is_uncertain() || condition.has_aggregate() || condition.columns().is_empty() {
        return false;
    }
    let text = condition.to_string();
    let lowered = text.to_lowercase();
    let reparses = sqlparser::parser::Parser::new(&sqlparser::dialect::GenericDialect {})
        .try_with_sql(&text)
        .and_then(|mut p| p.parse_expr())
        .is_ok();
    !crate::judge::is_date_predicate(condition)
        && reparses
        && !lowered.contains(crate::template::PLACEHOLDER_PREFIX)
        && !lowered.contains(" over ")
        && !lowered.contains(" over(")
}

/// The conditions all `sites` (two or more) apply, and those applied by
/// more than half of them but not all, with their counts.
fn shared_conditions(sites: &[&MetricSite]) -> (Vec<Expr>, Vec<(Expr, usize)>) {
    let mut counts: Vec<(Expr, usize)> = Vec::new();
    for site in sites {
        let mut seen: Vec<&Expr> = Vec::new();
        for condition in site.slice.iter().filter(|c| is_row_condition(c)) {
            if seen.contains(&condition) {
                continue;
            }
            seen.push(condition);
            match counts.iter_mut().find(|(c, _)| c == condition) {
                Some((_, n)) => *n += 1,
                None => counts.push((condition.clone(), 1)),
            }
        }
    }
    let all = sites.len();
    let filter = counts
        .iter()
        .filter(|(_, n)| *n == all && all > 1)
        .map(|(c, _)| c.clone())
        .collect();
    let usual = counts
        .into_iter()
        .filter(|(_, n)| *n < all && *n * 2 > all)
        .collect();
    (filter, usual)
}

/// The relation every site reads (each reading one), or the one most read.
fn shared_source(sites: &[&MetricSite]) -> (Option<String>, Option<(String, usize)>) {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for site in sites {
        if let [relation] = &*site.sources {
            // The registry names a table by its own name; a site's schema
            // qualifiers still match it (see `same_relation`).
            let table = relation.rsplit('.').next().unwrap_or(relation);
            *counts.entry(table).or_default() += 1;
        }
    }
    let fit = |r: &str| !r.is_empty() && r.chars().all(|c| c.is_alphanumeric() || c == '_');
    let best = counts
        .iter()
        .filter(|(r, _)| fit(r))
        .max_by_key(|(_, n)| **n)
        .map(|(r, n)| (r.to_string(), *n));
    match best {
        Some((relation, n)) if n == sites.len() => (Some(relation), None),
        Some((relation, n)) if n * 2 > sites.len() => (None, Some((relation, n))),
        _ => (None, None),
    }
}

/// The drifts `check` reports against `proposed`, by metric: (code, the
/// site's form as found, path, line) for every site it judges to differ.
type Drifts = BTreeMap<String, Vec<(&'static str, String, String, u32)>>;

fn drifts_against(sites: &drift::Sites, proposed: &Registry) -> Drifts {
    let mut out: Drifts = BTreeMap::new();
    // What each statement publishes, as `check` judges its sites with it.
    let mut published: HashMap<(&str, usize), Vec<Expr>> = HashMap::new();
    for site in sites.iter().filter(|s| s.top_level) {
        if let Some(computation) = site.computation.as_ref().filter(|c| c.has_aggregate()) {
            published
                .entry((&*site.path, site.statement))
                .or_default()
                .push(crate::judge::without_slice(computation));
        }
    }
    for site in sites.iter().filter(|s| s.top_level) {
        let Some((metric, _)) = proposed.lookup(&site.output_name) else {
            continue;
        };
        let as_extracted = crate::extract::Site {
            reads: site.reads.to_vec(),
            statement: site.statement,
            in_union: site.in_union,
            top_level: site.top_level,
            label: site.label.as_deref().map(str::to_string),
            target: site.target.as_deref().map(str::to_string),
            entities: site.entities.to_vec(),
            over_a_join: site.over_a_join,
            written_scale: site.written_scale,
            source_tables: site.source_tables.to_vec(),
            reads_distinct: site.reads_distinct.to_vec(),
            ..crate::extract::Site::standing_alone(
                &site.output_name,
                site.range,
                // `init` runs the check with `inventory`, which keeps it.
                site.computation.as_deref().cloned().unwrap_or(Expr::Null),
                site.sources.to_vec(),
            )
        };
        let beside: Vec<&Expr> = published
            .get(&(&*site.path, site.statement))
            .map(|forms| forms.iter().collect())
            .unwrap_or_default();
        let Some(finding) = crate::check::judge_site(&site.path, &as_extracted, proposed, &beside)
        else {
            continue;
        };
        if finding.code == crate::rules::NonCanonicalName::INFO.code {
            continue;
        }
        out.entry(metric.name.clone()).or_default().push((
            finding.code,
            finding.found.clone().unwrap_or_default(),
            site.path.to_string(),
            site.range.start.line,
        ));
    }
    out
}

fn write_registry(
    proposals: &[Proposal<'_>],
    packs: &PackEntries,
    registry: &Registry,
    files: usize,
    drifts: &Drifts,
) -> String {
    let mut out = String::new();
    comment!(
        out,
        "# Metric registry written by `metriclint init` from {files} report files."
    );
    comment!(
        out,
        "# Each definition is the way most reports compute the metric (a ratio of"
    );
    comment!(
        out,
        "# totals over averaged ratios); the comments say which sites `check` will"
    );
    comment!(
        out,
        "# report against it. Agree on each one, add descriptions and owners, then"
    );
    comment!(out, "# commit this file and pass it with --registry.");
    let _ = writeln!(out, "version: 1");
    let _ = writeln!(out, "extends: [{}]", crate::registry::builtin::DEFAULT_PACK);
    let _ = writeln!(out, "metrics:");
    for proposal in proposals {
        let _ = writeln!(out);
        if let Some(why) = proposal.left_out {
            let mut ways: Vec<(String, &MetricSite)> =
                vec![(proposal.definition.to_string(), proposal.chosen[0])];
            ways.extend(proposal.others.iter().map(|(f, s)| (f.to_string(), s[0])));
            comment!(
                out,
                "  # {}: {why}; its reports are compared with each other (ML010), not with a formula:",
                proposal.name
            );
            for (form, site) in ways {
                comment!(
                    out,
                    "  #   {form}, e.g. {}:{}",
                    site.path,
                    site.range.start.line
                );
            }
            // A ratio of totals still says how it aggregates: the sites
            // that average or sum per-row ratios are reported (ML005).
            write_reported(&mut out, drifts, &proposal.name);
            // Written, so that it also overrides a pack's definition; with
            // `compare: reports` the body is not judged against, so one the
            // pack's metrics cannot carry, or registry SQL cannot say (a
            // JSON operator), is written as the pack's own.
            let packs = || {
                registry
                    .get(&proposal.name)
                    .map(|m| m.agreed.clone())
                    .filter(writable)
            };
            let body = if proposal.unwritable {
                packs()
            } else {
                Some(proposal.definition.clone())
                    .filter(writable)
                    .or_else(packs)
            };
            if let Some(body) = body {
                let _ = writeln!(out, "  - name: {}", proposal.name);
                let _ = writeln!(out, "    compare: reports");
                // The pack's synonyms the reports use keep naming the metric,
                // as they did under the pack alone: its sites are compared
                // with the others, never judged as figures of their own.
                if let Some(metric) = registry.get(&proposal.name) {
                    let used: Vec<String> = metric
                        .synonyms
                        .iter()
                        .filter(|synonym| {
                            proposal
                                .all_sites
                                .iter()
                                .any(|s| s.output_name.eq_ignore_ascii_case(synonym))
                        })
                        .map(|s| quoted(s))
                        .collect();
                    if !used.is_empty() {
                        let _ = writeln!(out, "    synonyms: [{}]", used.join(", "));
                    }
                }
                let _ = writeln!(out, "    sql: {}", quoted(&body.to_string()));
            }
            continue;
        }
        write_reported(&mut out, drifts, &proposal.name);
        for (form, sites) in &proposal.others {
            let flagged = drifts.get(&proposal.name).into_iter().flatten();
            let judged = flagged.into_iter().any(|(_, _, path, line)| {
                sites
                    .iter()
                    .any(|s| *s.path == **path && s.range.start.line == *line)
            });
            if !judged {
                comment!(
                    out,
                    "  # also computed as {form} ({} site{}, e.g. {}:{}), which check cannot compare for sure",
                    sites.len(),
                    if sites.len() == 1 { "" } else { "s" },
                    sites[0].path,
                    sites[0].range.start.line
                );
            }
        }
        if let Some((relation, n)) = &proposal.usual_source {
            comment!(
                out,
                "  # {n} of {} sites read {relation}",
                proposal.chosen.len()
            );
        }
        for (condition, n) in &proposal.usual_filter {
            comment!(
                out,
                "  # {n} of {} sites filter on {condition}",
                proposal.all_sites.len()
            );
        }
        let _ = writeln!(out, "  - name: {}", proposal.name);
        if let Some(metric) = registry.get(&proposal.name) {
            if let Some(d) = &metric.description {
                let _ = writeln!(out, "    description: {}", quoted(d.trim()));
            }
            // The pack's synonyms this repository uses for the metric, where
            // its reports are comparable with the chosen ones: another
            // product's `click_count` is not this one's clicks.
            let used: Vec<String> = metric
                .synonyms
                .iter()
                .filter(|synonym| {
                    proposal.all_sites.iter().any(|s| {
                        s.output_name.eq_ignore_ascii_case(synonym)
                            && proposal.chosen.iter().any(|c| drift::comparable(s, c))
                    })
                })
                .map(|s| quoted(s))
                .collect();
            if !used.is_empty() {
                let _ = writeln!(out, "    synonyms: [{}]", used.join(", "));
            }
            if let Some(unit) = unit_for(&proposal.definition, metric.unit) {
                let _ = writeln!(out, "    unit: {}", unit.name());
            }
        }
        let shown: BTreeSet<String> = proposal
            .chosen
            .iter()
            .map(|s| s.output_name.to_lowercase())
            .filter(|n| *n != proposal.name)
            .collect();
        if !shown.is_empty() {
            let shown: Vec<String> = shown.into_iter().collect();
            comment!(out, "    # named in the reports: {}", shown.join(", "));
        }
        if let Some(relation) = &proposal.source {
            let _ = writeln!(out, "    source: {}", quoted(relation));
        }
        write_filter(&mut out, &proposal.filter);
        let _ = writeln!(out, "    sql: {}", quoted(&proposal.definition.to_string()));
    }
    for (name, body, synonyms) in &packs.in_percent {
        let mut settings = Vec::new();
        if let Some(d) = registry.get(name).and_then(|m| m.description.as_ref()) {
            settings.push(format!("description: {}", quoted(d.trim())));
        }
        if !synonyms.is_empty() {
            settings.push(format!("synonyms: [{}]", synonyms.join(", ")));
        }
        settings.push("unit: percent".to_string());
        write_pack_entry(
            &mut out,
            drifts,
            (name, body),
            "the built-in pack's, in percent (×100) as every report here gives it, where the pack's is a fraction",
            &settings,
        );
    }
    for (name, body) in &packs.unweighed {
        write_pack_entry(
            &mut out,
            drifts,
            (name, body),
            "the built-in pack's, which does not know this repository's columns, and its reports compute it in forms metriclint does not weigh: they are compared with each other (ML010), not with a formula",
            &["compare: reports".to_string()],
        );
    }
    // Sites of metrics this file does not define, which `check` judges
    // against the pack it extends.
    let proposed: BTreeSet<&str> = proposals
        .iter()
        .map(|p| p.name.as_str())
        .chain(packs.unweighed.iter().map(|(n, _)| n.as_str()))
        .chain(packs.in_percent.iter().map(|(n, _, _)| n.as_str()))
        .collect();
    let mut first = true;
    for (metric, found) in drifts
        .iter()
        .filter(|(m, _)| !proposed.contains(m.as_str()))
    {
        if first {
            let _ = writeln!(out);
            comment!(
                out,
                "# Also reported, against the definitions of the extended pack:"
            );
            first = false;
        }
        for (code, form, path, line) in found {
            comment!(
                out,
                "#   {code}: {metric} computed as {form} at {path}:{line}"
            );
        }
    }
    out
}

/// An entry for a metric of the pack (its name and body), after a comment
/// saying `why` it is written and what check reports against it, with its
/// other `settings` (`unit: percent`) before its body.
fn write_pack_entry(
    out: &mut String,
    drifts: &Drifts,
    (name, body): (&str, &Expr),
    why: &str,
    settings: &[String],
) {
    let _ = writeln!(out);
    comment!(out, "  # {name}: {why}");
    write_reported(out, drifts, name);
    let _ = writeln!(out, "  - name: {name}");
    for setting in settings {
        let _ = writeln!(out, "    {setting}");
    }
    let _ = writeln!(out, "    sql: {}", quoted(&body.to_string()));
}

/// What check will report against a metric, grouped by how it was found.
fn write_reported(out: &mut String, drifts: &Drifts, name: &str) {
    let mut reported: Vec<(&str, &str, usize, &str, u32)> = Vec::new();
    for (code, found, path, line) in drifts.get(name).into_iter().flatten() {
        match reported.iter_mut().find(|r| r.1 == found.as_str()) {
            Some(r) => r.2 += 1,
            None => reported.push((code, found, 1, path, *line)),
        }
    }
    for (code, found, count, path, line) in &reported {
        comment!(
            out,
            "  # {code}: computed as {found}: {count} site{}, e.g. {path}:{line}",
            if *count == 1 { "" } else { "s" }
        );
    }
}

/// A registry in the native format with the definitions of `registry` (read
/// from dbt Semantic Layer YAML, say): what `init --from-dbt` writes.
pub fn native_registry(registry: &Registry, from: &str) -> String {
    let mut out = String::new();
    comment!(
        out,
        "# Metric registry written by `metriclint init --from-dbt` from {from}."
    );
    comment!(
        out,
        "# Definitions are MetricFlow's, flattened to SQL; edit and commit."
    );
    let _ = writeln!(out, "version: 1");
    let _ = writeln!(out, "metrics:");
    for metric in registry.metrics() {
        let _ = writeln!(out);
        if metric.definition.is_uncertain() {
            comment!(
                out,
                "  # {}: {}, not comparable in SQL; left out",
                metric.name,
                metric.body_text
            );
            continue;
        }
        let _ = writeln!(out, "  - name: {}", metric.name);
        if let Some(label) = &metric.label {
            let _ = writeln!(out, "    label: {}", quoted(label));
        }
        if let Some(d) = &metric.description {
            let _ = writeln!(out, "    description: {}", quoted(d.trim()));
        }
        if !metric.source.is_empty() {
            let _ = writeln!(out, "    source: {}", metric.source.join(", "));
        }
        write_filter(&mut out, &metric.filter);
        let _ = writeln!(out, "    sql: {}", quoted(&metric.definition.to_string()));
    }
    out
}
