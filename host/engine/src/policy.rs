//! What a component may import and export: Warden's deny-by-default policy, as data.
//!
//! A component is inspected before anything compiles it: it must be a component (not a core
//! module), export exactly one Warden world's interface, and import nothing beyond that world's
//! own interfaces, the small WASI subset every Rust or C toolchain emits (clocks, random,
//! stdio, exit, environment — all served by a context that holds nothing) and the file-system
//! and socket interfaces that Python and JavaScript toolchains import whether or not the plugin
//! uses them ([`DENY_ALL_WASI`]: linked to implementations that refuse everything). HTTP and
//! anything unknown are refused with a message naming the import.
//!
//! **Invariant:** the linker holds exactly the interfaces this policy allows, so a bug here
//! makes instantiation fail rather than grant access.

use serde::Serialize;
use wasmtime::wasmparser::{Encoding, Parser, Payload, Validator, WasmFeatures};

use super::outcome::InvalidComponent;

/// The worlds of the `warden:plugin` package a component can target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum World {
    /// `template-engine`: renders and inspects templates.
    TemplateEngine,
    /// `pii-detector`: finds personal data in text.
    PiiDetector,
    /// `code-runner`: runs code in sessions, calling host tools.
    CodeRunner,
}

impl World {
    /// All worlds, in a stable order.
    pub const ALL: [World; 3] = [World::TemplateEngine, World::PiiDetector, World::CodeRunner];

    /// The world's WIT name.
    pub fn name(self) -> &'static str {
        match self {
            World::TemplateEngine => "template-engine",
            World::PiiDetector => "pii-detector",
            World::CodeRunner => "code-runner",
        }
    }

    /// The interface (without version) a component of this world exports.
    pub fn export_interface(self) -> &'static str {
        match self {
            World::TemplateEngine => "warden:plugin/template",
            World::PiiDetector => "warden:plugin/detector",
            World::CodeRunner => "warden:plugin/runner",
        }
    }

    /// Warden interfaces (without version) a component of this world may import.
    fn warden_imports(self) -> &'static [&'static str] {
        match self {
            World::TemplateEngine | World::PiiDetector => &["warden:plugin/types"],
            World::CodeRunner => &["warden:plugin/types", "warden:plugin/tools"],
        }
    }
}

impl std::fmt::Display for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for World {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        World::ALL
            .into_iter()
            .find(|w| w.name() == s)
            .ok_or_else(|| format!("unknown world {s:?}; expected one of template-engine, pii-detector, code-runner"))
    }
}

/// The version of the `warden:plugin` package this host implements.
pub const WIT_VERSION: &str = "0.1.0";

/// Interfaces a component of a world may export besides its world's own (without version).
pub fn optional_exports(world: World) -> &'static [&'static str] {
    match world {
        World::PiiDetector => &[ANALYZER_EXPORT],
        World::TemplateEngine => &[RENDERING_EXPORT],
        World::CodeRunner => &[],
    }
}

/// The optional richer template interface (`rendering` in the WIT).
pub const RENDERING_EXPORT: &str = "warden:plugin/rendering";

/// The optional richer detector interface (`analyzer` in the WIT).
pub const ANALYZER_EXPORT: &str = "warden:plugin/analyzer";

/// The export that marks a component for pre-initialisation.
pub const PREINIT_EXPORT: &str = "wizer-initialize";

/// WASI 0.2 interfaces every plugin may import; the host serves them from an empty context.
pub const ALLOWED_WASI: &[&str] = &[
    "wasi:cli/environment",
    "wasi:cli/exit",
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:cli/terminal-input",
    "wasi:cli/terminal-output",
    "wasi:cli/terminal-stdin",
    "wasi:cli/terminal-stdout",
    "wasi:cli/terminal-stderr",
    "wasi:io/error",
    "wasi:io/poll",
    "wasi:io/streams",
    "wasi:clocks/wall-clock",
    "wasi:clocks/monotonic-clock",
    "wasi:random/random",
    "wasi:random/insecure",
    "wasi:random/insecure-seed",
];

