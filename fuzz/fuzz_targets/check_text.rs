//! Arbitrary bytes through discover's decoding, parse, extract, canonicalise
//! and judge: nothing may panic, and every finding must have a sane range.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use metriclint::check::check_text;
use metriclint::dialect::Dialect;
use metriclint::registry::{load_builtin, Registry};

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| load_builtin("programmatic").expect("built-in pack"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for dialect in [Dialect::Generic, Dialect::BigQuery, Dialect::Snowflake, Dialect::Postgres] {
        for finding in check_text("fuzz.sql", text, dialect, registry()) {
            assert!(finding.range.start.line >= 1);
            assert!(finding.range.start <= finding.range.end);
        }
    }
});
