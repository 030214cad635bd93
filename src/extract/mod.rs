//! Extraction: every place a statement computes a named value.
//!
//! A site is a select-list item, in any SELECT of the statement (top level,
//! CTEs, derived tables, subqueries in WHERE/HAVING, each UNION branch, the
//! query of CREATE TABLE/VIEW … AS and INSERT … SELECT), whose output name the
//! caller asks for. Each site is lowered to the canonical form right here, so
//! the AST can be dropped as soon as the file is done.

mod alias_reads;
pub mod identical_operands;
pub mod liveness;
mod scope;
mod span;

use std::collections::HashMap;
use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr as AstExpr, Query, Select, SelectItem, SetExpr, Spanned, Statement, TableFactor, Visit,
    Visitor,
};

use crate::canon::Expr;
use crate::source::{LineIndex, Range};

use scope::Ctes;
pub use scope::{no_models, same_relation, selects_of, ModelOutputs, Models, Scope, TableGrains};

/// One computation of a named value in a report.
#[derive(Clone, Debug)]
pub struct Site {
    /// The output name as written (alias, or column name when unaliased), unquoted.
    pub output_name: String,
    /// The expression's place in the file.
    pub range: Range,
    /// The computation in canonical form.
    pub computation: Expr,
    /// Base relations the SELECT reads, through its lineage (last name
    /// parts, lowercased, sorted).
    pub sources: Vec<String>,
    /// The relations the SELECT reads itself (not through upstream models).
    pub reads: Vec<String>,
    /// Which statement of the file it is in (from 0), and whether it is in a
    /// UNION branch: the parts of one report that must agree with each other.
    pub statement: usize,
    pub in_union: bool,
    /// Whether it is an output of its statement (not inside a CTE, a derived
    /// table or a subquery): what the report publishes.
    pub top_level: bool,
    /// In a long-format UNION, whose branches say in a literal column which
    /// figure each holds (`'first_touch' AS attribution_type`): this
    /// branch's label. Branches with different labels hold different figures.
    pub label: Option<String>,
    /// The relation its statement writes (`INSERT INTO t`, `CREATE TABLE t
    /// AS`, `CREATE VIEW t AS`), if it writes one: statements of one file
    /// that fill one table fill one figure; statements that build
    /// different tables are stages, compared as reports are.
    pub target: Option<String>,
    /// The keys of the things its SELECT groups by (`pool_id`,
    /// `user_id`, `pool_address`): a figure per pool is another figure than
    /// one per chain.
    pub entities: Vec<String>,
    /// Whether its expression calls an aggregate itself (`SUM(x)`), rather
    /// than reading one a CTE or an upstream model computed.
    pub aggregates_itself: bool,
    /// Whether each of its SELECT's groups is one row of what it reads, so
    /// its totals pass single values through: it groups by a row id
    /// (Fivetran's `_fivetran_id`, which Fivetran documents as the unique
    /// key of a synced row), or by (or fixes in its WHERE) every column of
    /// the key of the one relation it reads (see `Scope::one_row_per_group`).
    pub one_row_per_group: bool,
    /// Whether its SELECT reads more than one relation (a join, or a comma
    /// list): its rows are the join's, no one relation's.
    pub over_a_join: bool,
    /// The computation with the models its statement reads left unresolved
    /// (their columns read as stored), where that differs from
    /// `computation`: what the report writes at its own stage.
    pub written: Option<Expr>,
    /// The same with its CTEs left unresolved too, where that differs from
    /// both: what its final SELECT writes.
    pub written_with_ctes: Option<Expr>,
    /// The constant factor its expression writes itself (`/ 2`, `* 100`),
    /// lineage aside: 1 when none.
    pub written_scale: f64,
    /// Of its sources, the tables no model of the project builds: where its
    /// figure's values come from in the end.
    pub source_tables: Vec<String>,
    /// The columns of the rows its SELECT reads, where it reads one `SELECT
    /// DISTINCT` or grouped query (see [`Scope::read_distinct_rows`]):
    /// `COUNT(*)` over a CTE of `DISTINCT cover_id, cover_status, …` counts
    /// covers.
    pub reads_distinct: Vec<String>,
    /// Where its alias is written (`AS click_through_rate`: the name, with
    /// its quotes), and the text there; `None` when it has none.
    pub alias: Option<(Range, String)>,
    /// Where its statement reads the alias by name (`ORDER BY ctr`, an
    /// outer query's `c.ctr`), as far as that can be proven, with the text
    /// there: what renaming the alias renames too. `None` where a rename
    /// would change what the statement does with no name written (a
    /// NATURAL JOIN of what holds it).
    pub alias_reads: Option<Vec<(Range, String)>>,
    /// Whether its SELECT reads named tables only, no CTE, derived table or
    /// table function: the columns it aggregates are those tables' own.
    pub reads_tables_itself: bool,
    /// A ratio its expression adds to or subtracts from the ratio's own
    /// denominator, as written (see [`crate::rules::OperatorPrecedence`]).
    pub missing_parentheses: Option<crate::rules::TotalBesideItsRatio>,
}

impl Site {
    /// A top-level figure computing `computation` over `sources`, written
    /// alone at `range` (a metric definition judged as a report's figure):
    /// no union, label, join, or constant factor of its own.
    pub fn standing_alone(
        output_name: &str,
        range: Range,
        computation: Expr,
        sources: Vec<String>,
    ) -> Site {
        Site {
            output_name: output_name.to_string(),
            range,
            computation,
            reads: sources.clone(),
            source_tables: sources.clone(),
            sources,
            statement: 0,
            in_union: false,
            top_level: true,
            label: None,
            target: None,
            entities: Vec::new(),
            aggregates_itself: true,
            one_row_per_group: false,
            over_a_join: false,
            written: None,
            written_with_ctes: None,
            written_scale: 1.0,
            reads_distinct: Vec::new(),
            alias: None,
            alias_reads: Some(Vec::new()),
            reads_tables_itself: true,
            missing_parentheses: None,
        }
    }
}

