use super::source_map::segments;
use super::*;
use crate::source::{LineIndex, Range};

/// A package's (or the project's) macros under `namespace`.
fn bundle(namespace: &str, source: &str) -> MacroBundle {
    let source = macros::with_macro_returns(source);
    MacroBundle {
        namespace: namespace.to_string(),
        macros: macros::macro_names(&source),
        source,
        files: Vec::new(),
    }
}

#[test]
fn a_models_unique_key_is_read_as_a_list_of_columns() {
    for (template, expected) in [
        ("{{ config(unique_key='id') }}", Some(vec!["id"])),
        (
            "{{ config(materialized='table', unique_key=['date', 'address']) }}",
            Some(vec!["date", "address"]),
        ),
        (
            "{{\n  config(\n    order_by='(date, address, symbol)',\n    unique_key='(date, address, symbol)',\n    tags=['x']\n  )\n}}",
            Some(vec!["date", "address", "symbol"]),
        ),
        ("{{ config(unique_key = \"Wallet_Address\") }}", Some(vec!["wallet_address"])),
        // An expression is no list of columns.
        ("{{ config(unique_key=\"date || '-' || address\") }}", None),
        ("{{ config(unique_key=var('key')) }}", None),
        ("{{ config(materialized='table') }}", None),
        ("select 1 as unique_key", None),
    ] {
        let expected: Option<Vec<String>> =
            expected.map(|v| v.into_iter().map(str::to_string).collect());
        assert_eq!(super::unique_key(template), expected, "{template}");
    }
}

#[test]
fn a_models_enabled_condition_is_read_as_written() {
    for (template, condition) in [
        (
            "{{\n  config(\n    enabled = var('etl') == 'stitch' and var('adapter_value') == 'url'\n  )\n}}\nselect 1",
            Some("var('etl')=='stitch'andvar('adapter_value')=='url'"),
        ),
        (
            "{{ config(materialized='table', enabled=var('using_x', true)) }}",
            Some("var('using_x',true)"),
        ),
        ("{{ config(enabled=true) }}", None),
        ("{{ config(materialized='view') }} select is_enabled = 1", None),
        ("{{ config(materialized='view') }} select 1 where enabled = 1", None),
        ("select 1", None),
    ] {
        assert_eq!(
            super::enabled_condition(template).as_deref(),
            condition,
            "{template}"
        );
    }
}

fn rendered(template: &str) -> String {
    render(template, Dialect::Snowflake, None).unwrap().text
}

#[test]
fn dbt_builtins_render_offline() {
    assert_eq!(
        rendered("select * from {{ ref('fct_ad_events') }}"),
        "select * from fct_ad_events"
    );
    assert_eq!(
        rendered("from {{ ref('pkg', 'm') }} join {{ source('raw', 'events') }}"),
        "from m join raw.events"
    );
    assert_eq!(
        rendered("{{ config(materialized='table') }}select 1"),
        "select 1"
    );
    assert_eq!(
        rendered("{% if is_incremental() %}where x > 1{% endif %}done"),
        "done"
    );
    assert_eq!(
        rendered("{{ var('days', 7) }} {{ target.type }}"),
        "7 snowflake"
    );
    assert_eq!(
        rendered("select {{ dbt_utils.safe_divide('a', 'b') }}"),
        "select __jinja_dbt_utils_safe_divide"
    );
    assert_eq!(
        rendered("{{ cents_to_dollars('amount') }} as usd"),
        "__jinja_cents_to_dollars as usd"
    );
    assert_eq!(
        rendered("select {{ adapter.dispatch('x', 'pkg')('a') }}"),
        "select __jinja_dispatch_x"
    );
    // dispatch finds the adapter's implementation, then the default one.
    let macros = "{% macro snowflake__div(a, b) %}div0({{ a }}, {{ b }}){% endmacro %}{% macro default__div(a, b) %}{{ a }} / {{ b }}{% endmacro %}{% macro default__cnt() %}count(*){% endmacro %}";
    assert_eq!(
        rendered(&format!(
            "{macros}{{{{ adapter.dispatch('div')('x', 'y') }}}}"
        )),
        "div0(x, y)"
    );
    assert_eq!(
        rendered(&format!("{macros}{{{{ adapter.dispatch('cnt')() }}}}")),
        "count(*)"
    );
    // dbt's namespace in a dispatch is dbt's own macros, never the
    // caller's default__ (which would call itself without end).
    let deprecated = "{% macro type_bigint() %}{{ return(adapter.dispatch('type_bigint', 'dbt')()) }}{% endmacro %}{% macro default__type_bigint() %}{{ return(adapter.dispatch('type_bigint', 'dbt')()) }}{% endmacro %}";
    assert_eq!(
        rendered(&format!("{deprecated}cast(x as {{{{ type_bigint() }}}})")),
        "cast(x as bigint)"
    );
    // dbt's old adapter_macro is a dispatch.
    assert_eq!(
        rendered(&format!("{macros}{{{{ adapter_macro('div', 'x', 'y') }}}}")),
        "div0(x, y)"
    );
    // No default__: the adapters dbt builds on, then any adapter's.
    let only_adapters =
        "{% macro bigquery__q() %}bq{% endmacro %}{% macro postgres__q() %}pg{% endmacro %}";
    let dispatched = |dialect| {
        render(
            &format!("{only_adapters}{{{{ adapter.dispatch('q')() }}}}"),
            dialect,
            None,
        )
        .unwrap()
        .text
    };
    assert_eq!(dispatched(Dialect::BigQuery), "bq");
    assert_eq!(dispatched(Dialect::Redshift), "pg");
    assert_eq!(dispatched(Dialect::Generic), "pg");
    assert_eq!(dispatched(Dialect::Snowflake), "pg");
    assert_eq!(
        rendered("{% macro m(x) %}sum({{ x }}){% endmacro %}select {{ m('clicks') }}"),
        "select sum(clicks)"
    );
}

#[test]
fn positions_map_back_to_the_template() {
    let template = "{{ config(materialized='view') }}\nselect\n  {{ dbt_utils.star(ref('x')) }},\n  sum(clicks) as clicks\nfrom {{ ref('fct') }}";
    let r = render(template, Dialect::Generic, None).unwrap();
    let (ri, ti) = (LineIndex::new(&r.text), LineIndex::new(template));
    let at = r.text.find("sum(clicks)").unwrap();
    let range = Range {
        start: ri.position(at),
        end: ri.position(at + "sum(clicks)".len()),
    };
    let mapped = r.map_range(&ri, &ti, range);
    assert_eq!(
        (mapped.start.line, mapped.start.column, mapped.end.column),
        (4, 3, 14)
    );
    // Text a tag produced maps to the tag.
    let star = r.text.find("__jinja").unwrap();
    let mapped = r.map_range(
        &ri,
        &ti,
        Range {
            start: ri.position(star),
            end: ri.position(star + 3),
        },
    );
    assert_eq!((mapped.start.line, mapped.start.column), (3, 3));
    let star_range = Range {
        start: ri.position(star),
        end: ri.position(star + 3),
    };
    assert_eq!(
        r.generated_by(&ri, template, star_range),
        Some("{{ dbt_utils.star(ref('x')) }}")
    );
    // Text written in the file is not generated.
    assert_eq!(r.generated_by(&ri, template, range), None);
}

