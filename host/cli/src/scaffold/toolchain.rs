//! Where language toolchains live (a cache directory, filled on first use) and how their tools
//! run: output on stderr, so stdout stays the JSON the command prints; a missing tool or a
//! failed step is one clear message.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

use crate::output::Failure;

/// The cache directory toolchains are installed into.
pub(crate) struct Toolchains {
    root: PathBuf,
}

impl Toolchains {
    /// `dir`, or `$XDG_CACHE_HOME/warden/toolchains`, or `~/.cache/warden/toolchains`.
    pub(crate) fn new(dir: Option<&Path>) -> Result<Toolchains, Failure> {
        let root = match dir {
            Some(d) => d.to_owned(),
            None => std::env::var_os("XDG_CACHE_HOME")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
                .ok_or_else(|| {
                    Failure::usage("neither XDG_CACHE_HOME nor HOME is set; pass --toolchains DIR")
                })?
                .join("warden")
                .join("toolchains"),
        };
        std::fs::create_dir_all(&root)
            .map_err(|e| Failure::usage(format!("cannot create {}: {e}", root.display())))?;
        let root = root
            .canonicalize()
            .map_err(|e| Failure::usage(format!("{}: {e}", root.display())))?;
        Ok(Toolchains { root })
    }

    /// The folder of one toolchain (`name` carries its version).
    pub(crate) fn dir(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// The toolchain folder `name`, filled by `install` on first use: under the cache's lock,
    /// and marked complete only once `install` succeeded, so an interrupted install (a folder
    /// without the mark) is started again from an empty folder.
    pub(crate) fn installed(
        &self,
        name: &str,
        install: impl FnOnce(&Path) -> Result<(), Failure>,
    ) -> Result<PathBuf, Failure> {
        let dir = self.dir(name);
        let done = dir.join(".warden-complete");
        if done.exists() {
            return Ok(dir);
        }
        let _lock = self.lock()?;
        if done.exists() {
            return Ok(dir);
        }
        if dir.exists() {
            std::fs::remove_dir_all(&dir)
                .map_err(|e| Failure::usage(format!("cannot remove {}: {e}", dir.display())))?;
        }
        std::fs::create_dir_all(&dir)
            .map_err(|e| Failure::usage(format!("cannot create {}: {e}", dir.display())))?;
        install(&dir)?;
        write(&done, "")?;
        Ok(dir)
    }

    /// Embedded `files` (relative path, text), written once per content into
    /// `PREFIX-<digest>/` of the cache; that folder.
    pub(crate) fn unpack(&self, prefix: &str, files: &[(&str, &str)]) -> Result<PathBuf, Failure> {
        let mut hash = Sha256::new();
        for (path, text) in files {
            hash.update(path.as_bytes());
            hash.update([0]);
            hash.update(text.as_bytes());
            hash.update([0]);
        }
        let tag: String = hash.finalize()[..6]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        self.installed(&format!("{prefix}-{tag}"), |dir| {
            files
                .iter()
                .try_for_each(|(path, text)| write(&dir.join(path), text))
        })
    }

    /// Holds the cache's lock until dropped, so two builds started at once do not install the
    /// same toolchain over each other.
    pub(crate) fn lock(&self) -> Result<std::fs::File, Failure> {
        let path = self.root.join(".lock");
        let file = std::fs::File::create(&path)
            .map_err(|e| Failure::usage(format!("cannot create {}: {e}", path.display())))?;
        file.lock()
            .map_err(|e| Failure::usage(format!("cannot lock {}: {e}", path.display())))?;
        Ok(file)
    }
}

/// Writes `text` to `path`, creating its folder.
pub(crate) fn write(path: &Path, text: &str) -> Result<(), Failure> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| Failure::usage(format!("cannot create {}: {e}", parent.display())))?;
    }
    std::fs::write(path, text)
        .map_err(|e| Failure::usage(format!("cannot write {}: {e}", path.display())))
}

/// Runs `cmd` with its output on stderr; its exit code. `what` names it in messages.
pub(crate) fn run(cmd: &mut Command, what: &str) -> Result<u8, Failure> {
    let status = cmd
        .stdin(Stdio::null())
        .stdout(std::io::stderr())
        .stderr(std::io::stderr())
        .status()
        .map_err(|e| missing(what, &e))?;
    Ok(status
        .code()
        .and_then(|c| u8::try_from(c).ok())
        .unwrap_or(1))
}

/// Runs `cmd`, which must succeed; its stdout (stderr passes through).
pub(crate) fn capture(cmd: &mut Command, what: &str) -> Result<String, Failure> {
    let out = cmd
        .stdin(Stdio::null())
        .stderr(std::io::stderr())
        .output()
        .map_err(|e| missing(what, &e))?;
    if !out.status.success() {
        return Err(Failure::usage(format!("{what} failed ({})", out.status)));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs `cmd`, which must succeed.
pub(crate) fn step(cmd: &mut Command, what: &str) -> Result<(), Failure> {
    match run(cmd, what)? {
        0 => Ok(()),
        code => Err(Failure::usage(format!("{what} failed (exit code {code})"))),
    }
}

fn missing(what: &str, e: &std::io::Error) -> Failure {
    Failure::usage(format!("cannot run {what}: {e}"))
}

/// The files of a kit's source folder `root` that `keep` selects, as paths relative to it
/// (tests and caches skipped): what the embedded list must equal.
#[cfg(test)]
pub(crate) fn kit_files(root: &Path, keep: impl Fn(&Path) -> bool) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.map(|e| e.path()).unwrap_or_default();
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            if path.is_dir() {
                if !matches!(
                    name.as_deref(),
                    Some("test" | "tests" | "__pycache__" | "node_modules")
                ) {
                    stack.push(path);
                }
            } else if let Ok(rel) = path.strip_prefix(root)
                && keep(&path)
            {
                found.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    found.sort();
    found
}