/// The columns a SELECT groups by, lowercased, as its aggregates read them:
/// a select-list alias (`GROUP BY landing_page` for `page_path AS
/// landing_page`) or position (`GROUP BY 2`) stands for its expression, and
/// both the alias and the column count as grouped (a source column of the
/// alias's name would be the same key, or near enough to stay silent).
fn grouped_columns(select: &Select, lowerer: &crate::canon::lower::Lowerer<'_>) -> Vec<String> {
    use sqlparser::ast::{GroupByExpr, Value};
    let mut columns = Vec::new();
    let add = |e: &AstExpr, columns: &mut Vec<String>| {
        if let Some(name) = grouped_column(&lowerer.lower(e)) {
            columns.push(name);
        }
    };
    let aliased = |name: &str| {
        select.projection.iter().find_map(|item| match item {
            SelectItem::ExprWithAlias { expr, alias } if alias.value.eq_ignore_ascii_case(name) => {
                Some(expr)
            }
            _ => None,
        })
    };
    match &select.group_by {
        GroupByExpr::Expressions(exprs, _) => {
            for e in exprs {
                match e {
                    AstExpr::Value(v) => {
                        if let Value::Number(n, _) = &v.value {
                            let item = n
                                .parse::<usize>()
                                .ok()
                                .and_then(|i| select.projection.get(i.checked_sub(1)?));
                            if let Some(
                                SelectItem::ExprWithAlias { expr, .. }
                                | SelectItem::UnnamedExpr(expr),
                            ) = item
                            {
                                add(expr, &mut columns);
                            }
                        }
                    }
                    AstExpr::Identifier(ident) => {
                        if let Some(expr) = aliased(&ident.value) {
                            add(expr, &mut columns);
                        }
                        add(e, &mut columns);
                    }
                    _ => add(e, &mut columns),
                }
            }
        }
        // `GROUP BY ALL` groups by every select-list item that aggregates nothing.
        GroupByExpr::All(_) => {
            for item in &select.projection {
                if let SelectItem::ExprWithAlias { expr, .. } | SelectItem::UnnamedExpr(expr) = item
                {
                    let lowered = lowerer.lower(expr);
                    if !lowered.has_aggregate() {
                        columns.extend(grouped_column(&lowered));
                    }
                }
            }
        }
    }
    columns.sort_unstable();
    columns.dedup();
    columns
}

/// Whether some aggregate of `computation` counts a column's values.
fn counts_a_column(computation: &Expr) -> bool {
    let mut found = false;
    computation.walk(&mut |e| {
        found |= matches!(e, Expr::Aggregate(agg)
            if agg.func == crate::canon::AggFunc::Count && agg.arg != Expr::Star);
    });
    found
}

/// Whether an expression calls an aggregate function (outside subqueries
/// too: a scalar subquery's aggregate is another query's, but rare here).
pub(super) fn calls_an_aggregate(expr: &AstExpr) -> bool {
    use crate::canon::functions::{meaning, Meaning};
    use sqlparser::ast::Visit;
    struct Calls(bool);
    impl sqlparser::ast::Visitor for Calls {
        type Break = ();
        fn pre_visit_expr(&mut self, expr: &AstExpr) -> ControlFlow<()> {
            if let AstExpr::Function(f) = expr {
                let name = f
                    .name
                    .0
                    .last()
                    .and_then(|part| part.as_ident())
                    .map(|ident| ident.value.to_lowercase())
                    .unwrap_or_default();
                if matches!(
                    meaning(&name),
                    Some(
                        Meaning::Aggregate(_)
                            | Meaning::CountDistinct
                            | Meaning::OtherAggregate
                            | Meaning::CountIf
                            | Meaning::AggregateIf(_)
                    )
                ) {
                    self.0 = true;
                    return ControlFlow::Break(());
                }
            }
            ControlFlow::Continue(())
        }
    }
    let mut calls = Calls(false);
    let _ = expr.visit(&mut calls);
    calls.0
}

/// Whether a SELECT has a GROUP BY.
fn groups(select: &Select) -> bool {
    match &select.group_by {
        sqlparser::ast::GroupByExpr::Expressions(exprs, _) => !exprs.is_empty(),
        sqlparser::ast::GroupByExpr::All(_) => true,
    }
}

/// The keys a SELECT that does not group passes through from the rows it
/// reads: over a CTE of totals per project, `SELECT project_id, …` is a
/// figure per project. A `*` passes what its relation outputs, where known.
fn passed_entities(select: &Select, scope: &Scope<'_>) -> Vec<String> {
    let through_wildcards = select
        .projection
        .iter()
        .any(|item| {
            matches!(
                item,
                SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..)
            )
        })
        .then(|| scope.output_names())
        .flatten()
        .unwrap_or_default();
    select
        .projection
        .iter()
        .filter_map(|item| match item {
            SelectItem::UnnamedExpr(expr) | SelectItem::ExprWithAlias { expr, .. } => match expr {
                AstExpr::Identifier(i) => Some(i.value.to_lowercase()),
                AstExpr::CompoundIdentifier(parts) => parts.last().map(|p| p.value.to_lowercase()),
                _ => None,
            },
            _ => None,
        })
        .chain(through_wildcards)
        .filter(|c| crate::names::names_an_entity(c))
        .collect()
}

/// The column a grouping key is, through renames.
fn grouped_column(key: &Expr) -> Option<String> {
    match key {
        Expr::Column(c) => Some(c.clone()),
        Expr::Renamed { source, .. } | Expr::Cast { expr: source, .. } => grouped_column(source),
        _ => None,
    }
}

