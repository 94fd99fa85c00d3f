//! Python plugins: a project using the `warden-sdk` Python package (`sdk/python`, embedded in
//! this binary), built into a component by componentize-py. The first build installs
//! componentize-py (and pytest, for `warden plugin test`) into a virtual environment in the
//! toolchain cache; the project's own pure-Python dependencies are installed into its `build/`.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::project::{NewWorld, Project, world_named};
use super::toolchain::{Toolchains, run, step, write};
use crate::output::Failure;

/// The componentize-py release Python plugins are built with (the CPython runner's), and the
/// pytest release `warden plugin test` runs.
pub(crate) use warden_builtins::{COMPONENTIZE_PY, PYTEST};

/// What to do after `warden plugin new --lang python`.
pub(super) const NEXT: &str = "  warden plugin test      # pytest: the logic, in plain Python\n  warden plugin build     # the component, in build/ (installs componentize-py on first use)\n  warden run build/{name}.wasm ...\n";

/// The kit's files, embedded: a build needs no checkout of Warden.
const KIT: &[(&str, &str)] = &[
    (
        "warden_sdk/__init__.py",
        include_str!("../../../../sdk/python/src/warden_sdk/__init__.py"),
    ),
    (
        "warden_sdk/checksum.py",
        include_str!("../../../../sdk/python/src/warden_sdk/checksum.py"),
    ),
    (
        "warden_sdk/context.py",
        include_str!("../../../../sdk/python/src/warden_sdk/context.py"),
    ),
    (
        "warden_sdk/pii.py",
        include_str!("../../../../sdk/python/src/warden_sdk/pii.py"),
    ),
    (
        "warden_sdk/runner.py",
        include_str!("../../../../sdk/python/src/warden_sdk/runner.py"),
    ),
    (
        "warden_sdk/span.py",
        include_str!("../../../../sdk/python/src/warden_sdk/span.py"),
    ),
    (
        "warden_sdk/template.py",
        include_str!("../../../../sdk/python/src/warden_sdk/template.py"),
    ),
    (
        "warden_sdk/types.py",
        include_str!("../../../../sdk/python/src/warden_sdk/types.py"),
    ),
    (
        "warden_sdk/_component/__init__.py",
        include_str!("../../../../sdk/python/src/warden_sdk/_component/__init__.py"),
    ),
    (
        "warden_sdk/_component/code_runner.py",
        include_str!("../../../../sdk/python/src/warden_sdk/_component/code_runner.py"),
    ),
    (
        "warden_sdk/_component/pii_detector.py",
        include_str!("../../../../sdk/python/src/warden_sdk/_component/pii_detector.py"),
    ),
    (
        "warden_sdk/_component/template_engine.py",
        include_str!("../../../../sdk/python/src/warden_sdk/_component/template_engine.py"),
    ),
];

/// The WIT package every component is built against.
const WIT: &str = include_str!("../../../../wit/warden.wit");