/// Renders `model` with `macros` as the project's macro files.
fn rendered_with_macros(macros: &str, model: &str) -> String {
    render_with_macros(macros, model).text
}

/// [`rendered_with_macros`], whole: the text, the refs, the source map.
fn render_with_macros(macros: &str, model: &str) -> Rendered {
    let source = macros::with_macro_returns(macros);
    let project = ProjectJinja {
        macros: Some(MacroBundle {
            namespace: "proj".to_string(),
            macros: macros::macro_names(&source),
            source,
            files: Vec::new(),
        }),
        ..ProjectJinja::default()
    };
    render(model, Dialect::Generic, Some(&project)).unwrap()
}

#[test]
fn dbt_return_makes_the_value_the_macros_result() {
    let macros = "{% macro ratio(a, b) %}\n  {%- set sql = a ~ ' / nullif(' ~ b ~ ', 0)' -%}\n  {% do return(sql) %}\n  ignored text\n{% endmacro %}\n\
        {% macro pick(kind) %}{% if kind == 'ctr' %}{% do return('sum(clicks)') %}{% endif %}{{ return('sum(spend)') }}after{% endmacro %}\n\
        {% macro plain(x) %}sum({{ x }}){% endmacro %}\n\
        {% macro nested() %}{%- do return(ratio(pick('ctr'), plain('impressions'))) -%}{% endmacro %}";
    let cases = [
        (
            "select {{ ratio('sum(clicks)', 'sum(impressions)') }} as ctr",
            "select sum(clicks) / nullif(sum(impressions), 0) as ctr",
        ),
        // The first return taken wins; text after it is dropped.
        (
            "select {{ pick('ctr') }}, {{ pick('cpm') }}",
            "select sum(clicks), sum(spend)",
        ),
        ("select {{ plain('clicks') }}", "select sum(clicks)"),
        // Macros calling macros get their values too.
        (
            "select {{ nested() }} as ctr",
            "select sum(clicks) / nullif(sum(impressions), 0) as ctr",
        ),
        (
            "{% set s = ratio('a', 'b') %}select {{ s | upper }}",
            "select A / NULLIF(B, 0)",
        ),
    ];
    for (model, expected) in cases {
        assert_eq!(rendered_with_macros(macros, model), expected, "{model}");
    }
}

#[test]
fn returned_lists_dicts_and_booleans_reach_callers_as_values() {
    // The fivetran_utils pattern: a macro returns column dicts, another
    // iterates them.
    let macros = "{% macro get_columns() %}{% set columns = [\n    {'name': 'imps', 'datatype': 'int', 'alias': 'impressions'},\n    {'name': 'clicks', 'datatype': 'int'}\n] %}{{ return(columns) }}{% endmacro %}\n\
        {% macro fill(columns) %}{% for c in columns %}{{ c.name }}{% if 'alias' in c %} as {{ c.alias }}{% endif %}{% if not loop.last %}, {% endif %}{% endfor %}{% endmacro %}\n\
        {% macro staged() %}select {{ fill(get_columns()) }} from raw{% endmacro %}\n\
        {% macro is_wide() %}{% do return(false) %}{% endmacro %}\n\
        {% macro count_of(xs) %}{% do return(xs | length) %}{% endmacro %}";
    let cases = [
        (
            "select {{ fill(get_columns()) }} from raw",
            "select imps as impressions, clicks from raw",
        ),
        // Through a variable, and from inside another macro.
        (
            "{% set cols = get_columns() %}select {{ fill(cols) }}, {{ cols | length }} as n",
            "select imps as impressions, clicks, 2 as n",
        ),
        (
            "{{ staged() }}",
            "select imps as impressions, clicks from raw",
        ),
        // A returned false is false, not the text \"false\".
        (
            "select {% if is_wide() %}wide{% else %}narrow{% endif %}",
            "select narrow",
        ),
        ("select {{ count_of([1, 2, 3]) + 1 }}", "select 4"),
        // Printed, a returned list reads as its value.
        (
            "-- {{ get_columns() | map(attribute='name') | join(',') }}",
            "-- imps,clicks",
        ),
    ];
    for (model, expected) in cases {
        assert_eq!(rendered_with_macros(macros, model), expected, "{model}");
    }
}

#[test]
fn each_dbt_builtin_renders_offline() {
    let cases = [
        // ref: one or two arguments, a version, recorded as a ref.
        ("{{ ref('m') }}", "m"),
        ("{{ ref('pkg', 'm') }}", "m"),
        ("{{ ref('m', version=2) }}", "m"),
        ("{{ ref('m', v=2) }}", "m"),
        ("{{ source('raw', 'events') }}", "raw.events"),
        // Relations, as in dbt.
        (
            "{{ ref('m').identifier }} {{ source('raw', 'events').schema }} {{ ref('m') is mapping }}",
            "m raw True",
        ),
        (
            "{{ ref('m').metadata.type }} {{ ref('m').get('type', 'x') }} {{ ref('m').include(database=false) }}",
            "BaseRelation table m",
        ),
        ("{{ ref('m') ~ '_v2' }}", "m_v2"),
        (
            "{{ config(materialized='incremental', unique_key='id') }}x",
            "x",
        ),
        ("{{ var('missing', 'dflt') }}", "dflt"),
        ("{{ env_var('DBT_SCHEMA', 'analytics') }}", "analytics"),
        ("{{ env_var('DBT_SCHEMA') }}", "__jinja_env_dbt_schema"),
        // Unset, it is a string that joins others (a Snowflake
        // `sql_header="USE WAREHOUSE " + env_var(…)`).
        (
            "{{ config(sql_header='use warehouse ' + env_var('WH') + ';') }}x",
            "x",
        ),
        (
            "{% if is_incremental() %}new{% else %}full{% endif %}",
            "full",
        ),
        ("from {{ this }}", "from __jinja_this"),
        (
            "{{ target.type }} {{ target.name }} {{ target.schema }}",
            "snowflake dev analytics",
        ),
        ("{{ log('hello', info=True) }}x", "x"),
        ("{% do log('hello') %}x", "x"),
        ("{{ return('sum(x)') }}", "sum(x)"),
    ];
    for (template, expected) in cases {
        assert_eq!(rendered(template), expected, "{template}");
    }
    let refs = render(
        "{{ ref('a') }} {{ ref('p', 'B', version=1) }}",
        Dialect::Generic,
        None,
    )
    .unwrap()
    .refs;
    assert_eq!(refs, vec!["a".to_string(), "b".to_string()]);
}

