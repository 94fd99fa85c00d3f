//! The optional answer scan: personal data in a provider's answer that the conversation did
//! not contain is masked as `<ENTITY_TYPE>` and counted.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::pii::allow::AllowList;
use crate::pii::service::{Pii, Scan};
use warden_engine::LimitOverrides;

/// The answer scan of one request, owned (a stream outlives its request).
#[derive(Clone)]
pub struct AnswerScan {
    pub(crate) pii: Arc<Pii>,
    pub(crate) who: Principal,
}

impl AnswerScan {
    /// `text` with every finding whose value the conversation did not contain replaced by
    /// `<ENTITY_TYPE>`, and the counts of what was masked.
    pub async fn mask_new(
        &self,
        text: &str,
        originals: &[String],
    ) -> Result<(String, BTreeMap<String, usize>)> {
        let none = LimitOverrides::default();
        let scan = Scan {
            texts: vec![text],
            entities: &[],
            countries: &[],
            language: None,
            context: &[],
            allow: AllowList::default(),
            recognizers: &[],
            min_score: None,
            explain: false,
            detectors: None,
            dictionaries: true,
            limits: &none,
        };
        let (spans, _, _) = self.pii.find(&self.who, scan).await.map_err(|e| {
            Error::GuardFailed(format!("the PII analyzer failed on the answer: {e}"))
        })?;
        let mut out = String::with_capacity(text.len());
        let mut flagged = BTreeMap::new();
        let mut cursor = 0;
        for s in spans.into_iter().flatten() {
            let value = &text[s.start..s.end];
            if originals.iter().any(|o| o == value) {
                continue;
            }
            out.push_str(&text[cursor..s.start]);
            out.push('<');
            out.push_str(&s.entity_type);
            out.push('>');
            cursor = s.end;
            *flagged.entry(s.entity_type).or_insert(0) += 1;
        }
        out.push_str(&text[cursor..]);
        Ok((out, flagged))
    }
}
