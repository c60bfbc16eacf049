//! The module library shipped inside the binary: `import "perms" as perms;` works from any
//! scenario folder without files on disk.

/// Every stdlib module: its import name and its source, embedded at build time.
pub const MODULES: &[(&str, &str)] = &[
    ("perms", include_str!("../stdlib/perms.rhai")),
    ("time", include_str!("../stdlib/time.rhai")),
];

/// The source of stdlib module `name`, if there is one.
pub fn source(name: &str) -> Option<&'static str> {
    MODULES
        .iter()
        .find(|(module, _)| *module == name)
        .map(|(_, src)| *src)
}