#[test]
fn dbts_own_macros_render_as_sql_by_namespace_and_by_bare_name() {
    let cases = [
        (
            "{{ dbt.safe_divide('sum(clicks)', 'sum(impressions)') }}",
            "( sum(clicks) ) / nullif( ( sum(impressions) ), 0)",
        ),
        ("cast(x as {{ dbt.type_string() }})", "cast(x as varchar)"),
        ("cast(x as {{ type_int() }})", "cast(x as integer)"),
        ("{{ dbt.date_trunc('day', 'ts') }}", "date_trunc('day', ts)"),
        ("{{ concat(['a', \"'-'\", 'b']) }}", "concat(a, '-', b)"),
        ("{{ dbt.current_timestamp() }}", "current_timestamp"),
        ("{{ dbt.dateadd('day', -7, 'ts') }}", "dateadd(day, -7, ts)"),
        // A template's own macro of the same name wins.
        (
            "{% macro type_string() %}text{% endmacro %}{{ type_string() }}",
            "text",
        ),
    ];
    for (template, expected) in cases {
        let rendered = render(template, Dialect::Generic, None).unwrap();
        assert_eq!(rendered.text, expected, "{template}");
        assert!(rendered.unknown_macros.is_empty(), "{template}");
    }
    let bigquery = render("{{ dbt.type_string() }}", Dialect::BigQuery, None).unwrap();
    assert_eq!(bigquery.text, "string");
}

#[test]
fn dbt_runtime_objects_render_without_a_warehouse() {
    // `execute` is true, as when dbt compiles; a query's results are
    // empty stand-ins.
    assert_eq!(
        rendered("{% if execute %}{% set r = run_query('x') %}{% for row in r %}{{ row }}{% endfor %}{% endif %}select 1"),
        "select 1"
    );
    // Python's other modules, flags, graph: stand-ins, never reported as
    // missing macros.
    let stand_ins = render(
        "select '{{ modules.pytz.utc }}'{% if flags.FULL_REFRESH %}, 1{% endif %}{% for n in graph.nodes.values() %}, {{ n }}{% endfor %}",
        Dialect::Generic,
        None,
    )
    .unwrap();
    assert_eq!(stand_ins.text, "select '__jinja_modules_pytz_utc'");
    assert!(stand_ins.unknown_macros.is_empty());
    // The usual way to read a query's results: empty, and not reported.
    let query = render(
        "{% set values = run_query('select 1').columns[0].values() %}{% for v in values %}{{ v }}{% endfor %}select 1",
        Dialect::Generic,
        None,
    )
    .unwrap();
    assert_eq!(query.text, "select 1");
    assert!(
        query.unknown_macros.is_empty(),
        "{:?}",
        query.unknown_macros
    );
    // A compiler error raised is a template error with dbt's message.
    let error = render(
        "select 1\n{{ exceptions.raise_compiler_error('unsupported adapter') }}",
        Dialect::Generic,
        None,
    )
    .unwrap_err();
    assert!(
        error.message.contains("unsupported adapter"),
        "{}",
        error.message
    );
    assert_eq!(error.line, 2);
    assert_eq!(rendered("{% do exceptions.warn('w') %}ok"), "ok");
}

#[test]
fn packages_call_their_own_and_other_packages_macros_by_namespace() {
    let project = ProjectJinja {
        packages: vec![
            bundle(
                "utils",
                "{% macro q(c) %}\"{{ c }}\"{% endmacro %}{% macro cols(xs) %}{% for x in xs %}{{ utils.q(x) }}{% if not loop.last %}, {% endif %}{% endfor %}{% endmacro %}{% macro back() %}{{ ads.wrapped(['z']) }}{% endmacro %}{% macro names() %}{{ return(['clicks', 'impressions']) }}{% endmacro %}{% macro big(n) %}{{ return(n > 10) }}{% endmacro %}",
            ),
            bundle(
                "ads",
                "{% macro get_cols() %}{{ return(['a', 'b']) }}{% endmacro %}{% macro wrapped(xs) %}{{ utils.cols(xs) }}{% endmacro %}{% macro staged() %}{{ utils.cols(ads.get_cols()) }}{% endmacro %}{% macro ratio() %}{% set c = utils.names() %}{% if utils.big(3) %}count(*){% else %}sum({{ c[0] }}) / sum({{ c[1] }}){% endif %}{% endmacro %}",
            ),
        ],
        ..ProjectJinja::default()
    };
    let rendered = render(
        "select {{ utils.cols(['x']) }}, {{ ads.wrapped(['y']) }}, {{ ads.staged() }} from t",
        Dialect::Generic,
        Some(&project),
    )
    .unwrap();
    assert_eq!(rendered.text, "select \"x\", \"y\", \"a\", \"b\" from t");
    assert!(
        rendered.unknown_macros.is_empty(),
        "{:?}",
        rendered.unknown_macros
    );
    // A macro an installed package lacks is named with its package.
    let missing = render("{{ utils.group_by(3) }}", Dialect::Generic, Some(&project)).unwrap();
    assert_eq!(missing.unknown_macros, vec!["utils.group_by".to_string()]);
    // utils (listed first) imports ads; ads cannot import utils back (a
    // circle), so its calls of utils render on their own.
    let circular = render("{{ utils.back() }}", Dialect::Generic, Some(&project)).unwrap();
    assert_eq!(circular.text, "\"z\"");
    // Values keep their type across such a call: a list, a false.
    let typed = render("{{ ads.ratio() }}", Dialect::Generic, Some(&project)).unwrap();
    assert_eq!(typed.text, "sum(clicks) / sum(impressions)");
    assert!(
        circular.unknown_macros.is_empty(),
        "{:?}",
        circular.unknown_macros
    );
}

