//! A LookML file's measures as SQL: each measure one `SELECT <aggregate> AS
//! <measure> FROM <view's table>` statement, its `${…}` references resolved
//! through the view's dimensions and measures, its `filters:` written as the
//! aggregate's condition. The SQL goes through the same pipeline as a
//! report's, and every byte of it remembers where in the LookML it came
//! from, so findings point at the measure as written.

use std::collections::HashMap;
use std::ops::Range;

use super::parse::{find, ListItem, Pair, Value};

/// The SQL of a LookML file's measures, and the LookML byte each SQL byte
/// comes from.
#[derive(Debug, Default)]
pub struct Generated {
    pub sql: String,
    pub origin: Vec<u32>,
    /// The measures left out (name, where the definition starts, why: a
    /// type or filter metriclint does not read): never a guess.
    pub skipped: Vec<(String, usize, &'static str)>,
    /// Each measure definition's bytes (`measure: x { … }`), where a
    /// `# noqa` silences what is found in that measure.
    pub blocks: Vec<Range<usize>>,
    /// The measures Looker shows in percent (see [`ShownInPercent`]).
    pub shown_in_percent: Vec<ShownInPercent>,
    /// Each measure's own `sql:` with its `${…}` references as plain names
    /// (`${total_clicks} / ${total_impressions}` as `total_clicks /
    /// total_impressions`), and where it is: what the measure writes
    /// itself, its references unexpanded.
    pub own_sql: Vec<(String, String, Range<usize>)>,
}

/// A measure's SQL with each `${…}` reference as the name inside it.
fn references_as_names(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        match rest[start..].find('}') {
            Some(end) => {
                out.push_str(&rest[start + 2..start + end]);
                rest = &rest[start + end + 1..];
            }
            None => {
                rest = &rest[start..];
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A derived table's SQL as plain SQL: Liquid's `{% condition f %} x {%
/// endcondition %}` (a filter the user picks) is `1 = 1`, its other tags
/// go, `{{ … }}` is a name, `${view.SQL_TABLE_NAME}` is that view's name
/// and another `${…}` the name it holds. `None` where what is left is not
/// one query generic SQL reads (a dialect's syntax, Liquid that chose
/// between texts), or where it aggregates: the view's name then stands
/// for it, as for a table of its own.
fn derived_sql(sql: &str) -> Option<String> {
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    loop {
        let next = [rest.find("{%"), rest.find("{{"), rest.find("${")]
            .into_iter()
            .flatten()
            .min();
        let Some(start) = next else {
            out.push_str(rest);
            break;
        };
        out.push_str(&rest[..start]);
        let hole = &rest[start..];
        if let Some(tag) = hole.strip_prefix("{%") {
            let end = tag.find("%}")?;
            let inside = tag[..end].trim();
            rest = &tag[end + 2..];
            if inside.starts_with("condition") {
                let close = rest.find("endcondition")?;
                let after = rest[close..].find("%}")?;
                rest = &rest[close + after + 2..];
                out.push_str(" 1 = 1 ");
            }
        } else if let Some(value) = hole.strip_prefix("{{") {
            let end = value.find("}}")?;
            out.push_str("__liquid");
            rest = &value[end + 2..];
        } else {
            let reference = &hole[2..];
            let end = reference.find('}')?;
            let name = &reference[..end];
            match name.rsplit_once('.') {
                Some((view, part)) if part.eq_ignore_ascii_case("SQL_TABLE_NAME") => {
                    out.push_str(&sql_name(view));
                }
                _ => out.push_str(name),
            }
            rest = &reference[end + 1..];
        }
    }
    let query = out.trim().trim_end_matches(';').trim().to_string();
    let statements = sqlparser::parser::Parser::parse_sql(
        &sqlparser::dialect::GenericDialect {},
        &format!("SELECT 1 FROM ({query}) AS derived"),
    )
    .ok()
    .filter(|statements| statements.len() == 1)?;
    // A derived table that aggregates (one row per session over a table of
    // page views) has rows of its own, another grain than what it reads:
    // the view's name stands for it, as for a table of its own.
    let shown = statements[0].to_string().to_ascii_uppercase();
    let aggregates = [
        " GROUP BY ",
        "DISTINCT",
        "SUM(",
        "COUNT(",
        "AVG(",
        "MIN(",
        "MAX(",
        " OVER ",
    ]
    .iter()
    .any(|word| shown.contains(word));
    if aggregates {
        return None;
    }
    // Only what it reads: its columns' lineage is left to their names (a
    // `req_ratio` column is a rate by its name, whatever made it).
    let mut tables = Vec::new();
    let mut ctes = Vec::new();
    let _ = sqlparser::ast::visit_relations(&statements, |relation| {
        let name = relation.to_string();
        if !tables.contains(&name) {
            tables.push(name);
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
    for statement in &statements {
        let _ = sqlparser::ast::Visit::visit(statement, &mut CteNames(&mut ctes));
    }
    tables.retain(|t| !ctes.iter().any(|c: &String| c.eq_ignore_ascii_case(t)));
    (!tables.is_empty()).then(|| format!("SELECT * FROM {}", tables.join(", ")))
}

/// The names of the CTEs a statement defines.
struct CteNames<'a>(&'a mut Vec<String>);

impl sqlparser::ast::Visitor for CteNames<'_> {
    type Break = ();

    fn pre_visit_query(&mut self, query: &sqlparser::ast::Query) -> std::ops::ControlFlow<()> {
        if let Some(with) = &query.with {
            self.0
                .extend(with.cte_tables.iter().map(|c| c.alias.name.value.clone()));
        }
        std::ops::ControlFlow::Continue(())
    }
}

/// A measure whose `value_format_name` (`percent_0` … `percent_4`) or
/// `value_format` (`0.00%`) shows its value times a hundred: its value must
/// be a fraction.
#[derive(Debug)]
pub struct ShownInPercent {
    pub measure: String,
    /// Its expression in the generated SQL.
    pub expression: Range<usize>,
    /// The format as written, and where its value is in the LookML.
    pub format: String,
    pub format_at: Range<usize>,
}

/// A measure's percent format, as written, and where: `value_format_name:
/// percent_N`, or a `value_format` that holds `%`.
fn percent_format(text: &str, measure: &Field<'_>) -> Option<(String, Range<usize>)> {
    let scalar = |key: &str| match measure.get(key).map(|p| &p.value) {
        Some(Value::Scalar(text, range)) => Some((text.trim().to_string(), range.clone())),
        _ => None,
    };
    if let Some((name, at)) = scalar("value_format_name") {
        let percent = name
            .strip_prefix("percent_")
            .is_some_and(|digits| digits.bytes().all(|b| b.is_ascii_digit()));
        return percent.then(|| (format!("value_format_name: {name}"), at));
    }
    // As written: the reader unescapes `\%`, which is what tells a literal
    // sign from a scaling one.
    scalar("value_format")
        .map(|(format, at)| {
            let written = text.get(at.clone()).unwrap_or(&format);
            let written = written
                .strip_prefix('"')
                .and_then(|w| w.strip_suffix('"'))
                .unwrap_or(written);
            (string_escapes_read(written), at)
        })
        .filter(|(format, _)| scales_by_a_hundred(format))
        .map(|(format, at)| (format!("value_format: \"{format}\""), at))
}

/// A LookML string's own escapes read (`\"` a quote, `\\` a backslash);
/// any other backslash is the format's (`\%`), kept.
fn string_escapes_read(written: &str) -> String {
    let mut out = String::with_capacity(written.len());
    let mut chars = written.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('\\', Some('"' | '\\')) => out.extend(chars.next()),
            _ => out.push(c),
        }
    }
    out
}

/// Whether an Excel-style format multiplies by 100: it holds a bare `%`,
/// not an escaped one (`0.0\%`) or one in quotes (`0.0"%"`), which are
/// the literal sign after a number already in percent.
fn scales_by_a_hundred(format: &str) -> bool {
    let mut chars = format.chars();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' if !quoted => {
                chars.next();
            }
            '"' => quoted = !quoted,
            '%' if !quoted => return true,
            _ => {}
        }
    }
    false
}

