//! Name resolution inside one SELECT: what a column means, through CTEs,
//! derived tables and UNION branches, down to base relations.
//!
//! This is where lineage lives. A column read from a CTE or derived table is
//! replaced by the canonical form of the expression that produced it, lowered
//! in that query's own scope (its WHERE conditions attached to its
//! aggregates), so `SUM(clicks)` over a CTE that pre-aggregated `SUM(clicks)`
//! folds back into one sum over the base table.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use sqlparser::ast::{
    Expr as AstExpr, GroupByExpr, JoinConstraint, JoinOperator, Query, Select, SelectItem, SetExpr,
    TableFactor, TableWithJoins,
};

use crate::canon::lower::{Lowerer, Resolver};
use crate::canon::{conjuncts, CompareOp, Expr};

/// How deep lineage is followed before giving up (CTE chains are rarely deeper).
const MAX_DEPTH: usize = 24;

/// How large a column's meaning may grow through lineage before it is opaque:
/// CTE chains that combine their columns again and again grow exponentially.
const MAX_MEANING_NODES: usize = 2000;

/// What is known about the SELECTs of one statement, shared by every scope in
/// it, so each (SELECT, column) is resolved once however often it is read.
#[derive(Default)]
struct Memo {
    columns: HashMap<(usize, Option<String>, String), Expr>,
    conditions: HashMap<usize, Vec<Expr>>,
    /// The base relations of a derived relation's column, by (query, column).
    relations: HashMap<(usize, String), Option<Vec<String>>>,
    /// Each SELECT's key column whose distinct values its rows are (see
    /// [`Scope::row_key`]).
    row_keys: HashMap<usize, Option<String>>,
}

/// What a FROM item is.
#[derive(Clone, Copy)]
pub enum RelationKind<'a> {
    /// A table or view outside this statement.
    Base,
    /// A CTE or a derived table, whose projection is known.
    Derived(&'a Query),
    /// A table function, UNNEST, PIVOT …: columns are not known.
    Opaque,
    /// Another model of the project (`ref('x')`), whose outputs are known.
    Model(&'a ModelOutputs),
}

/// What a model outputs, as later models read it: each column's meaning, the
/// base relations it reads and the conditions its rows satisfy.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct ModelOutputs {
    pub columns: HashMap<String, Expr>,
    pub sources: Vec<String>,
    pub conditions: Vec<Expr>,
    /// A `*` over a base table: columns not listed are that table's.
    pub open: bool,
    /// The columns that identify its rows (its key), where known: declared
    /// (dbt's `unique_key`), or shown by its query (see [`Scope::grain`]).
    /// Empty when unknown.
    pub grain: Vec<String>,
}

/// The models known so far in a run, by name.
pub type Models = HashMap<String, Arc<ModelOutputs>>;

/// The keys of the tables a file's earlier statements created (`CREATE
/// TEMPORARY TABLE _t AS SELECT … GROUP BY po_id`), by name (see
/// [`Scope::grain`]): a procedure's later steps read them.
pub type TableGrains = HashMap<String, Vec<String>>;

/// No model: every relation read as a stored table.
pub fn no_models() -> &'static Models {
    static NONE: std::sync::OnceLock<Models> = std::sync::OnceLock::new();
    NONE.get_or_init(Models::new)
}

#[derive(Clone)]
pub struct Relation<'a> {
    /// What the query calls it: the alias, else the table's last name part (lowercased).
    pub binding: String,
    /// The table's own last name part (lowercased), for base relations.
    pub name: String,
    /// The name as written, every part (lowercased, dot-joined): what a base
    /// relation is known by in the sites' sources (`near.core.transactions`
    /// and `ethereum.core.transactions` are two tables).
    pub qualified: String,
    pub kind: RelationKind<'a>,
    /// On the outer side of an outer join (`LEFT JOIN x`): the query keeps
    /// its rows whether or not this relation has them, so its own filters
    /// (a model's WHERE) do not filter the query's rows.
    pub optional: bool,
    /// The ON condition of the LEFT JOIN that joined it, whose conditions on
    /// its own columns (`pl.is_end_product = 'N'`) decide which of its rows
    /// give the query values.
    pub joined_on: Option<&'a AstExpr>,
}

/// CTEs visible at some point of a statement (name as written), innermost
/// last; `None` for a CTE whose columns are renamed by a column list (not
/// modelled). Borrowed from the AST, so cloning it allocates no strings.
pub type Ctes<'a> = Vec<(&'a str, Option<&'a Query>)>;

/// The entry for one CTE.
pub fn cte_entry(cte: &sqlparser::ast::Cte) -> (&str, Option<&Query>) {
    let query = cte.alias.columns.is_empty().then_some(cte.query.as_ref());
    (cte.alias.name.value.as_str(), query)
}

/// The relations of one SELECT and the CTEs it can see.
pub struct Scope<'a> {
    pub relations: Vec<Relation<'a>>,
    pub ctes: Ctes<'a>,
    models: &'a Models,
    select: &'a Select,
    depth: usize,
    memo: Rc<RefCell<Memo>>,
    /// The keys of the tables the file created before this statement.
    tables: Rc<TableGrains>,
}

/// Whether two relation names (as in [`Relation::qualified`]) may name one
/// table: the shorter is the longer's trailing parts (`fct_ads` and
/// `analytics.fct_ads` may, `near.core.fct` and `eth.core.fct` do not).
pub fn same_relation(a: &str, b: &str) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    long == short || (long.ends_with(short) && long[..long.len() - short.len()].ends_with('.'))
}

/// The relation's name with every part, lowercased and dot-joined.
fn qualified_name(name: &sqlparser::ast::ObjectName) -> String {
    let parts: Vec<String> = name
        .0
        .iter()
        .map(|p| match p {
            sqlparser::ast::ObjectNamePart::Identifier(i) => i.value.to_lowercase(),
            other => other.to_string().to_lowercase(),
        })
        .collect();
    parts.join(".")
}

/// The table's own name: the last part, also inside one quoted identifier
/// (BigQuery's `` `project.dataset.table` ``).
pub(super) fn last_part(name: &sqlparser::ast::ObjectName) -> String {
    let part = name
        .0
        .last()
        .map(|p| match p {
            sqlparser::ast::ObjectNamePart::Identifier(i) => i.value.to_lowercase(),
            other => other.to_string().to_lowercase(),
        })
        .unwrap_or_default();
    match part.rsplit_once('.') {
        Some((_, table)) => table.to_string(),
        None => part,
    }
}

impl<'a> Scope<'a> {
    pub fn of_select(select: &'a Select, ctes: &Ctes<'a>, models: &'a Models) -> Scope<'a> {
        Self::with_memo(select, ctes, models, 0, Rc::default())
    }

    /// A scope for a SELECT this one reads from.
    fn nested(&self, select: &'a Select, ctes: &Ctes<'a>) -> Scope<'a> {
        Self::with_memo(select, ctes, self.models, self.depth + 1, self.memo.clone())
            .knowing_tables(self.tables.clone())
    }

