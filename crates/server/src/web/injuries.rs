//! Recording injuries and return-to-duty decisions from the athlete page: forms whose fields
//! are checked by the same rules as the API's (`mhp_app::injuries::NewInjury::check`), each
//! error said beside its form, the entered values kept; on success the page is shown again
//! (post, redirect, get).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Redirect, Response};
use maud::{Markup, html};
use mhp_app::AppError;
use mhp_app::injuries::{
    DecisionDraft, InjuryDraft, MECHANISMS, NewDecision, NewInjury, SEVERITIES, SIDES, STAGES,
};
use mhp_domain::{InjuryId, Permission, SubjectId};
use mhp_storage::Access;
use serde::Deserialize;

use super::athlete::{self, Forms};
use super::dashboard::{Context, shown};
use super::layout::Section;
use super::{CSRF_FIELD, PageGrant, Refused, app_error, error_page};
use crate::AppState;

/// Body regions offered, as code and words (the API takes any snake_case code).
pub const REGIONS: &[(&str, &str)] = &[
    ("head", "Head"),
    ("neck", "Neck"),
    ("shoulder", "Shoulder"),
    ("upper_arm", "Upper arm"),
    ("elbow", "Elbow"),
    ("forearm", "Forearm"),
    ("wrist", "Wrist"),
    ("hand", "Hand"),
    ("chest", "Chest"),
    ("upper_back", "Upper back"),
    ("lower_back", "Lower back"),
    ("abdomen", "Abdomen"),
    ("hip", "Hip"),
    ("groin", "Groin"),
    ("thigh", "Thigh"),
    ("hamstring", "Hamstring"),
    ("knee", "Knee"),
    ("lower_leg", "Lower leg"),
    ("calf", "Calf"),
    ("achilles", "Achilles"),
    ("ankle", "Ankle"),
    ("foot", "Foot"),
];

/// Injury types offered.
pub const TYPES: &[(&str, &str)] = &[
    ("muscle_strain", "Muscle strain"),
    ("ligament_sprain", "Ligament sprain"),
    ("ligament_rupture", "Ligament rupture"),
    ("tendinopathy", "Tendinopathy"),
    ("fracture", "Fracture"),
    ("bone_stress", "Bone stress injury"),
    ("contusion", "Contusion"),
    ("concussion", "Concussion"),
    ("dislocation", "Dislocation"),
    ("cartilage", "Cartilage or meniscus"),
    ("laceration", "Laceration"),
    ("other", "Other"),
];

/// What an injury form held.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct InjuryForm {
    #[serde(default)]
    pub body_region: String,
    #[serde(default)]
    pub injury_type: String,
    #[serde(default)]
    pub side: String,
    #[serde(default)]
    pub severity: String,
    #[serde(default)]
    pub mechanism: String,
    #[serde(default)]
    pub occurred_on: String,
    #[serde(default)]
    pub time_loss_days: String,
    #[serde(default)]
    pub notes: String,
}

/// What a decision form held.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    pub stage: String,
    #[serde(default)]
    pub decided_on: String,
    #[serde(default)]
    pub restrictions: String,
}

