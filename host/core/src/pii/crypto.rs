//! Encryption at rest for pseudonym vaults: a master key file, per-tenant HKDF keys, XChaCha20-Poly1305.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use sha2::Sha256;

/// Length of every key this module handles.
pub const KEY_LEN: usize = 32;
/// The format version byte written first by [`TenantKey::seal`].
pub const SEALED_VERSION: u8 = 1;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
/// Shortest possible sealed message: version, nonce and tag around an empty plaintext.
pub const MIN_SEALED_LEN: usize = 1 + NONCE_LEN + TAG_LEN;
/// Key files longer than this are malformed; a valid one is 45 bytes.
const MAX_KEY_FILE_LEN: u64 = 1024;

/// Why a key could not be loaded or data could not be sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// The key text is not standard (padded) base64.
    #[error("master key is not valid standard base64")]
    InvalidBase64,
    /// The key decodes to the wrong number of bytes.
    #[error("master key must be {KEY_LEN} bytes, got {len}")]
    WrongKeyLength {
        /// How many bytes it decoded to.
        len: usize,
    },
    /// Reading or writing the key file failed.
    #[error("key file {}: {source}", path.display())]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The key file is accessible to group or other users, so it is not used.
    #[error(
        "key file {} has mode {mode:o}, readable or writable by group/other; refusing to use it (chmod 600 it)",
        path.display()
    )]
    InsecurePermissions {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The key file exists but does not hold one base64 key.
    #[error("key file {} is malformed: {reason}", path.display())]
    MalformedKeyFile {
        /// The key file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The operating system's random number generator failed.
    #[error("operating system random number generator failed: {0}")]
    Random(String),
    /// The cipher refused to encrypt (plaintext too large).
    #[error("encryption failed")]
    Encrypt,
    /// The sealed data is shorter than version, nonce and tag.
    #[error("sealed data is truncated ({len} bytes, need at least {MIN_SEALED_LEN})")]
    Truncated {
        /// How many bytes were given.
        len: usize,
    },
    /// The sealed data starts with a version this build does not know.
    #[error("sealed data has unsupported version {0}")]
    UnsupportedVersion(u8),
    /// Authentication failed: wrong key, wrong associated data, or tampered data.
    #[error("decryption failed: wrong key, wrong associated data, or tampered data")]
    Decrypt,
}

fn fill_random(buf: &mut [u8]) -> Result<(), CryptoError> {
    getrandom::getrandom(buf).map_err(|e| CryptoError::Random(e.to_string()))
}

/// HKDF-SHA256 with no salt, expanded to one 32-byte key.
fn hkdf32(ikm: &[u8], info: &[&[u8]]) -> [u8; KEY_LEN] {
    let mut okm = [0u8; KEY_LEN];
    match Hkdf::<Sha256>::new(None, ikm).expand_multi_info(info, &mut okm) {
        Ok(()) => okm,
        // HKDF-SHA256 can produce up to 8160 bytes; 32 is always within range.
        Err(_) => unreachable!("32 bytes is a valid HKDF-SHA256 output length"),
    }
}

/// The 32-byte master key; never Debug-printed (impl Debug that prints "MasterKey(**)").
pub struct MasterKey([u8; KEY_LEN]);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(**)")
    }
}

impl MasterKey {
    /// A fresh random key from the operating system's RNG.
    ///
    /// # Panics
    /// If the operating system's RNG fails; use [`MasterKey::try_generate`] to get an error instead.
    pub fn generate() -> MasterKey {
        match Self::try_generate() {
            Ok(key) => key,
            Err(e) => panic!("{e}"),
        }
    }

    /// A fresh random key, or an error if the operating system's RNG fails.
    pub fn try_generate() -> Result<MasterKey, CryptoError> {
        let mut key = [0u8; KEY_LEN];
        fill_random(&mut key)?;
        Ok(MasterKey(key))
    }