/// The computation with every count of a grouped column made opaque:
/// grouped by `page_path`, `COUNT(DISTINCT page_path)` is 1 or 0 in every
/// group, a flag at the query's grain, not the count its name says; grouped
/// by `distinct_id`, `COUNT(distinct_id)` counts each user's rows (games
/// played), not users. What it adds up to depends on a grain no other
/// report shares, so it is compared with nothing.
fn with_group_indicators(computation: Expr, grouped: &[String]) -> Expr {
    if grouped.is_empty() {
        return computation;
    }
    computation.rewrite(&mut |e| match e {
        Expr::Aggregate(agg)
            if agg.func == crate::canon::AggFunc::Count
                && grouped_column(&agg.arg).is_some_and(|c| grouped.contains(&c)) =>
        {
            let what = if agg.distinct {
                "0 or 1 per group"
            } else {
                "the rows of each"
            };
            let text = format!(
                "{} ({what}: the query groups by {})",
                Expr::Aggregate(agg.clone()),
                grouped_column(&agg.arg).unwrap_or_default()
            );
            Expr::Opaque(text)
        }
        other => other,
    })
}

/// Extracts the sites of `statements` whose output name `wanted` accepts.
/// `text` is the file's text, used to complete expression spans.
pub fn extract_sites(
    statements: &[Statement],
    text: &str,
    wanted: &dyn Fn(&str) -> bool,
) -> Vec<Site> {
    let models = Models::new();
    let mut extractor = Extractor::new(text, wanted, &models);
    for statement in statements {
        extractor.statement(statement);
    }
    extractor.into_sites()
}

/// Extracts sites statement by statement from one file's text.
pub struct Extractor<'t, 'w> {
    walker: Walker<'t, 'w>,
    /// What the file's last query outputs, for the models that read this one.
    outputs: Option<ModelOutputs>,
    keep_outputs: bool,
}

impl<'t, 'w> Extractor<'t, 'w> {
    /// `models` are the upstream models this file may read.
    pub fn new(text: &'t str, wanted: &'w dyn Fn(&str) -> bool, models: &'w Models) -> Self {
        Extractor {
            walker: Walker {
                wanted,
                index: LineIndex::new(text),
                text,
                sites: Vec::new(),
                models,
                label: None,
                target: None,
                statement: 0,
                in_union: false,
                nesting: 0,
                published: Vec::new(),
                publishes_all: Vec::new(),
                row_level: None,
                follows_reads_of: None,
                tables: std::rc::Rc::default(),
            },
            outputs: None,
            keep_outputs: false,
        }
    }

    /// Keep the sites that aggregate nothing (a row-level expression) only
    /// under names `row_level` accepts: nothing downstream reads the others,
    /// and a generated file of a million `SELECT 1 AS x` holds none.
    pub fn keeping_row_level_only(mut self, row_level: &'w dyn Fn(&str) -> bool) -> Self {
        self.walker.row_level = Some(row_level);
        self
    }

    /// Find where each statement reads the aliases `renamed` accepts by
    /// name (see [`Site::alias_reads`]); none are looked for otherwise.
    pub fn following_reads_of(mut self, renamed: &'w dyn Fn(&str) -> bool) -> Self {
        self.walker.follows_reads_of = Some(renamed);
        self
    }

    /// Also work out what the file outputs (for a dbt model other models read).
    pub fn keeping_outputs(mut self, keep: bool) -> Self {
        self.keep_outputs = keep;
        self
    }

    /// Adds the sites of one statement of the file.
    pub fn statement(&mut self, statement: &Statement) {
        self.walker.statement(statement, &Vec::new());
        self.walker.find_alias_reads(statement);
        self.walker.statement += 1;
        if !self.keep_outputs {
            return;
        }
        let query = match statement {
            Statement::Query(q) => Some(q.as_ref()),
            Statement::CreateView(v) => Some(v.query.as_ref()),
            Statement::CreateTable(t) => t.query.as_deref(),
            Statement::Insert(i) => i.source.as_deref(),
            _ => None,
        };
        if let Some(query) = query {
            let ctes: Ctes<'_> = query
                .with
                .iter()
                .flat_map(|w| w.cte_tables.iter().map(scope::cte_entry))
                .collect();
            if let Some(select) = scope::selects_of(&query.body).first() {
                self.outputs = Some(
                    Scope::of_select(select, &ctes, self.walker.models)
                        .knowing_tables(self.walker.tables.clone())
                        .outputs(),
                );
            }
        }
    }

    pub fn into_sites(self) -> Vec<Site> {
        self.walker.published_sites()
    }

    /// The sites of the statements added since the last call, complete:
    /// a caller that takes them after each statement holds one statement's
    /// sites at a time, not the file's.
    pub fn take_sites(&mut self) -> Vec<Site> {
        self.walker.take_published_sites()
    }

    /// The sites, and what the file's last query outputs.
    pub fn finish(self) -> (Vec<Site>, Option<ModelOutputs>) {
        let outputs = self.outputs;
        (self.walker.published_sites(), outputs)
    }
}

/// An inner column a statement's output passes on: `SELECT d.raw_ctr AS ctr`.
struct Publication {
    statement: usize,
    /// The inner column, lowercased.
    column: String,
    /// The name it is published under.
    as_name: String,
    /// The label of the long-format UNION branch that publishes it, if any.
    label: Option<String>,
}

