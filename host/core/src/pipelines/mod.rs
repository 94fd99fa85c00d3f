//! Pipelines: declarative runs of render → pseudonymise → route → LLM → code → restore, where
//! every user-supplied step runs sandboxed, personal data never reaches a provider that may not
//! see it, and every step is audited.
//!
//! Definitions are versioned and labelled like templates: versions are immutable and pin what
//! they use (template versions, plugin digests) at creation, so a label move is the only way a
//! running pipeline changes. [`run`] executes one.

pub mod llm;
pub mod registry;
pub mod run;

pub use registry::{
    Budget, BudgetOverrides, Definition, LATEST, PipelineSummary, PipelineVersion, Pipelines,
    PipelinesConfig, Step,
};
pub use run::{RunEvent, RunRequest, RunResult, StepTrace};