impl Generated {
    /// Where a range of the SQL is in the LookML.
    pub fn map_range(
        &self,
        sql: &crate::source::LineIndex<'_>,
        lookml: &crate::source::LineIndex<'_>,
        range: crate::source::Range,
    ) -> crate::source::Range {
        if self.origin.is_empty() {
            return crate::source::Range::file_start();
        }
        let last = self.origin.len() - 1;
        let start = lookml.position(self.origin[sql.offset(range.start).min(last)] as usize);
        let end_offset = sql.offset(range.end);
        let end = if end_offset == 0 {
            start
        } else {
            let p = lookml.position(self.origin[(end_offset - 1).min(last)] as usize);
            crate::source::Position::new(p.line, p.column + 1)
        };
        crate::source::Range {
            start,
            end: end.max(start),
        }
    }

    /// Text of its own (`SELECT `, an alias) standing for `span` of the
    /// LookML: its last byte from the span's last character, the others
    /// from its first, so that a range over all of it maps onto all of
    /// `span` (every origin the start of a character).
    fn push_over(&mut self, text: &str, span: &Span) {
        let last = text.len().saturating_sub(1);
        for (i, _) in text.bytes().enumerate() {
            let at = if i == last && i > 0 {
                span.last
            } else {
                span.first
            };
            self.origin.push(at as u32);
        }
        self.sql.push_str(text);
    }
}

/// Where in the LookML a piece of SQL comes from: its first character and
/// its last, each by the byte it starts at.
struct Span {
    first: usize,
    last: usize,
}