/// dbt has no private macros: spellbook's `_monitoring_relation` and
/// dbt_utils' `_is_relation` are called like any other, and a project
/// that defines one still renders (Jinja refuses to import such names).
#[test]
fn macros_whose_names_start_with_an_underscore_are_macros_too() {
    let project = ProjectJinja {
        macros: Some(bundle(
            "shop",
            "{% macro _quoted(c) %}\"{{ c }}\"{% endmacro %}{% macro cols() %}{{ _quoted('a') }}, {{ utils.cols(['b']) }}{% endmacro %}",
        )),
        packages: vec![bundle(
            "utils",
            "{% macro _q(c) %}'{{ c }}'{% endmacro %}{% macro cols(xs) %}{% for x in xs %}{{ utils._q(x) }}{% endfor %}{% endmacro %}",
        )],
        ..ProjectJinja::default()
    };
    let rendered = render(
        "select {{ cols() }}, {{ _quoted('y') }}, {{ utils.cols(['x']) }} from t",
        Dialect::Generic,
        Some(&project),
    )
    .unwrap();
    assert_eq!(rendered.text, "select \"a\", 'b', \"y\", 'x' from t");
    assert!(
        rendered.unknown_macros.is_empty(),
        "{:?}",
        rendered.unknown_macros
    );
}

#[test]
fn a_project_reaches_its_own_macros_through_its_name() {
    let source = macros::with_macro_returns(
        "{% macro cols() %}{{ return(['a', 'b']) }}{% endmacro %}{% macro listed() %}{{ shop.cols() | join(', ') }}{% endmacro %}",
    );
    let project = ProjectJinja {
        macros: Some(MacroBundle {
            namespace: "shop".to_string(),
            macros: macros::macro_names(&source),
            source,
            files: Vec::new(),
        }),
        ..ProjectJinja::default()
    };
    let rendered = render(
        "select {{ shop.listed() }}, {{ listed() }} from t",
        Dialect::Generic,
        Some(&project),
    )
    .unwrap();
    assert_eq!(rendered.text, "select a, b, a, b from t");
    assert!(
        rendered.unknown_macros.is_empty(),
        "{:?}",
        rendered.unknown_macros
    );
}

#[test]
fn package_macros_take_the_arguments_they_know_and_drop_the_rest() {
    let macros = "{% macro source_relation(union_schema_variable='x') %}, '{{ union_schema_variable }}' as source_relation{% endmacro %}\n\
        {% macro wrap(a) %}[{{ a }}{{ caller() }}]{% endmacro %}";
    let cases = [
        // A newer model passes a keyword argument this version lacks.
        (
            "select 1 {{ source_relation(union_schema_variable='s', union_database_variable='d') }}",
            "select 1 , 's' as source_relation",
        ),
        // And an extra positional one.
        ("{{ source_relation('s', 'extra') }}", ", 's' as source_relation"),
        // `caller` still reaches a macro that uses it.
        ("{% call wrap('a') %}b{% endcall %}", "[ab]"),
    ];
    for (model, expected) in cases {
        assert_eq!(rendered_with_macros(macros, model), expected, "{model}");
    }
}

#[test]
fn lists_and_dicts_change_in_place_and_python_methods_work() {
    let cases = [
        (
            "{% set cols = [] %}{% for c in ['a', 'b'] %}{% do cols.append(c ~ '_x') %}{% endfor %}select {{ cols | join(', ') }}",
            "select a_x, b_x",
        ),
        (
            "{%- set cols = ['a'] -%}{% do cols.extend(['b', 'c']) %}{{ cols | length }} {{ cols[-1] }} {{ 'b' in cols }}",
            "3 c True",
        ),
        (
            "{% set m = {} %}{% do m.update({'k': 1}) %}{% for k, v in m.items() %}{{ k }}={{ v }}{% endfor %} {{ m.get('z', 0) }}",
            "k=1 0",
        ),
        ("{{ 'Clicks '.strip().upper() }}", "CLICKS"),
        ("{{ 'a,b'.split(',') | join('|') }}", "a|b"),
        ("{{ {'a': 1}.keys() | list | join }}", "a"),
        // A literal Jinja cannot change: the change is dropped, quietly.
        ("{% do (['a'] + ['b']).append('c') %}ok", "ok"),
        (
            "{% set l = [2, 1, 3] %}{% do l.sort(reverse=true) %}{{ l | join }} {% set d = {'a': 1} %}{% set e = d.copy() %}{% do e.update({'b': 2}) %}{{ d | length }}{{ e | length }}",
            "321 12",
        ),
        // `do` with a condition.
        (
            "{% set xs = [] %}{% do xs.append('a') if true %}{% do xs.append('b') if false %}{{ xs | join }}",
            "a",
        ),
    ];
    for (template, expected) in cases {
        let rendered = render(template, Dialect::Generic, None).unwrap();
        assert_eq!(rendered.text, expected, "{template}");
        assert!(rendered.unknown_macros.is_empty(), "{template}");
    }
    // A list doubled in a loop is stopped, not left to take the memory.
    let doubled = render(
        "{% set l = ['x'] %}{% for i in range(30) %}{% do l.extend(l + []) %}{% endfor %}select 1",
        Dialect::Generic,
        None,
    )
    .unwrap_err();
    assert!(
        doubled.message.contains("grows past"),
        "{}",
        doubled.message
    );
    // In a package's macro too.
    let macros = "{% macro names(xs) %}{%- set out = [] -%}{%- for x in xs %}{% do out.append(x.name) %}{% endfor -%}{{ return(out) }}{% endmacro %}";
    assert_eq!(
        rendered_with_macros(
            macros,
            "{{ names([{'name': 'a'}, {'name': 'b'}]) | join(', ') }}"
        ),
        "a, b"
    );
}

#[test]
fn upstream_model_columns_answer_get_columns_in_relation() {
    let template = "{% set names = [] %}{% for c in adapter.get_columns_in_relation(ref('stg')) %}{% do names.append(c.column ~ ':' ~ c.data_type) %}{% endfor %}select {{ names | join(', ') }} from {{ ref('stg') }}";
    // Not known yet: no columns, and the render says it asked.
    let first = render(template, Dialect::Generic, None).unwrap();
    assert_eq!(first.text, "select  from stg");
    assert!(first.wants_upstream_columns);
    let known = Arc::new(HashMap::from([(
        "stg".to_string(),
        vec!["clicks".to_string(), "impressions".to_string()],
    )]));
    let again = render_knowing(template, Dialect::Generic, None, known).unwrap();
    assert_eq!(
        again.text,
        "select clicks:numeric, impressions:numeric from stg"
    );
    assert!(!again.wants_upstream_columns);
    // A source's columns are never known, and never asked for again.
    let source = render(
        "{{ adapter.get_columns_in_relation(source('raw', 'events')) | length }}",
        Dialect::Generic,
        None,
    )
    .unwrap();
    assert_eq!(source.text, "0");
    assert!(!source.wants_upstream_columns);
}

#[test]
fn a_projects_own_ref_macro_reaches_dbts_through_builtins() {
    let rendered = render_with_macros(
        "{% macro ref(model_name) %}{% do return(builtins.ref(model_name).include(database=false)) %}{% endmacro %}",
        "select * from {{ ref('stg') }}",
    );
    assert_eq!(rendered.text, "select * from stg");
    assert_eq!(rendered.refs, vec!["stg".to_string()]);
}

