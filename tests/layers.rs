//! The modules stack one way (lib.rs lists the order): each top-level module of `src/` refers
//! only to modules below it, so there is no import cycle, and the sources and the tile engine
//! never reach the catalogue, the configuration or HTTP.

use std::collections::BTreeSet;
use std::path::Path;

/// Bottom to top.
const ORDER: &[&str] = &[
    "crs",
    "temporal",
    "error",
    "lr65",
    "source",
    "geojson",
    "tiles",
    "archive",
    "seed",
    "catalogue",
    "styles",
    "config",
    "server",
];

/// Every `crate::name` a file or folder refers to.
fn references(path: &Path, out: &mut BTreeSet<String>) {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).expect("a source folder") {
            references(&entry.expect("an entry").path(), out);
        }
        return;
    }
    let text = std::fs::read_to_string(path).expect("a source file");
    // Doc links count too: a module's docs point only below it, as its code does.
    let mut rest = text.as_str();
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        out.insert(name);
    }
    // `use super::…` cannot leave a top-level module, and no file uses `crate::{a, b}`.
    assert!(
        !text.contains("crate::{"),
        "{}: name one module per `crate::` path",
        path.display()
    );
}

#[test]
fn modules_refer_only_to_modules_below_them() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut modules: Vec<String> = std::fs::read_dir(&src)
        .unwrap()
        .filter_map(|e| {
            let p = e.ok()?.path();
            let name = p.file_stem()?.to_str()?.to_string();
            (name != "lib" && name != "main").then_some(name)
        })
        .collect();
    modules.sort();
    let mut listed: Vec<String> = ORDER.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(
        modules, listed,
        "every module of src/ has its place in ORDER"
    );

    for (level, module) in ORDER.iter().enumerate() {
        let mut refs = BTreeSet::new();
        let dir = src.join(module);
        references(
            &if dir.is_dir() {
                dir
            } else {
                src.join(format!("{module}.rs"))
            },
            &mut refs,
        );
        for r in refs {
            if r == *module {
                continue;
            }
            let at = ORDER
                .iter()
                .position(|m| *m == r)
                .unwrap_or_else(|| panic!("{module} refers to crate::{r}, which is not a module"));
            assert!(
                at < level,
                "{module} refers to crate::{r}, which sits above it: the stack is {ORDER:?}"
            );
        }
    }
}
