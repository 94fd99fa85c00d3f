//! One author workflow for every language: `warden plugin new` scaffolds a project for one
//! world (a working example with a test and a README), `warden plugin build` turns any
//! scaffold into a component that passes `warden inspect` (installing the language's
//! toolchain into a cache directory on first use), `warden plugin test` runs its unit tests.
//! One module per language: [`rust`], [`python`], [`js`]; [`project`] is what they share,
//! [`toolchain`] runs their tools.

mod js;
mod project;
mod python;
mod rust;
mod toolchain;

use std::path::{Path, PathBuf};

use clap::Args;

use crate::output::Failure;
pub use project::{Lang, NewWorld};
use project::{Project, valid_crate_name};

/// `warden plugin new`.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// The plugin's name (also the crate's): a-z, 0-9, `-`, `_`.
    pub name: String,
    /// The world it implements.
    #[arg(long, value_enum)]
    pub world: NewWorld,
    /// The language to write it in.
    #[arg(long, value_enum, default_value = "rust")]
    pub lang: Lang,
    /// Where to create it [default: ./NAME].
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Rust only: the warden-sdk crate to depend on (a path) [default: the SDK of this Warden's
    /// source].
    #[arg(long)]
    pub sdk: Option<PathBuf>,
}

/// Writes the crate; refuses to touch an existing directory.
pub fn new(args: &NewArgs) -> Result<u8, Failure> {
    if !valid_crate_name(&args.name) {
        return Err(Failure::usage(format!(
            "`{}` is not a usable plugin name: start with a-z, then a-z, 0-9, `-` or `_` \
             (at most 64)",
            args.name
        )));
    }
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(&args.name));
    if dir.exists() {
        return Err(Failure::usage(format!(
            "{} already exists; choose another --dir",
            dir.display()
        )));
    }
    let (files, next) = match args.lang {
        Lang::Rust => {
            let sdk = match &args.sdk {
                Some(p) => p.clone(),
                None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sdk"),
            };
            let sdk = sdk.canonicalize().map_err(|e| {
                Failure::usage(format!(
                    "the warden-sdk crate is not at {} ({e}); pass --sdk PATH",
                    sdk.display()
                ))
            })?;
            (rust::files(&args.name, args.world, &sdk), rust::NEXT)
        }
        Lang::Python => (python::files(&args.name, args.world), python::NEXT),
        Lang::Js => (js::files(&args.name, args.world), js::NEXT),
    };
    for (rel, text) in &files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Failure::usage(format!("cannot create {}: {e}", parent.display())))?;
        }
        std::fs::write(&path, text)
            .map_err(|e| Failure::usage(format!("cannot write {}: {e}", path.display())))?;
    }
    eprintln!(
        "created {dir} ({world}, {lang:?}). Next:\n  cd {dir}\n{next}",
        dir = dir.display(),
        world = args.world.feature(),
        lang = args.lang,
        next = next.replace("{name}", &args.name),
    );
    Ok(0)
}

/// `warden plugin build` and `warden plugin test`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The plugin project (a `warden plugin new` scaffold, or any project with its files).
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Where to write the component [default: DIR/build/NAME.wasm].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Where language toolchains are installed on first use and kept
    /// [default: ~/.cache/warden/toolchains].
    #[arg(long)]
    pub toolchains: Option<PathBuf>,
}

