//! Built-in metric packs, compiled into the binary from `rules/`.

/// A registry shipped with metriclint.
pub struct Pack {
    /// The name used in `extends:` and in messages.
    pub name: &'static str,
    pub source: &'static str,
}

pub const PACKS: &[Pack] = &[Pack {
    name: "programmatic",
    source: include_str!("../../rules/programmatic.yaml"),
}];

/// The pack used when the user names no registry.
pub const DEFAULT_PACK: &str = "programmatic";

/// The default pack as a registry no one chose (see
/// [`super::Registry::is_pack_only`]), loaded once: what metriclint knows
/// of a metric whatever registry is in force.
pub fn default_pack() -> Option<&'static super::Registry> {
    static PACK: std::sync::OnceLock<Option<super::Registry>> = std::sync::OnceLock::new();
    PACK.get_or_init(|| {
        let mut pack = super::load_builtin(DEFAULT_PACK).ok()?;
        pack.set_pack_only(true);
        Some(pack)
    })
    .as_ref()
}

pub fn find(name: &str) -> Option<&'static Pack> {
    let name = name.strip_prefix("builtin:").unwrap_or(name);
    PACKS.iter().find(|p| p.name == name)
}

/// What a pack's file name starts with where findings and errors name it.
pub const DISPLAY_PREFIX: &str = "<built-in>/";

/// How findings and errors name a pack's file.
pub fn display_path(name: &str) -> String {
    format!("{DISPLAY_PREFIX}{name}.yaml")
}