/// dbt's graph, offline, holds no node: `graph.nodes.get(id)` is none (or
/// the default given), so a `ref` override that reads a model's node
/// falls back on `builtins.ref` for a node it does not find, and the model
/// keeps its lineage. Other reads of the graph stay stand-ins.
#[test]
fn the_offline_graph_finds_no_node() {
    let rendered = render_with_macros(
        "{% macro ref(model_name) %}{%- set node = graph.nodes.get('model.' ~ project_name ~ '.' ~ model_name) -%}{%- if node is none -%}{{ return(builtins.ref(model_name)) }}{%- endif -%}{% set r = api.Relation.create(schema='prod', identifier=node.alias) %}{{ return(r) }}{% endmacro %}",
        "select * from {{ ref('stg') }}",
    );
    assert_eq!(rendered.text, "select * from stg");
    assert_eq!(rendered.refs, vec!["stg".to_string()]);
    let text = |t: &str| render(t, Dialect::Generic, None).unwrap().text;
    assert_eq!(
        text("{{ graph.sources.get('s', 'd') }} {{ graph.nodes['m'] }} {{ graph.nodes.values() }}"),
        "d __jinja_graph_nodes_m __jinja_graph_nodes_values"
    );
}

#[test]
fn varargs_and_kwargs_reach_a_macro_without_parameters_for_them() {
    // The ref override of dbt's documentation.
    let macros = "{% macro ref() %}\n\
        {% set version = kwargs.get('version') or kwargs.get('v') %}\n\
        {% set packagename = none %}\n\
        {%- if (varargs | length) == 1 -%}{% set modelname = varargs[0] %}\n\
        {%- else -%}{% set packagename = varargs[0] %}{% set modelname = varargs[1] %}{% endif %}\n\
        {% if packagename is not none %}{% set rel = builtins.ref(packagename, modelname, version=version) %}\n\
        {% else %}{% set rel = builtins.ref(modelname, version=version) %}{% endif %}\n\
        {% do return(rel) %}\n\
        {% endmacro %}\n\
        {% macro add_all() %}{{ varargs | join(' + ') }}{% endmacro %}\n\
        {% macro keys(a) %}{{ a }}:{{ kwargs.keys() | join(',') }}{% endmacro %}";
    let cases = [
        ("from {{ ref('stg') }}", "from stg"),
        ("from {{ ref('pkg', 'stg', version=2) }}", "from stg"),
        (
            "select {{ add_all('clicks', 'spend') }}",
            "select clicks + spend",
        ),
        ("{{ keys(1, x=2, y=3) }}", "1:x,y"),
    ];
    for (model, expected) in cases {
        assert_eq!(
            rendered_with_macros(macros, model).trim(),
            expected,
            "{model}"
        );
    }
}

#[test]
fn macro_calls_are_found_by_whole_name() {
    assert_eq!(
        call_offset("{{ unbroken(1) }} {{ broken(2) }}", "broken"),
        Some(21)
    );
    assert_eq!(call_offset("{{ pkg.broken(2) }}", "broken"), Some(7));
    assert_eq!(call_offset("{{ broken_x(2) }}", "broken"), None);
}

#[test]
fn macros_are_bound_to_wrappers_with_their_text_kept() {
    let wrapped = |body: &str| {
        format!("{{% macro __dbt_macro_m() %}}{body}{{% endmacro %}}{{% set m = __dbt_macro(__dbt_macro_m) %}}")
    };
    let call = "{% call statement('s') %}{{ return(1) }}{% endcall %}";
    assert_eq!(
        macros::with_macro_returns(&format!("{{% macro m() %}}{call}{{% endmacro %}}")),
        wrapped(call)
    );
    assert_eq!(
        macros::with_macro_returns("{% macro m() %}x{% endmacro %}{{ return_rate }}"),
        format!("{}{{{{ return_rate }}}}", wrapped("x"))
    );
}

#[test]
fn return_ends_the_macro_there_as_in_dbt() {
    let macros = "{% macro pick(name) %}{% if name == 'ctr' %}{{ return('sum(clicks) / sum(impressions)') }}{% endif %}{{ exceptions.raise_compiler_error('unknown metric ' ~ name) }}{% endmacro %}\n\
        {% macro countdown(n) %}{% if n == 0 %}{{ return('done') }}{% endif %}{{ return(countdown(n - 1)) }}{% endmacro %}\n\
        {% macro cols() %}{% set xs = ['clicks'] %}{{ return(xs) }}{% do xs.append('spend') %}{% endmacro %}\n\
        {% macro loud(x) %}{% for c in x %}{% if c == 'b' %}{% do return(c | upper) %}{% endif %}{% endfor %}none{% endmacro %}";
    let cases = [
        // What follows a return never runs: no compiler error here.
        (
            "select {{ pick('ctr') }} as ctr",
            "select sum(clicks) / sum(impressions) as ctr",
        ),
        // A recursion that ends at a return.
        ("{{ countdown(3) }}", "done"),
        // The value as it was returned.
        ("{{ cols() | join(', ') }}", "clicks"),
        // From inside a loop; Python's string methods in the value.
        ("{{ loud(['a', 'b', 'c']) }}", "B"),
    ];
    for (model, expected) in cases {
        assert_eq!(rendered_with_macros(macros, model), expected, "{model}");
    }
    // Outside a project's macros (a model's own), return prints its value.
    assert_eq!(
        rendered("{% macro m() %}{{ return('x') }}y{% endmacro %}{{ m() }}"),
        "xy"
    );
}

