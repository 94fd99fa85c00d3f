//! Recognizers for de (ported from Presidio's predefined recognizers where it has them).

use super::Spec;

/// This module's recognizers.
pub(crate) const SPECS: &[&Spec] = &[];
