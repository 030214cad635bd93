//! Arbitrary registry text: loading either succeeds or reports errors, never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = metriclint::registry::load_str("fuzz.yaml", text);
    }
});
