//! Host-side bindings for the three worlds, generated from `wit/` in one pass so that all
//! worlds share one copy of the `types` interface; plus the linker that serves them.
#![allow(missing_docs)]

use wasmtime::component::{HasData, HasSelf, Linker, ResourceTable};
use wasmtime_wasi::WasiView;
use wasmtime_wasi::cli::{WasiCli, WasiCliView};
use wasmtime_wasi::clocks::{WasiClocks, WasiClocksView};
use wasmtime_wasi::filesystem::{WasiFilesystem, WasiFilesystemView};
use wasmtime_wasi::random::WasiRandom;
use wasmtime_wasi::sockets::{WasiSockets, WasiSocketsView};

use super::state::CallState;
use super::tools::ToolError;

wasmtime::component::bindgen!({
    path: "../../wit",
    inline: "package warden:host; world host { include warden:plugin/template-engine@0.1.0; include warden:plugin/template-renderer@0.1.0; include warden:plugin/pii-detector@0.1.0; include warden:plugin/pii-analyzer@0.1.0; include warden:plugin/code-runner@0.1.0; }",
    world: "warden:host/host",
});

pub use self::warden::plugin::types;
pub use exports::warden::plugin::{analyzer, detector, rendering, runner, template};

impl self::warden::plugin::types::Host for CallState {}

impl self::warden::plugin::tools::Host for CallState {
    fn call(
        &mut self,
        name: String,
        args_json: String,
    ) -> Result<String, self::warden::plugin::tools::ToolError> {
        use self::warden::plugin::tools::ToolError as Wit;
        self.tools
            .call(&name, &args_json, self.deadline)
            .map_err(|e| match e {
                ToolError::UnknownTool(n) => Wit::UnknownTool(n),
                ToolError::InvalidArguments(m) => Wit::InvalidArguments(m),
                ToolError::Failed(m) => Wit::Failed(m),
            })
    }
}

struct HasIo;

impl HasData for HasIo {
    type Data<'a> = &'a mut ResourceTable;
}

/// Builds the one linker every plugin is instantiated with: the Warden interfaces, exactly the
/// WASI interfaces in [`super::policy::ALLOWED_WASI`], and the [`super::policy::DENY_ALL_WASI`]
/// ones, which wasmtime-wasi serves from the store's context — a context with no preopened
/// directory and TCP, UDP and name lookups forbidden ([`CallState::new`]), so they refuse
/// everything.
pub(crate) fn linker(engine: &wasmtime::Engine) -> wasmtime::Result<Linker<CallState>> {
    use wasmtime_wasi::p2::bindings::{cli, clocks, filesystem, random, sockets, sync, sync::io};

    let mut l = Linker::<CallState>::new(engine);
    self::warden::plugin::types::add_to_linker::<CallState, HasSelf<CallState>>(&mut l, |s| s)?;
    self::warden::plugin::tools::add_to_linker::<CallState, HasSelf<CallState>>(&mut l, |s| s)?;

    wasmtime_wasi_io_error(&mut l)?;
    io::poll::add_to_linker::<CallState, HasIo>(&mut l, |t| t.ctx().table)?;
    io::streams::add_to_linker::<CallState, HasIo>(&mut l, |t| t.ctx().table)?;
    clocks::wall_clock::add_to_linker::<CallState, WasiClocks>(&mut l, CallState::clocks)?;
    clocks::monotonic_clock::add_to_linker::<CallState, WasiClocks>(&mut l, CallState::clocks)?;
    random::random::add_to_linker::<CallState, WasiRandom>(&mut l, |t| t.ctx().ctx.random())?;
    random::insecure::add_to_linker::<CallState, WasiRandom>(&mut l, |t| t.ctx().ctx.random())?;
    random::insecure_seed::add_to_linker::<CallState, WasiRandom>(&mut l, |t| {
        t.ctx().ctx.random()
    })?;
    cli::exit::add_to_linker::<CallState, WasiCli>(&mut l, CallState::cli)?;
    cli::environment::add_to_linker::<CallState, WasiCli>(&mut l, CallState::cli)?;
    cli::stdin::add_to_linker::<CallState, WasiCli>(&mut l, CallState::cli)?;
    cli::stdout::add_to_linker::<CallState, WasiCli>(&mut l, CallState::cli)?;
    cli::stderr::add_to_linker::<CallState, WasiCli>(&mut l, CallState::cli)?;
    cli::terminal_input::add_to_linker::<CallState, WasiCli>(&mut l, CallState::cli)?;
    cli::terminal_output::add_to_linker::<CallState, WasiCli>(&mut l, CallState::cli)?;
    cli::terminal_stdin::add_to_linker::<CallState, WasiCli>(&mut l, CallState::cli)?;
    cli::terminal_stdout::add_to_linker::<CallState, WasiCli>(&mut l, CallState::cli)?;
    cli::terminal_stderr::add_to_linker::<CallState, WasiCli>(&mut l, CallState::cli)?;

    // Deny-all: see `policy::DENY_ALL_WASI` for why each one can touch nothing.
    filesystem::preopens::add_to_linker::<CallState, WasiFilesystem>(&mut l, fs)?;
    sync::filesystem::types::add_to_linker::<CallState, WasiFilesystem>(&mut l, fs)?;
    sockets::network::add_to_linker::<CallState, WasiSockets>(&mut l, &Default::default(), net)?;
    sockets::instance_network::add_to_linker::<CallState, WasiSockets>(&mut l, net)?;
    sockets::tcp_create_socket::add_to_linker::<CallState, WasiSockets>(&mut l, net)?;
    sync::sockets::tcp::add_to_linker::<CallState, WasiSockets>(&mut l, net)?;
    sync::sockets::udp_create_socket::add_to_linker::<CallState, WasiSockets>(&mut l, net)?;
    sync::sockets::udp::add_to_linker::<CallState, WasiSockets>(&mut l, net)?;
    sync::sockets::ip_name_lookup::add_to_linker::<CallState, WasiSockets>(&mut l, net)?;
    Ok(l)
}

fn fs(t: &mut CallState) -> wasmtime_wasi::filesystem::WasiFilesystemCtxView<'_> {
    WasiFilesystemView::filesystem(t)
}

fn net(t: &mut CallState) -> wasmtime_wasi::sockets::WasiSocketsCtxView<'_> {
    WasiSocketsView::sockets(t)
}

fn wasmtime_wasi_io_error(l: &mut Linker<CallState>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::bindings::io::error::add_to_linker::<CallState, HasIo>(l, |t| t.ctx().table)
}