impl Span {
    /// The span of `range` of `text`.
    fn of(text: &str, range: &Range<usize>) -> Span {
        let last = text[..range.end.min(text.len())]
            .char_indices()
            .next_back()
            .map_or(range.start, |(at, _)| at)
            .max(range.start);
        Span {
            first: range.start,
            last,
        }
    }
}

/// One view: its table and its fields, refinements merged in.
struct View<'p> {
    name: String,
    table: Option<String>,
    /// A derived table's SQL (`derived_table: { sql: … ;; }`), its Liquid
    /// and `${…}` holes written out, where it parses: the FROM of its
    /// measures, so that they read what it reads.
    derived: Option<String>,
    dimensions: HashMap<String, Field<'p>>,
    /// In the order first defined.
    measures: Vec<(String, Field<'p>)>,
}

/// A field's definitions, the view's and its refinements' in order: a
/// refinement overrides the parameters it sets and keeps the others (a
/// label added to a measure keeps its `sql:`), as Looker merges them.
#[derive(Default)]
struct Field<'p>(Vec<&'p Pair>);

impl<'p> Field<'p> {
    /// The parameter `key` as the last definition that sets it says.
    fn get(&self, key: &str) -> Option<&'p Pair> {
        self.0.iter().rev().find_map(|d| find(d.pairs(), key))
    }

    fn text(&self, key: &str) -> Option<&'p str> {
        self.get(key).and_then(Pair::text)
    }

    /// Where the field is first defined.
    fn first(&self) -> &'p Pair {
        self.0[0]
    }
}

/// Reads the views of a file's top-level pairs (`view: x { … }`, and
/// `view: +x { … }` refining it).
fn views(pairs: &[Pair]) -> Vec<View<'_>> {
    let mut views: Vec<View<'_>> = Vec::new();
    for view in pairs.iter().filter(|p| p.key == "view") {
        let Some(written) = view.name() else { continue };
        let name = written.trim_start_matches('+').to_lowercase();
        let index = match views.iter().position(|v| v.name == name) {
            Some(index) => index,
            None => {
                views.push(View {
                    name: name.clone(),
                    table: None,
                    derived: None,
                    dimensions: HashMap::new(),
                    measures: Vec::new(),
                });
                views.len() - 1
            }
        };
        let entry = &mut views[index];
        for pair in view.pairs() {
            match pair.key.as_str() {
                "sql_table_name" => {
                    if let Some(table) = pair.text() {
                        entry.table = Some(table.to_string());
                    }
                }
                "derived_table" => {
                    entry.derived = find(pair.pairs(), "sql")
                        .and_then(|sql| sql.text())
                        .and_then(derived_sql);
                }
                "dimension" | "dimension_group" | "filter" | "parameter" => {
                    if let Some(field) = pair.name() {
                        entry
                            .dimensions
                            .entry(field.to_lowercase())
                            .or_default()
                            .0
                            .push(pair);
                    }
                }
                "measure" => {
                    if let Some(field) = pair.name() {
                        let field = field.to_lowercase();
                        match entry.measures.iter_mut().find(|(n, _)| *n == field) {
                            Some((_, defined)) => defined.0.push(pair),
                            None => entry.measures.push((field, Field(vec![pair]))),
                        }
                    }
                }
                _ => {}
            }
        }
    }
    views
}

/// Why a measure is left out.
type Skip = &'static str;

/// How long a measure's SQL may grow as its references are resolved (a
/// measure that uses another three times, which uses another three times …).
const MAX_EXPANSION: usize = 20_000;

/// How deep `${…}` references may nest (a dimension of a dimension …).
const MAX_DEPTH: usize = 12;