    /// The scope, knowing the keys of the tables the file created before.
    pub fn knowing_tables(mut self, tables: Rc<TableGrains>) -> Scope<'a> {
        self.tables = tables;
        self
    }

    fn key(&self) -> usize {
        self.select as *const Select as usize
    }

    fn with_memo(
        select: &'a Select,
        ctes: &Ctes<'a>,
        models: &'a Models,
        depth: usize,
        memo: Rc<RefCell<Memo>>,
    ) -> Scope<'a> {
        let mut relations = Vec::new();
        for table in &select.from {
            collect_relations(table, ctes, models, &mut relations);
        }
        Scope {
            relations,
            models,
            ctes: ctes.clone(),
            select,
            depth,
            memo,
            tables: Rc::default(),
        }
    }

    /// The conditions every row of this SELECT satisfies: its WHERE, the ON
    /// clauses of its inner joins (an outer join's ON does not drop rows), and
    /// the conditions of the CTEs and derived tables it reads (for a UNION,
    /// those every branch has).
    pub fn conditions(&self) -> Vec<Expr> {
        if let Some(known) = self.memo.borrow().conditions.get(&self.key()) {
            return known.clone();
        }
        let conditions = self.compute_conditions();
        self.memo
            .borrow_mut()
            .conditions
            .insert(self.key(), conditions.clone());
        conditions
    }

    /// The row conditions a relation's own query applies (a model's WHERE,
    /// a CTE's, common to its UNION branches).
    fn relation_conditions(&self, relation: &Relation<'a>) -> Vec<Expr> {
        match relation.kind {
            RelationKind::Model(model) => model.conditions.clone(),
            RelationKind::Derived(query) if self.depth < MAX_DEPTH => {
                let ctes = self.ctes_for(query);
                let mut common: Option<Vec<Expr>> = None;
                for select in selects_of(&query.body) {
                    let branch = self.nested(select, &ctes).conditions();
                    common = Some(match common {
                        None => branch,
                        Some(previous) => previous
                            .into_iter()
                            .filter(|c| branch.contains(c))
                            .collect(),
                    });
                }
                common.unwrap_or_default()
            }
            _ => Vec::new(),
        }
    }

    /// The conditions of a LEFT JOIN's ON that read only the joined
    /// relation's own columns, each qualified by its name
    /// (`pl.is_end_product = 'N'`): the rows of it that give the query
    /// values, as its WHERE would. Join keys and conditions on other
    /// relations' columns are the match itself.
    fn join_filters(&self, relation: &Relation<'a>) -> Vec<Expr> {
        use sqlparser::ast::Visit;
        let Some(on) = relation.joined_on else {
            return Vec::new();
        };
        let mut parts = Vec::new();
        ast_conjuncts(on, &mut parts);
        let own = |part: &AstExpr| {
            let mut columns = Vec::new();
            part.visit(&mut ColumnReferences(&mut columns))
                .is_continue()
                && !columns.is_empty()
                && columns.iter().all(|(qualifier, _)| {
                    qualifier
                        .as_deref()
                        .is_some_and(|q| q.eq_ignore_ascii_case(&relation.binding))
                })
        };
        // Lowered with no outer conditions of their own: the filters of a
        // column are not filtered again.
        let own_columns = OwnColumnsOnly(self);
        let lowerer = Lowerer::new(&own_columns);
        parts
            .into_iter()
            .filter(|part| own(part))
            .map(|part| lowerer.lower(part))
            .collect()
    }

    /// Whether a WHERE keeps the rows an outer-joined relation has no match
    /// for (`LEFT JOIN t3 … WHERE t3.distinct_id IS NULL`): an anti-join.
    fn keeps_rows_without_a_match(&self, selection: &AstExpr) -> bool {
        let mut parts = Vec::new();
        ast_conjuncts(selection, &mut parts);
        parts.into_iter().any(|part| {
            let AstExpr::IsNull(inner) = part else {
                return false;
            };
            match plain_column(inner) {
                Some(Output::Column(qualifier, name)) => self
                    .relation_of(qualifier.as_deref(), &name.to_lowercase())
                    .is_some_and(|relation| relation.optional),
                _ => false,
            }
        })
    }

    fn compute_conditions(&self) -> Vec<Expr> {
        let lowerer = Lowerer::new(self);
        let mut out = Vec::new();
        // The filters of what an outer join may lack keep no row out (they
        // go with its columns instead: see `resolve`).
        for relation in self.relations.iter().filter(|r| !r.optional) {
            out.extend(self.relation_conditions(relation));
        }
        if let Some(selection) = &self.select.selection {
            if self.keeps_rows_without_a_match(selection) {
                return vec![Expr::Opaque(crate::canon::ROWS_PICKED_BY_JOINS.to_string())];
            }
            out.push(lowerer.lower(selection));
        }
        for table in &self.select.from {
            for join in &table.joins {
                if let JoinOperator::Join(JoinConstraint::On(on))
                | JoinOperator::Inner(JoinConstraint::On(on)) = &join.join_operator
                {
                    // Join keys (`a.id = b.id`) match rows; the other conditions filter them.
                    let on = conjuncts(vec![lowerer.lower(on)]);
                    out.extend(on.into_iter().filter(|c| {
                        !matches!(c, Expr::Compare(CompareOp::Eq, l, r)
                            if matches!(**l, Expr::Column(_)) && matches!(**r, Expr::Column(_)))
                    }));
                }
            }
        }
        let out = conjuncts(out);
        // Relations joined from one table under filters of their own
        // (registrations joined to game starts, `event = 'register'` and
        // `event = 'gameStart'`) read as one row no row can be: which rows
        // each aggregate counts is past what conditions can say.
        if no_row_passes(&out) {
            return vec![Expr::Opaque(crate::canon::ROWS_PICKED_BY_JOINS.to_string())];
        }
        out
    }

    /// A lowerer for this SELECT's expressions, its conditions attached.
    pub fn lowerer(&self) -> Lowerer<'_> {
        Lowerer::new(self).with_conditions(self.conditions())
    }

    /// Base relations this scope reads, directly or through derived ones,
    /// sorted and deduplicated.
    pub fn base_relations(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.collect_base_relations(&mut out, &mut Vec::new(), true);
        out.sort();
        out.dedup();
        out
    }

    /// The relations the query reads itself, through its CTEs and subqueries
    /// but not through the models it reads (sorted, deduplicated).
    pub fn direct_relations(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.collect_base_relations(&mut out, &mut Vec::new(), false);
        out.sort();
        out.dedup();
        out
    }

    /// The base relations the columns of `expr` come from (through CTEs,
    /// subqueries and models), sorted: a figure over `events` joined to a
    /// dimension table reads `events`, not the dimension. `None` when a
    /// column's relation is not known for sure (then the query's relations
    /// stand for it).
    pub fn relations_read_by(&self, expr: &AstExpr) -> Option<Vec<String>> {
        use sqlparser::ast::Visit;
        let mut columns: Vec<(Option<String>, String)> = Vec::new();
        // A subquery reads relations of its own: then the query's stand.
        if expr.visit(&mut ColumnReferences(&mut columns)).is_break() || columns.is_empty() {
            return None;
        }
        let mut out = Vec::new();
        for (qualifier, column) in &columns {
            let column = column.to_lowercase();
            let relation = self.relation_of(qualifier.as_deref(), &column)?;
            out.extend(self.base_relations_of_column(relation, &column)?);
        }
        out.sort();
        out.dedup();
        Some(out)
    }

    /// The base relations one column of `relation` comes from: through a CTE
    /// or subquery, those of the expression that produces it (a CTE's
    /// figure over `events` joined to `prices` for another column reads
    /// `events`). `None` when that is not known for sure.
    fn base_relations_of_column(
        &self,
        relation: &Relation<'a>,
        column: &str,
    ) -> Option<Vec<String>> {
        match relation.kind {
            RelationKind::Base => Some(vec![relation.qualified.clone()]),
            // A model reads its own sources; the model counts as one too.
            RelationKind::Model(model) => {
                let mut out = vec![relation.name.clone()];
                out.extend(model.sources.iter().cloned());
                Some(out)
            }
            RelationKind::Opaque => None,
            RelationKind::Derived(query) => {
                if self.depth >= MAX_DEPTH {
                    return None;
                }
                // Memoised: columns of chained CTEs branch into many columns
                // of the CTEs below, and those are met again and again.
                let key = (query as *const Query as usize, column.to_string());
                if let Some(known) = self.memo.borrow().relations.get(&key) {
                    return known.clone();
                }
                let found = self.derived_column_relations(query, column);
                self.memo.borrow_mut().relations.insert(key, found.clone());
                found
            }
        }
    }

    /// [`Scope::base_relations_of_column`] of a CTE's or subquery's column,
    /// worked out (every branch of a UNION contributes).
    fn derived_column_relations(&self, query: &'a Query, column: &str) -> Option<Vec<String>> {
        let ctes = self.ctes_for(query);
        let mut out = Vec::new();
        for select in selects_of(&query.body) {
            let inner = self.nested(select, &ctes);
            let read = match output_item(select, column)? {
                Output::Column(qualifier, name) => {
                    let name = name.to_lowercase();
                    let relation = inner.relation_of(qualifier.as_deref(), &name)?;
                    inner.base_relations_of_column(relation, &name)?
                }
                Output::Wildcard => {
                    let relation = inner.relation_of(None, column)?;
                    inner.base_relations_of_column(relation, column)?
                }
                Output::Computed(expr) => inner.relations_read_by(expr)?,
            };
            out.extend(read);
        }
        Some(out)
    }

    fn collect_base_relations(&self, out: &mut Vec<String>, seen: &mut Vec<usize>, upstream: bool) {
        let all: Vec<&Relation<'a>> = self.relations.iter().collect();
        self.collect_base_relations_of(&all, out, seen, upstream);
    }

    fn collect_base_relations_of(
        &self,
        relations: &[&Relation<'a>],
        out: &mut Vec<String>,
        seen: &mut Vec<usize>,
        upstream: bool,
    ) {
        for relation in relations.iter().copied() {
            match relation.kind {
                RelationKind::Base => out.push(relation.qualified.clone()),
                // A model reads its own sources; the model counts as one too.
                RelationKind::Model(model) => {
                    out.push(relation.name.clone());
                    if upstream {
                        out.extend(model.sources.iter().cloned());
                    }
                }
                RelationKind::Derived(query) if self.depth < MAX_DEPTH => {
                    // A CTE read twice (a self-join) is walked once.
                    let key = query as *const Query as usize;
                    if seen.contains(&key) {
                        continue;
                    }
                    seen.push(key);
                    let ctes = self.ctes_for(query);
                    for select in selects_of(&query.body) {
                        self.nested(select, &ctes)
                            .collect_base_relations(out, seen, upstream);
                    }
                }
                _ => {}
            }
        }
    }

    fn ctes_for(&self, query: &'a Query) -> Ctes<'a> {
        let mut ctes = self.ctes.clone();
        if let Some(with) = &query.with {
            ctes.extend(with.cte_tables.iter().map(cte_entry));
        }
        ctes
    }

    /// The relation a column reference names.
    fn relation_of(&self, qualifier: Option<&str>, column_lc: &str) -> Option<&Relation<'a>> {
        match qualifier {
            Some(q) => {
                let q = q.rsplit('.').next().unwrap_or(q).to_lowercase();
                self.relations
                    .iter()
                    .find(|r| r.binding == q || r.name == q)
            }
            None if self.relations.len() == 1 => self.relations.first(),
            None => {
                // Several relations: a derived one that outputs the column wins,
                // else the column belongs to one of the base tables.
                let outputs = |r: &&Relation<'a>| match r.kind {
                    RelationKind::Model(m) => m.columns.contains_key(column_lc),
                    RelationKind::Derived(q) => selects_of(&q.body)
                        .first()
                        .is_some_and(|s| output_item(s, column_lc).is_some()),
                    _ => false,
                };
                self.relations.iter().find(outputs).or_else(|| {
                    // The only base table, beside relations whose columns
                    // are all known and none this one, has it.
                    let mut bases = self.relations.iter().filter(|r| match r.kind {
                        RelationKind::Base => true,
                        RelationKind::Opaque => true,
                        RelationKind::Model(m) => m.open,
                        RelationKind::Derived(_) => false,
                    });
                    match (bases.next(), bases.next()) {
                        (Some(only), None) if matches!(only.kind, RelationKind::Base) => Some(only),
                        _ => None,
                    }
                })
            }
        }
    }

    fn resolve(&self, qualifier: Option<&str>, column: &str) -> Expr {
        let column_lc = column.to_lowercase();
        let Some(relation) = self.relation_of(qualifier, &column_lc) else {
            // A qualifier that names no relation here (a table function's alias,
            // an outer query's table) cannot be resolved.
            return match qualifier {
                Some(q) => Expr::Opaque(format!("{q}.{column_lc}")),
                None => Expr::column(column),
            };
        };
        match relation.kind {
            RelationKind::Base => Expr::column(column),
            RelationKind::Opaque => Expr::Opaque(format!("{}.{column_lc}", relation.binding)),
            RelationKind::Derived(query) => self.resolve_derived(query, &column_lc),
            RelationKind::Model(model) => match model.columns.get(&column_lc) {
                Some(meaning) => meaning.clone(),
                None if model.open => Expr::column(column),
                None => Expr::Opaque(format!("{}.{column_lc}", relation.binding)),
            },
        }
    }

    /// A column of a CTE or derived table: the canonical form of what produced
    /// it. Through a UNION, every branch must produce the same form.
    fn resolve_derived(&self, query: &'a Query, column: &str) -> Expr {
        let opaque = || Expr::Opaque(format!("derived column {column}"));
        if self.depth >= MAX_DEPTH {
            return opaque();
        }
        let ctes = self.ctes_for(query);
        let mut meaning: Option<Expr> = None;
        let selects = selects_of(&query.body);
        // Each branch's base relations and row conditions, while they may
        // still turn out to be legs of one another (see below).
        let mut legs: Option<(Vec<String>, Vec<Expr>)> = None;
        let mut all_legs = selects.len() > 1 && is_union_all(&query.body);
        for select in selects.iter().copied() {
            let inner = self.nested(select, &ctes);
            let branch = match output_item(select, column) {
                Some(Output::Column(qualifier, name)) if name.eq_ignore_ascii_case(column) => {
                    inner.resolve(qualifier.as_deref(), &name)
                }
                Some(Output::Column(qualifier, name)) => Expr::Renamed {
                    alias: column.to_string(),
                    source: Box::new(inner.resolve(qualifier.as_deref(), &name)),
                },
                Some(Output::Wildcard) => inner.resolve(None, column),
                Some(Output::Computed(expr)) => match inner.lowerer().lower(expr) {
                    // `cast(swipes as int) as clicks` renames as `swipes as
                    // clicks` does (numeric casts are transparent).
                    Expr::Column(source) if !source.eq_ignore_ascii_case(column) => Expr::Renamed {
                        alias: column.to_string(),
                        source: Box::new(Expr::Column(source)),
                    },
                    lowered => lowered,
                },
                None => return opaque(),
            };
            if branch.size() > MAX_MEANING_NODES {
                return Expr::Opaque(format!(
                    "derived column {column}: lineage too large to follow"
                ));
            }
            if all_legs {
                let reads = (inner.base_relations(), inner.conditions());
                match &legs {
                    None => legs = Some(reads),
                    Some(first) => all_legs = *first == reads,
                }
            }
            match &meaning {
                None => meaning = Some(branch),
                Some(first) if *first == branch => {}
                // Branches that each define the column by renaming their own
                // (two platforms' models, each with its `clicks`): the union
                // reads the column by that name.
                Some(first) if first.clone().read_by_name() == branch.clone().read_by_name() => {
                    meaning = Some(branch.read_by_name());
                }
                Some(_) => {
                    return Expr::Opaque(format!(
                        "derived column {column} differs across UNION branches"
                    ))
                }
            }
        }
        match meaning {
            // Branches that total one value over the same rows under the
            // same conditions, each grouped its own way (a trade once by the
            // token bought, once by the token sold), hold every row's total
            // once per branch: their union totals it that many times.
            // Branches that label their rows apart (`'Sells' AS trade_type`
            // beside `'Buys'`) are each side's own rows, read by label (a
            // wallet's sells and its buys): no copies of one row.
            Some(total)
                if all_legs
                    && total.has_aggregate()
                    && super::branch_labels(&query.body).is_none() =>
            {
                Expr::product(
                    crate::canon::Number::int(selects.len() as i128),
                    vec![crate::canon::Factor::mul(total)],
                )
            }
            Some(meaning) => meaning,
            None => opaque(),
        }
    }
}

