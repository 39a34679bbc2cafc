//! The layering the crate map (`src/lib.rs`) promises, checked on the source: which
//! top-level module may import which, and no circle among them.
//!
//! A module "imports" another when its code names `crate::<other>` (comments and doc
//! links do not count: they create no dependency). Circles are what made the old
//! `app` module a knot of ten files that could only change together.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Graph = BTreeMap<String, BTreeSet<String>>;

fn source_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ reads") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            source_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The code of a file without its comments.
fn code(text: &str) -> String {
    text.lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules `code` names through `crate::`, grouped imports included.
fn imported(code: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            for item in group.split(',') {
                names.insert(ident(item.trim()));
            }
        } else {
            names.insert(ident(rest));
        }
    }
    names.retain(|name| !name.is_empty());
    names
}

fn ident(text: &str) -> String {
    text.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// Top-level module -> the top-level modules it imports (`lib.rs` and `main.rs`, which
/// only declare and re-export, are left out).
fn graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    source_files(&src, &mut files);
    let mut graph = Graph::new();
    for file in files {
        let relative = file.strip_prefix(&src).expect("under src/");
        let first = relative.components().next().expect("a path");
        let module = first
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_owned();
        if module == "lib" || module == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("a readable source file");
        let imports = graph.entry(module.clone()).or_default();
        imports.extend(imported(&code(&text)).into_iter().filter(|m| *m != module));
    }
    graph
}

/// A circle of imports, if there is one.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &Graph,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| n == node) {
            let mut cycle = path[start..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn no_module_imports_in_a_circle() {
    let graph = graph();
    assert!(graph.len() > 10, "the source was found: {graph:?}");
    if let Some(cycle) = find_cycle(&graph) {
        panic!(
            "modules import each other in a circle: {}",
            cycle.join(" -> ")
        );
    }
}

#[test]
fn the_layers_import_only_downwards() {
    let graph = graph();
    let forbidden: [(&str, &[&str]); 4] = [
        // The seams know nothing of the node around them.
        (
            "store",
            &[
                "fanout", "votes", "watch", "presence", "state", "http", "ws", "server",
            ],
        ),
        (
            "fanout",
            &[
                "store", "votes", "watch", "presence", "state", "http", "ws", "server",
            ],
        ),
        // The container holds services; it does not serve.
        ("state", &["http", "ws", "server"]),
        // Services are below the routes.
        (
            "votes",
            &["watch", "presence", "state", "http", "ws", "server"],
        ),
    ];
    for (module, never) in forbidden {
        let imports = &graph[module];
        for other in never {
            assert!(!imports.contains(*other), "{module} imports {other}");
        }
    }
    for (module, imports) in &graph {
        if imports.contains("http") {
            assert_eq!(module, "server", "only the server builds the router");
        }
    }
}

#[test]
fn the_checker_sees_grouped_imports_and_ignores_comments() {
    let text = "use crate::{fanout::Hub, store};\n// crate::http in a comment\nlet x = crate::ws::routes();";
    let names: Vec<String> = imported(&code(text)).into_iter().collect();
    assert_eq!(names, ["fanout", "store", "ws"]);
    let mut circle = Graph::new();
    circle.insert("a".into(), ["b".to_owned()].into());
    circle.insert("b".into(), ["a".to_owned()].into());
    assert_eq!(
        find_cycle(&circle),
        Some(vec!["a".into(), "b".into(), "a".into()])
    );
}
