//! JavaScript plugins: an ES-module project using the `warden-sdk` npm package (`sdk/js`,
//! embedded in this binary), bundled by esbuild and built into a component by componentize-js
//! (StarlingMonkey, pre-initialised with wizer at build time). The first build installs both
//! into the toolchain cache with npm; `warden plugin test` runs node's own test runner.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::project::{NewWorld, Project, world_named};
use super::toolchain::{Toolchains, run, step, write};
use crate::output::Failure;

/// The componentize-js release JavaScript plugins are built with.
pub(crate) const COMPONENTIZE_JS: &str = "0.23.0";
/// The esbuild release that bundles a project into the one module componentize-js takes.
const ESBUILD: &str = "0.28.2";

/// What to do after `warden plugin new --lang js`.
pub(super) const NEXT: &str = "  warden plugin test      # node --test: the logic, in plain JavaScript\n  warden plugin build     # the component, in build/ (installs componentize-js on first use)\n  warden run build/{name}.wasm ...\n";

/// The kit's files, embedded: a build needs no checkout of Warden.
const KIT: &[(&str, &str)] = &[
    (
        "package.json",
        include_str!("../../../../sdk/js/package.json"),
    ),
    ("index.js", include_str!("../../../../sdk/js/index.js")),
    ("index.d.ts", include_str!("../../../../sdk/js/index.d.ts")),
    (
        "component/errors.js",
        include_str!("../../../../sdk/js/component/errors.js"),
    ),
    (
        "component/pii-detector.js",
        include_str!("../../../../sdk/js/component/pii-detector.js"),
    ),
    (
        "component/template-engine.js",
        include_str!("../../../../sdk/js/component/template-engine.js"),
    ),
    (
        "component/code-runner.js",
        include_str!("../../../../sdk/js/component/code-runner.js"),
    ),
];

/// The WIT package every component is built against.
const WIT: &str = include_str!("../../../../wit/warden.wit");

/// The scaffold's files, relative to its directory.
pub(super) fn files(name: &str, world: NewWorld) -> Vec<(String, String)> {
    let feature = world.feature();
    let (code, test) = match world {
        NewWorld::PiiDetector => (
            include_str!("../../templates/js/pii-detector.js"),
            include_str!("../../templates/js/test_pii-detector.js"),
        ),
        NewWorld::TemplateEngine => (
            include_str!("../../templates/js/template-engine.js"),
            include_str!("../../templates/js/test_template-engine.js"),
        ),
        NewWorld::CodeRunner => (
            include_str!("../../templates/js/code-runner.js"),
            include_str!("../../templates/js/test_code-runner.js"),
        ),
    };
    let package = serde_json::json!({
        "name": name,
        "version": "0.1.0",
        "private": true,
        "type": "module",
        "scripts": { "test": "node --test" },
        "dependencies": {},
        "warden": { "world": feature, "main": "plugin.js" },
    });
    let readme = format!(
        "# {name}\n\nA Warden `{feature}` plugin in JavaScript, scaffolded by `warden plugin new`.\n\n\
         ```sh\nwarden plugin test      # node --test, in plain JavaScript\n\
         warden plugin build     # build/{name}.wasm (componentize-js, installed on first use)\n\
         warden inspect build/{name}.wasm\n\
         warden plugin push build/{name}.wasm --name {name} --version 0.1.0\n```\n\n\
         The plugin is the default export of `plugin.js` (`\"warden\": {{\"main\"}}` in \
         package.json). `warden plugin build` and `test` link the `warden-sdk` package into \
         `node_modules`; npm dependencies (pure JavaScript) are bundled. Work done at module \
         level happens once, when the component is built.\n\
         See docs/plugin-authoring.md in Warden's repository for the worlds, limits and outcomes.\n"
    );
    let fill = |t: &str| t.replace("{{NAME}}", name);
    vec![
        (
            "package.json".to_owned(),
            serde_json::to_string_pretty(&package).unwrap_or_default() + "\n",
        ),
        (
            ".gitignore".to_owned(),
            "/build\n/node_modules\n".to_owned(),
        ),
        ("README.md".to_owned(), readme),
        ("plugin.js".to_owned(), fill(code)),
        ("test/plugin.test.js".to_owned(), fill(test)),
    ]
}

/// The world and the plugin module `"warden"` names.
fn entry(project: &Project) -> Result<(NewWorld, String), Failure> {
    let warden = project.manifest.get("warden");
    let get = |key: &str| {
        warden
            .and_then(|t| t.get(key))
            .and_then(serde_json::Value::as_str)
    };
    let world = world_named(get("world"), "package.json: \"warden\".\"world\"")?;
    let main = get("main")
        .filter(|m| m.ends_with(".js") && !m.starts_with('/') && !m.split('/').any(|p| p == ".."))
        .ok_or_else(|| {
            Failure::usage(
                "package.json: \"warden\".\"main\" must name the plugin's module inside the \
                 project (for example \"plugin.js\"), whose default export is the plugin class",
            )
        })?;
    Ok((world, main.trim_start_matches("./").to_owned()))
}

