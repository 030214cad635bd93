//! Where a select-list alias is read by name in its own statement: what a
//! rename of the alias must rename too (ML011's fix).
//!
//! Only reads that provably mean the aliased figure are found:
//! - `ORDER BY old` of the alias's own query (an output name there);
//! - in a later query that reads the CTE or derived table the alias is an
//!   output of: `c.old` qualified by that relation's name or alias, and a
//!   bare `old` where that relation is all the query reads;
//! - the same again through a CTE that passes `old` on unrenamed.
//!
//! A bare name in the alias's own `GROUP BY`, `HAVING` or `WHERE` may be a
//! source column as well as the alias, and is not found. The fix renames
//! only where every word `old` in the file is one of these reads (checked
//! on the text when it is applied), so a read this misses leaves the
//! finding for a person, never half renamed.

use std::collections::HashSet;
use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr as AstExpr, Ident, OrderBy, OrderByKind, Query, Select, SelectItem, SetExpr,
    SetQuantifier, Statement, TableFactor, Visit, Visitor,
};
use sqlparser::tokenizer::Span;

use crate::source::Range;

/// The spans of the reads of the alias written at `alias` (where its
/// name is; `quoted` when written in quotes) of the figure named `name` in
/// `statement`, as far as they can be proven (see the module); `None` when
/// renaming the figure would change what the statement does though no
/// name is written (a NATURAL JOIN or a BY NAME set operation or insert
/// matches columns by their names).
pub fn alias_reads(
    statement: &Statement,
    alias: Range,
    name: &str,
    quoted: bool,
) -> Option<Vec<Span>> {
    let query = match statement {
        Statement::Query(q) => Some(q.as_ref()),
        Statement::CreateView(v) => Some(v.query.as_ref()),
        Statement::CreateTable(t) => t.query.as_deref(),
        Statement::Insert(i) if i.by_name => return None,
        Statement::Insert(i) => i.source.as_deref(),
        _ => None,
    };
    let mut finder = Finder {
        alias,
        name: name_key(name, quoted),
        reads: Vec::new(),
        matched_by_name: false,
    };
    if let Some(query) = query {
        finder.query(query, &HashSet::new());
    }
    (!finder.matched_by_name).then_some(finder.reads)
}

/// How a name compares: an unquoted name ASCII case aside; a quoted one
/// exactly, and never equal to an unquoted one (dialects fold unquoted
/// names to lower or upper case: mixed quoting is left unproven).
fn name_key(value: &str, quoted: bool) -> String {
    if quoted {
        format!("\u{0}{value}")
    } else {
        value.to_ascii_lowercase()
    }
}

fn key(ident: &Ident) -> String {
    name_key(&ident.value, ident.quote_style.is_some())
}

struct Finder {
    alias: Range,
    /// The figure's name, as [`name_key`] gives it.
    name: String,
    reads: Vec<Span>,
    /// Whether a relation holding the figure is matched with another by
    /// column names (see [`alias_reads`]).
    matched_by_name: bool,
}

/// A relation a SELECT reads: how its columns are qualified there (as
/// [`name_key`] gives it), and
/// whether the aliased figure is one of its columns.
struct Read {
    qualifier: Option<String>,
    holds_the_figure: bool,
}

impl Finder {
    /// Walks `query`, where `holding` are the CTE names ([`name_key`]) whose
    /// output holds the figure; says whether the query outputs it under
    /// its name.
    fn query(&mut self, query: &Query, holding: &HashSet<String>) -> bool {
        let mut holding = holding.clone();
        if let Some(with) = &query.with {
            for cte in &with.cte_tables {
                let name = key(&cte.alias.name);
                let outputs = self.query(&cte.query, &holding);
                // A CTE of that name shadows an outer one from here on.
                holding.remove(&name);
                if outputs && cte.alias.columns.is_empty() {
                    holding.insert(name);
                }
            }
        }
        self.set_expr(&query.body, &holding, query.order_by.as_ref())
    }

    fn set_expr(
        &mut self,
        body: &SetExpr,
        holding: &HashSet<String>,
        order_by: Option<&OrderBy>,
    ) -> bool {
        match body {
            SetExpr::Select(select) => self.select(select, holding, order_by),
            SetExpr::Query(inner) => {
                // The outer ORDER BY of `(SELECT …) ORDER BY old` is not
                // followed: the figure's output is left alone there.
                self.query(inner, holding);
                false
            }
            SetExpr::SetOperation {
                left,
                right,
                set_quantifier,
                ..
            } => {
                if matches!(
                    set_quantifier,
                    SetQuantifier::ByName
                        | SetQuantifier::AllByName
                        | SetQuantifier::DistinctByName
                ) {
                    self.matched_by_name = true;
                }
                // A UNION's branches: their reads are followed, but what
                // the union outputs is named by its first branch, and its
                // ORDER BY names the union's outputs.
                self.set_expr(left, holding, None);
                self.set_expr(right, holding, None);
                false
            }
            _ => false,
        }
    }