/// Whether conditions fix one column to two different values (`event =
/// 'register'` and `event = 'gameStart'`).
fn no_row_passes(conditions: &[Expr]) -> bool {
    let mut fixed: HashMap<&str, &Expr> = HashMap::new();
    conditions.iter().any(|condition| {
        let Expr::Compare(CompareOp::Eq, left, right) = condition else {
            return false;
        };
        let (column, value) = match (left.as_ref(), right.as_ref()) {
            (Expr::Column(c), v) | (v, Expr::Column(c)) => (c.as_str(), v),
            _ => return false,
        };
        if !matches!(value, Expr::String(_) | Expr::Number(_) | Expr::Bool(_)) {
            return false;
        }
        *fixed.entry(column).or_insert(value) != value
    })
}

/// Whether a set expression is only UNION ALLs of its branches.
fn is_union_all(body: &SetExpr) -> bool {
    use sqlparser::ast::{SetOperator, SetQuantifier};
    match body {
        SetExpr::SetOperation {
            op: SetOperator::Union,
            set_quantifier: SetQuantifier::All,
            left,
            right,
        } => is_union_all_or_select(left) && is_union_all_or_select(right),
        _ => false,
    }
}

fn is_union_all_or_select(body: &SetExpr) -> bool {
    match body {
        SetExpr::Select(_) => true,
        SetExpr::Query(q) => is_union_all_or_select(&q.body),
        other => is_union_all(other),
    }
}