/// WASI 0.2 interfaces a plugin may import but never use: componentize-py, componentize-js and
/// wasi-libc import them for `open()`, `socket()` and the like even when the plugin never calls
/// those. They are linked to implementations that refuse everything, each with why it can
/// touch nothing: the store's WASI context has no preopened directory (so no descriptor, and
/// with it no file or directory, can ever exist) and forbids TCP, UDP and name lookups (every
/// socket creation and lookup fails with `access-denied`). The plugin sees an ordinary error
/// (Python's `PermissionError`, JavaScript's rejected promise), not a trap.
pub const DENY_ALL_WASI: &[(&str, &str)] = &[
    (
        "wasi:filesystem/types",
        "no descriptor exists: nothing is preopened",
    ),
    ("wasi:filesystem/preopens", "lists no directory"),
    (
        "wasi:sockets/network",
        "a network handle that permits nothing",
    ),
    (
        "wasi:sockets/instance-network",
        "a network handle that permits nothing",
    ),
    (
        "wasi:sockets/tcp-create-socket",
        "every TCP socket is refused",
    ),
    ("wasi:sockets/tcp", "no TCP socket can exist"),
    (
        "wasi:sockets/udp-create-socket",
        "every UDP socket is refused",
    ),
    ("wasi:sockets/udp", "no UDP socket can exist"),
    (
        "wasi:sockets/ip-name-lookup",
        "every name lookup is refused",
    ),
];

/// Exports that language toolchains add besides the world's, which Warden never calls (an
/// export grants the plugin nothing; it is only what the host may call).
pub const TOOLCHAIN_EXPORTS: &[(&str, &str)] = &[(
    "exports",
    "componentize-py's runtime instance, used by its own glue only",
)];

/// Whether `name` (without version) is one of the [`DENY_ALL_WASI`] interfaces.
pub fn is_deny_all(name: &str) -> bool {
    DENY_ALL_WASI.iter().any(|(n, _)| *n == unversioned(name))
}

/// What inspection found in a component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComponentInfo {
    /// Size in bytes.
    pub size: u64,
    /// The world it implements, when it implements exactly one.
    pub world: Option<World>,
    /// Top-level imports, as named in the binary.
    pub imports: Vec<String>,
    /// Top-level exports, as named in the binary.
    pub exports: Vec<String>,
    /// Whether it exports `wizer-initialize` and will be pre-initialised.
    pub preinit: bool,
    /// The imports that are linked to deny-all implementations ([`DENY_ALL_WASI`]): admitted,
    /// but every use of them fails.
    pub deny_all: Vec<String>,
    /// Why Warden refuses it, if it does.
    pub refusal: Option<InvalidComponent>,
}

impl ComponentInfo {
    /// The world, or the reason the component cannot run.
    pub fn accepted(&self) -> Result<World, InvalidComponent> {
        match (&self.refusal, self.world) {
            (Some(r), _) => Err(r.clone()),
            (None, Some(w)) => Ok(w),
            (None, None) => Err(InvalidComponent::WrongWorld {
                detail: "no world".into(),
            }),
        }
    }
}

fn unversioned(name: &str) -> &str {
    name.split_once('@').map_or(name, |(n, _)| n)
}

fn version(name: &str) -> Option<&str> {
    name.split_once('@').map(|(_, v)| v)
}

/// Inspects `bytes`: validates them, lists imports and exports, finds the world and applies
/// the policy. Never compiles; cost is one validation pass.
pub fn inspect(bytes: &[u8]) -> ComponentInfo {
    let mut info = ComponentInfo {
        size: bytes.len() as u64,
        world: None,
        imports: Vec::new(),
        exports: Vec::new(),
        preinit: false,
        deny_all: Vec::new(),
        refusal: None,
    };
    if let Err(r) = list(bytes, &mut info) {
        info.refusal = Some(r);
        return info;
    }
    info.deny_all = info
        .imports
        .iter()
        .filter(|i| is_deny_all(i))
        .cloned()
        .collect();
    info.refusal = judge(&mut info).err();
    info
}

