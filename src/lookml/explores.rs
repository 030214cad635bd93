//! Which views a LookML project's explores read. A view that no explore
//! reads (and that no explored view extends) backs no dashboard: Looker
//! shows its measures nowhere, so metriclint leaves them out rather than
//! report figures nobody sees, and says so (`explain`).

use std::collections::{HashMap, HashSet};

use super::parse::{find, ListItem, Pair, Value};

/// What one LookML file says about views and explores, by line.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Facts {
    /// Each `view:` block of the file (a refinement `+x` under `x`).
    pub views: Vec<ViewBlock>,
    /// The views its explores read: an explore's own view (its `from:` or
    /// `view_name:`, else its name) and every join's (its `from:`, else its
    /// name).
    pub explored: Vec<String>,
    /// Whether the file defines an explore.
    pub has_explores: bool,
    /// Views and the views they extend (`extends: [base]`).
    pub extends: Vec<(String, Vec<String>)>,
    /// A file that could not be read but may define an explore (its text
    /// says `explore:`): which views it reads is unknown.
    pub unread_explores: bool,
}

impl Facts {
    /// What a file that could not be read says: only whether it may define
    /// an explore.
    pub fn of_unreadable(text: &str) -> Facts {
        Facts {
            unread_explores: text.contains("explore:"),
            ..Facts::default()
        }
    }
}

/// One `view:` block: its name, its first and last line, and its measures
/// with the line each starts on.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ViewBlock {
    pub name: String,
    pub lines: (u32, u32),
    pub measures: Vec<(String, u32)>,
}

/// Why a measure of a view no explore reads is left out.
pub const UNEXPLORED: &str = "its view is in no explore of the project, so no dashboard shows it";

/// The facts of a file's top-level pairs; `line_of` turns a byte offset
/// into its line.
pub fn facts(text: &str, pairs: &[Pair], line_of: &dyn Fn(usize) -> u32) -> Facts {
    let mut facts = Facts::default();
    let last_byte = |pair: &Pair| {
        text[..pair.end.min(text.len())]
            .char_indices()
            .next_back()
            .map_or(pair.at, |(at, _)| at)
            .max(pair.at)
    };
    for pair in pairs {
        let Some(written) = pair.name() else { continue };
        let name = view_name(written);
        match pair.key.as_str() {
            "view" => {
                let measures = pair
                    .pairs()
                    .iter()
                    .filter(|p| p.key == "measure")
                    .filter_map(|p| Some((p.name()?.to_lowercase(), line_of(p.at))))
                    .collect();
                facts.views.push(ViewBlock {
                    name: name.clone(),
                    lines: (line_of(pair.at), line_of(last_byte(pair))),
                    measures,
                });
                let extended = names_in(find(pair.pairs(), "extends"));
                if !extended.is_empty() {
                    facts.extends.push((name, extended));
                }
            }
            "explore" => {
                facts.has_explores = true;
                let own = ["view_name", "from"]
                    .iter()
                    .find_map(|key| find(pair.pairs(), key).and_then(Pair::text))
                    .map_or(name, view_name);
                facts.explored.push(own);
                for join in pair.pairs().iter().filter(|p| p.key == "join") {
                    let from = find(join.pairs(), "from").and_then(Pair::text);
                    if let Some(joined) = from.or(join.name()) {
                        facts.explored.push(view_name(joined));
                    }
                }
            }
            _ => {}
        }
    }
    facts
}

/// A view's name as written in a reference: case aside, a refinement's `+`
/// aside.
fn view_name(written: &str) -> String {
    written.trim().trim_start_matches('+').to_lowercase()
}

/// The names of a list value (`extends: [a, b]`).
fn names_in(pair: Option<&Pair>) -> Vec<String> {
    match pair.map(|p| &p.value) {
        Some(Value::List(items)) => items
            .iter()
            .filter_map(|item| match item {
                ListItem::Scalar(name) => Some(view_name(name)),
                ListItem::Pair(..) => None,
            })
            .collect(),
        Some(Value::Scalar(name, _)) => vec![view_name(name)],
        _ => Vec::new(),
    }
}

/// The views the project's explores read, with the views those extend (and
/// so on): `None` when no file defines an explore (views checked without
/// their models, or a project whose models live elsewhere), where every
/// view counts as read.
pub fn explored_views<'f>(files: impl IntoIterator<Item = &'f Facts>) -> Option<HashSet<String>> {
    let mut has_explores = false;
    let mut explored: HashSet<String> = HashSet::new();
    let mut extends: HashMap<&str, Vec<&str>> = HashMap::new();
    for facts in files {
        has_explores |= facts.has_explores;
        explored.extend(facts.explored.iter().cloned());
        for (view, bases) in &facts.extends {
            extends
                .entry(view)
                .or_default()
                .extend(bases.iter().map(String::as_str));
        }
    }
    if !has_explores {
        return None;
    }
    let mut pending: Vec<String> = explored.iter().cloned().collect();
    while let Some(view) = pending.pop() {
        for base in extends.get(view.as_str()).into_iter().flatten() {
            if explored.insert(base.to_string()) {
                pending.push(base.to_string());
            }
        }
    }
    Some(explored)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts_of(text: &str) -> Facts {
        let pairs = super::super::parse::parse(text).expect("LookML");
        let index = crate::source::LineIndex::new(text);
        facts(text, &pairs, &|at| index.position(at).line)
    }

    #[test]
    fn explores_read_their_views_joins_and_what_those_extend() {
        let model = facts_of(
            "explore: orders {\n  join: users { sql_on: 1 = 1 ;; }\n  join: buyer { from: users_v2 }\n}\nexplore: ad_stats { from: campaign_daily }\nexplore: +refined { view_name: Placements }\n",
        );
        let views = facts_of(
            "view: users_v2 {\n  extends: [users_base]\n  measure: n { type: count }\n}\nview: users_base {\n  measure: m { type: count }\n}\nview: orphan {\n  measure: ctr { type: number sql: 1 ;; }\n}\n",
        );
        let explored = explored_views([&model, &views]).expect("explores");
        for read in [
            "orders",
            "users",
            "users_v2",
            "users_base",
            "campaign_daily",
            "placements",
        ] {
            assert!(explored.contains(read), "{read}: {explored:?}");
        }
        for unread in ["orphan", "ad_stats", "buyer", "refined"] {
            assert!(!explored.contains(unread), "{unread}: {explored:?}");
        }
        assert_eq!(views.views[2].name, "orphan");
        assert_eq!(views.views[2].lines, (8, 10));
        assert_eq!(views.views[2].measures, vec![("ctr".to_string(), 9)]);
    }

    #[test]
    fn without_explores_every_view_counts_as_read() {
        let views = facts_of("view: a {\n  measure: n { type: count }\n}\n");
        assert!(explored_views([&views]).is_none());
    }
}