impl<'a> Scope<'a> {
    /// The names of the columns this SELECT outputs, through `*` over CTEs,
    /// derived tables and known models; `None` when a `*` reaches a table
    /// whose columns are not known.
    pub fn output_names(&self) -> Option<Vec<String>> {
        if self.depth > MAX_DEPTH {
            return None;
        }
        let mut names = Vec::new();
        for item in &self.select.projection {
            match item {
                SelectItem::ExprWithAlias { alias, .. } => names.push(alias.value.to_lowercase()),
                SelectItem::UnnamedExpr(expr) => {
                    if let Some(Output::Column(_, name)) = plain_column(expr) {
                        names.push(name.to_lowercase());
                    }
                }
                SelectItem::Wildcard(_) => {
                    for relation in &self.relations {
                        names.extend(self.relation_output_names(relation)?);
                    }
                }
                SelectItem::QualifiedWildcard(kind, _) => {
                    let qualifier = wildcard_qualifier(kind);
                    let relation = self
                        .relations
                        .iter()
                        .find(|r| r.binding == qualifier.trim_matches(['"', '`']))?;
                    names.extend(self.relation_output_names(relation)?);
                }
                // Several names for one expression (a Trino-style tuple).
                _ => return None,
            }
        }
        Some(names)
    }

    fn relation_output_names(&self, relation: &Relation<'a>) -> Option<Vec<String>> {
        match relation.kind {
            RelationKind::Base | RelationKind::Opaque => None,
            RelationKind::Model(model) => {
                (!model.open).then(|| model.columns.keys().cloned().collect())
            }
            RelationKind::Derived(query) => {
                let ctes = self.ctes_for(query);
                let select = *selects_of(&query.body).first()?;
                self.nested(select, &ctes).output_names()
            }
        }
    }

