{#- dbt's own macros, for offline rendering: the cross-database macros
    (`dbt.type_string()`, `dbt.safe_divide(a, b)`, ...), callable as `dbt.name`
    and by bare name, as in dbt. Written for metriclint: each gives the SQL
    the generic adapter would, which is what metriclint reads; a project's or
    package's macro of the same name takes precedence. -#}
{% macro type_string() %}{% if target.type in ('bigquery', 'spark', 'databricks', 'hive') %}string{% else %}varchar{% endif %}{% endmacro %}
{% macro type_int() %}{% if target.type == 'bigquery' %}int64{% else %}integer{% endif %}{% endmacro %}
{% macro type_bigint() %}{% if target.type == 'bigquery' %}int64{% else %}bigint{% endif %}{% endmacro %}
{% macro type_float() %}{% if target.type == 'bigquery' %}float64{% else %}float{% endif %}{% endmacro %}
{% macro type_numeric() %}{% if target.type == 'bigquery' %}numeric{% else %}numeric(28, 6){% endif %}{% endmacro %}
{% macro type_timestamp() %}timestamp{% endmacro %}
{% macro type_boolean() %}boolean{% endmacro %}
{% macro cast(field, type) %}cast({{ field }} as {{ type }}){% endmacro %}
{% macro safe_cast(field, type) %}cast({{ field }} as {{ type }}){% endmacro %}
{% macro cast_bool_to_text(field) %}cast({{ field }} as {{ type_string() }}){% endmacro %}
{% macro concat(fields) %}concat({{ fields | join(', ') }}){% endmacro %}
{% macro safe_divide(numerator, denominator) %}( {{ numerator }} ) / nullif( ( {{ denominator }} ), 0){% endmacro %}
{% macro date_trunc(datepart, date) %}date_trunc('{{ datepart }}', {{ date }}){% endmacro %}
{% macro dateadd(datepart, interval, from_date_or_timestamp) %}dateadd({{ datepart }}, {{ interval }}, {{ from_date_or_timestamp }}){% endmacro %}
{% macro datediff(first_date, second_date, datepart) %}datediff({{ datepart }}, {{ first_date }}, {{ second_date }}){% endmacro %}
{% macro last_day(date, datepart) %}cast(dateadd(day, -1, dateadd({{ datepart }}, 1, date_trunc('{{ datepart }}', {{ date }}))) as date){% endmacro %}
{% macro split_part(string_text, delimiter_text, part_number) %}split_part({{ string_text }}, {{ delimiter_text }}, {{ part_number }}){% endmacro %}
{% macro replace(field, old_chars, new_chars) %}replace({{ field }}, {{ old_chars }}, {{ new_chars }}){% endmacro %}
{% macro length(expression) %}length({{ expression }}){% endmacro %}
{% macro position(substring_text, string_text) %}position({{ substring_text }} in {{ string_text }}){% endmacro %}
{% macro right(string_text, length_expression) %}right({{ string_text }}, {{ length_expression }}){% endmacro %}
{% macro hash(field) %}md5(cast({{ field }} as {{ type_string() }})){% endmacro %}
{% macro any_value(expression) %}any_value({{ expression }}){% endmacro %}
{% macro bool_or(expression) %}bool_or({{ expression }}){% endmacro %}
{% macro listagg(measure, delimiter_text="','", order_by_clause=none, limit_num=none) %}listagg({{ measure }}, {{ delimiter_text }}){% endmacro %}
{% macro array_construct(inputs=[], data_type=none) %}array_construct({{ inputs | join(', ') }}){% endmacro %}
{% macro escape_single_quotes(expression) %}{{ expression | replace("'", "''") }}{% endmacro %}
{% macro string_literal(value) %}'{{ value }}'{% endmacro %}
{% macro current_timestamp() %}current_timestamp{% endmacro %}
{% macro current_timestamp_backcompat() %}current_timestamp{% endmacro %}
{% macro current_timestamp_in_utc_backcompat() %}current_timestamp{% endmacro %}
{% macro except() %}except{% endmacro %}
{% macro intersect() %}intersect{% endmacro %}
{% macro date(year, month, day) %}cast('{{ year }}-{{ month }}-{{ day }}' as date){% endmacro %}