/// componentize-js and esbuild, installed with npm on first use.
fn environment(tools: &Toolchains) -> Result<PathBuf, Failure> {
    tools.installed(&format!("js-componentize-js-{COMPONENTIZE_JS}"), |dir| {
        eprintln!(
            "installing componentize-js {COMPONENTIZE_JS} and esbuild {ESBUILD} into {} (first use)",
            dir.display()
        );
        write(
            &dir.join("package.json"),
            "{\"private\": true, \"description\": \"Warden's JavaScript plugin toolchain\"}\n",
        )?;
        step(
            Command::new("npm")
                .current_dir(dir)
                .args(["install", "--no-audit", "--no-fund", "--save-exact"])
                .arg(format!("@bytecodealliance/componentize-js@{COMPONENTIZE_JS}"))
                .arg(format!("esbuild@{ESBUILD}")),
            "npm install componentize-js (Node.js 20 or later and npm must be on the PATH)",
        )
    })
}

/// Links the embedded kit as the project's `node_modules/warden-sdk` (unless the project
/// installed one itself), so node, esbuild and editors resolve `import … from "warden-sdk"`.
fn link_kit(project: &Project, tools: &Toolchains) -> Result<(), Failure> {
    let kit = tools.unpack("js-warden-sdk", KIT)?;
    let link = project.dir.join("node_modules/warden-sdk");
    match std::fs::symlink_metadata(&link) {
        Ok(m) if m.file_type().is_symlink() => {
            if std::fs::read_link(&link).is_ok_and(|t| t == kit) {
                return Ok(());
            }
            std::fs::remove_file(&link)
                .map_err(|e| Failure::usage(format!("cannot replace {}: {e}", link.display())))?;
        }
        Ok(_) => return Ok(()),
        Err(_) => {}
    }
    if let Some(parent) = link.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| Failure::usage(format!("cannot create {}: {e}", parent.display())))?;
    }
    std::os::unix::fs::symlink(&kit, &link)
        .map_err(|e| Failure::usage(format!("cannot link {}: {e}", link.display())))
}

/// The app module componentize-js is given (after bundling), generated from `"warden"`.
fn app_module(world: NewWorld, main: &str) -> String {
    let (glue, export, name) = match world {
        NewWorld::PiiDetector => ("pii-detector", "exportDetector", "detector"),
        NewWorld::TemplateEngine => ("template-engine", "exportTemplate", "template"),
        NewWorld::CodeRunner => ("code-runner", "exportRunner", "runner"),
    };
    format!(
        "// Generated by `warden plugin build` from package.json's \"warden\"; do not edit.\n\
         import {{ {export} }} from \"warden-sdk/component/{glue}.js\";\n\
         import Plugin from \"../../{main}\";\n\n\
         export const {name} = {export}(Plugin);\n"
    )
}

/// esbuild over the generated app module, then componentize-js over the bundle.
pub(super) fn build(project: &Project, tools: &Toolchains, out: &Path) -> Result<(), Failure> {
    let (world, main) = entry(project)?;
    if !project.dir.join(&main).is_file() {
        return Err(Failure::usage(format!(
            "package.json names {main} as the plugin's module, but {} has no such file",
            project.dir.display()
        )));
    }
    let env = environment(tools)?;
    link_kit(project, tools)?;
    let has_deps = project
        .manifest
        .get("dependencies")
        .and_then(serde_json::Value::as_object)
        .is_some_and(|d| !d.is_empty());
    if has_deps {
        step(
            Command::new("npm").current_dir(&project.dir).args([
                "install",
                "--no-audit",
                "--no-fund",
            ]),
            "npm install (the project's dependencies)",
        )?;
        link_kit(project, tools)?;
    }
    let build = project.dir.join("build");
    let app = build.join("app");
    write(&app.join("warden_app.js"), &app_module(world, &main))?;
    write(&build.join("wit/warden.wit"), WIT)?;
    let bundle = app.join("bundle.js");
    step(
        Command::new(env.join("node_modules/.bin/esbuild"))
            .current_dir(&project.dir)
            .arg(app.join("warden_app.js"))
            .args([
                "--bundle",
                "--format=esm",
                "--platform=neutral",
                "--log-level=warning",
                // The world's own imports, which componentize-js links.
                "--external:warden:*",
                "--external:wasi:*",
            ])
            .arg(format!("--outfile={}", bundle.display())),
        "esbuild",
    )?;
    step(
        Command::new(env.join("node_modules/.bin/componentize-js"))
            .current_dir(&project.dir)
            .arg("--wit")
            .arg(build.join("wit/warden.wit"))
            .args(["--world-name", world.feature()])
            // No fetch(): its wasi:http imports are not linked.
            .args(["-d", "http", "-d", "fetch-event"])
            .arg("--out")
            .arg(out)
            .arg(&bundle),
        "componentize-js",
    )
}

/// `node --test` in the project, with the kit linked.
pub(super) fn test(project: &Project, tools: &Toolchains) -> Result<u8, Failure> {
    link_kit(project, tools)?;
    run(
        Command::new("node").current_dir(&project.dir).arg("--test"),
        "node --test (Node.js 20 or later must be on the PATH)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_kit_is_the_whole_kit() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sdk/js");
        let on_disk = super::super::toolchain::kit_files(&root, |p| {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
            name.is_some_and(|n| n.ends_with(".js") || n.ends_with(".d.ts") || n == "package.json")
        });
        let mut embedded: Vec<String> = KIT.iter().map(|(p, _)| (*p).to_owned()).collect();
        embedded.sort();
        assert_eq!(embedded, on_disk, "add the new kit file to KIT");
    }
}