    /// Parses a key given as standard base64 of exactly 32 bytes (surrounding whitespace ignored).
    pub fn from_base64(s: &str) -> Result<MasterKey, CryptoError> {
        let bytes = STANDARD
            .decode(s.trim())
            .map_err(|_| CryptoError::InvalidBase64)?;
        let key: [u8; KEY_LEN] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| CryptoError::WrongKeyLength { len: bytes.len() })?;
        Ok(MasterKey(key))
    }

    /// Loads the key file at `path`, or creates it (mode 0600) with a new key if it is missing.
    ///
    /// Returns the key and whether it was created. A file with any group/other permission bit
    /// set, or that does not hold one base64 key, is an error. Creation writes a 0600 temporary
    /// file in the same directory and then links it into place, so a concurrent creator never
    /// has its key overwritten (the loser loads the winner's key); where hard links are not
    /// supported it falls back to a rename. The parent directory must exist.
    pub fn load_or_create(path: &Path) -> Result<(MasterKey, bool), CryptoError> {
        match load_key_file(path) {
            Ok(key) => return Ok((key, false)),
            Err(CryptoError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let key = MasterKey::try_generate()?;
        if publish_key_file(path, &key)? {
            Ok((key, true))
        } else {
            Ok((load_key_file(path)?, false))
        }
    }

    /// The raw bytes, for using the same 0600 key-file format for another secret (the
    /// bootstrap JWT signing secret). Never log them.
    pub fn expose_secret(&self) -> &[u8] {
        &self.0
    }

    /// The secret the audit log's keyed digests derive from: HKDF-SHA256, info
    /// `warden/v1/audit-digest`.
    pub fn audit_digest_secret(&self) -> [u8; KEY_LEN] {
        hkdf32(&self.0, &[b"warden/v1/audit-digest"])
    }

    /// A fingerprint of this key that reveals nothing about it (HKDF-SHA256, info
    /// `warden/v1/master-key-check`, hex): stored once in a shared database so a replica
    /// started with a different key is refused before it seals anything the others cannot open.
    pub fn fingerprint(&self) -> String {
        hkdf32(&self.0, &[b"warden/v1/master-key-check"])
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The key for one tenant: HKDF-SHA256, no salt, info `warden/v1/tenant-key/<tenant>`.
    pub fn tenant_key(&self, tenant: &str) -> TenantKey {
        TenantKey(hkdf32(
            &self.0,
            &[b"warden/v1/tenant-key/", tenant.as_bytes()],
        ))
    }
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> CryptoError + '_ {
    move |source| CryptoError::Io {
        path: path.to_owned(),
        source,
    }
}

fn malformed(path: &Path, reason: impl Into<String>) -> CryptoError {
    CryptoError::MalformedKeyFile {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

fn load_key_file(path: &Path) -> Result<MasterKey, CryptoError> {
    let file = File::open(path).map_err(io_error(path))?;
    // Checked on the open file, so the file read is the file whose mode was checked.
    let meta = file.metadata().map_err(io_error(path))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(CryptoError::InsecurePermissions {
                path: path.to_owned(),
                mode,
            });
        }
    }
    if !meta.is_file() {
        return Err(malformed(path, "not a regular file"));
    }
    let mut bytes = Vec::new();
    file.take(MAX_KEY_FILE_LEN + 1)
        .read_to_end(&mut bytes)
        .map_err(io_error(path))?;
    if bytes.len() as u64 > MAX_KEY_FILE_LEN {
        return Err(malformed(path, "too long to be a key"));
    }
    let text = std::str::from_utf8(&bytes).map_err(|_| malformed(path, "not UTF-8 text"))?;
    MasterKey::from_base64(text).map_err(|e| malformed(path, e.to_string()))
}

/// Best-effort fsync of a directory so a new entry survives a crash.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// Writes `key` to `path` unless it already exists; returns whether this call created it.
fn publish_key_file(path: &Path, key: &MasterKey) -> Result<bool, CryptoError> {
    let file_name = path
        .file_name()
        .ok_or_else(|| malformed(path, "path has no file name"))?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut suffix = [0u8; 8];
    fill_random(&mut suffix)?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        file_name.to_string_lossy(),
        hex::encode(suffix)
    ));

    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let contents = format!("{}\n", STANDARD.encode(key.0));
    let written = options.open(&tmp).and_then(|mut f| {
        f.write_all(contents.as_bytes())?;
        f.sync_all()
    });
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(io_error(&tmp)(e));
    }

    let created = match fs::hard_link(&tmp, path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        // No hard links here (some filesystems): fall back to a plain rename.
        Err(_) => match fs::rename(&tmp, path) {
            Ok(()) => Ok(true),
            Err(e) => Err(io_error(path)(e)),
        },
    };
    let _ = fs::remove_file(&tmp);
    if let Ok(true) = created {
        sync_dir(dir);
    }
    created
}

/// A tenant's 32-byte vault key, derived from the master key; never Debug-printed.
#[derive(Clone)]
pub struct TenantKey([u8; KEY_LEN]);

impl fmt::Debug for TenantKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TenantKey(**)")
    }
}