    /// The columns, as this SELECT outputs them, that identify its rows,
    /// where its query shows them: its GROUP BY keys; every output of a
    /// `SELECT DISTINCT`; or, for a SELECT that neither groups nor
    /// aggregates, the key of the relation it reads, passed on (renamed or
    /// not), when every other relation is LEFT JOINed to it (a lookup adds
    /// columns, as near always, not rows).
    pub fn grain(&self) -> Option<Vec<String>> {
        if self.depth > MAX_DEPTH {
            return None;
        }
        let select = self.select;
        match &select.group_by {
            GroupByExpr::Expressions(keys, _) if !keys.is_empty() => {
                // A name grouped beside an id (`GROUP BY po_dtl_id,
                // vend_name`) is carried along to be shown: one per id, it
                // splits no group, and the rows are unique on the rest.
                let identified = keys.iter().any(|key| key_name(key).is_some_and(is_an_id));
                return keys
                    .iter()
                    .filter(|key| !(identified && key_name(key).is_some_and(describes_a_thing)))
                    .map(|key| output_of_key(select, key))
                    .collect();
            }
            GroupByExpr::All(_) => return None,
            _ => {}
        }
        if matches!(select.distinct, Some(sqlparser::ast::Distinct::Distinct)) {
            return select.projection.iter().map(item_name).collect();
        }
        let aggregates = select.projection.iter().any(|item| match item {
            SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                super::calls_an_aggregate(e)
            }
            _ => false,
        });
        if aggregates || select.from.len() != 1 {
            return None;
        }
        let lookups_only = select.from[0].joins.iter().all(|j| {
            matches!(
                j.join_operator,
                JoinOperator::Left(_) | JoinOperator::LeftOuter(_)
            )
        });
        let primary = self.relations.first().filter(|_| lookups_only)?;
        self.relation_grain(primary)?
            .iter()
            .map(|key| self.passed_on_as(primary, key))
            .collect()
    }

    /// The key of a relation's rows, as it outputs them (see [`Scope::grain`]).
    pub fn relation_grain(&self, relation: &Relation<'a>) -> Option<Vec<String>> {
        match relation.kind {
            RelationKind::Model(model) => (!model.grain.is_empty()).then(|| model.grain.clone()),
            RelationKind::Base => self
                .tables
                .get(&relation.name)
                .cloned()
                .or_else(|| grain_in_the_name(&relation.name)),
            RelationKind::Derived(query) if self.depth < MAX_DEPTH => {
                let [select] = selects_of(&query.body)[..] else {
                    return None;
                };
                let ctes = self.ctes_for(query);
                self.nested(select, &ctes).grain()
            }
            _ => None,
        }
    }

    /// The name under which this SELECT outputs `relation`'s column `key`.
    fn passed_on_as(&self, relation: &Relation<'a>, key: &str) -> Option<String> {
        let of_relation = |qualifier: &Option<String>| {
            qualifier
                .as_ref()
                .is_none_or(|q| q.eq_ignore_ascii_case(&relation.binding))
        };
        self.select.projection.iter().find_map(|item| match item {
            SelectItem::ExprWithAlias { expr, alias } => match plain_column(expr) {
                Some(Output::Column(qualifier, name))
                    if name.eq_ignore_ascii_case(key) && of_relation(&qualifier) =>
                {
                    Some(alias.value.to_lowercase())
                }
                _ => None,
            },
            SelectItem::UnnamedExpr(expr) => match plain_column(expr) {
                Some(Output::Column(qualifier, name))
                    if name.eq_ignore_ascii_case(key) && of_relation(&qualifier) =>
                {
                    Some(key.to_string())
                }
                _ => None,
            },
            SelectItem::Wildcard(_) => Some(key.to_string()),
            SelectItem::QualifiedWildcard(kind, _) => {
                (wildcard_qualifier(kind) == relation.binding).then(|| key.to_string())
            }
            _ => None,
        })
    }

    /// The columns the rows this SELECT keeps of `relation` are unique on,
    /// where its WHERE keeps the first row of each partition (`WHERE rn =
    /// 1` over `ROW_NUMBER() OVER (PARTITION BY date, user_id …) AS rn`).
    fn first_of_each_partition(&self, relation: &Relation<'a>) -> Option<Vec<String>> {
        let RelationKind::Derived(query) = relation.kind else {
            return None;
        };
        let [inner] = selects_of(&query.body)[..] else {
            return None;
        };
        let firsts = first_rows(self.select.selection.as_ref()?);
        inner.projection.iter().find_map(|item| {
            let SelectItem::ExprWithAlias {
                expr: AstExpr::Function(function),
                alias,
            } = item
            else {
                return None;
            };
            let numbers_rows = crate::canon::lower::function_name(&function.name) == "row_number";
            let Some(sqlparser::ast::WindowType::WindowSpec(window)) = &function.over else {
                return None;
            };
            if !numbers_rows
                || window.partition_by.is_empty()
                || !firsts.contains(&alias.value.to_lowercase())
            {
                return None;
            }
            window
                .partition_by
                .iter()
                .map(|key| match plain_column(key) {
                    Some(Output::Column(_, name)) => Some(name.to_lowercase()),
                    _ => None,
                })
                .collect()
        })
    }

    /// Whether this SELECT reads one relation, with lookups at most LEFT
    /// JOINed to it (a lookup adds columns, as near always, not rows).
    fn reads_one_relation_with_lookups(&self) -> bool {
        self.select.from.len() == 1
            && self.select.from[0].joins.iter().all(|j| {
                matches!(
                    j.join_operator,
                    JoinOperator::Left(_) | JoinOperator::LeftOuter(_)
                )
            })
    }

    /// The columns of the rows this SELECT reads, where it reads one CTE or
    /// subquery (with lookups at most LEFT JOINed to it) that is a `SELECT
    /// DISTINCT` (its rows are unique on those) or a grouped query (unique on
    /// what it groups by).
    pub fn read_distinct_rows(&self) -> Option<Vec<String>> {
        if !self.reads_one_relation_with_lookups() {
            return None;
        }
        let RelationKind::Derived(query) = self.relations.first()?.kind else {
            return None;
        };
        let [select] = selects_of(&query.body)[..] else {
            return None;
        };
        if matches!(select.distinct, Some(sqlparser::ast::Distinct::Distinct)) {
            return select.projection.iter().map(item_name).collect();
        }
        // A query grouped by one column has rows distinct on it (`SELECT
        // *, SUM(paid_price) … GROUP BY order_nr`: one row per order).
        // Grouped by more (`GROUP BY address, token`), its rows are one per
        // combination: no key of its own.
        let GroupByExpr::Expressions(keys, _) = &select.group_by else {
            return None;
        };
        if keys.len() != 1 {
            return None;
        }
        let mut grouped: Vec<String> = grouped_names(select).into_iter().collect();
        grouped.sort_unstable();
        (!grouped.is_empty()).then_some(grouped)
    }

    /// Whether each group of this SELECT is one row of what it reads: it
    /// reads one relation, joins none, and groups by, or fixes in its WHERE
    /// to one value, every column of that relation's key (see
    /// [`Scope::grain`]). Its totals pass single values through.
    pub fn one_row_per_group(&self) -> bool {
        self.unfixed_key().is_some_and(|rest| rest.is_empty())
    }

    /// The columns of the key of the one relation this SELECT reads (and
    /// joins nothing to) that it neither groups by nor fixes in its WHERE:
    /// within a group, its rows are unique on those. `None` when the key is
    /// unknown.
    fn unfixed_key(&self) -> Option<Vec<String>> {
        // One relation, or one with lookups LEFT JOINed to it: grouped by
        // its key, each group holds one of its rows (repeated, at most, by
        // a lookup's matches), whose own columns are single values.
        if !self.reads_one_relation_with_lookups() {
            return None;
        }
        let relation = self.relations.first()?;
        let grain = self
            .relation_grain(relation)
            .or_else(|| self.first_of_each_partition(relation))
            .filter(|grain| !grain.is_empty())?;
        let mut fixed = grouped_names(self.select);
        if let Some(selection) = &self.select.selection {
            fixed.extend(fixed_columns(selection));
        }
        // A table's day or hour (see `grain_in_the_name`): any column of it
        // grouped by as it is.
        let period_grouped = |period: &str| {
            fixed.iter().any(|name| match period {
                "@hour" => name.contains("hour"),
                _ => name.contains("date") || name.contains("day"),
            })
        };
        Some(
            grain
                .into_iter()
                .filter(|key| {
                    if key.starts_with('@') {
                        !period_grouped(key)
                    } else {
                        !fixed.contains(key)
                    }
                })
                .collect(),
        )
    }

    /// What this SELECT outputs, for the models that read it.
    pub fn outputs(&self) -> ModelOutputs {
        let lowerer = self.lowerer();
        let mut outputs = ModelOutputs {
            sources: self.base_relations(),
            conditions: self.conditions(),
            grain: self.grain().unwrap_or_default(),
            ..ModelOutputs::default()
        };
        for item in &self.select.projection {
            match item {
                SelectItem::ExprWithAlias { expr, alias } => {
                    let name = alias.value.to_lowercase();
                    let meaning = match plain_column(expr) {
                        // A rename: the downstream name may be the agreed one.
                        Some(Output::Column(_, source)) if !source.eq_ignore_ascii_case(&name) => {
                            Expr::Renamed {
                                alias: name.clone(),
                                source: Box::new(lowerer.lower(expr)),
                            }
                        }
                        // A model's row-level column is the column, for the
                        // models downstream (see `Expr::defining`).
                        _ => lowerer.lower(expr).defining(&name),
                    };
                    outputs.columns.insert(name, meaning);
                }
                SelectItem::UnnamedExpr(expr) => {
                    if let Some(Output::Column(_, name)) = plain_column(expr) {
                        outputs
                            .columns
                            .insert(name.to_lowercase(), lowerer.lower(expr));
                    }
                }
                SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..) => {
                    for relation in &self.relations {
                        match relation.kind {
                            RelationKind::Base | RelationKind::Opaque => outputs.open = true,
                            RelationKind::Model(model) => {
                                outputs.open |= model.open;
                                for (k, v) in &model.columns {
                                    outputs
                                        .columns
                                        .entry(k.clone())
                                        .or_insert_with(|| v.clone());
                                }
                            }
                            RelationKind::Derived(query) => {
                                let names: Vec<String> = selects_of(&query.body)
                                    .first()
                                    .map(|s| s.projection.iter().filter_map(item_name).collect())
                                    .unwrap_or_default();
                                if names.is_empty() {
                                    outputs.open = true;
                                }
                                for name in names {
                                    let meaning = self.resolve_derived(query, &name);
                                    outputs.columns.entry(name).or_insert(meaning);
                                }
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        // A column the model fills with a constant is a schema filler (a
        // connector's staging model selects `cast(null as int) as bids` when
        // the warehouse lacks the column, and offline it always seems to;
        // `coalesce(null, 0)`, `0`): downstream, it is that column by name,
        // not a sum of nulls.
        for (name, meaning) in outputs.columns.iter_mut() {
            let value = match &*meaning {
                Expr::Renamed { source, .. } => source,
                other => other,
            };
            if value.is_constant() {
                *meaning = Expr::column(name);
            }
        }
        outputs
    }
}

/// The relation a `t.*` names (printed as `t.*`, lowercased, its last part).
fn wildcard_qualifier(kind: &impl std::fmt::Display) -> String {
    let printed = kind.to_string().to_lowercase();
    let qualifier = printed.trim_end_matches(".*");
    qualifier
        .rsplit('.')
        .next()
        .unwrap_or(qualifier)
        .to_string()
}

/// Whether a SELECT reads one relation and joins nothing to it.
pub fn reads_one_relation(select: &Select) -> bool {
    select.from.len() == 1 && select.from[0].joins.is_empty()
}

/// The output a GROUP BY key is: an output's alias or plain column name, a
/// position (`GROUP BY 2`), or an expression the select list outputs.
fn output_of_key(select: &Select, key: &AstExpr) -> Option<String> {
    let item = match key {
        AstExpr::Value(v) => match &v.value {
            sqlparser::ast::Value::Number(n, _) => {
                let position = n.parse::<usize>().ok()?.checked_sub(1)?;
                select.projection.get(position)?
            }
            _ => return None,
        },
        _ => {
            if let Some(Output::Column(_, name)) = plain_column(key) {
                let name = name.to_lowercase();
                if let Some(Output::Column(..) | Output::Computed(_)) = output_item(select, &name) {
                    return Some(name);
                }
            }
            select.projection.iter().find(|item| match item {
                SelectItem::ExprWithAlias { expr, .. } | SelectItem::UnnamedExpr(expr) => {
                    expr == key
                }
                _ => false,
            })?
        }
    };
    item_name(item)
}

/// The column a GROUP BY key names, lowercased, unqualified.
fn key_name(key: &AstExpr) -> Option<String> {
    match plain_column(key)? {
        Output::Column(_, name) => Some(name.to_lowercase()),
        _ => None,
    }
}

/// Whether a column identifies a thing (`po_dtl_id`, `campaign_key`).
fn is_an_id(column: String) -> bool {
    column == "id" || ["_id", "_key", "_uuid"].iter().any(|s| column.ends_with(s))
}

/// Whether a column describes a thing an id identifies (`vend_name`,
/// `campaign_description`).
fn describes_a_thing(column: String) -> bool {
    ["_name", "_desc", "_description"]
        .iter()
        .any(|s| column.ends_with(s))
}

/// The columns a SELECT groups by, lowercased, by every name they go by: a
/// key's own name, and for an alias or position the aliased column's.
fn grouped_names(select: &Select) -> std::collections::HashSet<String> {
    let mut names = std::collections::HashSet::new();
    let GroupByExpr::Expressions(keys, _) = &select.group_by else {
        return names;
    };
    let add = |expr: &AstExpr, names: &mut std::collections::HashSet<String>| {
        if let Some(Output::Column(_, name)) = plain_column(expr) {
            names.insert(name.to_lowercase());
        }
    };
    for key in keys {
        add(key, &mut names);
        let name = output_of_key(select, key);
        let item = select.projection.iter().find(|item| match item {
            SelectItem::ExprWithAlias { alias, .. } => Some(alias.value.to_lowercase()) == name,
            _ => false,
        });
        if let Some(SelectItem::ExprWithAlias { expr, alias }) = item {
            names.insert(alias.value.to_lowercase());
            add(expr, &mut names);
        } else if let Some(name) = name {
            names.insert(name);
        }
    }
    names
}

/// The columns a WHERE keeps equal to 1 among its conjuncts (`rn = 1`).
fn first_rows(condition: &AstExpr) -> Vec<String> {
    columns_equal_to(condition, &|one| {
        matches!(one, AstExpr::Value(v)
            if matches!(&v.value, sqlparser::ast::Value::Number(n, _) if n == "1"))
    })
}

/// The columns a WHERE fixes to one value: `date = (SELECT max(date) …)`,
/// `pool_id = '0x…'`, `day = current_date - 1`, among its conjuncts.
fn fixed_columns(condition: &AstExpr) -> Vec<String> {
    columns_equal_to(condition, &names_no_column)
}

/// The columns a conjunct of `condition` compares equal to a value `value`
/// accepts, lowercased.
fn columns_equal_to(condition: &AstExpr, value: &dyn Fn(&AstExpr) -> bool) -> Vec<String> {
    use sqlparser::ast::BinaryOperator;
    match condition {
        AstExpr::Nested(inner) => columns_equal_to(inner, value),
        AstExpr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            let mut columns = columns_equal_to(left, value);
            columns.extend(columns_equal_to(right, value));
            columns
        }
        AstExpr::BinaryOp {
            left,
            op: BinaryOperator::Eq,
            right,
        } => [(left, right), (right, left)]
            .into_iter()
            .filter(|(_, other)| value(other))
            .filter_map(|(column, _)| match plain_column(column) {
                Some(Output::Column(_, name)) => Some(name.to_lowercase()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Whether an expression is one value for every row: it reads no column of
/// the row (a literal, a scalar subquery, `current_date - 1`).
fn names_no_column(expr: &AstExpr) -> bool {
    use sqlparser::ast::Visit;
    struct Reads(bool);
    impl sqlparser::ast::Visitor for Reads {
        type Break = ();
        fn pre_visit_expr(&mut self, expr: &AstExpr) -> std::ops::ControlFlow<()> {
            match expr {
                AstExpr::Identifier(_) | AstExpr::CompoundIdentifier(_) => {
                    self.0 = true;
                    std::ops::ControlFlow::Break(())
                }
                _ => std::ops::ControlFlow::Continue(()),
            }
        }
    }
    if matches!(expr, AstExpr::Subquery(_)) {
        return true;
    }
    let mut reads = Reads(false);
    let _ = expr.visit(&mut reads);
    !reads.0
}

/// The output name of a select item, lowercased, if it has one.
fn item_name(item: &SelectItem) -> Option<String> {
    match item {
        SelectItem::ExprWithAlias { alias, .. } => Some(alias.value.to_lowercase()),
        SelectItem::UnnamedExpr(expr) => match plain_column(expr) {
            Some(Output::Column(_, name)) => Some(name.to_lowercase()),
            _ => None,
        },
        _ => None,
    }
}

/// How a derived table produces one of its output columns.
enum Output<'a> {
    /// A plain column reference (possibly renamed).
    Column(Option<String>, String),
    /// Only through `*`.
    Wildcard,
    /// An expression.
    Computed(&'a AstExpr),
}

fn output_item<'a>(select: &'a Select, column: &str) -> Option<Output<'a>> {
    let mut wildcard = false;
    for item in &select.projection {
        match item {
            SelectItem::ExprWithAlias { expr, alias } if alias.value.to_lowercase() == column => {
                return Some(plain_column(expr).unwrap_or(Output::Computed(expr)));
            }
            SelectItem::UnnamedExpr(expr) => {
                if let Some(Output::Column(q, name)) = plain_column(expr) {
                    if name.to_lowercase() == column {
                        return Some(Output::Column(q, name));
                    }
                }
            }
            SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..) => wildcard = true,
            _ => {}
        }
    }
    wildcard.then_some(Output::Wildcard)
}

fn plain_column(expr: &AstExpr) -> Option<Output<'_>> {
    match expr {
        AstExpr::Identifier(i) => Some(Output::Column(None, i.value.clone())),
        AstExpr::CompoundIdentifier(parts) => {
            let (last, rest) = parts.split_last()?;
            let qualifier = rest.last().map(|p| p.value.clone());
            Some(Output::Column(qualifier, last.value.clone()))
        }
        AstExpr::Nested(e) => plain_column(e),
        _ => None,
    }
}

/// The SELECTs a set expression is made of (each branch of a UNION).
pub fn selects_of(body: &SetExpr) -> Vec<&Select> {
    match body {
        SetExpr::Select(s) => vec![s],
        SetExpr::Query(q) => selects_of(&q.body),
        SetExpr::SetOperation { left, right, .. } => {
            let mut v = selects_of(left);
            v.extend(selects_of(right));
            v
        }
        _ => Vec::new(),
    }
}

fn collect_relations<'a>(
    table: &'a TableWithJoins,
    ctes: &Ctes<'a>,
    models: &'a Models,
    out: &mut Vec<Relation<'a>>,
) {
    let first = out.len();
    collect_factor(&table.relation, ctes, models, out);
    for join in &table.joins {
        let before = out.len();
        collect_factor(&join.relation, ctes, models, out);
        let (joined, preceding) = match join.join_operator {
            JoinOperator::Left(_) | JoinOperator::LeftOuter(_) => (true, false),
            JoinOperator::Right(_) | JoinOperator::RightOuter(_) => (false, true),
            JoinOperator::FullOuter(_) => (true, true),
            _ => (false, false),
        };
        let end = out.len();
        let on = match &join.join_operator {
            JoinOperator::Left(JoinConstraint::On(on))
            | JoinOperator::LeftOuter(JoinConstraint::On(on)) => Some(on),
            _ => None,
        };
        for relation in &mut out[before..end] {
            relation.optional |= joined;
            relation.joined_on = relation.joined_on.or(on);
        }
        for relation in &mut out[first..before] {
            relation.optional |= preceding;
        }
    }
}

fn collect_factor<'a>(
    factor: &'a TableFactor,
    ctes: &Ctes<'a>,
    models: &'a Models,
    out: &mut Vec<Relation<'a>>,
) {
    match factor {
        TableFactor::Table {
            name, alias, args, ..
        } => {
            let table = last_part(name);
            let binding = alias
                .as_ref()
                .map(|a| a.name.value.to_lowercase())
                .unwrap_or_else(|| table.clone());
            let cte = (name.0.len() == 1)
                .then(|| {
                    ctes.iter()
                        .rev()
                        .find(|(n, _)| n.eq_ignore_ascii_case(&table))
                })
                .flatten();
            let kind = match (cte, args) {
                (Some((_, Some(query))), _) => RelationKind::Derived(query),
                (Some((_, None)), _) => RelationKind::Opaque,
                (None, Some(_)) => RelationKind::Opaque,
                (None, None) => match models.get(&table) {
                    Some(model) => RelationKind::Model(model),
                    None => RelationKind::Base,
                },
            };
            out.push(Relation {
                binding,
                qualified: qualified_name(name),
                name: table,
                kind,
                optional: false,
                joined_on: None,
            });
        }
        TableFactor::Derived {
            subquery, alias, ..
        } => out.push(Relation {
            binding: alias
                .as_ref()
                .map(|a| a.name.value.to_lowercase())
                .unwrap_or_default(),
            name: String::new(),
            qualified: String::new(),
            kind: if alias.as_ref().is_some_and(|a| !a.columns.is_empty()) {
                RelationKind::Opaque
            } else {
                RelationKind::Derived(subquery)
            },
            optional: false,
            joined_on: None,
        }),
        TableFactor::NestedJoin {
            table_with_joins, ..
        } => collect_relations(table_with_joins, ctes, models, out),
        _ => out.push(Relation {
            binding: String::new(),
            name: String::new(),
            qualified: String::new(),
            kind: RelationKind::Opaque,
            optional: false,
            joined_on: None,
        }),
    }
}

/// The key a connector's report table says in its name: `ad_report_daily`,
/// `campaign_stats_hourly`, `ad_group_daily_report` hold one row per ad (per
/// campaign, per ad group) per day or hour, keyed by `ad_id` and a date
/// column (`@day`, `@hour`: whichever the query groups by).
fn grain_in_the_name(table: &str) -> Option<Vec<String>> {
    let words: Vec<&str> = table.split('_').collect();
    let period = words
        .iter()
        .position(|w| matches!(*w, "daily" | "hourly"))?;
    let kind = words
        .iter()
        .position(|w| matches!(*w, "report" | "stats" | "insights"))?;
    let entity = words[..period.min(kind)].join("_");
    if entity.is_empty() || period.max(kind) != words.len() - 1 || period.abs_diff(kind) != 1 {
        return None;
    }
    let at = if words[period] == "hourly" {
        "@hour"
    } else {
        "@day"
    };
    Some(vec![format!("{entity}_id"), at.to_string()])
}

/// The operands of an expression's top-level ANDs, parentheses dropped.
fn ast_conjuncts<'e>(expr: &'e AstExpr, out: &mut Vec<&'e AstExpr>) {
    match expr {
        AstExpr::BinaryOp {
            left,
            op: sqlparser::ast::BinaryOperator::And,
            right,
        } => {
            ast_conjuncts(left, out);
            ast_conjuncts(right, out);
        }
        AstExpr::Nested(inner) => ast_conjuncts(inner, out),
        other => out.push(other),
    }
}

/// A scope's columns, without the conditions an outer join puts on them.
struct OwnColumnsOnly<'s, 'a>(&'s Scope<'a>);

impl Resolver for OwnColumnsOnly<'_, '_> {
    fn column(&self, qualifier: Option<&str>, name: &str) -> Expr {
        self.0.column(qualifier, name)
    }
}

/// Collects the column references of an expression, as (qualifier, name);
/// stops at a subquery, which reads relations of its own.
struct ColumnReferences<'c>(&'c mut Vec<(Option<String>, String)>);

