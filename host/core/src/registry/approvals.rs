//! The approval workflow for protected labels (`production` by default): an author requests a
//! label move, a different author or admin approves it, and only then does the label move.
//! Admins may move protected labels directly. Requests, approvals and refusals are audited;
//! nobody approves their own request.

use serde::{Deserialize, Serialize};

use warden_storage::audit::AuditEvent;
use warden_storage::{Scope, now_ms, rfc3339, tables};

use super::templates::{self, TemplateSummary, Templates};
use crate::auth::Principal;
use crate::error::{Error, Result};

/// Where a change request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    /// Waiting for another author or an admin.
    Pending,
    /// Approved; the label moved.
    Approved,
    /// Rejected; nothing moved.
    Rejected,
}

/// A request to move a protected label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChangeRequest {
    /// Its id (`cr_…`).
    pub id: String,
    /// The template.
    pub template: String,
    /// The protected label.
    pub label: String,
    /// The version it should point at.
    pub version: u64,
    /// Who asked.
    pub requested_by: String,
    /// When (RFC 3339).
    pub requested_at: String,
    /// Where it stands.
    pub status: RequestStatus,
    /// Who approved or rejected it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    /// Why it was rejected, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

fn key(tenant: &str, template: &str, id: &str) -> String {
    format!("{tenant}/{template}/{id}")
}

fn check_id(id: &str) -> Result<()> {
    if id.len() == 27 && id.starts_with("cr_") && id[3..].bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(Error::not_found(
            "change request",
            id.chars().take(64).collect::<String>(),
        ))
    }
}

impl Templates {
    /// Files a request to point protected `label` of `template` at `version`.
    pub async fn request_move(
        &self,
        who: &Principal,
        template: &str,
        label: &str,
        version: u64,
    ) -> Result<ChangeRequest> {
        crate::names::check("template", template)?;
        crate::names::check("label", label)?;
        let cr = ChangeRequest {
            id: format!("cr_{}", hex::encode(rand::random::<[u8; 12]>())),
            template: template.to_owned(),
            label: label.to_owned(),
            version,
            requested_by: who.actor.clone(),
            requested_at: rfc3339(now_ms()),
            status: RequestStatus::Pending,
            decided_by: None,
            reason: None,
        };
        let cr_ref = &cr;
        self.store
            .write(Scope::tenant(&who.tenant), |tx| {
                Box::pin(async move {
                    if !self
                        .tenants
                        .is_protected_in(&tx, &who.tenant, label)
                        .await?
                    {
                        return Err(Error::BadRequest(format!(
                            "`{label}` is not a protected label; move it directly with PUT"
                        )));
                    }
                    if super::templates::STORED
                        .version_in::<super::templates::TemplateVersion>(
                            &tx,
                            &who.tenant,
                            template,
                            version,
                        )
                        .await?
                        .is_none()
                    {
                        return Err(Error::not_found(
                            "template version",
                            format!("{template} version {version}"),
                        ));
                    }
                    tx.put_json(
                        tables::CHANGE_REQUESTS,
                        &key(&who.tenant, template, &cr_ref.id),
                        cr_ref,
                    )
                    .await?;
                    tx.audit(
                        AuditEvent::new(
                            &who.tenant,
                            &who.actor,
                            "template.label.request",
                            format!("template/{template}/labels/{label}"),
                        )
                        .detail(format!("{}: -> {version}", cr_ref.id)),
                    )
                    .await?;
                    Ok::<_, Error>(())
                })
            })
            .await?;
        Ok(cr)
    }

    /// The change requests of a template, oldest first.
    pub async fn list_requests(
        &self,
        who: &Principal,
        template: &str,
    ) -> Result<Vec<ChangeRequest>> {
        crate::names::check("template", template)?;
        let mut all: Vec<ChangeRequest> = self
            .store
            .scan_json::<ChangeRequest>(
                tables::CHANGE_REQUESTS,
                &format!("{}/{template}/", who.tenant),
            )
            .await?
            .into_iter()
            .map(|(_, r)| r)
            .collect();
        all.sort_by(|a, b| a.requested_at.cmp(&b.requested_at));
        Ok(all)
    }

    /// Approves (moving the label) or rejects a pending request; never by its requester.
    pub async fn decide(
        &self,
        who: &Principal,
        template: &str,
        id: &str,
        approve: bool,
        reason: Option<String>,
    ) -> Result<(ChangeRequest, Option<TemplateSummary>)> {
        crate::names::check("template", template)?;
        check_id(id)?;
        let k = key(&who.tenant, template, id);
        let (k, reason) = (&k, &reason);
        let decided = self
            .store
            .write(Scope::tenant(&who.tenant), |tx| {
                Box::pin(async move {
                    let mut cr: ChangeRequest = tx
                        .get_json(tables::CHANGE_REQUESTS, k)
                        .await?
                        .ok_or_else(|| Error::not_found("change request", id))?;
                    if cr.status != RequestStatus::Pending {
                        return Err(Error::Conflict(
                            format!("change request {id} is already {:?}", cr.status)
                                .to_lowercase(),
                        ));
                    }
                    let action = if approve {
                        "template.label.approve"
                    } else {
                        "template.label.reject"
                    };
                    if cr.requested_by == who.actor {
                        tx.audit(
                            AuditEvent::new(
                                &who.tenant,
                                &who.actor,
                                action,
                                format!("template/{template}/labels/{}", cr.label),
                            )
                            .outcome("forbidden")
                            .detail(format!("{id}: own request")),
                        )
                        .await?;
                        return Ok(Err(Error::Forbidden(
                            "nobody approves or rejects their own change request".into(),
                        )));
                    }
                    cr.status = if approve {
                        RequestStatus::Approved
                    } else {
                        RequestStatus::Rejected
                    };
                    cr.decided_by = Some(who.actor.clone());
                    cr.reason = reason.clone();
                    tx.put_json(tables::CHANGE_REQUESTS, k, &cr).await?;
                    tx.audit(
                        AuditEvent::new(
                            &who.tenant,
                            &who.actor,
                            action,
                            format!("template/{template}/labels/{}", cr.label),
                        )
                        .detail(format!("{id}: -> {}", cr.version)),
                    )
                    .await?;
                    if approve {
                        templates::move_label_in(&tx, who, template, &cr.label, cr.version).await?;
                    }
                    Ok::<_, Error>(Ok(cr))
                })
            })
            .await??;
        let summary = if approve {
            Some(self.summary(who, template).await?)
        } else {
            None
        };
        Ok((decided, summary))
    }
}