/// The scaffold's files, relative to its directory.
pub(super) fn files(name: &str, world: NewWorld) -> Vec<(String, String)> {
    let module = name.replace('-', "_");
    let feature = world.feature();
    let (code, test) = match world {
        NewWorld::PiiDetector => (
            include_str!("../../templates/python/pii-detector.py"),
            include_str!("../../templates/python/test_pii-detector.py"),
        ),
        NewWorld::TemplateEngine => (
            include_str!("../../templates/python/template-engine.py"),
            include_str!("../../templates/python/test_template-engine.py"),
        ),
        NewWorld::CodeRunner => (
            include_str!("../../templates/python/code-runner.py"),
            include_str!("../../templates/python/test_code-runner.py"),
        ),
    };
    let fill = |t: &str| t.replace("{{NAME}}", name).replace("{{MODULE}}", &module);
    let pyproject = format!(
        "[project]\nname = \"{name}\"\nversion = \"0.1.0\"\nrequires-python = \">=3.10\"\n\
         # Pure-Python packages only: `warden plugin build` installs them into build/deps.\n\
         dependencies = []\n\n\
         # What `warden plugin build` needs: the world, and the plugin class (module:Class).\n\
         [tool.warden]\nworld = \"{feature}\"\nentry = \"{module}:Plugin\"\n"
    );
    let readme = format!(
        "# {name}\n\nA Warden `{feature}` plugin in Python, scaffolded by `warden plugin new`.\n\n\
         ```sh\nwarden plugin test      # pytest, in plain Python\n\
         warden plugin build     # build/{name}.wasm (componentize-py, installed on first use)\n\
         warden inspect build/{name}.wasm\n\
         warden plugin push build/{name}.wasm --name {name} --version 0.1.0\n```\n\n\
         The plugin class is `{module}.Plugin` (`[tool.warden] entry` in pyproject.toml). \
         Work done at import time (compiling regular expressions, loading tables) happens \
         once, when the component is built; every call starts from that snapshot. Modules \
         are bundled only if the plugin imports them at module level. Plain `pytest` works \
         too, with Warden's `sdk/python` installed (`pip install PATH/sdk/python`).\n\
         See docs/plugin-authoring.md in Warden's repository for the worlds, limits and outcomes.\n"
    );
    vec![
        ("pyproject.toml".to_owned(), pyproject),
        (".gitignore".to_owned(), "/build\n__pycache__/\n".to_owned()),
        ("README.md".to_owned(), readme),
        (format!("{module}.py"), fill(code)),
        (format!("tests/test_{module}.py"), fill(test)),
    ]
}

/// The world and plugin class `[tool.warden]` names.
fn entry(project: &Project) -> Result<(NewWorld, String, String), Failure> {
    let table = project
        .manifest
        .get("tool")
        .and_then(|t| t.get("warden"))
        .and_then(serde_json::Value::as_object);
    let get = |key: &str| {
        table
            .and_then(|t| t.get(key))
            .and_then(serde_json::Value::as_str)
    };
    let world = world_named(get("world"), "pyproject.toml: [tool.warden] world")?;
    let ident = |s: &str| {
        !s.is_empty()
            && s.split('.').all(|p| {
                p.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                    && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            })
    };
    let (module, class) = get("entry")
        .and_then(|e| e.split_once(':'))
        .filter(|(m, c)| ident(m) && ident(c) && !c.contains('.'))
        .ok_or_else(|| {
            Failure::usage(
                "pyproject.toml: [tool.warden] entry must name the plugin class as \
                 \"module:Class\" (for example \"my_detector:Plugin\")",
            )
        })?;
    Ok((world, module.to_owned(), class.to_owned()))
}