fn some(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// The error a person reads beside the form.
fn words(e: &AppError) -> String {
    match e {
        AppError::Invalid { detail, .. } | AppError::Malformed(detail) => {
            let detail = detail.replace('_', " ");
            let mut s = detail.clone();
            if let Some(first) = detail.get(0..1) {
                s.replace_range(0..1, &first.to_uppercase());
            }
            s.push('.');
            s
        }
        AppError::NotFound(what) => format!("The {what} was not found."),
        _ => "MHP could not record this; try again in a moment.".to_owned(),
    }
}

fn parse_days(text: &str) -> Result<Option<u32>, AppError> {
    match some(text) {
        None => Ok(None),
        Some(t) => t
            .parse::<u32>()
            .map(Some)
            .map_err(|_| AppError::malformed("time_loss_days must be a whole number of days")),
    }
}

/// The grant of a form that writes, and its organisation.
fn writer(g: &PageGrant) -> Result<(crate::api::authz::Grant, mhp_domain::OrgScope), Refused> {
    let grant = g.grant()?.clone();
    let scope = grant.org().map_err(|e| Refused::from(app_error(e)))?;
    Ok((grant, scope))
}

async fn again(state: &AppState, g: &PageGrant, subject: SubjectId, forms: Forms) -> Response {
    let (cx, grant) = match Context::of(state, g).await {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let clinical = grant.allows(Permission::ReadClinical);
    let res = athlete::show(
        state,
        &cx,
        &grant,
        subject,
        shown(&grant),
        clinical,
        Section::Dashboard,
        forms,
    )
    .await;
    (StatusCode::UNPROCESSABLE_ENTITY, res).into_response()
}

/// `POST /orgs/{org}/athletes/{subject}/injuries`.
pub async fn record(
    State(state): State<AppState>,
    g: PageGrant,
    Path((org, subject)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let Ok(subject) = SubjectId::parse(&subject) else {
        return error_page(StatusCode::NOT_FOUND, None);
    };
    let form: InjuryForm = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let (grant, scope) = match writer(&g) {
        Ok(w) => w,
        Err(r) => return r.into_response(),
    };
    let checked = parse_days(&form.time_loss_days).and_then(|days| {
        NewInjury::check(
            subject,
            InjuryDraft {
                body_region: form.body_region.clone(),
                injury_type: form.injury_type.clone(),
                side: form.side.clone(),
                severity: some(&form.severity),
                mechanism: form.mechanism.clone(),
                occurred_on: form.occurred_on.clone(),
                time_loss_days: days,
                notes: some(&form.notes),
            },
            state.app.today(),
        )
    });
    let outcome = match checked {
        Ok(new) => mhp_app::injuries::record(&state.app, &scope, &grant.caller(), new)
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    match outcome {
        Ok(()) => {
            Redirect::to(&format!("/orgs/{org}/athletes/{subject}#injuries-h")).into_response()
        }
        Err(e @ (AppError::Invalid { .. } | AppError::Malformed(_))) => {
            let forms = Forms {
                injury: Some((form, words(&e))),
                ..Forms::default()
            };
            again(&state, &g, subject, forms).await
        }
        Err(e) => app_error(e),
    }
}

/// `POST /orgs/{org}/athletes/{subject}/injuries/{injury}/decisions`: the injury must be the
/// subject's (the gate checked the subject against the caller's reach).
pub async fn decide(
    State(state): State<AppState>,
    g: PageGrant,
    Path((org, subject, injury)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    let (Ok(subject), Ok(injury)) = (SubjectId::parse(&subject), InjuryId::parse(&injury)) else {
        return error_page(StatusCode::NOT_FOUND, None);
    };
    let form: DecisionForm = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let (grant, scope) = match writer(&g) {
        Ok(w) => w,
        Err(r) => return r.into_response(),
    };
    let owner = async {
        let mut tx = state.app.db.tenant(&scope, Access::Read).await?;
        mhp_storage::repo::injuries::get(&mut tx, injury).await
    }
    .await;
    match owner {
        Ok(i) if i.subject == subject => {}
        Ok(_) | Err(mhp_storage::StorageError::NotFound { .. }) => {
            return error_page(StatusCode::NOT_FOUND, None);
        }
        Err(e) => return app_error(e),
    }
    let outcome = match NewDecision::check(
        injury,
        DecisionDraft {
            stage: form.stage.clone(),
            decided_on: form.decided_on.clone(),
            restrictions: some(&form.restrictions),
        },
        state.app.today(),
    ) {
        Ok(new) => mhp_app::injuries::decide(&state.app, &scope, &grant.caller(), new)
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    match outcome {
        Ok(()) => {
            Redirect::to(&format!("/orgs/{org}/athletes/{subject}#injuries-h")).into_response()
        }
        Err(e @ (AppError::Invalid { .. } | AppError::Malformed(_))) => {
            let forms = Forms {
                decision: Some((injury, form, words(&e))),
                ..Forms::default()
            };
            again(&state, &g, subject, forms).await
        }
        Err(e) => app_error(e),
    }
}

fn options(
    id: &str,
    name: &str,
    label: &str,
    choices: &[(&str, String)],
    chosen: &str,
    required: bool,
) -> Markup {
    html! {
        div.field {
            label for=(id) { (label) }
            select id=(id) name=(name) required[required] {
                option value="" { "Choose…" }
                @for (code, words) in choices {
                    option value=(code) selected[*code == chosen] { (words) }
                }
            }
        }
    }
}

fn coded(set: &[&'static str]) -> Vec<(&'static str, String)> {
    set.iter().map(|c| (*c, c.replace('_', " "))).collect()
}

fn named(set: &[(&'static str, &'static str)]) -> Vec<(&'static str, String)> {
    set.iter().map(|(c, w)| (*c, (*w).to_owned())).collect()
}

/// The form that records an injury, with what was entered and the error when it was refused.
pub fn injury_form(
    action: &str,
    csrf: &str,
    state: Option<&(InjuryForm, String)>,
    today: &str,
) -> Markup {
    let empty = InjuryForm::default();
    let (f, error) = state.map_or((&empty, None), |(f, e)| (f, Some(e.as_str())));
    html! {
        details.form open[state.is_some()] {
            summary { "Record an injury" }
            form method="post" action=(action) {
                input type="hidden" name=(CSRF_FIELD) value=(csrf);
                @if let Some(e) = error {
                    p.error role="alert" id="injury-error" { (e) }
                }
                div.cols {
                    (options("inj-region", "body_region", "Body region", &named(REGIONS), &f.body_region, true))
                    (options("inj-type", "injury_type", "Injury type", &named(TYPES), &f.injury_type, true))
                    (options("inj-side", "side", "Side", &coded(SIDES), &f.side, true))
                    (options("inj-mechanism", "mechanism", "Mechanism", &coded(MECHANISMS), &f.mechanism, true))
                    div.field {
                        label for="inj-occurred" { "Occurred on" }
                        input id="inj-occurred" name="occurred_on" type="date" required max=(today) value=(f.occurred_on);
                    }
                    div.field {
                        label for="inj-days" { "Days of time loss (if known)" }
                        input id="inj-days" name="time_loss_days" type="number" min="0" max="3650" inputmode="numeric" value=(f.time_loss_days);
                    }
                    (options("inj-severity", "severity", "Severity (or from the days lost)", &coded(SEVERITIES), &f.severity, false))
                }
                div.field {
                    label for="inj-notes" { "Clinical notes" }
                    textarea id="inj-notes" name="notes" rows="3" maxlength="4000" { (f.notes) }
                }
                button.primary type="submit" { "Record injury" }
            }
        }
    }
}

/// The form that records a return-to-duty decision on one injury.
pub fn decision_form(
    action: &str,
    csrf: &str,
    injury: InjuryId,
    state: Option<&(InjuryId, DecisionForm, String)>,
    today: &str,
) -> Markup {
    let mine = state.filter(|(i, _, _)| *i == injury);
    let empty = DecisionForm::default();
    let (f, error) = mine.map_or((&empty, None), |(_, f, e)| (f, Some(e.as_str())));
    let id = |name: &str| format!("{name}-{injury}");
    html! {
        details.form open[mine.is_some()] {
            summary { "Record a decision" }
            form method="post" action=(action) {
                input type="hidden" name=(CSRF_FIELD) value=(csrf);
                @if let Some(e) = error {
                    p.error role="alert" { (e) }
                }
                div.cols {
                    (options(&id("stage"), "stage", "Stage", &coded(STAGES), &f.stage, true))
                    div.field {
                        label for=(id("decided")) { "Decided on" }
                        input id=(id("decided")) name="decided_on" type="date" required max=(today) value=(f.decided_on);
                    }
                }
                div.field {
                    label for=(id("restrictions")) { "Restrictions" }
                    textarea id=(id("restrictions")) name="restrictions" rows="2" maxlength="4000" { (f.restrictions) }
                }
                button.primary type="submit" { "Record decision" }
            }
        }
    }
}