#[test]
fn project_vars_keep_their_types_and_dbt_helpers_render() {
    // `template` rendered in a project whose `vars:` are `vars`.
    let with_vars = |vars: &str, template: &str| {
        let project = ProjectJinja {
            vars: serde_yaml::from_str(vars).unwrap(),
            ..ProjectJinja::default()
        };
        render(template, Dialect::Generic, Some(&project))
            .unwrap()
            .text
    };
    assert_eq!(
        with_vars(
            "flag_off: false\ndays: 7\nmetric_list: [clicks, impressions]\n",
            "{% if var('flag_off') %}x{% else %}y{% endif %}{{ var('days') + 1 }}{% for m in var('metric_list') %} {{ m }}{% endfor %}",
        ),
        "y8 clicks impressions"
    );
    // A default given by name, as dbt allows; a set var wins over it.
    assert_eq!(
        with_vars(
            "days: 7\n",
            "{{ var('warehouse', default='ADS') }} {{ var('days', default=30) }} {{ env_var('DBT_METRICLINT_UNSET_X', default='dev') }}",
        ),
        "ADS 7 dev"
    );
    // A var whose Jinja needs a run (the clock's date arithmetic) is a
    // stand-in; one that renders is its text.
    assert_eq!(
        with_vars(
            "start: \"{{ '2022-09-15' if target.name == 'prod' else (modules.datetime.datetime.now() - modules.datetime.timedelta(days=7)).strftime('%Y-%m-%d') }}\"\nschema: \"{{ 'prod' if target.name == 'prod' else 'dev' }}\"\n",
            "{{ config(begin=var('start')) }}select '{{ var('schema') }}' as s from {{ var('start') }}",
        ),
        "select 'dev' as s from __jinja_var_start"
    );
    assert_eq!(
        rendered("{{ '3' | as_number + 1 }} {{ 'true' | as_bool }}"),
        "4 True"
    );
    assert_eq!(
        rendered("{% call statement('s', fetch_result=True) %}select 1{% endcall %}select 2"),
        "select 2"
    );
    assert_eq!(
        rendered("{{ run_query('select 1').columns[0] }}"),
        "__jinja_run_query_columns_0"
    );
}

#[test]
fn whitespace_control_trims_as_in_jinja() {
    assert_eq!(
        rendered("select\n  sum(spend) as spend\n  {{- '_usd' }},\n  1 as x"),
        "select\n  sum(spend) as spend_usd,\n  1 as x"
    );
    assert_eq!(rendered("a\n{%- if true -%}\n   b\n{%- endif %}"), "ab");
    let template = "select\n  {%- if true %}\n  sum(clicks) as clicks\n  {%- endif %}\nfrom t";
    let r = render(template, Dialect::Generic, None).unwrap();
    assert_eq!(r.text, "select\n  sum(clicks) as clicks\nfrom t");
    let (ri, ti) = (LineIndex::new(&r.text), LineIndex::new(template));
    let at = r.text.find("sum(clicks)").unwrap();
    let m = r.map_range(
        &ri,
        &ti,
        Range {
            start: ri.position(at),
            end: ri.position(at + 11),
        },
    );
    assert_eq!((m.start.line, m.start.column, m.end.column), (3, 3, 14));
}

#[test]
fn captured_blocks_and_strings_in_tags() {
    // A `set` block captures its text, markers and all do not leak into it.
    assert_eq!(
        rendered(
            "{% set mode %}strict{% endset %}{% if mode == 'strict' %}a{% else %}b{% endif %}"
        ),
        "a"
    );
    assert_eq!(
        rendered("{% set n %}3{% endset %}{{ range(n | int) | length }}"),
        "3"
    );
    // `}}` inside a string does not end the tag.
    assert_eq!(
        rendered("{{ config(post_hook=['grant on {{ this }}']) }}select 1"),
        "select 1"
    );
    // Nor does one that closes dicts inside the tag (Flipside's models
    // tag their tables so), while one after the last bracket does.
    assert_eq!(
        rendered("{{ config(meta={'tags': {'table': {'PURPOSE': 'BRIDGE'}} }) }}select 1"),
        "select 1"
    );
    assert_eq!(
        rendered("select {{ {'a': {'b': 2}}['a']['b'] }}"),
        "select 2"
    );
    // A comment has no strings: an apostrophe in it does not hide the rest.
    assert_eq!(rendered("{# don't #}select {{ 1 + 1 }}"), "select 2");
    assert_eq!(segments("{# it's #}x{{ y }}").len(), 3);
}

/// Fivetran's packages call fivetran_utils macros newer than the copy
/// installed: the model still renders to SQL that parses, and each
/// missing macro is still named.
#[test]
fn macros_missing_from_an_installed_package_leave_sql_that_parses() {
    let project = ProjectJinja {
        packages: vec![bundle(
            "fivetran_utils",
            "{% macro fill_staging_columns(cols) %}{{ cols | join(', ') }}{% endmacro %}",
        )],
        ..ProjectJinja::default()
    };
    let template = "with base as (\n    {{ fivetran_utils.union_connections(connection_dictionary='recharge_sources') }}\n), fields as (\n    select {{ fivetran_utils.fill_staging_columns(['id', 'd']) }}\n        {{ fivetran_utils.apply_source_relation(package_name='recharge') }}\n    from base\n)\nselect id, row_number() over (partition by id {{ fivetran_utils.partition_by_source_relation() }} order by d) as n, {{ fivetran_utils.source_relation() }} as source_relation\nfrom fields";
    let r = render(template, Dialect::Generic, Some(&project)).unwrap();
    assert_eq!(
        r.text.split_whitespace().collect::<Vec<_>>().join(" "),
        "with base as ( select * from __jinja_fivetran_utils_union_connections ), fields as ( select id, d from base ) select id, row_number() over (partition by id order by d) as n, __jinja_fivetran_utils_source_relation as source_relation from fields"
    );
    assert_eq!(r.unknown_macros.len(), 4, "{:?}", r.unknown_macros);
    assert!(crate::parse::parse_each(
        &r.text,
        Dialect::Generic.parser_dialect().as_ref(),
        &mut |_| {}
    )
    .is_empty());
    // Every byte still maps into the template: the fitted query to the
    // call it stands for.
    let index = LineIndex::new(&r.text);
    let at = r.text.find("select * from").unwrap();
    let range = r.map_range(
        &index,
        &LineIndex::new(template),
        Range {
            start: index.position(at),
            end: index.position(at + 6),
        },
    );
    assert_eq!(range.start.line, 2, "{range:?}");
}

/// Outside dbt, what Jinja cannot read, and bare names neither the
/// template nor dbt defines, are other tools' query parameters.
#[test]
fn query_parameters_read_as_names_of_the_same_length() {
    let cases = [
        (
            "where d >= '{{2. Start date}}' and {{period:c.day}} and p = {{pool_id}}",
            Some("where d >= '__2__Start_date__' and __period_c_day__ and p = __pool_id__"),
        ),
        ("where p = {{ pool.id }}", Some("where p = ___pool_id___")),
        // A fragment after an expression is nothing; glued to a name,
        // part of it.
        (
            "and (lower(login) {{exclude_bots}}) from repos_{{rnd}} r",
            Some("and (lower(login)                 ) from repos___rnd__ r"),
        ),
        ("{% set n = 3 %}select {{ n }}, {{ loop }}", None),
        ("{% for c in cols %}{{ c }}{% endfor %}", None),
        (
            "select {{ ref('m') }}, {{ this }}, {{ 1 + 1 }}, {{ true }}",
            None,
        ),
    ];
    for (template, expected) in cases {
        let named = with_query_parameters_as_names(template);
        assert_eq!(named.as_deref(), expected, "{template}");
        if let Some(named) = named {
            assert_eq!(named.len(), template.len());
        }
    }
}

