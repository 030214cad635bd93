//! The SQL dialects metriclint parses, mapped onto sqlparser's.

use std::fmt;
use std::str::FromStr;

use sqlparser::dialect::{
    AnsiDialect, BigQueryDialect, ClickHouseDialect, DatabricksDialect, Dialect as SqlDialect,
    DuckDbDialect, GenericDialect, HiveDialect, MsSqlDialect, MySqlDialect, PostgreSqlDialect,
    RedshiftSqlDialect, SQLiteDialect, SnowflakeDialect,
};

/// A SQL dialect, as named on the command line (`--dialect`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Dialect {
    #[default]
    Generic,
    Ansi,
    BigQuery,
    Snowflake,
    Postgres,
    Redshift,
    MySql,
    DuckDb,
    Databricks,
    ClickHouse,
    MsSql,
    Sqlite,
    Hive,
}

impl Dialect {
    /// Every dialect with its canonical name and accepted aliases.
    pub const ALL: &'static [(Dialect, &'static str, &'static [&'static str])] = &[
        (Dialect::Generic, "generic", &[]),
        (Dialect::Ansi, "ansi", &[]),
        (Dialect::BigQuery, "bigquery", &[]),
        (Dialect::Snowflake, "snowflake", &[]),
        (Dialect::Postgres, "postgres", &["postgresql"]),
        (Dialect::Redshift, "redshift", &[]),
        (Dialect::MySql, "mysql", &["mariadb"]),
        (Dialect::DuckDb, "duckdb", &[]),
        (Dialect::Databricks, "databricks", &["spark", "sparksql"]),
        (Dialect::ClickHouse, "clickhouse", &[]),
        (Dialect::MsSql, "mssql", &["tsql", "sqlserver"]),
        (Dialect::Sqlite, "sqlite", &[]),
        (Dialect::Hive, "hive", &[]),
    ];

    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(d, _, _)| *d == self)
            .map(|(_, n, _)| *n)
            .unwrap_or("generic")
    }

    /// Whether `/` of two integers truncates to an integer (`3 / 4` is 0).
    pub fn truncates_integer_division(self) -> bool {
        matches!(
            self,
            Dialect::Postgres | Dialect::Redshift | Dialect::MsSql | Dialect::Sqlite
        )
    }

    /// sqlparser's dialect for this one.
    pub fn parser_dialect(self) -> Box<dyn SqlDialect + Send + Sync> {
        match self {
            Dialect::Generic => Box::new(GenericDialect {}),
            Dialect::Ansi => Box::new(AnsiDialect {}),
            Dialect::BigQuery => Box::new(BigQueryDialect {}),
            Dialect::Snowflake => Box::new(SnowflakeDialect {}),
            Dialect::Postgres => Box::new(PostgreSqlDialect {}),
            Dialect::Redshift => Box::new(RedshiftSqlDialect {}),
            Dialect::MySql => Box::new(MySqlDialect {}),
            Dialect::DuckDb => Box::new(DuckDbDialect {}),
            Dialect::Databricks => Box::new(DatabricksDialect {}),
            Dialect::ClickHouse => Box::new(ClickHouseDialect {}),
            Dialect::MsSql => Box::new(MsSqlDialect {}),
            Dialect::Sqlite => Box::new(SQLiteDialect {}),
            Dialect::Hive => Box::new(HiveDialect {}),
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Dialect {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.to_ascii_lowercase();
        Self::ALL
            .iter()
            .find(|(_, name, aliases)| *name == wanted || aliases.contains(&wanted.as_str()))
            .map(|(d, _, _)| *d)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|(_, n, _)| *n).collect();
                format!(
                    "unknown dialect `{s}`; expected one of {}",
                    names.join(", ")
                )
            })
    }
}
