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
        let dir = self.dir(&format!("{prefix}-{tag}"));
        let done = dir.join(".warden-complete");
        if done.exists() {
            return Ok(dir);
        }
        let _lock = self.lock()?;
        for (path, text) in files {
            write(&dir.join(path), text)?;
        }
        write(&done, "")?;
        Ok(dir)
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