    fn select(
        &mut self,
        select: &Select,
        holding: &HashSet<String>,
        order_by: Option<&OrderBy>,
    ) -> bool {
        let mut relations = Vec::new();
        let mut natural = false;
        for table in &select.from {
            self.factor(&table.relation, holding, &mut relations);
            for join in &table.joins {
                self.factor(&join.relation, holding, &mut relations);
                natural |= format!(" {join}")
                    .to_ascii_uppercase()
                    .contains(" NATURAL ");
            }
        }
        if natural && relations.iter().any(|r| r.holds_the_figure) {
            self.matched_by_name = true;
        }
        let is_home = select.projection.iter().any(|item| {
            matches!(item, SelectItem::ExprWithAlias { alias, .. } if Range::from(alias.span) == self.alias)
        });
        let only_read_holds = matches!(relations.as_slice(), [only] if only.holds_the_figure);

        // The SELECT's own names (not those of its subqueries, walked as
        // queries of their own).
        let mut own = Names::default();
        let _ = select.visit(&mut own);
        for query in &own.nested {
            self.query(query, holding);
        }
        let mut read_here: Vec<Span> = Vec::new();
        for parts in &own.names {
            if let Some(span) = self.reads_the_figure(parts, &relations, only_read_holds) {
                read_here.push(span);
            }
        }
        // ORDER BY names outputs first: the alias, where this is its SELECT.
        if let Some(OrderBy {
            kind: OrderByKind::Expressions(exprs),
            ..
        }) = order_by
        {
            let mut ordered = Names::default();
            for order in exprs {
                match &order.expr {
                    // The output's name, where it stands alone: an
                    // expression (`coalesce(old, 0)`) names source columns.
                    AstExpr::Identifier(bare) if is_home && key(bare) == self.name => {
                        read_here.push(bare.span);
                    }
                    _ => {
                        let _ = order.visit(&mut ordered);
                    }
                }
            }
            for query in &ordered.nested {
                self.query(query, holding);
            }
            for parts in &ordered.names {
                read_here.extend(self.reads_the_figure(parts, &relations, only_read_holds));
            }
        }
        // Passed on unrenamed (`SELECT old FROM c`), the figure is an
        // output of this SELECT too.
        let passes_it_on = select.projection.iter().any(|item| match item {
            SelectItem::UnnamedExpr(AstExpr::Identifier(ident)) => read_here.contains(&ident.span),
            SelectItem::UnnamedExpr(AstExpr::CompoundIdentifier(parts)) => parts
                .last()
                .is_some_and(|last| read_here.contains(&last.span)),
            _ => false,
        });
        self.reads.extend(read_here);
        is_home || passes_it_on
    }

    /// The span of the figure's name in `parts`, where the name is a read
    /// of the figure in a SELECT reading `relations`.
    fn reads_the_figure(
        &self,
        parts: &[Ident],
        relations: &[Read],
        only_read_holds: bool,
    ) -> Option<Span> {
        match parts {
            [bare] if only_read_holds && key(bare) == self.name => Some(bare.span),
            [qualifier, column] if key(column) == self.name => relations
                .iter()
                .any(|r| r.holds_the_figure && r.qualifier.as_deref() == Some(&key(qualifier)))
                .then_some(column.span),
            _ => None,
        }
    }

    fn factor(&mut self, factor: &TableFactor, holding: &HashSet<String>, out: &mut Vec<Read>) {
        match factor {
            TableFactor::Table { name, alias, .. } => {
                let table = match name.0.as_slice() {
                    [one] => one.as_ident().map(key),
                    _ => None,
                };
                let holds = table.as_ref().is_some_and(|t| holding.contains(t));
                out.push(Read {
                    qualifier: alias.as_ref().map(|a| key(&a.name)).or(table),
                    holds_the_figure: holds,
                });
            }
            TableFactor::Derived {
                subquery, alias, ..
            } => {
                let outputs = self.query(subquery, holding);
                let renamed = alias.as_ref().is_some_and(|a| !a.columns.is_empty());
                out.push(Read {
                    qualifier: alias.as_ref().map(|a| key(&a.name)),
                    holds_the_figure: outputs && !renamed,
                });
            }
            TableFactor::NestedJoin {
                table_with_joins, ..
            } => {
                self.factor(&table_with_joins.relation, holding, out);
                for join in &table_with_joins.joins {
                    self.factor(&join.relation, holding, out);
                }
            }
            _ => {
                // A table function, UNNEST, …: a relation whose columns
                // are not known, so a bare name may be one of them.
                out.push(Read {
                    qualifier: None,
                    holds_the_figure: false,
                });
            }
        }
    }
}

/// The column names (`old`, `c.old`) an expression tree reads outside its
/// subqueries, and those subqueries (but not the FROM's derived tables,
/// which the walk reaches through the FROM).
#[derive(Default)]
struct Names {
    depth: usize,
    skip_next_query: bool,
    names: Vec<Vec<Ident>>,
    nested: Vec<Query>,
}

impl Visitor for Names {
    type Break = ();

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
        if self.depth == 0 && matches!(factor, TableFactor::Derived { .. }) {
            self.skip_next_query = true;
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        if self.depth == 0 {
            if std::mem::take(&mut self.skip_next_query) {
                // Walked through the FROM.
            } else {
                self.nested.push(query.clone());
            }
        }
        self.depth += 1;
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _query: &Query) -> ControlFlow<()> {
        self.depth -= 1;
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &AstExpr) -> ControlFlow<()> {
        if self.depth == 0 {
            match expr {
                AstExpr::Identifier(ident) => self.names.push(vec![ident.clone()]),
                AstExpr::CompoundIdentifier(parts) => self.names.push(parts.clone()),
                _ => {}
            }
        }
        ControlFlow::Continue(())
    }
}