fn list(bytes: &[u8], info: &mut ComponentInfo) -> Result<(), InvalidComponent> {
    if !bytes.starts_with(b"\0asm") {
        return Err(InvalidComponent::Malformed {
            detail: "missing the `\\0asm` magic header".into(),
        });
    }
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(|e| InvalidComponent::Malformed {
            detail: e.to_string(),
        })?;
        match payload {
            Payload::Version {
                encoding: Encoding::Module,
                ..
            } if depth == 0 => {
                return Err(InvalidComponent::CoreModule);
            }
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentImportSection(reader) if depth == 0 => {
                for import in reader {
                    let import = import.map_err(|e| InvalidComponent::Malformed {
                        detail: e.to_string(),
                    })?;
                    info.imports.push(import.name.full_name().into_owned());
                }
            }
            Payload::ComponentExportSection(reader) if depth == 0 => {
                for export in reader {
                    let export = export.map_err(|e| InvalidComponent::Malformed {
                        detail: e.to_string(),
                    })?;
                    info.exports.push(export.name.full_name().into_owned());
                }
            }
            _ => {}
        }
    }
    let mut validator = Validator::new_with_features(WasmFeatures::all());
    validator
        .validate_all(bytes)
        .map_err(|e| InvalidComponent::Malformed {
            detail: e.to_string(),
        })?;
    Ok(())
}

fn judge(info: &mut ComponentInfo) -> Result<(), InvalidComponent> {
    let mut worlds = Vec::new();
    let mut optional = Vec::new();
    for export in &info.exports {
        if export == PREINIT_EXPORT {
            info.preinit = true;
            continue;
        }
        if TOOLCHAIN_EXPORTS.iter().any(|(n, _)| n == export) {
            continue;
        }
        if World::ALL
            .into_iter()
            .any(|w| optional_exports(w).contains(&unversioned(export)))
        {
            if !version(export).is_some_and(compatible) {
                return Err(InvalidComponent::WrongWorld {
                    detail: format!(
                        "exports {export}, but this Warden implements warden:plugin@{WIT_VERSION}; rebuild against that version"
                    ),
                });
            }
            optional.push(export.clone());
            continue;
        }
        match World::ALL
            .into_iter()
            .find(|w| w.export_interface() == unversioned(export))
        {
            Some(world) => {
                let v = version(export).unwrap_or("none");
                if !compatible(v) {
                    return Err(InvalidComponent::WrongWorld {
                        detail: format!(
                            "exports {export}, but this Warden implements warden:plugin@{WIT_VERSION}; rebuild against that version"
                        ),
                    });
                }
                worlds.push(world);
            }
            None => {
                return Err(InvalidComponent::WrongWorld {
                    detail: format!(
                        "exports {export}, which is not part of any Warden world (template-engine, pii-detector, code-runner)"
                    ),
                });
            }
        }
    }
    let world = match worlds.as_slice() {
        [w] => *w,
        [] => {
            return Err(InvalidComponent::WrongWorld {
                detail: "exports none of Warden's worlds: expected warden:plugin/template, warden:plugin/detector or warden:plugin/runner".into(),
            });
        }
        _ => {
            return Err(InvalidComponent::WrongWorld {
                detail: "exports more than one Warden world; a plugin implements exactly one"
                    .into(),
            });
        }
    };
    if let Some(extra) = optional
        .iter()
        .find(|e| !optional_exports(world).contains(&unversioned(e)))
    {
        return Err(InvalidComponent::WrongWorld {
            detail: format!("exports {extra}, which a {world} component may not export"),
        });
    }
    info.world = Some(world);
    for import in &info.imports {
        check_import(world, import)?;
    }
    Ok(())
}