struct Walker<'t, 'w> {
    wanted: &'w dyn Fn(&str) -> bool,
    index: LineIndex<'t>,
    text: &'t str,
    sites: Vec<Site>,
    models: &'w Models,
    /// The keys of the tables the file's statements so far created.
    tables: std::rc::Rc<TableGrains>,
    /// The label of the long-format UNION branch being walked, if any.
    label: Option<String>,
    /// The relation the statement being walked writes, if any.
    target: Option<String>,
    /// The statement being walked (from 0), and whether inside a UNION.
    statement: usize,
    in_union: bool,
    /// How deep in CTEs, derived tables and subqueries the walk is.
    nesting: usize,
    /// Columns a statement's outputs pass on from a CTE or subquery, as
    /// (statement, column, name published: `SELECT d.raw_ctr AS ctr`), and
    /// statements whose outputs pass on all (`SELECT *`): those inner sites
    /// are what the report publishes.
    published: Vec<Publication>,
    /// (statement, the names its `*` passes on, or `None`: all).
    publishes_all: Vec<(usize, Option<Vec<String>>)>,
    /// See [`Extractor::keeping_row_level_only`]; `None` keeps them all.
    row_level: Option<&'w dyn Fn(&str) -> bool>,
    /// See [`Extractor::following_reads_of`].
    follows_reads_of: Option<&'w dyn Fn(&str) -> bool>,
}

/// Collects the outermost queries nested in an expression or statement.
#[derive(Default)]
struct NestedQueries {
    depth: usize,
    found: Vec<Query>,
}

impl Visitor for NestedQueries {
    type Break = ();

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        if self.depth == 0 {
            self.found.push(query.clone());
        }
        self.depth += 1;
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _query: &Query) -> ControlFlow<()> {
        self.depth -= 1;
        ControlFlow::Continue(())
    }
}