impl TenantKey {
    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(Key::from_slice(&self.0))
    }

    /// Encrypts and authenticates `plaintext` bound to `aad`: version 1 || 24-byte nonce || ciphertext+tag.
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut nonce = [0u8; NONCE_LEN];
        fill_random(&mut nonce)?;
        let ciphertext = self
            .cipher()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| CryptoError::Encrypt)?;
        let mut sealed = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        sealed.push(SEALED_VERSION);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        Ok(sealed)
    }

    /// Checks and decrypts the output of [`TenantKey::seal`] made with this key and the same `aad`.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let Some((&version, rest)) = sealed.split_first() else {
            return Err(CryptoError::Truncated { len: 0 });
        };
        if version != SEALED_VERSION {
            return Err(CryptoError::UnsupportedVersion(version));
        }
        if sealed.len() < MIN_SEALED_LEN {
            return Err(CryptoError::Truncated { len: sealed.len() });
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        self.cipher()
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .map_err(|_| CryptoError::Decrypt)
    }

    /// The tenant's salt for the `hash` operator (HKDF info `warden/v1/hash-salt`), distinct from the key.
    pub fn hash_salt(&self) -> [u8; KEY_LEN] {
        hkdf32(&self.0, &[b"warden/v1/hash-salt"])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> TenantKey {
        MasterKey::generate().tenant_key("acme")
    }

    #[test]
    fn from_base64_requires_exactly_32_standard_bytes() {
        let good = STANDARD.encode([7u8; 32]);
        assert_eq!(MasterKey::from_base64(&good).unwrap().0, [7u8; 32]);
        assert_eq!(
            MasterKey::from_base64(&format!(" {good}\n")).unwrap().0,
            [7u8; 32]
        );
        assert!(matches!(
            MasterKey::from_base64(&STANDARD.encode([7u8; 31])),
            Err(CryptoError::WrongKeyLength { len: 31 })
        ));
        assert!(matches!(
            MasterKey::from_base64(&STANDARD.encode([7u8; 33])),
            Err(CryptoError::WrongKeyLength { len: 33 })
        ));
        assert!(matches!(
            MasterKey::from_base64("not base64!"),
            Err(CryptoError::InvalidBase64)
        ));
        // URL-safe alphabet is not standard base64.
        let url_safe = base64::engine::general_purpose::URL_SAFE.encode([0xfb; 32]);
        assert!(url_safe.contains('-') || url_safe.contains('_'));
        assert!(matches!(
            MasterKey::from_base64(&url_safe),
            Err(CryptoError::InvalidBase64)
        ));
    }

    #[test]
    fn debug_never_prints_key_material() {
        let master = MasterKey::from_base64(&STANDARD.encode([0xab; 32])).unwrap();
        assert_eq!(format!("{master:?}"), "MasterKey(**)");
        let tenant = master.tenant_key("t");
        assert_eq!(format!("{tenant:?}"), "TenantKey(**)");
        assert!(!format!("{:?}", (master, tenant)).contains("ab"));
    }

    #[test]
    fn derivation_is_deterministic_and_separated() {
        let master = MasterKey::from_base64(&STANDARD.encode([1u8; 32])).unwrap();
        let a = master.tenant_key("a");
        assert_eq!(a.0, master.tenant_key("a").0);
        assert_ne!(a.0, master.tenant_key("b").0);
        assert_ne!(a.0, master.tenant_key("").0);
        let other_master = MasterKey::from_base64(&STANDARD.encode([2u8; 32])).unwrap();
        assert_ne!(a.0, other_master.tenant_key("a").0);
        assert_eq!(a.hash_salt(), master.tenant_key("a").hash_salt());
        assert_ne!(a.hash_salt(), a.0);
        assert_ne!(a.hash_salt(), master.tenant_key("b").hash_salt());
        // info is the prefix followed by the tenant name.
        let mut expected = [0u8; 32];
        Hkdf::<Sha256>::new(None, &[1u8; 32])
            .expand(b"warden/v1/tenant-key/a", &mut expected)
            .unwrap();
        assert_eq!(a.0, expected);
    }

    #[test]
    fn seal_open_round_trip_and_format() {
        let k = key();
        let sealed = k.seal(b"vault:acme", b"hello vault").unwrap();
        assert_eq!(sealed[0], SEALED_VERSION);
        assert_eq!(sealed.len(), MIN_SEALED_LEN + b"hello vault".len());
        assert_eq!(k.open(b"vault:acme", &sealed).unwrap(), b"hello vault");
        // Random nonces: sealing twice gives different bytes.
        assert_ne!(k.seal(b"vault:acme", b"hello vault").unwrap(), sealed);
        let empty = k.seal(b"", b"").unwrap();
        assert_eq!(empty.len(), MIN_SEALED_LEN);
        assert_eq!(k.open(b"", &empty).unwrap(), b"");
    }

    #[test]
    fn any_tampered_byte_fails() {
        let k = key();
        let sealed = k.seal(b"aad", b"secret pseudonyms").unwrap();
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            let err = k.open(b"aad", &bad).unwrap_err();
            if i == 0 {
                assert!(matches!(err, CryptoError::UnsupportedVersion(0)));
            } else {
                assert!(matches!(err, CryptoError::Decrypt), "byte {i}: {err}");
            }
        }
    }

    #[test]
    fn wrong_aad_or_other_tenant_fails() {
        let master = MasterKey::generate();
        let acme = master.tenant_key("acme");
        let sealed = acme.seal(b"tenant=acme", b"data").unwrap();
        assert!(matches!(
            acme.open(b"tenant=other", &sealed),
            Err(CryptoError::Decrypt)
        ));
        assert!(matches!(
            master.tenant_key("other").open(b"tenant=acme", &sealed),
            Err(CryptoError::Decrypt)
        ));
        assert!(matches!(
            MasterKey::generate()
                .tenant_key("acme")
                .open(b"tenant=acme", &sealed),
            Err(CryptoError::Decrypt)
        ));
    }

    #[test]
    fn truncated_or_unknown_version_fails_without_panicking() {
        let k = key();
        let sealed = k.seal(b"", b"0123456789").unwrap();
        for len in 0..sealed.len() {
            let err = k.open(b"", &sealed[..len]).unwrap_err();
            if len < MIN_SEALED_LEN {
                assert!(
                    matches!(err, CryptoError::Truncated { len: l } if l == len),
                    "{len}"
                );
            } else {
                assert!(matches!(err, CryptoError::Decrypt), "{len}");
            }
        }
        let mut v2 = sealed.clone();
        v2[0] = 2;
        assert!(matches!(
            k.open(b"", &v2),
            Err(CryptoError::UnsupportedVersion(2))
        ));
        assert!(matches!(
            k.open(b"", &[2]),
            Err(CryptoError::UnsupportedVersion(2))
        ));
    }

    #[cfg(unix)]
    fn mode_of(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn load_or_create_creates_private_file_and_reloads_same_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let (created_key, created) = MasterKey::load_or_create(&path).unwrap();
        assert!(created);
        #[cfg(unix)]
        assert_eq!(mode_of(&path), 0o600);
        let contents = fs::read_to_string(&path).unwrap();
        assert!(contents.ends_with('\n'));
        assert_eq!(contents.trim_end().len(), 44);
        assert_eq!(MasterKey::from_base64(&contents).unwrap().0, created_key.0);

        let (reloaded, created_again) = MasterKey::load_or_create(&path).unwrap();
        assert!(!created_again);
        assert_eq!(reloaded.0, created_key.0);
        // Only the key file is left behind: no temporary files.
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("master.key")]);
        // Data sealed under the created key opens under the reloaded one.
        let sealed = created_key.tenant_key("t").seal(b"", b"x").unwrap();
        assert_eq!(reloaded.tenant_key("t").open(b"", &sealed).unwrap(), b"x");
    }

    #[cfg(unix)]
    #[test]
    fn group_or_world_accessible_key_file_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        MasterKey::load_or_create(&path).unwrap();
        for mode in [0o644, 0o640, 0o604, 0o660, 0o602] {
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
            let err = MasterKey::load_or_create(&path).unwrap_err();
            assert!(
                matches!(err, CryptoError::InsecurePermissions { mode: m, .. } if m == mode),
                "{mode:o}: {err}"
            );
            assert!(err.to_string().contains("refusing"), "{err}");
        }
        fs::set_permissions(&path, fs::Permissions::from_mode(0o400)).unwrap();
        assert!(!MasterKey::load_or_create(&path).unwrap().1);
    }

    #[test]
    fn malformed_or_unreachable_key_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        for contents in [
            "not a key\n".to_owned(),
            format!("{}\n", STANDARD.encode([1u8; 16])),
            String::new(),
            "A".repeat(2000),
        ] {
            fs::write(&path, &contents).unwrap();
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
            }
            let err = MasterKey::load_or_create(&path).unwrap_err();
            assert!(matches!(err, CryptoError::MalformedKeyFile { .. }), "{err}");
            // The malformed file is left alone, never replaced by a new key.
            assert_eq!(fs::read_to_string(&path).unwrap(), contents);
        }
        let missing_dir = dir.path().join("no-such-dir").join("master.key");
        assert!(matches!(
            MasterKey::load_or_create(&missing_dir),
            Err(CryptoError::Io { .. })
        ));
    }
}
