//! A Python virtual environment a test creates for the Python clients it drives (never a
//! system-wide package): Debian's python3 and venv are installed with apt-get when missing
//! (as root, the way the project installs system packages), pip installs into the venv.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn run(cmd: &mut Command) -> bool {
    cmd.stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn install_python(why: &str) {
    assert!(
        is_root(),
        "{why}: this test needs python3 with the venv module (Debian: `apt-get install -y \
         python3-venv`) and is not running as root to install it"
    );
    let ok = run(Command::new("apt-get").args(["update", "-qq"]))
        && run(Command::new("apt-get")
            .args(["install", "-y", "-qq", "python3", "python3-venv"])
            .env("DEBIAN_FRONTEND", "noninteractive"));
    assert!(ok, "{why}: `apt-get install -y python3-venv` failed");
}

/// The python of virtual environment `dir`, created if need be, in which `check` (a Python
/// statement) succeeds after `pip install requirements`.
pub fn venv(dir: &Path, requirements: &[&str], check: &str) -> PathBuf {
    let python = dir.join("bin/python");
    let ready = |python: &Path| run(Command::new(python).args(["-c", check]));
    if python.exists() && ready(&python) {
        return python;
    }
    if !run(Command::new("python3").arg("--version")) {
        install_python("python3 is not installed");
    }
    let make = || {
        run(Command::new("python3")
            .args(["-m", "venv", "--clear"])
            .arg(dir))
    };
    if !make() {
        install_python("`python3 -m venv` failed");
        assert!(make(), "`python3 -m venv {}` failed", dir.display());
    }
    let pip = run(Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(requirements));
    assert!(
        pip && ready(&python),
        "could not install {requirements:?} into {} (package index unreachable?)",
        dir.display()
    );
    python
}