impl<'t> Walker<'t, '_> {
    /// The sites, an inner site counted as an output when its statement
    /// passes it on by name (or passes on everything).
    fn published_sites(mut self) -> Vec<Site> {
        self.take_published_sites()
    }

    /// [`Walker::published_sites`] of the statements walked so far, which
    /// are then forgotten: what a statement publishes is its own.
    fn take_published_sites(&mut self) -> Vec<Site> {
        let mut sites = std::mem::take(&mut self.sites);
        let published = std::mem::take(&mut self.published);
        let publishes_all = std::mem::take(&mut self.publishes_all);
        // Of the inner sites of one name, the last walked is the one closest
        // to the output (CTEs are walked in order, the final one last).
        let mut last: HashMap<(usize, String), usize> = HashMap::new();
        for (i, site) in sites.iter().enumerate().filter(|(_, s)| !s.top_level) {
            last.insert((site.statement, site.output_name.to_lowercase()), i);
        }
        // Indexed by statement: a file of many statements must not scan
        // every statement's publications for each inner site.
        let mut renamed_in: HashMap<(usize, &str), &Publication> = HashMap::new();
        for publication in published.iter().rev() {
            renamed_in.insert(
                (publication.statement, publication.column.as_str()),
                publication,
            );
        }
        let mut all_in: HashMap<usize, Vec<&Option<Vec<String>>>> = HashMap::new();
        for (statement, names) in &publishes_all {
            all_in.entry(*statement).or_default().push(names);
        }
        for ((statement, name), i) in last {
            let renamed = renamed_in.get(&(statement, name.as_str()));
            let site = &mut sites[i];
            match renamed {
                Some(publication) => {
                    site.top_level = true;
                    // A long-format branch labelled with the figure's own
                    // name (`aDAU` put in the `DAU` column, the row labelled
                    // 'aDAU') holds that figure, not the column's.
                    let labelled_as_itself = publication.label.as_deref().is_some_and(|label| {
                        label
                            .split('/')
                            .any(|part| part.eq_ignore_ascii_case(&name))
                    });
                    if !labelled_as_itself {
                        site.output_name = publication.as_name.clone();
                    }
                    if publication.label.is_some() {
                        site.label.clone_from(&publication.label);
                    }
                }
                None => {
                    site.top_level = all_in.get(&statement).is_some_and(|all| {
                        all.iter()
                            .any(|names| names.as_ref().is_none_or(|n| n.contains(&name)))
                    })
                }
            }
        }
        sites
    }

    fn statement(&mut self, statement: &Statement, ctes: &Ctes<'_>) {
        self.walk_statement(statement, ctes);
        self.note_table_grain(statement);
    }

    /// Keeps the key of a table the statement creates from one SELECT, for
    /// the file's later statements that read it; rows inserted into a
    /// table make its key unknown.
    fn note_table_grain(&mut self, statement: &Statement) {
        let (name, query) = match statement {
            Statement::CreateTable(create) => (&create.name, create.query.as_deref()),
            Statement::CreateView(view) => (&view.name, Some(view.query.as_ref())),
            Statement::Insert(insert) => {
                let name = relation_name(&insert.table.to_string());
                let name = name.rsplit('.').next().unwrap_or(&name);
                if self.tables.contains_key(name) {
                    std::rc::Rc::make_mut(&mut self.tables).remove(name);
                }
                return;
            }
            _ => return,
        };
        let name = relation_name(&name.to_string());
        let name = name.rsplit('.').next().unwrap_or(&name).to_string();
        let grain = query.and_then(|query| {
            let [select] = scope::selects_of(&query.body)[..] else {
                return None;
            };
            let ctes: Ctes<'_> = query
                .with
                .iter()
                .flat_map(|w| w.cte_tables.iter().map(scope::cte_entry))
                .collect();
            Scope::of_select(select, &ctes, self.models)
                .knowing_tables(self.tables.clone())
                .grain()
                .filter(|grain| !grain.is_empty())
        });
        let tables = std::rc::Rc::make_mut(&mut self.tables);
        match grain {
            Some(grain) => tables.insert(name, grain),
            None => tables.remove(&name),
        };
    }

    fn walk_statement(&mut self, statement: &Statement, ctes: &Ctes<'_>) {
        self.target = match statement {
            Statement::Insert(insert) => Some(relation_name(&insert.table.to_string())),
            Statement::CreateTable(create) => Some(relation_name(&create.name.to_string())),
            Statement::CreateView(view) => Some(relation_name(&view.name.to_string())),
            _ => None,
        };
        match statement {
            Statement::Query(query) => self.query(query, ctes, None),
            Statement::Insert(insert) => {
                if let Some(source) = &insert.source {
                    // `INSERT INTO t (a, ctr) SELECT …` names the columns by position.
                    let names: Vec<String> = insert
                        .columns
                        .iter()
                        .filter_map(|c| {
                            c.0.last()
                                .map(|p| crate::names::unquoted(&p.to_string()).to_string())
                        })
                        .collect();
                    // Several INSERTs into one long-format table, each
                    // labelling its rows (`SELECT 'con' AS datapoint, …,
                    // SUM(volume_cbm)` then `SELECT 'bl', …,
                    // SUM(weight_kg)` into one `cbm` column), are a
                    // long-format UNION written one branch at a time.
                    let labelled = self.label.is_none() && !names.is_empty();
                    if labelled {
                        self.label = insert_label(source);
                    }
                    self.query(
                        source,
                        ctes,
                        (!names.is_empty()).then_some(names.as_slice()),
                    );
                    if labelled {
                        self.label = None;
                    }
                }
            }
            Statement::CreateTable(create) => {
                if let Some(query) = &create.query {
                    // A table of one segment's rows, labelled (`CREATE
                    // TEMPORARY TABLE _token_sales AS SELECT 'Token Sales'
                    // AS token_breakdown, …`), later stacked with the other
                    // segments' tables: as labelled INSERTs.
                    let labelled = self.label.is_none();
                    if labelled {
                        self.label = insert_label(query);
                    }
                    self.query(query, ctes, None);
                    if labelled {
                        self.label = None;
                    }
                }
            }
            Statement::CreateView(view) => {
                let names: Vec<String> =
                    view.columns.iter().map(|c| c.name.value.clone()).collect();
                self.query(
                    &view.query,
                    ctes,
                    (!names.is_empty()).then_some(names.as_slice()),
                );
            }
            other => {
                // MERGE, UPDATE … FROM, EXPLAIN, …: every query they contain.
                let mut nested = NestedQueries::default();
                let _ = other.visit(&mut nested);
                for query in &nested.found {
                    self.query(query, ctes, None);
                }
            }
        }
    }

    /// Walks a query; `names` are output names given by position from outside
    /// (an INSERT's or a view's column list, a CTE's column list).
    fn query<'a>(&mut self, query: &'a Query, outer: &Ctes<'a>, names: Option<&[String]>) {
        let mut ctes = outer.clone();
        if let Some(with) = &query.with {
            for cte in &with.cte_tables {
                let listed: Vec<String> = cte
                    .alias
                    .columns
                    .iter()
                    .map(|c| c.name.value.clone())
                    .collect();
                self.nesting += 1;
                self.query(
                    &cte.query,
                    &ctes,
                    (!listed.is_empty()).then_some(listed.as_slice()),
                );
                self.nesting -= 1;
                ctes.push(scope::cte_entry(cte));
            }
        }
        self.set_expr(&query.body, &ctes, names);
    }

    fn set_expr<'a>(&mut self, body: &'a SetExpr, ctes: &Ctes<'a>, names: Option<&[String]>) {
        match body {
            SetExpr::Select(select) => self.select(select, ctes, names),
            SetExpr::Query(query) => self.query(query, ctes, names),
            SetExpr::SetOperation { left, right, .. } => {
                // Every branch's columns take the names of the first branch.
                let first: Vec<String>;
                let names = match names {
                    Some(names) => names,
                    None => {
                        first = first_branch_names(left);
                        first.as_slice()
                    }
                };
                let was_in_union = std::mem::replace(&mut self.in_union, true);
                if self.label.is_none() {
                    if let Some(labelled) = branch_labels(body) {
                        for (branch, label) in labelled {
                            self.label = Some(label);
                            self.set_expr(branch, ctes, Some(names));
                        }
                        self.label = None;
                        self.in_union = was_in_union;
                        return;
                    }
                }
                self.set_expr(left, ctes, Some(names));
                self.set_expr(right, ctes, Some(names));
                self.in_union = was_in_union;
            }
            SetExpr::Insert(statement)
            | SetExpr::Update(statement)
            | SetExpr::Delete(statement)
            | SetExpr::Merge(statement) => self.statement(statement, ctes),
            SetExpr::Values(_) | SetExpr::Table(_) => {}
        }
    }

    fn select<'a>(&mut self, select: &'a Select, ctes: &Ctes<'a>, names: Option<&[String]>) {
        // Derived tables are SELECTs of their own.
        for table in &select.from {
            for factor in
                std::iter::once(&table.relation).chain(table.joins.iter().map(|j| &j.relation))
            {
                self.factor(factor, ctes);
            }
        }
        // Subqueries in WHERE, HAVING and the select list.
        let mut nested = NestedQueries::default();
        if let Some(selection) = &select.selection {
            let _ = selection.visit(&mut nested);
        }
        if let Some(having) = &select.having {
            let _ = having.visit(&mut nested);
        }
        for item in &select.projection {
            let _ = item.visit(&mut nested);
        }
        self.nesting += 1;
        for query in &nested.found {
            self.query(query, ctes, None);
        }
        self.nesting -= 1;

        let scope = Scope::of_select(select, ctes, self.models).knowing_tables(self.tables.clone());
        let mut sources: Option<(Vec<String>, Vec<String>)> = None;
        let mut lowerer = None;
        let mut grouped = None;
        let mut passed = None;
        let mut one_row = None;
        let mut reads_distinct = None;
        let mut tables_itself = None;
        // The scope with models read as stored tables, for written forms;
        // and with CTEs too.
        let mut as_stored: Option<Scope<'_>> = None;
        let mut as_written_alone: Option<Scope<'_>> = None;
        // Positional names hold only up to the first `*` (its width is unknown).
        let positional = select
            .projection
            .iter()
            .position(|i| {
                matches!(
                    i,
                    SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..)
                )
            })
            .unwrap_or(select.projection.len());
        for (position, item) in select.projection.iter().enumerate() {
            let (expr, own_name, alias) = match item {
                SelectItem::ExprWithAlias { expr, alias } => {
                    (expr, Some(alias.value.clone()), Some(alias))
                }
                SelectItem::UnnamedExpr(expr) => (expr, output_name(expr), None),
                _ => {
                    if self.nesting == 0 {
                        self.publishes_all
                            .push((self.statement, scope.output_names()));
                    }
                    continue;
                }
            };
            let given = names
                .filter(|_| position < positional)
                .and_then(|n| n.get(position))
                .cloned();
            let Some(name) = given.or(own_name) else {
                continue;
            };
            if self.nesting == 0 && is_pass_through(expr, &name) {
                // `SELECT d.raw_ctr AS ctr`: the inner `raw_ctr`, published as `ctr`.
                if let Some(passed) = output_name(expr) {
                    self.published.push(Publication {
                        statement: self.statement,
                        column: passed.to_lowercase(),
                        as_name: name.clone(),
                        label: self.label.clone(),
                    });
                }
            }
            if is_pass_through(expr, &name) || !(self.wanted)(&name) {
                continue;
            }
            let lowerer = lowerer.get_or_insert_with(|| scope.lowerer());
            let mut computation = lowerer.lower(expr);
            // Most computations count nothing distinct: the grouping is
            // worked out only for those that do.
            if counts_a_column(&computation) {
                let grouped = grouped.get_or_insert_with(|| grouped_columns(select, lowerer));
                computation = with_group_indicators(computation, grouped);
            }
            if self.row_level.is_some_and(|keep| !keep(&name)) && !computation.has_aggregate() {
                continue;
            }
            let (all_sources, reads) = sources
                .get_or_insert_with(|| (scope.base_relations(), scope.direct_relations()))
                .clone();
            // Read at its own stage: the models it reads (itself or through
            // its CTEs) as stored tables.
            let reads_a_model = reads
                .iter()
                .any(|r| self.models.contains_key(r.rsplit('.').next().unwrap_or(r)));
            let written = (reads_a_model && computation.has_aggregate())
                .then(|| {
                    as_stored
                        .get_or_insert_with(|| {
                            Scope::of_select(select, ctes, scope::no_models())
                                .knowing_tables(self.tables.clone())
                        })
                        .lowerer()
                        .lower(expr)
                })
                .filter(|written| *written != computation);
            // And with its CTEs read as stored too.
            let written_with_ctes = (!ctes.is_empty() && computation.has_aggregate())
                .then(|| {
                    as_written_alone
                        .get_or_insert_with(|| {
                            Scope::of_select(select, &Vec::new(), scope::no_models())
                                .knowing_tables(self.tables.clone())
                        })
                        .lowerer()
                        .lower(expr)
                })
                .filter(|alone| *alone != computation && Some(alone) != written.as_ref());
            let one_row_per_group = *one_row.get_or_insert_with(|| {
                groups(select)
                    && (grouped
                        .get_or_insert_with(|| grouped_columns(select, lowerer))
                        .iter()
                        .any(|c| matches!(c.as_str(), "_fivetran_id" | "fivetran_id"))
                        || scope.one_row_per_group())
            });
            let entities = if groups(select) {
                grouped
                    .get_or_insert_with(|| grouped_columns(select, lowerer))
                    .iter()
                    .filter(|c| crate::names::names_an_entity(c))
                    .cloned()
                    .collect()
            } else {
                passed
                    .get_or_insert_with(|| passed_entities(select, &scope))
                    .clone()
            };
            // What the figure itself reads, where its columns say so.
            let sources = scope
                .relations_read_by(expr)
                .filter(|read| !read.is_empty())
                .unwrap_or(all_sources);
            let source_tables = sources
                .iter()
                .filter(|r| !self.models.contains_key(r.rsplit('.').next().unwrap_or(r)))
                .cloned()
                .collect();
            let reads_distinct = reads_distinct
                .get_or_insert_with(|| scope.read_distinct_rows().unwrap_or_default())
                .clone();
            let alias_place = alias.and_then(|a| self.alias_place(a));
            self.sites.push(Site {
                alias: alias_place,
                alias_reads: Some(Vec::new()),
                reads_tables_itself: *tables_itself
                    .get_or_insert_with(|| reads_named_tables(select, ctes)),
                reads_distinct,
                output_name: name,
                range: self.expression_range(expr, alias),
                computation,
                sources,
                reads,
                label: self.label.clone(),
                target: self.target.clone(),
                statement: self.statement,
                in_union: self.in_union,
                top_level: self.nesting == 0,
                entities,
                aggregates_itself: calls_an_aggregate(expr),
                one_row_per_group,
                over_a_join: !scope::reads_one_relation(select),
                written,
                written_with_ctes,
                written_scale: written_scale(expr),
                missing_parentheses: crate::rules::total_beside_its_ratio(expr),
                source_tables,
            });
        }
    }

    fn factor<'a>(&mut self, factor: &'a TableFactor, ctes: &Ctes<'a>) {
        match factor {
            TableFactor::Derived {
                subquery, alias, ..
            } => {
                let listed: Vec<String> = alias
                    .iter()
                    .flat_map(|a| a.columns.iter().map(|c| c.name.value.clone()))
                    .collect();
                self.nesting += 1;
                self.query(
                    subquery,
                    ctes,
                    (!listed.is_empty()).then_some(listed.as_slice()),
                );
                self.nesting -= 1;
            }
            TableFactor::NestedJoin {
                table_with_joins, ..
            } => {
                self.factor(&table_with_joins.relation, ctes);
                for join in &table_with_joins.joins {
                    self.factor(&join.relation, ctes);
                }
            }
            _ => {}
        }
    }

    /// The range of a select item's expression in the file.
    fn expression_range(&self, expr: &AstExpr, alias: Option<&sqlparser::ast::Ident>) -> Range {
        expression_range(self.text, &self.index, expr, alias)
    }

    /// Fills in where the last statement walked reads its sites' aliases
    /// by name (only for aliases it names at all, which few do).
    fn find_alias_reads(&mut self, statement: &Statement) {
        let Some(renamed) = self.follows_reads_of else {
            return;
        };
        let current = self.statement;
        let aliased =
            |s: &Site| s.statement == current && s.alias.is_some() && renamed(&s.output_name);
        if !self.sites.iter().any(aliased) {
            return;
        }
        let mut named = NamesRead::default();
        let _ = statement.visit(&mut named);
        // Joins and set operations that match columns by name read no name.
        let shown = statement.to_string().to_ascii_uppercase();
        let by_name = shown.contains("NATURAL ") || shown.contains("BY NAME");
        for i in 0..self.sites.len() {
            let site = &self.sites[i];
            if !aliased(site) || !(by_name || named.0.contains(&site.output_name.to_lowercase())) {
                continue;
            }
            let Some((alias, written)) = &site.alias else {
                continue;
            };
            let quoted = written.starts_with(['"', '`', '[']);
            let name = site.output_name.clone();
            let reads = alias_reads::alias_reads(statement, *alias, &name, quoted).map(|reads| {
                reads
                    .into_iter()
                    .filter_map(|span| self.written_name(span, &name))
                    .collect()
            });
            self.sites[i].alias_reads = reads;
        }
    }

    /// The place of a name's span in the file, and its text there (quotes
    /// included), when the text there is the name.
    fn written_name(
        &self,
        span: sqlparser::tokenizer::Span,
        name: &str,
    ) -> Option<(Range, String)> {
        if span.start.line == 0 {
            return None;
        }
        let range = Range::from(span);
        let (start, end) = (self.index.offset(range.start), self.index.offset(range.end));
        let written = self.text.get(start..end)?;
        crate::names::unquoted(written)
            .eq_ignore_ascii_case(name)
            .then(|| (range, written.to_string()))
    }

    /// Where an alias is written, and its text there (quotes included),
    /// when the text there is the alias.
    fn alias_place(&self, alias: &sqlparser::ast::Ident) -> Option<(Range, String)> {
        self.written_name(alias.span, &alias.value)
    }
}

