//! The one redb database that holds all server state, and the typed helpers every module uses
//! to read and write it.
//!
//! **Architecture Invariant:** every change is one write transaction that also appends its
//! audit record ([`audit::append`]), so a change without its record cannot exist, and a failed
//! write leaves nothing half-written. Values are JSON (readable with any redb tool, easy to
//! evolve with `#[serde(default)]`); component bytes and sealed snapshots are raw bytes.

pub mod audit;
pub mod tables;

use std::path::Path;

use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The current layout; stored in [`tables::META`] and checked at open.
pub const SCHEMA_VERSION: &str = "1";

/// Why the database could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// redb failed (I/O, a full disk, a corrupt file).
    #[error("database error: {0}")]
    Db(#[from] redb::Error),
    /// A stored value could not be decoded.
    #[error("corrupt record in {table}: {message}")]
    Corrupt {
        /// The table.
        table: String,
        /// What failed.
        message: String,
    },
    /// The database was written by an incompatible Warden.
    #[error("the database has schema version {found}; this Warden needs {expected}")]
    Schema {
        /// Version found in the file.
        found: String,
        /// Version this build writes.
        expected: &'static str,
    },
}

macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for StorageError {
            fn from(e: $t) -> Self {
                StorageError::Db(e.into())
            }
        }
    )*};
}
from_redb!(
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);

/// The open database. Cheap to share behind an `Arc`; redb serialises writers and lets
/// readers run concurrently with them.
pub struct Db {
    db: redb::Database,
}

impl Db {
    /// Opens (creating) the database file, creates missing tables and checks the schema
    /// version.
    pub fn open(path: &Path) -> Result<Db, StorageError> {
        let db = redb::Database::create(path)?;
        let txn = db.begin_write()?;
        {
            let mut meta = txn.open_table(tables::META)?;
            let found = meta.get("schema_version")?.map(|v| v.value().to_owned());
            match found {
                None => {
                    meta.insert("schema_version", SCHEMA_VERSION)?;
                }
                Some(v) if v == SCHEMA_VERSION => {}
                Some(found) => {
                    return Err(StorageError::Schema {
                        found,
                        expected: SCHEMA_VERSION,
                    });
                }
            }
            txn.open_table(tables::BLOBS)?;
            txn.open_table(tables::PLUGINS)?;
            txn.open_table(tables::TEMPLATES)?;
            txn.open_table(tables::LABELS)?;
            txn.open_table(tables::DICTIONARIES)?;
            txn.open_table(tables::VAULTS)?;
            txn.open_table(tables::SESSIONS)?;
            txn.open_table(tables::SNAPSHOTS)?;
            txn.open_table(tables::AUDIT)?;
            txn.open_table(tables::AUDIT_HEADS)?;
            txn.open_table(tables::CHANGE_REQUESTS)?;
            txn.open_table(tables::TENANT_SETTINGS)?;
            txn.open_table(tables::PIPELINES)?;
            txn.open_table(tables::PIPELINE_LABELS)?;
        }
        txn.commit()?;
        Ok(Db { db })
    }

    /// Starts a read transaction: a consistent snapshot.
    pub fn read(&self) -> Result<redb::ReadTransaction, StorageError> {
        Ok(self.db.begin_read()?)
    }

    /// Runs `f` in a write transaction and commits if it returns `Ok`; on `Err` nothing it
    /// wrote is kept.
    pub fn write<T, E>(
        &self,
        f: impl FnOnce(&redb::WriteTransaction) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<StorageError>,
    {
        let txn = self.db.begin_write().map_err(StorageError::from)?;
        let value = f(&txn)?;
        txn.commit().map_err(StorageError::from)?;
        Ok(value)
    }
}

/// Decodes a JSON value read from `table`.
pub fn decode<T: DeserializeOwned>(table: &str, bytes: &[u8]) -> Result<T, StorageError> {
    serde_json::from_slice(bytes).map_err(|e| StorageError::Corrupt {
        table: table.to_owned(),
        message: e.to_string(),
    })
}

/// Encodes a value for storage.
pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, StorageError> {
    serde_json::to_vec(value).map_err(|e| StorageError::Corrupt {
        table: "(encode)".into(),
        message: e.to_string(),
    })
}

/// Reads and decodes one JSON value.
pub fn get_json<T, R>(table: &R, name: &str, key: &str) -> Result<Option<T>, StorageError>
where
    T: DeserializeOwned,
    R: ReadableTable<&'static str, &'static [u8]>,
{
    match table.get(key)? {
        Some(v) => Ok(Some(decode(name, v.value())?)),
        None => Ok(None),
    }
}

/// Every `(key, value)` whose key starts with `prefix`, in key order.
pub fn scan_prefix<T, R>(
    table: &R,
    name: &str,
    prefix: &str,
) -> Result<Vec<(String, T)>, StorageError>
where
    T: DeserializeOwned,
    R: ReadableTable<&'static str, &'static [u8]>,
{
    let mut out = Vec::new();
    for entry in table.range(prefix..)? {
        let (k, v) = entry?;
        let key = k.value();
        if !key.starts_with(prefix) {
            break;
        }
        out.push((key.to_owned(), decode(name, v.value())?));
    }
    Ok(out)
}

/// Writes one JSON value into an open write table.
pub fn put_json<T: Serialize>(
    table: &mut redb::Table<&'static str, &'static [u8]>,
    key: &str,
    value: &T,
) -> Result<(), StorageError> {
    let bytes = encode(value)?;
    table.insert(key, bytes.as_slice())?;
    Ok(())
}

/// The name of a table, for error messages.
pub fn table_name<K: redb::Key + 'static, V: redb::Value + 'static>(
    t: TableDefinition<K, V>,
) -> String {
    redb::TableHandle::name(&t).to_owned()
}

/// Milliseconds since the Unix epoch: how records store time.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// RFC 3339 text for a stored millisecond timestamp.
pub fn rfc3339(ms: u64) -> String {
    humantime::format_rfc3339_millis(std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms))
        .to_string()
}
