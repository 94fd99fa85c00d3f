//! One module per subcommand: each owns its clap arguments and the function that runs it.
//! The local ones work on files and a data directory; the remote ones (`plugin`, `template`,
//! `pii`, `pipeline`, `api`) talk to a server through [`crate::client`].

pub mod api;
pub mod audit;
pub mod config;
pub mod inspect;
pub mod pii;
pub mod pipeline;
pub mod plugin;
pub mod run;
pub mod serve;
pub mod storage;
pub mod template;
pub mod token;