/// Whether a SELECT reads named tables only (no CTE of `ctes`, derived
/// table, table function or UNNEST), at least one.
fn reads_named_tables(select: &Select, ctes: &Ctes<'_>) -> bool {
    fn named_table(factor: &TableFactor, ctes: &Ctes<'_>) -> bool {
        match factor {
            TableFactor::Table {
                name, args: None, ..
            } => {
                let cte = match name.0.as_slice() {
                    [one] => one.as_ident().is_some_and(|ident| {
                        ctes.iter()
                            .any(|(cte, _)| cte.eq_ignore_ascii_case(&ident.value))
                    }),
                    _ => false,
                };
                !cte
            }
            TableFactor::NestedJoin {
                table_with_joins, ..
            } => {
                named_table(&table_with_joins.relation, ctes)
                    && table_with_joins
                        .joins
                        .iter()
                        .all(|j| named_table(&j.relation, ctes))
            }
            _ => false,
        }
    }
    !select.from.is_empty()
        && select.from.iter().all(|table| {
            named_table(&table.relation, ctes)
                && table.joins.iter().all(|j| named_table(&j.relation, ctes))
        })
}

/// The column names a statement reads (last parts, lowercase).
#[derive(Default)]
struct NamesRead(std::collections::HashSet<String>);