impl View<'_> {
    /// The table the view reads, as the FROM of its measures: its
    /// `sql_table_name`, or its derived table's SQL as a subquery, else its
    /// own name.
    fn from(&self) -> String {
        if let (None, Some(derived)) = (&self.table, &self.derived) {
            return format!("({derived})");
        }
        match &self.table {
            // BigQuery's whole path in one pair of backticks.
            Some(table)
                if table.len() > 2
                    && table.starts_with('`')
                    && table.ends_with('`')
                    && !table[1..table.len() - 1].contains('`') =>
            {
                table.clone()
            }
            // A BigQuery project's name may hold a hyphen
            // (`ra-development.analytics.fact`): quoted, it is one name.
            Some(table) if is_plain_table(table) => table
                .split('.')
                // SQL Server's default schema (`db..table`) names no part.
                .filter(|part| !part.is_empty())
                .map(|part| {
                    if part.contains('-') && !part.starts_with(['"', '`']) {
                        format!("\"{part}\"")
                    } else {
                        part.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join("."),
            _ => sql_name(&self.name),
        }
    }

    fn measure(&self, name: &str) -> Option<&Field<'_>> {
        self.measures
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, field)| field)
    }

    /// The view a reference's field belongs to, and the field's name: this
    /// one, or another view of the file (`${orders.total}`); `None` for a
    /// view the file does not define.
    fn owner<'v>(
        &'v self,
        inner: &'v str,
        views: &'v [View<'v>],
    ) -> Option<(&'v View<'v>, String)> {
        match inner.split_once('.') {
            Some((view, field)) if !view.eq_ignore_ascii_case(&self.name) => views
                .iter()
                .find(|v| v.name.eq_ignore_ascii_case(view))
                .map(|v| (v, field.to_lowercase())),
            Some((_, field)) => Some((self, field.to_lowercase())),
            None => Some((self, inner.to_lowercase())),
        }
    }

    /// The SQL a `${…}` reference stands for.
    fn reference(&self, inner: &str, depth: usize, views: &[View<'_>]) -> Result<String, Skip> {
        let inner = inner.trim();
        if inner == "TABLE" {
            return Ok(sql_name(&self.name));
        }
        if let Some((view, field)) = inner.split_once('.') {
            if field == "SQL_TABLE_NAME" {
                return Ok(view.to_lowercase());
            }
        }
        let Some((owner, field)) = self.owner(inner, views) else {
            // A view this file does not define, through an explore's join:
            // its column.
            let (view, field) = inner.split_once('.').unwrap_or(("", inner));
            return Ok(format!(
                "{}.{}",
                sql_name(&view.to_lowercase()),
                sql_name(&field.to_lowercase())
            ));
        };
        if let Some(dimension) = owner.dimensions.get(&field) {
            return match dimension.text("sql") {
                Some(sql) => Ok(format!("({})", owner.expand(sql, depth + 1, views)?)),
                None => Ok(format!("{}.{}", sql_name(&owner.name), sql_name(&field))),
            };
        }
        if let Some(measure) = owner.measure(&field) {
            return Ok(format!("({})", owner.aggregate(measure, depth + 1, views)?));
        }
        // A timeframe of a dimension group (`${created_date}` of
        // `dimension_group: created`).
        if let Some(timeframe) = owner.timeframe(&field, depth, views) {
            return timeframe;
        }
        // A field defined elsewhere (an extended view): its column.
        Ok(format!("{}.{}", sql_name(&owner.name), sql_name(&field)))
    }

    /// A dimension group's timeframe (`created_date`, `created_month`) as
    /// SQL: the group's own SQL as a date, or truncated to the period.
    fn timeframe(
        &self,
        field: &str,
        depth: usize,
        views: &[View<'_>],
    ) -> Option<Result<String, Skip>> {
        let (group, frame) = field.rsplit_once('_')?;
        let defined = self.dimensions.get(group)?;
        if defined.first().key != "dimension_group" {
            return None;
        }
        let sql = match defined.text("sql") {
            Some(sql) => match self.expand(sql, depth + 1, views) {
                Ok(sql) => sql,
                Err(why) => return Some(Err(why)),
            },
            None => format!("{}.{}", sql_name(&self.name), sql_name(group)),
        };
        Some(match frame {
            "raw" | "time" => Ok(format!("({sql})")),
            "date" => Ok(format!("CAST({sql} AS DATE)")),
            "week" | "month" | "quarter" | "year" => Ok(format!("DATE_TRUNC('{frame}', {sql})")),
            _ => Err("a dimension group's timeframe metriclint does not read yet"),
        })
    }

    /// SQL with its `${…}` references resolved.
    fn expand(&self, sql: &str, depth: usize, views: &[View<'_>]) -> Result<String, Skip> {
        if depth > MAX_DEPTH {
            return Err("its references nest too deep (or refer to themselves)");
        }
        if sql.contains("{%") || sql.contains("{{") {
            return Err("its SQL holds Liquid, which depends on the query");
        }
        // A suppression written inside the SQL (`${TABLE}.ctr  # noqa:
        // ML005`) is metriclint's, not the SQL's.
        let without_suppressions: String;
        let sql = if sql.contains("# noqa") || sql.contains("# metriclint:") {
            without_suppressions = sql
                .lines()
                .map(
                    |line| match line.find("# noqa").or_else(|| line.find("# metriclint:")) {
                        Some(at) => &line[..at],
                        None => line,
                    },
                )
                .collect::<Vec<_>>()
                .join("\n");
            &without_suppressions
        } else {
            sql
        };
        let mut out = String::new();
        let mut rest = sql;
        while let Some(open) = rest.find("${") {
            out.push_str(&rest[..open]);
            let Some(close) = rest[open..].find('}') else {
                return Err("a `${` is never closed");
            };
            out.push_str(&self.reference(&rest[open + 2..open + close], depth, views)?);
            if out.len() > MAX_EXPANSION {
                return Err("its references expand past what metriclint reads");
            }
            rest = &rest[open + close + 1..];
        }
        out.push_str(rest);
        // A `--` comment in it ends at a line break, not at what follows.
        if out.contains("--") {
            out.push('\n');
        }
        Ok(out)
    }

    /// A measure as one SQL expression (an aggregate, or for `type: number`
    /// its SQL over other measures).
    fn aggregate(
        &self,
        measure: &Field<'_>,
        depth: usize,
        views: &[View<'_>],
    ) -> Result<String, Skip> {
        let kind = measure.text("type");
        let sql = measure.text("sql");
        let value = |sql: Option<&str>| -> Result<String, Skip> {
            match sql {
                Some(sql) => self.expand(sql, depth, views),
                None => Err("it has no `sql:`"),
            }
        };
        let condition = self.filters(measure, depth, views)?;
        let when = |value: String| match &condition {
            Some(condition) => format!("CASE WHEN {condition} THEN {value} END"),
            None => value,
        };
        Ok(match kind.unwrap_or("count") {
            "count" if sql.is_none() => match &condition {
                Some(condition) => format!("COUNT(CASE WHEN {condition} THEN 1 END)"),
                None => "COUNT(*)".to_string(),
            },
            "count" => format!("COUNT({})", when(value(sql)?)),
            "count_distinct" => format!("COUNT(DISTINCT {})", when(value(sql)?)),
            "sum" => format!("SUM({})", when(value(sql)?)),
            "average" => format!("AVG({})", when(value(sql)?)),
            "max" => format!("MAX({})", when(value(sql)?)),
            "min" => format!("MIN({})", when(value(sql)?)),
            "median" => format!("MEDIAN({})", when(value(sql)?)),
            "number" if condition.is_none() => value(sql)?,
            "number" => return Err("a `type: number` measure with filters"),
            _ => return Err("its type is not one metriclint reads yet"),
        })
    }

    /// A measure's `filters: [field: "value", …]` as one SQL condition.
    fn filters(
        &self,
        measure: &Field<'_>,
        depth: usize,
        views: &[View<'_>],
    ) -> Result<Option<String>, Skip> {
        let Some(filters) = measure.get("filters") else {
            return Ok(None);
        };
        let items: Vec<(String, String)> = match &filters.value {
            Value::List(items) => items
                .iter()
                .map(|item| match item {
                    ListItem::Pair(field, value) => Ok((field.clone(), value.clone())),
                    ListItem::Scalar(_) => Err("its filters are not `field: value` pairs"),
                })
                .collect::<Result<_, _>>()?,
            // The older form, `filters: { field: x value: "y" }`.
            Value::Block { pairs: inner, .. } => {
                let field = find(inner, "field").and_then(Pair::text);
                let value = find(inner, "value").and_then(Pair::text);
                match (field, value) {
                    (Some(field), Some(value)) => vec![(field.to_string(), value.to_string())],
                    _ => return Err("its filters are not `field: value` pairs"),
                }
            }
            _ => return Err("its filters are not `field: value` pairs"),
        };
        let mut conditions = Vec::new();
        for (field, value) in items {
            let column = self.reference(&field, depth + 1, views)?;
            let kind = self
                .owner(&field, views)
                .and_then(|(owner, name)| owner.dimensions.get(&name).and_then(|d| d.text("type")));
            conditions.push(filter_condition(
                &column,
                value.trim(),
                kind == Some("yesno"),
                kind == Some("number"),
            )?);
        }
        Ok((!conditions.is_empty()).then(|| conditions.join(" AND ")))
    }
}

/// Looker's filter expression on one field as SQL, where it is one of the
/// plain forms (`yes`/`no`, `value`, `-value`, `a,b`, `NULL`, `-NULL`,
/// `>0`); anything else (`%match%`, `7 days`, ranges) leaves the measure out.
fn filter_condition(column: &str, value: &str, yesno: bool, numeric: bool) -> Result<String, Skip> {
    const UNREAD: Skip = "a filter expression metriclint does not read yet";
    if yesno {
        return match value.to_ascii_lowercase().as_str() {
            "yes" => Ok(column.to_string()),
            "no" => Ok(format!("NOT {column}")),
            _ => Err(UNREAD),
        };
    }
    match value {
        "NULL" => return Ok(format!("{column} IS NULL")),
        "-NULL" => return Ok(format!("{column} IS NOT NULL")),
        _ => {}
    }
    // On a number, `-5` is minus five (not "not 5", as on a string).
    if numeric && is_number(value) {
        return Ok(format!("{column} = {value}"));
    }
    if let Some(number) = ["<=", ">=", "!=", "<", ">", "="]
        .iter()
        .find_map(|op| value.strip_prefix(op).map(|n| (*op, n.trim())))
    {
        let (op, n) = number;
        return if is_number(n) {
            Ok(format!(
                "{column} {} {n}",
                if op == "!=" { "<>" } else { op }
            ))
        } else {
            Err(UNREAD)
        };
    }
    let parts: Vec<&str> = value.split(',').map(str::trim).collect();
    let negated = parts.iter().all(|p| p.starts_with('-'));
    if !negated && parts.iter().any(|p| p.starts_with('-')) {
        return Err(UNREAD);
    }
    let literal = |part: &str| -> Result<String, Skip> {
        let part = part.trim_start_matches('-');
        // `%` matches patterns, `^` escapes, spaces are dates' words
        // (`7 days`). A `_` matches one character, so `paid_search` also
        // matches `paid-search`: read as the value it names.
        if part.is_empty()
            || part.contains(['%', '^', '[', ']', '(', ')', '"', ' '])
            || matches!(part, "EMPTY" | "NULL")
        {
            return Err(UNREAD);
        }
        if numeric && is_number(part) {
            Ok(part.to_string())
        } else {
            Ok(format!("'{}'", part.replace('\'', "''")))
        }
    };
    let literals: Vec<String> = parts.iter().map(|p| literal(p)).collect::<Result<_, _>>()?;
    Ok(match (literals.as_slice(), negated) {
        ([one], false) => format!("{column} = {one}"),
        ([one], true) => format!("{column} <> {one}"),
        (many, false) => format!("{column} IN ({})", many.join(", ")),
        (many, true) => format!("{column} NOT IN ({})", many.join(", ")),
    })
}

fn is_number(text: &str) -> bool {
    !text.is_empty() && text.parse::<f64>().is_ok()
}

/// A view's or measure's name as an SQL name: quoted where it is no plain
/// identifier (`3glecturasmovil`).
fn sql_name(name: &str) -> String {
    let plain = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// Whether a `sql_table_name` is a plain (possibly qualified, quoted) name,
/// not a template.
fn is_plain_table(table: &str) -> bool {
    let quoted_whole = |part: &str| {
        let inner = |q: char| part.strip_prefix(q).and_then(|p| p.strip_suffix(q));
        match inner('"').or_else(|| inner('`')) {
            Some(name) => !name.is_empty() && !name.contains(['"', '`']),
            None => !part.contains(['"', '`']),
        }
    };
    !table.is_empty()
        && table
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '"' | '`' | '-'))
        && table.split('.').all(quoted_whole)
}

/// The measures of a LookML file's views as SQL statements, one per
/// measure, each mapped back onto the LookML it came from: the aggregate
/// onto the measure's `sql:` (or, without one, its `measure: name`), the
/// rest of the statement onto the `measure: name` line.
pub fn measures_as_sql(text: &str, pairs: &[Pair]) -> Generated {
    let mut out = Generated::default();
    let views = views(pairs);
    for view in &views {
        for (_, measure) in &view.measures {
            out.blocks.extend(measure.0.iter().map(|d| d.at..d.end));
            let first = measure.first();
            let Some(name) = first.name() else { continue };
            // The name after the key (a measure named `me` is not the `me`
            // of `measure`).
            let after_key = first.at + first.key.len();
            let head_end = text[after_key..]
                .find(name)
                .map_or(after_key, |i| after_key + i + name.len());
            let head = first.at..head_end;
            let expression = match view.aggregate(measure, 0, &views) {
                Ok(expression) => expression,
                Err(why) => {
                    out.skipped.push((name.to_string(), first.at, why));
                    continue;
                }
            };
            let written = match measure.get("sql").map(|p| &p.value) {
                Some(Value::Expression(own, range)) => {
                    out.own_sql
                        .push((name.to_string(), references_as_names(own), range.clone()));
                    range.clone()
                }
                _ => head.clone(),
            };
            let (head, written) = (Span::of(text, &head), Span::of(text, &written));
            out.push_over("SELECT ", &head);
            if let Some((format, format_at)) = percent_format(text, measure) {
                out.shown_in_percent.push(ShownInPercent {
                    measure: name.to_string(),
                    expression: out.sql.len()..out.sql.len() + expression.len(),
                    format,
                    format_at,
                });
            }
            out.push_over(&expression, &written);
            // The file's other views its SQL reads (`${orders.total}`), as
            // an explore joins them.
            let joined: String = views
                .iter()
                .filter(|other| other.name != view.name)
                .filter(|other| expression.contains(&format!("{}.", sql_name(&other.name))))
                .map(|other| format!(", {} AS {}", other.from(), sql_name(&other.name)))
                .collect();
            out.push_over(
                &format!(
                    " AS {} FROM {} AS {}{joined};\n",
                    sql_name(name),
                    view.from(),
                    sql_name(&view.name)
                ),
                &head,
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statements(text: &str) -> Vec<String> {
        let pairs = super::super::parse::parse(text).unwrap();
        measures_as_sql(text, &pairs)
            .sql
            .lines()
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn measures_read_through_dimensions_and_other_measures() {
        let text = r#"
view: ad_stats {
  sql_table_name: analytics.ad_stats ;;
  dimension: clicks { type: number sql: ${TABLE}.clicks ;; }
  dimension: impressions { type: number }
  dimension: is_test { type: yesno sql: ${TABLE}.is_test ;; }
  dimension: platform { sql: ${TABLE}.platform ;; }
  measure: total_clicks { type: sum sql: ${clicks} ;; filters: [is_test: "no"] }
  measure: total_impressions { type: sum sql: ${impressions} ;; filters: [is_test: "no", platform: "-web"] }
  measure: ctr { type: number sql: ${total_clicks} / NULLIF(${total_impressions}, 0) ;; }
  measure: count { }
  measure: median_cpc { type: percentile sql: ${TABLE}.cpc ;; }
}
"#;
        assert_eq!(
            statements(text),
            vec![
                "SELECT SUM(CASE WHEN NOT (ad_stats.is_test) THEN (ad_stats.clicks) END) AS total_clicks FROM analytics.ad_stats AS ad_stats;",
                "SELECT SUM(CASE WHEN NOT (ad_stats.is_test) AND (ad_stats.platform) <> 'web' THEN ad_stats.impressions END) AS total_impressions FROM analytics.ad_stats AS ad_stats;",
                "SELECT (SUM(CASE WHEN NOT (ad_stats.is_test) THEN (ad_stats.clicks) END)) / NULLIF((SUM(CASE WHEN NOT (ad_stats.is_test) AND (ad_stats.platform) <> 'web' THEN ad_stats.impressions END)), 0) AS ctr FROM analytics.ad_stats AS ad_stats;",
                "SELECT COUNT(*) AS count FROM analytics.ad_stats AS ad_stats;",
            ]
        );
    }

    #[test]
    fn filter_expressions_read_only_where_plain() {
        for (value, yesno, numeric, want) in [
            ("yes", true, false, Some("c")),
            ("No", true, false, Some("NOT c")),
            ("web", false, false, Some("c = 'web'")),
            ("-web", false, false, Some("c <> 'web'")),
            ("a,b", false, false, Some("c IN ('a', 'b')")),
            ("-a,-b", false, false, Some("c NOT IN ('a', 'b')")),
            (">0", false, true, Some("c > 0")),
            ("5", false, true, Some("c = 5")),
            ("NULL", false, false, Some("c IS NULL")),
            ("-NULL", false, false, Some("c IS NOT NULL")),
            ("paid_search", false, false, Some("c = 'paid_search'")),
            ("%web%", false, false, None),
            ("7 days", false, false, None),
            ("a,-b", false, false, None),
            (">x", false, true, None),
            ("-5", false, true, Some("c = -5")),
            ("-5", false, false, Some("c <> '5'")),
            ("maybe", true, false, None),
        ] {
            assert_eq!(
                filter_condition("c", value, yesno, numeric).ok().as_deref(),
                want,
                "{value}"
            );
        }
    }

    #[test]
    fn a_format_scales_by_a_hundred_only_where_its_percent_sign_is_bare() {
        for (format, scales) in [
            ("0.00%", true),
            ("#,##0.0%", true),
            ("0.0\\%", false),
            ("0.0\"%\"", false),
            ("#,##0", false),
            ("0.0\\\\%", true),
        ] {
            assert_eq!(scales_by_a_hundred(format), scales, "{format}");
        }
    }

    #[test]
    fn every_sql_byte_points_into_the_lookml() {
        let text = "view: v {\n  measure: spend { type: sum sql: ${TABLE}.spend ;; }\n}\n";
        let pairs = super::super::parse::parse(text).unwrap();
        let generated = measures_as_sql(text, &pairs);
        assert_eq!(generated.sql.len(), generated.origin.len());
        let sum = generated.sql.find("SUM").unwrap();
        let at = generated.origin[sum] as usize;
        assert!(text[at..].starts_with("${TABLE}.spend"), "{}", &text[at..]);
        assert!(generated.origin.iter().all(|&o| (o as usize) < text.len()));
    }

    #[test]
    fn table_names_read_as_written_or_not_at_all() {
        for (table, from) in [
            ("analytics.ads", "analytics.ads"),
            ("\"ANALYTICS\".\"ADS\"", "\"ANALYTICS\".\"ADS\""),
            ("`my-project.ads.daily`", "`my-project.ads.daily`"),
            ("`my-project`.ads.daily", "`my-project`.ads.daily"),
            ("my-project.ads.daily", "\"my-project\".ads.daily"),
            ("AN_MAIN..campaign_target", "AN_MAIN.campaign_target"),
            ("SLA_FALSE_POSITIVE\"", "v"),
            ("{{ _user_attributes['schema'] }}.ads", "v"),
        ] {
            let text =
                format!("view: v {{ sql_table_name: {table} ;; measure: n {{ type: count }} }}\n");
            let pairs = super::super::parse::parse(&text).unwrap();
            assert_eq!(
                measures_as_sql(&text, &pairs).sql,
                format!("SELECT COUNT(*) AS n FROM {from} AS v;\n"),
                "{table}"
            );
        }
    }

    #[test]
    fn names_that_are_no_plain_identifiers_are_quoted() {
        let text = "view: 3g_reads { measure: 2x { type: sum sql: ${TABLE}.n ;; } }\n";
        let pairs = super::super::parse::parse(text).unwrap();
        assert_eq!(
            measures_as_sql(text, &pairs).sql,
            "SELECT SUM(\"3g_reads\".n) AS \"2x\" FROM \"3g_reads\" AS \"3g_reads\";\n"
        );
    }

    #[test]
    fn references_that_multiply_are_left_out_not_expanded_forever() {
        let mut text = String::from("view: v {\n  measure: m0 { type: sum sql: ${TABLE}.x ;; }\n");
        for i in 1..12 {
            let p = i - 1;
            text.push_str(&format!(
                "  measure: m{i} {{ type: number sql: ${{m{p}}} + ${{m{p}}} + ${{m{p}}} ;; }}\n"
            ));
        }
        text.push_str("}\n");
        let pairs = super::super::parse::parse(&text).unwrap();
        let generated = measures_as_sql(&text, &pairs);
        assert!(generated.sql.lines().all(|l| l.len() < 2 * MAX_EXPANSION));
        assert!(generated
            .skipped
            .iter()
            .any(|(name, _, why)| name == "m11" && why.contains("expand")));
    }

    #[test]
    fn non_ascii_names_and_trailing_comments_map_and_parse() {
        let text = "view: v {\n  dimension: d { sql: ${TABLE}.x -- the x ;; }\n  measure: anzahl_ü { type: count }\n  measure: summe { type: sum sql: ${TABLE}.ausgabe_ü -- billable\n ;; }\n  measure: s2 { type: sum sql: ${d} ;; }\n}\n";
        let pairs = super::super::parse::parse(text).unwrap();
        let generated = measures_as_sql(text, &pairs);
        for &at in &generated.origin {
            assert!(text.is_char_boundary(at as usize), "{at}");
        }
        let statements: Vec<&str> = generated
            .sql
            .split(";\n")
            .filter(|s| !s.is_empty())
            .collect();
        assert_eq!(statements.len(), 3, "{}", generated.sql);
        assert!(
            statements[1].contains("-- billable\n) AS summe"),
            "{}",
            statements[1]
        );
        assert!(statements[2].contains("-- the x\n)"), "{}", statements[2]);
    }

    #[test]
    fn refinements_merge_and_references_reach_other_views_and_timeframes() {
        let text = "view: ads {\n  sql_table_name: a.ads ;;\n  dimension: eng { sql: ${TABLE}.eng_count ;; }\n  dimension: state { sql: ${TABLE}.status ;; }\n  dimension_group: created { type: time timeframes: [date, month] sql: ${TABLE}.created_at ;; }\n  measure: total_eng { type: sum sql: ${eng} ;; }\n  measure: days { type: count_distinct sql: ${created_date} ;; filters: [orders.status: \"paid\", amount: \"-5\"] }\n  dimension: amount { type: number sql: ${TABLE}.amount ;; }\n}\nview: orders {\n  sql_table_name: a.orders ;;\n  dimension: status { sql: ${TABLE}.status ;; }\n  measure: total { type: sum sql: ${TABLE}.total ;; }\n}\nview: +ads {\n  dimension: eng { label: \"Engagements\" }\n  measure: total_eng { label: \"Engagements\" }\n  measure: per_order { type: number sql: ${total_eng} / ${orders.total} ;; }\n}\n";
        let pairs = super::super::parse::parse(text).unwrap();
        let sql = measures_as_sql(text, &pairs).sql;
        let lines: Vec<&str> = sql.lines().collect();
        assert_eq!(
            lines[0], "SELECT SUM((ads.eng_count)) AS total_eng FROM a.ads AS ads;",
            "{sql}"
        );
        assert_eq!(
            lines[1],
            "SELECT COUNT(DISTINCT CASE WHEN (orders.status) = 'paid' AND (ads.amount) = -5 THEN CAST(ads.created_at AS DATE) END) AS days FROM a.ads AS ads, a.orders AS orders;",
            "{sql}"
        );
        assert_eq!(
            lines[2],
            "SELECT (SUM((ads.eng_count))) / (SUM(orders.total)) AS per_order FROM a.ads AS ads, a.orders AS orders;",
            "{sql}"
        );
    }

    #[test]
    fn refinements_and_self_references_are_handled() {
        let text = "view: v { sql_table_name: my-project.ads.t ;; measure: a { type: sum sql: ${a} ;; } }\nview: +v { measure: b { type: sum sql: ${TABLE}.b ;; } }\n";
        let pairs = super::super::parse::parse(text).unwrap();
        let generated = measures_as_sql(text, &pairs);
        assert_eq!(
            generated.sql,
            "SELECT SUM(v.b) AS b FROM \"my-project\".ads.t AS v;\n"
        );
        assert_eq!(generated.skipped.len(), 1);
    }
}
