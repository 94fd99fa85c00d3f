//! The on-disk cache of precompiled components.
//!
//! An entry is keyed by the sha256 of the component as uploaded and by a hash of everything
//! that makes compiled code valid (wasmtime's compatibility hash, Warden's version, the
//! pre-initialisation format). Each entry is written to a temporary file and renamed into place
//! with a sidecar holding the sha256 of the artifact; a load re-hashes the artifact and refuses
//! it on any mismatch, so a truncated, corrupted or foreign file is recompiled, never trusted.

use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::component::Component;

/// A directory of precompiled artifacts for one engine configuration.
pub(crate) struct Cache {
    dir: PathBuf,
    engine_key: String,
}

/// What a cache lookup found.
pub(crate) enum Lookup {
    /// A verified artifact, deserialised.
    Hit(Component),
    /// Nothing usable (absent, stale or corrupt); compile and store.
    Miss,
}

impl Cache {
    /// Opens (creating) `dir` for artifacts of `engine`.
    pub(crate) fn open(dir: &Path, engine: &wasmtime::Engine) -> std::io::Result<Cache> {
        std::fs::create_dir_all(dir)?;
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        env!("CARGO_PKG_VERSION").hash(&mut hasher);
        "wizer-component-v1".hash(&mut hasher);
        Ok(Cache {
            dir: dir.to_owned(),
            engine_key: format!("{:016x}", hasher.finish()),
        })
    }

    /// Removes artifacts compiled by another engine (an upgrade or a configuration change):
    /// they can never be loaded again, and their components recompile on first use.
    pub(crate) fn prune_stale(&self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let Some(stem) = name
                .strip_suffix(".cwasm")
                .or_else(|| name.strip_suffix(".sha256"))
            else {
                continue;
            };
            let Some((digest, key)) = stem.split_once('-') else {
                continue;
            };
            if digest.len() == 64 && key.len() == 16 && key != self.engine_key {
                tracing::info!(
                    file = name,
                    "removing a component compiled by another engine"
                );
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }

    fn paths(&self, digest: &str) -> (PathBuf, PathBuf) {
        let stem = format!("{digest}-{}", self.engine_key);
        (
            self.dir.join(format!("{stem}.cwasm")),
            self.dir.join(format!("{stem}.sha256")),
        )
    }

    /// Loads the artifact for `digest` if present and intact.
    pub(crate) fn load(&self, engine: &wasmtime::Engine, digest: &str) -> Lookup {
        let (artifact, sidecar) = self.paths(digest);
        let Ok(expected) = std::fs::read_to_string(&sidecar) else {
            return Lookup::Miss;
        };
        let Ok(bytes) = std::fs::read(&artifact) else {
            return Lookup::Miss;
        };
        if hex::encode(Sha256::digest(&bytes)) != expected.trim() {
            tracing::warn!(path = %artifact.display(), "precompiled artifact does not match its checksum; recompiling");
            let _ = std::fs::remove_file(&artifact);
            let _ = std::fs::remove_file(&sidecar);
            return Lookup::Miss;
        }
        drop(bytes);
        // SAFETY: the file was produced by `Component::serialize` of this same engine
        // configuration (the key includes wasmtime's compatibility hash) and its sha256 was just
        // checked against the sidecar written with it, so it is not truncated or tampered with
        // by accident. wasmtime additionally checks the header and engine compatibility.
        #[allow(unsafe_code)]
        let loaded = unsafe { Component::deserialize_file(engine, &artifact) };
        match loaded {
            Ok(component) => Lookup::Hit(component),
            Err(e) => {
                tracing::warn!(path = %artifact.display(), error = %e, "precompiled artifact refused by wasmtime; recompiling");
                let _ = std::fs::remove_file(&artifact);
                let _ = std::fs::remove_file(&sidecar);
                Lookup::Miss
            }
        }
    }

    /// Stores `component` as the artifact for `digest`, atomically.
    pub(crate) fn store(&self, digest: &str, component: &Component) -> std::io::Result<()> {
        let bytes = component.serialize().map_err(std::io::Error::other)?;
        let (artifact, sidecar) = self.paths(digest);
        write_atomic(&artifact, &bytes)?;
        write_atomic(&sidecar, hex::encode(Sha256::digest(&bytes)).as_bytes())
    }
}

fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