/// `modules.re` as Python's `re`: dbt_utils' `slugify`, as written there,
/// and the calls projects make.
#[test]
fn modules_re_is_pythons_re() {
    let rendered = |t: &str| render(t, Dialect::Generic, None).unwrap().text;
    let slugify = "{% macro slugify(string) %}{% if not string %}{{ return('') }}{% endif %}{% set string = string | lower %}{% set string = modules.re.sub('[ -]+', '_', string) %}{% set string = modules.re.sub('[^a-z0-9_]+', '', string) %}{% set string = modules.re.sub('^[0-9]', '_' + string[0], string) %}{{ return(string) }}{% endmacro %}";
    let cases = [
        (
            format!("{slugify}{{{{ slugify('Daily Events-Count!') }}}} {{{{ slugify('7 day') }}}}"),
            "daily_events_count _7_day",
        ),
        (
            "{% set m = modules.re.match('stg_(\\w+?)__(\\w+)', 'stg_google_ads__campaigns') %}{{ m.group(1) }} {{ m.group(2) }} {{ m.groups() | join(',') }}".to_string(),
            "google_ads campaigns google_ads,campaigns",
        ),
        (
            "{{ modules.re.match('ads', 'stg_ads') is none }} {{ modules.re.search('ads', 'stg_ads') is none }} {{ modules.re.fullmatch('a|ab', 'ab') is none }}".to_string(),
            "True False False",
        ),
        (
            "{{ modules.re.findall('(\\d+)', 'a1b22c333') | join(',') }} {{ modules.re.split('_+', 'a__b_c') | join(' ') }}".to_string(),
            "1,22,333 a b c",
        ),
        (
            "{{ modules.re.sub('(?P<word>ads)', '\\g<word>_v2', 'ADS ads', flags=modules.re.IGNORECASE) }} {{ modules.re.sub('(a)(b)', '\\\\2\\\\1', 'abab', count=1) }}".to_string(),
            "ADS_v2 ads_v2 baab",
        ),
        (
            "{{ modules.re.split('__', 'stg_a__b__c', 1) | join('|') }} {{ modules.re.split('(_)', 'a_b') | join('|') }} {% for m in modules.re.finditer('[0-9]+', 'a1b22') %}{{ m.group(0) }}.{% endfor %}".to_string(),
            "stg_a|b__c a|_|b 1.22.",
        ),
        (
            "{% set p = modules.re.compile('^int_', modules.re.I) %}{{ p.sub('', 'INT_orders') }} {{ modules.re.escape('a.b') }}".to_string(),
            "orders a\\.b",
        ),
        (
            // Positions count characters, as Python's do: `é` is one.
            "{% set m = modules.re.search('b+', 'été_bb') %}{{ m.start() }} {{ m.end() }} {{ m.span() | join(',') }}".to_string(),
            "4 6 4,6",
        ),
    ];
    for (template, expected) in cases {
        assert_eq!(rendered(&template), expected, "{template}");
    }
    // A pattern re cannot read is an error, as in dbt.
    assert!(render("{{ modules.re.sub('(', '', 'x') }}", Dialect::Generic, None).is_err());
    // Other modules stay stand-ins.
    assert_eq!(
        rendered("{{ modules.pytz.timezone('UTC') }}"),
        "__jinja_modules_pytz_timezone"
    );
}

/// `modules.datetime` as Python's `datetime`: values built, read, written
/// with `strftime` and `isoformat`, parsed with `strptime` and
/// `fromisoformat`; today's date is the clock's. Arithmetic on dates is
/// no Jinja the engine runs: an error, as dbt would not report.
#[test]
fn modules_datetime_is_pythons_datetime() {
    let rendered = |t: &str| render(t, Dialect::Generic, None).unwrap().text;
    let cases = [
        (
            "{% set d = modules.datetime.datetime(2024, 1, 31, 8, 5) %}{{ d }}|{{ d.strftime('%Y%m%d %H:%M') }}|{{ d.isoformat() }}|{{ d.year }}-{{ d.month }}|{{ d.date() }}",
            "2024-01-31 08:05:00|20240131 08:05|2024-01-31T08:05:00|2024-1|2024-01-31",
        ),
        (
            "{% set d = modules.datetime.date(2024, 2, 29) %}{{ d }} {{ d.weekday() }} {{ d.isoweekday() }} {{ d.replace(day=1) }} {{ d.strftime('%b %d, %Y') }}",
            "2024-02-29 3 4 2024-02-01 Feb 29, 2024",
        ),
        (
            "{{ modules.datetime.datetime.strptime('2024-03-05', '%Y-%m-%d') }} {{ modules.datetime.datetime.fromisoformat('2024-03-05T10:30:00') }} {{ modules.datetime.date.fromisoformat('2024-03-05') }}",
            "2024-03-05 00:00:00 2024-03-05 10:30:00 2024-03-05",
        ),
        (
            // What the format does not read is Python's default.
            "{{ modules.datetime.datetime.strptime('2024-01', '%Y-%m') }} {{ modules.datetime.datetime.strptime('10:30', '%H:%M') }}",
            "2024-01-01 00:00:00 1900-01-01 10:30:00",
        ),
        (
            "{{ modules.datetime.timedelta(days=7) }}|{{ modules.datetime.timedelta(hours=25, seconds=4) }}|{{ modules.datetime.timedelta(days=-1).days }}|{{ modules.datetime.timedelta(minutes=2).total_seconds() }}",
            "7 days, 0:00:00|1 day, 1:00:04|-1|120.0",
        ),
        (
            "{{ modules.datetime.datetime(2024, 1, 1, 0, 0, 0, 5).strftime('%S.%f') }}",
            "00.000005",
        ),
    ];
    for (template, expected) in cases {
        assert_eq!(rendered(template), expected, "{template}");
    }
    // Today is the clock's: a date of ten characters, this year's or later.
    let today = rendered(
        "{{ modules.datetime.date.today() }}|{{ modules.datetime.datetime.now().strftime('%Y') }}",
    );
    let (date, year) = today.split_once('|').unwrap();
    assert_eq!(date.len(), 10, "{today}");
    assert!(year.parse::<i32>().unwrap() >= 2024, "{today}");
    // Errors Python raises are errors here.
    for bad in [
        "{{ modules.datetime.date(2023, 2, 29) }}",
        "{{ modules.datetime.datetime.strptime('x', '%Y') }}",
        "{{ modules.datetime.date.today() - modules.datetime.timedelta(days=1) }}",
    ] {
        assert!(render(bad, Dialect::Generic, None).is_err(), "{bad}");
    }
}

