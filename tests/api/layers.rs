//! The folders of `src/` are layers (ARCHITECTURE.md, "Code map"): production code imports only
//! its own layer and those listed before it. This reads the source and fails on a `crate::`
//! path that points up.

use std::path::{Path, PathBuf};

/// The layers, from the bottom up; `main.rs` and `lib.rs` stand above them all.
const LAYERS: [&[&str]; 12] = [
    &["common"],
    &["telemetry", "backstage"],
    &["data"],
    &["query"],
    &["http"],
    &["render"],
    &["app"],
    &["pipeline"],
    &["websub"],
    &["routes"],
    &["startup"],
    &["commands"],
];

fn layer(top: &str) -> Option<usize> {
    LAYERS.iter().position(|names| names.contains(&top))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules a file's production code names as `crate::<module>`, outside
/// comments.
fn named_layers(source: &str) -> Vec<String> {
    let production = source.split("#[cfg(test)]").next().unwrap_or_default();
    let mut names = Vec::new();
    for line in production.lines() {
        let code = line.split("//").next().unwrap_or_default();
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            names.push(name);
        }
    }
    names
}

#[test]
fn imports_run_down_the_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut checked = 0;
    let mut up = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        let top = relative.components().next().unwrap().as_os_str();
        let Some(own) = layer(&top.to_string_lossy()) else {
            // main.rs and lib.rs: above every layer.
            continue;
        };
        for name in named_layers(&std::fs::read_to_string(file).unwrap()) {
            let target = layer(&name)
                .unwrap_or_else(|| panic!("{}: crate::{name} is in no layer", relative.display()));
            checked += 1;
            if target > own {
                up.push(format!("{} -> crate::{name}", relative.display()));
            }
        }
    }
    assert!(
        checked > 200,
        "only {checked} imports read: is src/ where it was?"
    );
    assert!(up.is_empty(), "imports that run up the layers: {up:#?}");
}

#[test]
fn a_path_that_runs_up_is_found() {
    let source = "use crate::common::text;\nuse crate::routes::get; // crate::app\n#[cfg(test)]\nuse crate::commands;";
    assert_eq!(named_layers(source), ["common", "routes"]);
}