impl Visitor for NamesRead {
    type Break = ();

    fn pre_visit_expr(&mut self, expr: &AstExpr) -> ControlFlow<()> {
        let last = match expr {
            AstExpr::Identifier(ident) => Some(ident),
            AstExpr::CompoundIdentifier(parts) => parts.last(),
            _ => None,
        };
        if let Some(ident) = last {
            self.0.insert(ident.value.to_lowercase());
        }
        ControlFlow::Continue(())
    }
}

/// Where an expression is in `text`, whole: sqlparser's spans end a call at
/// its name and leave out closing parentheses, which this puts back.
fn expression_range(
    text: &str,
    index: &LineIndex<'_>,
    expr: &AstExpr,
    alias: Option<&sqlparser::ast::Ident>,
) -> Range {
    let parsed = Range::from(expr.span());
    let bytes = (index.offset(parsed.start), index.offset(parsed.end));
    // An alias written before the expression (T-SQL `ctr = …`) bounds nothing.
    let alias_start = alias
        .filter(|a| a.span.start.line > 0)
        .map(|a| index.offset(a.span.start.into()));
    let (start, end) = span::expression_bytes(text, bytes, alias_start);
    Range {
        start: index.position(start),
        end: index.position(end),
    }
}

/// Where an expression inside a select item is in `text` (see
/// [`span::inner_expression_bytes`]).
pub fn inner_expression_range(text: &str, index: &LineIndex<'_>, expr: &AstExpr) -> Range {
    let parsed = Range::from(expr.span());
    let (start, end) =
        span::inner_expression_bytes(text, (index.offset(parsed.start), index.offset(parsed.end)));
    Range {
        start: index.position(start),
        end: index.position(end),
    }
}