fn compatible(version: &str) -> bool {
    // Same rules as wasmtime's semver matching for 0.x: 0.1.* is compatible with 0.1.0.
    let want: Vec<&str> = WIT_VERSION.split('.').collect();
    let got: Vec<&str> = version.split('.').collect();
    got.len() == 3 && got[0] == want[0] && got[1] == want[1]
}

fn check_import(world: World, import: &str) -> Result<(), InvalidComponent> {
    let name = unversioned(import);
    if world.warden_imports().contains(&name) {
        return if version(import).is_some_and(compatible) {
            Ok(())
        } else {
            Err(InvalidComponent::ForbiddenImport {
                import: import.to_owned(),
                why: format!("this Warden implements warden:plugin@{WIT_VERSION}"),
            })
        };
    }
    if ALLOWED_WASI.contains(&name) || is_deny_all(name) {
        return if version(import).is_some_and(|v| v.starts_with("0.2.")) {
            Ok(())
        } else {
            Err(InvalidComponent::ForbiddenImport {
                import: import.to_owned(),
                why: "only WASI 0.2 is supported".into(),
            })
        };
    }
    let why = if name.starts_with("wasi:http/")
        || name.starts_with("wasi:sockets/")
        || name.starts_with("wasi:filesystem/")
    {
        "plugins get no network or file access; only the deny-all file-system and socket \
         interfaces of WASI 0.2 are linked"
            .to_owned()
    } else if name == "warden:plugin/tools" {
        format!(
            "only the code-runner world may call host tools, and this component implements {world}"
        )
    } else {
        format!(
            "the {world} world grants only its own interfaces and deny-by-default WASI (clocks, random, stdio)"
        )
    };
    Err(InvalidComponent::ForbiddenImport {
        import: import.to_owned(),
        why,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_are_judged_by_world() {
        assert!(check_import(World::PiiDetector, "wasi:cli/stderr@0.2.6").is_ok());
        assert!(check_import(World::PiiDetector, "warden:plugin/types@0.1.0").is_ok());
        assert!(check_import(World::CodeRunner, "warden:plugin/tools@0.1.0").is_ok());
        let err = check_import(World::PiiDetector, "warden:plugin/tools@0.1.0").unwrap_err();
        assert!(
            err.to_string().contains("only the code-runner world"),
            "{err}"
        );
        // What Python and JavaScript toolchains import is admitted, to be linked deny-all.
        assert!(check_import(World::TemplateEngine, "wasi:sockets/tcp@0.2.0").is_ok());
        assert!(check_import(World::PiiDetector, "wasi:filesystem/types@0.2.9").is_ok());
        assert!(check_import(World::PiiDetector, "wasi:filesystem/types@0.3.0").is_err());
        let err =
            check_import(World::TemplateEngine, "wasi:http/outgoing-handler@0.2.0").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("imports wasi:http/outgoing-handler@0.2.0, which is not allowed: plugins get no network"),
            "{err}"
        );
        assert!(check_import(World::TemplateEngine, "wasi:cli/stdout@0.3.0").is_err());
        assert!(check_import(World::TemplateEngine, "warden:plugin/types@0.2.0").is_err());
    }

    #[test]
    fn non_wasm_and_core_modules_are_refused() {
        assert!(matches!(
            inspect(b"hello").refusal,
            Some(InvalidComponent::Malformed { .. })
        ));
        let core = wat::parse_str("(module)").unwrap();
        assert_eq!(inspect(&core).refusal, Some(InvalidComponent::CoreModule));
        let truncated = &core[..5];
        assert!(matches!(
            inspect(truncated).refusal,
            Some(InvalidComponent::Malformed { .. })
        ));
    }

    #[test]
    fn a_component_without_a_world_is_refused() {
        let c = wat::parse_str("(component)").unwrap();
        let info = inspect(&c);
        assert!(
            matches!(info.refusal, Some(InvalidComponent::WrongWorld { .. })),
            "{info:?}"
        );
    }
}
