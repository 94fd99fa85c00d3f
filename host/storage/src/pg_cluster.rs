//! A throw-away PostgreSQL cluster for tests: `initdb` into a temporary directory, `pg_ctl`
//! start on a free loopback port (as the `postgres` user when the tests run as root, since
//! `initdb` refuses root), one database per test, stopped when the process exits. Never a
//! system-wide instance.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

/// A running cluster.
pub struct PgCluster {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
}

/// The directory holding `initdb` and `pg_ctl`: `$WARDEN_PG_BIN`, `pg_config --bindir`, the
/// newest `/usr/lib/postgresql/*/bin`, or whatever `PATH` finds.
fn bin_dir() -> Option<PathBuf> {
    if let Ok(b) = std::env::var("WARDEN_PG_BIN") {
        return Some(PathBuf::from(b));
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output()
        && out.status.success()
    {
        let p = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if p.join("initdb").exists() {
            return Some(p);
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop()
}

fn is_root() -> bool {
    // SAFETY-free: `id -u` keeps this crate free of libc.
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl PgCluster {
    /// Whether PostgreSQL's server binaries are on this machine.
    pub fn available() -> bool {
        bin_dir().is_some()
    }

    /// Creates and starts a new cluster.
    pub fn start() -> PgCluster {
        let bin = bin_dir().expect(
            "PostgreSQL's server binaries (initdb, pg_ctl) are not installed: \
             apt-get install postgresql (`.ci/run` does), or set WARDEN_PG_BIN",
        );
        let base = std::env::temp_dir().join(format!(
            "warden-pg-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&base).unwrap();
        let as_postgres = is_root();
        if as_postgres {
            // The postgres user must own the data directory and reach it.
            Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&base)
                .status()
                .unwrap();
        }
        let cluster = PgCluster {
            dir: base,
            bin,
            port: free_port(),
            as_postgres,
        };
        let data = cluster.dir.join("data");
        cluster.run(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "warden",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--locale=C.UTF-8",
            ],
        );
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off -c max_connections=300 -c shared_buffers=64MB",
            cluster.port,
            cluster.dir.to_str().unwrap()
        );
        let log = cluster.dir.join("log");
        cluster.run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-l",
                log.to_str().unwrap(),
                "-o",
                &opts,
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
        cluster
    }

    fn command(&self, tool: &str, args: &[&str]) -> Command {
        let exe = self.bin.join(tool);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe).args(args);
            c
        } else {
            let mut c = Command::new(exe);
            c.args(args);
            c
        }
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let out = self.command(tool, args).output().unwrap();
        if !out.status.success() {
            let log = std::fs::read_to_string(self.dir.join("log")).unwrap_or_default();
            panic!(
                "{tool} failed: {}\n{}\n{log}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    /// The cluster's port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of database `db`.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://warden@127.0.0.1:{}/{db}", self.port)
    }

    /// Creates a new, empty database and returns its URL.
    pub fn create_database(&self) -> String {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "w{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let port = self.port.to_string();
        self.run(
            "createdb",
            &["-h", "127.0.0.1", "-p", &port, "-U", "warden", &name],
        );
        self.url(&name)
    }

    /// Stops the cluster at once and removes its directory.
    pub fn stop(&self) {
        let data = self.dir.join("data");
        let _ = self
            .command(
                "pg_ctl",
                &[
                    "-D",
                    data.to_str().unwrap_or(""),
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                ],
            )
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }

    /// The data directory, for tests that inspect it.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One cluster shared by every test of this process, started on first use and stopped when
/// the process exits (a child process watches this one and stops it, since statics are never
/// dropped).
pub fn shared() -> &'static PgCluster {
    static CLUSTER: OnceLock<PgCluster> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        let c = PgCluster::start();
        watch_parent(&c);
        c
    })
}

/// Starts a small shell that waits for this process to end and then stops the cluster.
fn watch_parent(c: &PgCluster) {
    let data = c.dir.join("data");
    let stop = if c.as_postgres {
        format!(
            "runuser -u postgres -- {} -D {} -m immediate -w stop",
            c.bin.join("pg_ctl").display(),
            data.display()
        )
    } else {
        format!(
            "{} -D {} -m immediate -w stop",
            c.bin.join("pg_ctl").display(),
            data.display()
        )
    };
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; {stop} >/dev/null 2>&1; rm -rf {dir}",
        pid = std::process::id(),
        dir = c.dir.display()
    );
    let _ = Command::new("sh")
        .args(["-c", &script])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
}