/// The pure-Python dependencies `[project] dependencies` lists.
fn dependencies(project: &Project) -> Vec<String> {
    project
        .manifest
        .get("project")
        .and_then(|p| p.get("dependencies"))
        .and_then(serde_json::Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|d| d.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The virtual environment with componentize-py and pytest, installed on first use. A folder
/// without its completion marker (an interrupted install) is installed again.
fn environment(tools: &Toolchains) -> Result<PathBuf, Failure> {
    tools.installed(
        &format!("python-componentize-py-{COMPONENTIZE_PY}"),
        |venv| {
            let python = find_python()?;
            eprintln!(
                "installing componentize-py {COMPONENTIZE_PY} and pytest {PYTEST} into {} (first use)",
                venv.display()
            );
            step(
                Command::new(&python).arg("-m").arg("venv").arg(venv),
                "python3 -m venv (on Debian: apt-get install python3-venv)",
            )?;
            step(
                Command::new(venv.join("bin/pip"))
                    .args(["install", "--disable-pip-version-check", "--progress-bar", "on"])
                    .arg(format!("componentize-py=={COMPONENTIZE_PY}"))
                    .arg(format!("pytest=={PYTEST}")),
                "pip install componentize-py",
            )
        },
    )
}

/// A Python 3.10 or later to create the environment with.
fn find_python() -> Result<PathBuf, Failure> {
    for candidate in ["python3", "python"] {
        let ok = Command::new(candidate)
            .args([
                "-c",
                "import sys, venv; sys.exit(sys.version_info < (3, 10))",
            ])
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return Ok(PathBuf::from(candidate));
        }
    }
    Err(Failure::usage(
        "building a Python plugin needs Python 3.10 or later with venv on the PATH \
         (on Debian: apt-get install python3 python3-venv)",
    ))
}

/// The embedded kit, written once per kit version into the toolchain cache; the folder to put
/// on the Python path.
fn kit(tools: &Toolchains) -> Result<PathBuf, Failure> {
    tools.unpack("python-warden-sdk", KIT)
}

/// The app module componentize-py is pointed at (and, for a code runner, the `runner` module
/// where it looks for the session resource), generated from `[tool.warden]`.
fn app_modules(world: NewWorld, module: &str, class: &str) -> Vec<(&'static str, String)> {
    let head =
        "# Generated by `warden plugin build` from pyproject.toml's [tool.warden]; do not edit.\n";
    match world {
        NewWorld::PiiDetector => vec![(
            "warden_app.py",
            format!(
                "{head}from warden_sdk._component.pii_detector import export\nfrom {module} import {class} as _Plugin\n\nDetector = export(_Plugin)\n"
            ),
        )],
        NewWorld::TemplateEngine => vec![(
            "warden_app.py",
            format!(
                "{head}from warden_sdk._component.template_engine import export\nfrom {module} import {class} as _Plugin\n\nTemplate = export(_Plugin)\n"
            ),
        )],
        NewWorld::CodeRunner => vec![
            (
                "warden_app.py",
                format!(
                    "{head}from warden_sdk._component.code_runner import export_runner\n\n\
                     import runner  # noqa: F401  (the session resource)\n\n\
                     Runner = export_runner()\n"
                ),
            ),
            (
                "runner.py",
                format!(
                    "{head}from warden_sdk._component.code_runner import export_session\nfrom {module} import {class} as _Plugin\n\nSession = export_session(_Plugin)\n"
                ),
            ),
        ],
    }
}

/// componentize-py over the project, the kit and the generated app module.
pub(super) fn build(project: &Project, tools: &Toolchains, out: &Path) -> Result<(), Failure> {
    let (world, module, class) = entry(project)?;
    let venv = environment(tools)?;
    let kit = kit(tools)?;
    let build = project.dir.join("build");
    let app = build.join("app");
    if app.exists() {
        std::fs::remove_dir_all(&app)
            .map_err(|e| Failure::usage(format!("cannot clear {}: {e}", app.display())))?;
    }
    for (file, text) in app_modules(world, &module, &class) {
        write(&app.join(file), &text)?;
    }
    write(&build.join("wit/warden.wit"), WIT)?;
    let mut paths = vec![app.clone(), project.dir.clone(), kit];
    let deps = dependencies(project);
    if !deps.is_empty() {
        let target = build.join("deps");
        step(
            Command::new(venv.join("bin/pip"))
                .args([
                    "install",
                    "--disable-pip-version-check",
                    "--upgrade",
                    "--target",
                ])
                .arg(&target)
                .args(&deps),
            "pip install (the project's dependencies)",
        )?;
        paths.push(target);
    }
    let mut cmd = Command::new(venv.join("bin/componentize-py"));
    cmd.current_dir(&project.dir)
        .arg("-d")
        .arg(build.join("wit"))
        .args(["-w", world.feature(), "componentize", "warden_app"]);
    for p in &paths {
        cmd.arg("-p").arg(p);
    }
    cmd.arg("-o").arg(out);
    step(&mut cmd, "componentize-py")
}

/// pytest in the toolchain's environment, with the kit and the project on the path.
pub(super) fn test(project: &Project, tools: &Toolchains) -> Result<u8, Failure> {
    let venv = environment(tools)?;
    let kit = kit(tools)?;
    let path = std::env::join_paths([kit.as_path(), project.dir.as_path()])
        .map_err(|e| Failure::usage(format!("cannot build PYTHONPATH: {e}")))?;
    run(
        Command::new(venv.join("bin/python"))
            .current_dir(&project.dir)
            .env("PYTHONPATH", path)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"]),
        "pytest",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_kit_is_the_whole_kit() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sdk/python/src");
        let on_disk =
            super::super::toolchain::kit_files(&root, |p| p.extension().is_some_and(|e| e == "py"));
        let mut embedded: Vec<String> = KIT.iter().map(|(p, _)| (*p).to_owned()).collect();
        embedded.sort();
        assert_eq!(embedded, on_disk, "add the new kit file to KIT");
    }
}