/// The branches of a set operation, flattened.
fn branches_of(body: &SetExpr) -> Vec<&SetExpr> {
    match body {
        SetExpr::SetOperation { left, right, .. } => {
            let mut out = branches_of(left);
            out.extend(branches_of(right));
            out
        }
        SetExpr::Query(query) if matches!(*query.body, SetExpr::SetOperation { .. }) => {
            branches_of(&query.body)
        }
        other => vec![other],
    }
}

/// For a long-format UNION (a column that is a literal in every branch, not
/// the same in all: `'first_touch' AS attribution`, or the `1 AS rn`,
/// `2 AS rn` a dashboard's counters are ordered by), each branch with its
/// label.
fn branch_labels(body: &SetExpr) -> Option<Vec<(&SetExpr, String)>> {
    let branches = branches_of(body);
    let literals: Vec<Vec<Option<String>>> = branches
        .iter()
        .map(|branch| match branch {
            SetExpr::Select(select) => select
                .projection
                .iter()
                .map(|item| match item {
                    SelectItem::ExprWithAlias { expr, .. } | SelectItem::UnnamedExpr(expr) => {
                        match expr {
                            AstExpr::Value(v) => match &v.value {
                                sqlparser::ast::Value::SingleQuotedString(s)
                                | sqlparser::ast::Value::DoubleQuotedString(s) => Some(s.clone()),
                                sqlparser::ast::Value::Number(n, _) => Some(n.to_string()),
                                _ => None,
                            },
                            _ => None,
                        }
                    }
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        })
        .collect();
    // The columns that are a literal in every branch and not the same in
    // all; together (`'channel'`, `'first_touch'`) they label a branch.
    let width = literals.iter().map(Vec::len).min()?;
    let positions: Vec<usize> = (0..width)
        .filter(|&p| {
            let labels: Vec<&Option<String>> = literals.iter().map(|l| &l[p]).collect();
            labels.iter().all(|l| l.is_some()) && labels.iter().any(|l| *l != labels[0])
        })
        .collect();
    if positions.is_empty() {
        return None;
    }
    Some(
        branches
            .into_iter()
            .zip(literals)
            .map(|(branch, l)| {
                let label: Vec<String> = positions
                    .iter()
                    .map(|&p| l[p].clone().unwrap_or_default())
                    .collect();
                (branch, label.join("/"))
            })
            .collect(),
    )
}

/// The string literals an `INSERT … SELECT` (or a `CREATE TABLE … AS
/// SELECT`) writes (`'po_sku_bl'`), joined: the label of the rows it adds
/// to a long-format table.
/// A written relation's name as statements of one file compare it: quotes
/// and case dropped.
fn relation_name(written: &str) -> String {
    written
        .chars()
        .filter(|c| !matches!(c, '"' | '`' | '[' | ']'))
        .collect::<String>()
        .to_lowercase()
}

fn insert_label(source: &sqlparser::ast::Query) -> Option<String> {
    let SetExpr::Select(select) = source.body.as_ref() else {
        return None;
    };
    let literals: Vec<&str> = select
        .projection
        .iter()
        .filter_map(|item| match item {
            SelectItem::ExprWithAlias { expr, .. } | SelectItem::UnnamedExpr(expr) => match expr {
                AstExpr::Value(v) => match &v.value {
                    sqlparser::ast::Value::SingleQuotedString(s) => Some(s.as_str()),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        })
        .collect();
    (!literals.is_empty()).then(|| literals.join("/"))
}

/// The output names of the first SELECT of a set operation, by position.
fn first_branch_names(body: &SetExpr) -> Vec<String> {
    match body {
        SetExpr::Select(select) => select
            .projection
            .iter()
            .map(|item| match item {
                SelectItem::ExprWithAlias { alias, .. } => alias.value.clone(),
                SelectItem::UnnamedExpr(expr) => output_name(expr).unwrap_or_default(),
                _ => String::new(),
            })
            .collect(),
        SetExpr::Query(query) => first_branch_names(&query.body),
        SetExpr::SetOperation { left, .. } => first_branch_names(left),
        _ => Vec::new(),
    }
}

/// The constant factor an expression writes itself, its columns read as
/// written: `sum(v) / 2` halves, whatever `v` is upstream.
pub(crate) fn written_scale(expr: &sqlparser::ast::Expr) -> f64 {
    let own = crate::canon::lower::Lowerer::new(&crate::canon::lower::BaseColumns).lower(expr);
    crate::judge::split_scale(&own).0.as_f64().unwrap_or(1.0)
}

/// A bare column reference, or `ANY_VALUE(col) AS col` (or MAX, MIN), passes a value
/// through; it computes nothing.
fn is_pass_through(expr: &AstExpr, name: &str) -> bool {
    if output_name(expr).is_some() {
        return true;
    }
    let AstExpr::Function(f) = expr else {
        return false;
    };
    let func = crate::canon::lower::function_name(&f.name);
    // `MAX(col) AS col` after a fan-out join deduplicates; it computes nothing.
    if !matches!(func.as_str(), "any_value" | "arbitrary" | "max" | "min") || f.over.is_some() {
        return false;
    }
    match &f.args {
        sqlparser::ast::FunctionArguments::List(list) => match list.args.as_slice() {
            [sqlparser::ast::FunctionArg::Unnamed(sqlparser::ast::FunctionArgExpr::Expr(arg))] => {
                output_name(arg).is_some_and(|col| col.eq_ignore_ascii_case(name))
            }
            _ => false,
        },
        _ => false,
    }
}

/// The name an unaliased select item gets: its column name, if it is one.
fn output_name(expr: &AstExpr) -> Option<String> {
    match expr {
        AstExpr::Identifier(ident) => Some(ident.value.clone()),
        AstExpr::CompoundIdentifier(parts) => parts.last().map(|p| p.value.clone()),
        AstExpr::Nested(inner) => output_name(inner),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