impl sqlparser::ast::Visitor for ColumnReferences<'_> {
    type Break = ();

    fn pre_visit_expr(&mut self, expr: &AstExpr) -> std::ops::ControlFlow<()> {
        match expr {
            AstExpr::Identifier(ident) => self.0.push((None, ident.value.clone())),
            AstExpr::CompoundIdentifier(parts) => {
                if let Some((name, qualifier)) = parts.split_last() {
                    let qualifier = qualifier
                        .iter()
                        .map(|p| p.value.as_str())
                        .collect::<Vec<_>>()
                        .join(".");
                    self.0.push((
                        Some(qualifier).filter(|q| !q.is_empty()),
                        name.value.clone(),
                    ));
                }
            }
            _ => {}
        }
        std::ops::ControlFlow::Continue(())
    }

    fn pre_visit_query(&mut self, _query: &Query) -> std::ops::ControlFlow<()> {
        std::ops::ControlFlow::Break(())
    }
}

impl Resolver for Scope<'_> {
    /// Through an outer join, a column holds a value only where its
    /// relation's own filters let the row through: an aggregate of it sees
    /// those filters (as its scope), the query's other aggregates do not.
    fn outer_conditions(&self, qualifier: Option<&str>, name: &str) -> Vec<Expr> {
        match self.relation_of(qualifier, &name.to_lowercase()) {
            Some(relation) if relation.optional => {
                let mut conditions = self.relation_conditions(relation);
                conditions.extend(self.join_filters(relation));
                conditions
            }
            _ => Vec::new(),
        }
    }

    fn is_one_row_value(&self, qualifier: Option<&str>, name: &str) -> bool {
        let name = name.to_lowercase();
        let Some(relation) = self.relation_of(qualifier, &name) else {
            return false;
        };
        let RelationKind::Derived(query) = relation.kind else {
            return false;
        };
        // One SELECT that aggregates with no GROUP BY returns one row.
        let SetExpr::Select(select) = query.body.as_ref() else {
            return false;
        };
        let ungrouped =
            matches!(&select.group_by, GroupByExpr::Expressions(keys, _) if keys.is_empty());
        // The aggregate must be computed there, not read from upstream: a
        // `SELECT *` of a model's per-project averages is many rows.
        let computed_there = match output_item(select, &name) {
            Some(Output::Computed(expr)) => {
                crate::canon::lower::Lowerer::new(&crate::canon::lower::BaseColumns)
                    .lower(expr)
                    .has_aggregate()
            }
            _ => false,
        };
        ungrouped && computed_there
    }

    fn row_key(&self) -> Option<String> {
        if let Some(known) = self.memo.borrow().row_keys.get(&self.key()) {
            return known.clone();
        }
        // A HAVING keeps some groups: their keys are no longer all the rows'.
        let keeps_some_groups = self.relations.iter().any(|r| match r.kind {
            RelationKind::Derived(query) => {
                !matches!(query.body.as_ref(), SetExpr::Select(s) if s.having.is_none())
            }
            _ => false,
        });
        // Within a group, rows unique on a key are unique on the key's
        // columns the group does not fix.
        let key = if keeps_some_groups {
            None
        } else {
            // Rows of a join are no rows of its first relation: a lookup
            // may match twice.
            match self.unfixed_key().as_deref() {
                Some([key]) if reads_one_relation(self.select) && !key.starts_with('@') => {
                    Some(key.clone())
                }
                _ => None,
            }
        };
        self.memo
            .borrow_mut()
            .row_keys
            .insert(self.key(), key.clone());
        key
    }

    fn column(&self, qualifier: Option<&str>, name: &str) -> Expr {
        let key = (
            self.key(),
            qualifier.map(str::to_lowercase),
            name.to_lowercase(),
        );
        if let Some(known) = self.memo.borrow().columns.get(&key) {
            return known.clone();
        }
        let meaning = self.resolve(qualifier, name);
        self.memo.borrow_mut().columns.insert(key, meaning.clone());
        meaning
    }
}

#[cfg(test)]
mod tests {
    use super::grain_in_the_name;

    #[test]
    fn a_connectors_report_table_says_its_grain_in_its_name() {
        let key = |entity: &str, at: &str| Some(vec![format!("{entity}_id"), at.to_string()]);
        assert_eq!(grain_in_the_name("ad_report_daily"), key("ad", "@day"));
        assert_eq!(
            grain_in_the_name("campaign_stats_hourly"),
            key("campaign", "@hour")
        );
        assert_eq!(
            grain_in_the_name("ad_group_daily_report"),
            key("ad_group", "@day")
        );
        for other in [
            "ad_report",
            "daily_report",
            "ad_daily",
            "report_daily_ad",
            "ad_report_daily_summary",
            "ad_history",
        ] {
            assert_eq!(grain_in_the_name(other), None, "{other}");
        }
    }
}
