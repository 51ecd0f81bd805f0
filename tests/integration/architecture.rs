//! The shape of `src/`: each step is a folder, and a step uses only the steps before it on the
//! data's path (the README's map), so no module depends on one that depends on it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The top-level modules in the order the README's map gives them. `text` is used by all.
const LAYERS: &[&[&str]] = &[
    &["text"],
    &["sample", "decide"],
    &["parse"],
    &["proc"],
    &["report"],
    &["capture", "render"],
    &["output", "signals"],
    &["daemon", "snapshot", "history"],
    &["defaults", "cli"],
];

fn layer_of(module: &str) -> usize {
    LAYERS
        .iter()
        .position(|layer| layer.contains(&module))
        .unwrap_or_else(|| panic!("src/{module} is not on the README's map"))
}

/// Every `crate::<module>` a file names, its unit tests left out (they may drive anything).
fn uses_in(text: &str) -> BTreeSet<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or_default();
    let mut used = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let name: String = code[at + "crate::".len()..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            used.insert(name);
        }
    }
    // `use crate::{a, b}` names several.
    for (at, _) in code.match_indices("crate::{") {
        let list = &code[at + "crate::{".len()..];
        let list = &list[..list.find('}').unwrap_or(0)];
        used.extend(
            list.split(',')
                .map(|item| {
                    item.trim()
                        .split("::")
                        .next()
                        .unwrap_or_default()
                        .to_string()
                })
                .filter(|name| !name.is_empty()),
        );
    }
    used
}

/// Which top-level modules each top-level module uses.
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut visit = |module: String, file: &Path| {
        let text = std::fs::read_to_string(file).unwrap();
        let entry = graph.entry(module.clone()).or_default();
        entry.extend(
            uses_in(&text)
                .into_iter()
                .filter(|m| *m != module && m != "say"),
        );
    };
    for entry in std::fs::read_dir(&src).unwrap().flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            for file in walk(&path) {
                visit(name.clone(), &file);
            }
        } else if let Some(module) = name.strip_suffix(".rs")
            && !["lib", "main"].contains(&module)
        {
            visit(module.to_string(), &path);
        }
    }
    graph
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

#[test]
fn each_step_uses_only_the_steps_before_it() {
    let graph = module_graph();
    assert!(graph.len() >= 12, "{graph:?}");
    let mut wrong = Vec::new();
    for (module, uses) in &graph {
        for used in uses {
            if layer_of(used) >= layer_of(module) && !(module == "cli" && used == "defaults") {
                wrong.push(format!("{module} uses {used}"));
            }
        }
    }
    assert!(wrong.is_empty(), "against the data's path: {wrong:?}");
}

#[test]
fn the_check_sees_a_module_naming_another() {
    let used = uses_in(
        "use crate::report::Entry;\nuse crate::{parse, text::escape};\nfn f() { crate::say!(); }\n#[cfg(test)]\nuse crate::daemon;",
    );
    assert_eq!(
        used.into_iter().collect::<Vec<_>>(),
        ["parse", "report", "say", "text"]
    );
}