/// Builds the project in `args.dir` into a component, checks it against Warden's policy and
/// prints what it is.
pub fn build(args: &BuildArgs) -> Result<u8, Failure> {
    let project = Project::open(&args.dir)?;
    let out = args.out.clone().unwrap_or_else(|| {
        project
            .dir
            .join("build")
            .join(format!("{}.wasm", project.name))
    });
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| Failure::usage(format!("cannot create {}: {e}", parent.display())))?;
    }
    let tools = toolchain::Toolchains::new(args.toolchains.as_deref())?;
    match project.lang {
        Lang::Rust => rust::build(&project, &out)?,
        Lang::Python => python::build(&project, &tools, &out)?,
        Lang::Js => js::build(&project, &tools, &out)?,
    }
    let bytes = crate::input::read_file(&out, "component")?;
    let info = warden_engine::inspect(&bytes);
    let accepted = info.accepted();
    crate::output::emit(&serde_json::json!({
        "file": out.display().to_string(),
        "name": project.name,
        "language": format!("{:?}", project.lang).to_lowercase(),
        "size": info.size,
        "world": info.world.map(|w| w.name()),
        "deny_all": info.deny_all,
        "accepted": accepted.is_ok(),
        "refusal": accepted.as_ref().err().map(|e| e.to_string()),
    }));
    match accepted {
        Ok(world) => {
            eprintln!(
                "built {} ({world}, {} KiB)",
                out.display(),
                info.size / 1024
            );
            Ok(0)
        }
        Err(e) => {
            eprintln!("built {}, but Warden refuses it: {e}", out.display());
            Ok(1)
        }
    }
}

/// Runs the project's unit tests natively (`cargo test`, or pytest with the kit on the path).
pub fn test(args: &BuildArgs) -> Result<u8, Failure> {
    let project = Project::open(&args.dir)?;
    let tools = toolchain::Toolchains::new(args.toolchains.as_deref())?;
    match project.lang {
        Lang::Rust => rust::test(&project),
        Lang::Python => python::test(&project, &tools),
        Lang::Js => js::test(&project, &tools),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_existing_directories_are_refused() {
        assert!(valid_crate_name("my-detector"));
        assert!(!valid_crate_name("9lives"));
        assert!(!valid_crate_name("has.dot"));
        let dir = tempfile::tempdir().unwrap();
        let args = NewArgs {
            name: "demo".into(),
            world: NewWorld::PiiDetector,
            lang: Lang::Rust,
            dir: Some(dir.path().to_owned()),
            sdk: None,
        };
        assert!(new(&args).is_err(), "an existing directory must be refused");
        let target = dir.path().join("demo");
        let args = NewArgs {
            dir: Some(target.clone()),
            ..args
        };
        assert_eq!(new(&args).ok(), Some(0));
        let cargo = std::fs::read_to_string(target.join("Cargo.toml")).unwrap();
        assert!(cargo.contains(r#"features = ["pii-detector"]"#), "{cargo}");
        assert!(
            std::fs::read_to_string(target.join("rust-toolchain.toml"))
                .unwrap()
                .contains("wasm32-wasip2")
        );
        let project = Project::open(&target).unwrap();
        assert_eq!((project.name.as_str(), project.lang), ("demo", Lang::Rust));
    }

    #[test]
    fn python_scaffolds_name_their_world_and_plugin_class() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("my-filter");
        let args = NewArgs {
            name: "my-filter".into(),
            world: NewWorld::TemplateEngine,
            lang: Lang::Python,
            dir: Some(target.clone()),
            sdk: None,
        };
        assert_eq!(new(&args).ok(), Some(0));
        assert!(target.join("my_filter.py").exists());
        assert!(target.join("tests/test_my_filter.py").exists());
        let project = Project::open(&target).unwrap();
        assert_eq!(
            (project.name.as_str(), project.lang),
            ("my-filter", Lang::Python)
        );
        let pyproject = std::fs::read_to_string(target.join("pyproject.toml")).unwrap();
        assert!(
            pyproject.contains("world = \"template-engine\""),
            "{pyproject}"
        );
        assert!(
            pyproject.contains("entry = \"my_filter:Plugin\""),
            "{pyproject}"
        );
        // A JavaScript one is told apart by its package.json.
        let js = dir.path().join("js-det");
        let args = NewArgs {
            name: "js-det".into(),
            world: NewWorld::PiiDetector,
            lang: Lang::Js,
            dir: Some(js.clone()),
            sdk: None,
        };
        assert_eq!(new(&args).ok(), Some(0));
        assert!(js.join("plugin.js").exists() && js.join("test/plugin.test.js").exists());
        assert_eq!(Project::open(&js).unwrap().lang, Lang::Js);
        // No manifest: a clear refusal.
        let err = Project::open(dir.path()).unwrap_err();
        assert!(
            err.message.contains("not a plugin project"),
            "{}",
            err.message
        );
    }
}
