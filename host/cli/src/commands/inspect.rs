//! `warden inspect`: what a component is (world, imports, exports, size) and whether Warden
//! accepts it.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use crate::input::read_file;
use crate::output::{Failure, emit};

/// Options of `warden inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The component file.
    pub file: PathBuf,
}

/// Runs `warden inspect`: exit 0 when the component is accepted, 1 when it is refused.
pub fn execute(args: &InspectArgs) -> Result<u8, Failure> {
    let file = &args.file;
    let bytes = read_file(file, "component")?;
    let info = warden_engine::inspect(&bytes);
    let accepted = info.accepted();
    let out = json!({
        "file": file.display().to_string(),
        "size": info.size,
        "world": info.world.map(|w| w.name()),
        "imports": info.imports,
        "exports": info.exports,
        "preinit": info.preinit,
        "deny_all": info.deny_all,
        "accepted": accepted.is_ok(),
        "refusal": accepted.as_ref().err().map(|e| e.to_string()),
    });
    emit(&out);
    if std::io::stdout().is_terminal() {
        match &accepted {
            Ok(w) => eprintln!(
                "accepted: {w} component, {} bytes, {} imports",
                info.size,
                info.imports.len()
            ),
            Err(e) => eprintln!("refused: {e}"),
        }
    }
    Ok(if accepted.is_ok() { 0 } else { 1 })
}