/// `modules.itertools`: `product`, `chain`, `combinations` and
/// `permutations` in Python's order.
#[test]
fn modules_itertools_is_pythons_itertools() {
    let rendered = |t: &str| render(t, Dialect::Generic, None).unwrap().text;
    let joined = |call: &str| {
        format!("{{% for t in modules.itertools.{call} %}}{{{{ t | join('') }}}} {{% endfor %}}")
    };
    let cases = [
        (joined("product(['a', 'b'], [1, 2])"), "a1 a2 b1 b2 "),
        (joined("product([0, 1], repeat=2)"), "00 01 10 11 "),
        (joined("combinations('abc', 2)"), "ab ac bc "),
        (joined("permutations('ab')"), "ab ba "),
        (
            "{{ modules.itertools.chain([1, 2], [3]) | join(',') }}".to_string(),
            "1,2,3",
        ),
    ];
    for (template, expected) in cases {
        assert_eq!(rendered(&template), expected, "{template}");
    }
    // More positions than items give nothing, as in Python; a product of
    // too many pools is an error, not a hang.
    assert_eq!(rendered(&joined("permutations([1, 2, 3], 30)")), "");
    assert_eq!(
        rendered("{{ modules.itertools.combinations(range(40), 39) | length }} {{ modules.itertools.product() | length }}"),
        "40 1"
    );
    assert!(render(
        "{{ modules.itertools.product(repeat=100000000000) }}",
        Dialect::Generic,
        None
    )
    .is_err());
    assert!(render(
        "{{ modules.itertools.product([1], repeat=1000000000) }}",
        Dialect::Generic,
        None
    )
    .is_err());
}

/// Jinja's filters as dbt's Jinja has them.
#[test]
fn filters_take_their_arguments_as_jinja_does() {
    let rendered = |t: &str| render(t, Dialect::Generic, None).unwrap().text;
    // dbt's print, tojson and fromjson.
    assert_eq!(
        rendered("{{ print('x') }}{{ tojson({'a': [1, 'b']}) }} {{ fromjson('{\"k\": 2}')['k'] }}"),
        "{\"a\":[1,\"b\"]} 2"
    );
    // dictsort takes its arguments by position too (dbt_metrics).
    assert_eq!(
        rendered(
            "{% for k, v in {'a': 2, 'b': 1} | dictsort(false, 'value') %}{{ k }}{% endfor %}"
        ),
        "ba"
    );
    assert_eq!(
        rendered("{% for k, v in {'a': 2, 'b': 1} | dictsort(reverse=true) %}{{ k }}{% endfor %}"),
        "ba"
    );
}

#[test]
fn macro_output_maps_to_the_call_and_tag_output_to_the_whole_tag() {
    let template = "{% macro ratio(a, b) %}\n  sum({{ a }}) / sum({{ b }})\n{% endmacro %}\nselect\n  {{ ratio('clicks', 'rows') }} as ctr,\n  sum(x) / {{ 'count(*)' }} as y\nfrom t";
    let r = render(template, Dialect::Generic, None).unwrap();
    let (ri, ti) = (LineIndex::new(&r.text), LineIndex::new(template));
    let span = |needle: &str| {
        let at = r.text.find(needle).unwrap();
        let range = Range {
            start: ri.position(at),
            end: ri.position(at + needle.len()),
        };
        let m = r.map_range(&ri, &ti, range);
        (m.start.line, m.start.column, m.end.line, m.end.column)
    };
    // The macro's body is written at the call: that is where it is reported.
    assert_eq!(span("sum(clicks) / sum(rows)"), (5, 3, 5, 32));
    // An expression ending in a tag ends where the tag ends.
    assert_eq!(span("sum(x) / count(*)"), (6, 3, 6, 28));
}

#[test]
fn endless_loops_and_syntax_errors_are_errors_not_hangs() {
    let err = render(
        "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
        Dialect::Generic,
        None,
    )
    .err()
    .unwrap();
    assert!(err.message.contains("too much work"), "{}", err.message);
    let err = render("select\n{% if %}", Dialect::Generic, None)
        .err()
        .unwrap();
    assert_eq!(err.line, 2);
}

#[test]
fn finds_macro_names() {
    let src = "{% macro cents_to_dollars(col) %}({{ col }} / 100){% endmacro %}\n{%- macro  safe(a, b) -%}x{% endmacro %}\n-- a macro in a comment is not one";
    assert_eq!(macros::macro_names(src), vec!["cents_to_dollars", "safe"]);
}

#[test]
fn dbt_block_tags_become_jinja() {
    let src = "{% test not_negative(model, column) %}select 1{% endtest %}{% materialization table, default %}x{% endmaterialization %}{% macro m() %}y{% endmacro %}";
    let out = macros::jinja_compatible(src);
    assert_eq!(out, "{% macro test_not_negative(model, column) %}select 1{% endmacro %}{% macro m() %}y{% endmacro %}");
    assert!(minijinja::Environment::new()
        .template_from_str(&out)
        .is_ok());
}

/// Python's string-formatting holes become names of their length; what is
/// SQL already (strings, comments, DuckDB's structs, ClickHouse's typed
/// parameters) stays as written.
#[test]
fn python_holes_become_names_of_their_length() {
    let cases: &[(&str, Option<&str>)] = &[
        ("select * from {table}", Some("select * from _table_")),
        ("from {schema}.ad_stats", Some("from _schema_.ad_stats")),
        ("from {cfg.table} t", Some("from _cfg_table_ t")),
        ("where a = {0} and b = {}", Some("where a = _0_ and b = __")),
        ("where c = %(campaign)s", Some("where c = __campaign__")),
        ("from events_{suffix}", Some("from events__suffix_")),
        // Fragments of SQL: nothing, the same length.
        (
            "select a from t {where_clause}",
            Some("select a from t               "),
        ),
        (
            "{create_statement}\nselect 1",
            Some("                  \nselect 1"),
        ),
        // Already SQL, or not a hole.
        ("where d >= '{start_date}'", None),
        ("select 1 -- from {table}", None),
        ("select 1 /* {table} */", None),
        ("select {'a': 1} as s", None),
        ("where id = {id:UInt32}", None),
        ("select a % (b) from t", None),
        ("select \"{col}\" from t", None),
        ("select 'it\\'s {x}' from t", None),
        (
            "select 'it\\'s' as a from {t}",
            Some("select 'it\\'s' as a from _t_"),
        ),
    ];
    for (sql, expected) in cases {
        let named = with_python_holes_as_names(sql);
        assert_eq!(named.as_deref(), *expected, "{sql}");
        if let Some(named) = named {
            assert_eq!(named.len(), sql.len(), "{sql}");
        }
    }
}
