//! Personal data on the host side: merging detector findings, Presidio-style operators,
//! tenant dictionaries, vault encryption, and the service the API calls.

pub mod allow;
pub mod anonymize;
pub mod crypto;
pub mod dictionary;
pub mod presidio;
pub mod recognizers;
pub mod service;
