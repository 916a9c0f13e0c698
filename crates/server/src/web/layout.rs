//! The page shell: head, the main navigation for the caller's roles, sign-out, and the main
//! landmark. Titles never carry PHI (they end up in history, bookmarks and tab lists).

use maud::{DOCTYPE, Markup, PreEscaped, html};
use mhp_domain::{OrgId, Permission, Role, UserId};
use mhp_storage::Access;
use mhp_storage::repo::users;

use super::{CSRF_FIELD, assets, may};
use crate::{ApiError, AppState};

/// Where a page sits in the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// The team dashboard (and athlete pages reached from it).
    Dashboard,
    /// Everyone the caller reaches.
    Athletes,
    /// The upload page.
    Upload,
    /// Injuries not yet cleared.
    Injuries,
    /// Reports to print.
    Reports,
    /// The audit log.
    Audit,
    /// Security alerts and the compliance self-check.
    Security,
    /// An athlete's own results.
    Mine,
    /// De-identified datasets.
    Datasets,
    /// Models and their versions.
    Models,
    /// Pipelines and their runs.
    Pipelines,
    /// The organisation's settings.
    Settings,
    /// The start page of roles whose pages are elsewhere.
    Start,
}

/// What the shell needs to know of the caller.
#[derive(Debug, Clone)]
pub struct Shell<'a> {
    /// The organisation the page is in.
    pub org: OrgId,
    /// The organisation's name.
    pub org_name: &'a str,
    /// The caller's roles there.
    pub roles: &'a [Role],
    /// The session's CSRF token, for the sign-out form.
    pub csrf: &'a str,
    /// Where the page sits.
    pub section: Section,
}

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            meta name="description" content="MHP, the Movement Health Platform: force-plate testing, readiness and injury risk.";
            title { (title) " · MHP" }
            link rel="icon" href=(assets::url("icon.svg")) type="image/svg+xml";
            link rel="stylesheet" href=(assets::url("app.css"));
            script src=(assets::url("app.js")) defer {}
        }
    }
}

/// A page without navigation (sign-in, errors).
pub fn bare(title: &str, main: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body.bare {
                header.top {
                    a.brand href="/" { (brand()) "MHP" }
                }
                main id="main" { (main) }
            }
        }
    }
}

fn brand() -> PreEscaped<&'static str> {
    PreEscaped(
        r#"<svg class="logo" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M2 18h4l3-12 4 16 3-10 2 6h4" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linejoin="round" stroke-linecap="round"/></svg>"#,
    )
}

/// A page with the main navigation for the caller's roles.
pub fn page(shell: &Shell<'_>, title: &str, main: Markup) -> Markup {
    let org = shell.org;
    let mut links: Vec<(&str, String, Section)> = Vec::new();
    if may(shell.roles, Permission::ReadTeamReadiness) {
        links.push(("Dashboard", format!("/orgs/{org}"), Section::Dashboard));
    }
    if may(shell.roles, Permission::ReadTeamReadiness) {
        links.push((
            "Athletes",
            format!("/orgs/{org}/athletes"),
            Section::Athletes,
        ));
    }
    if may(shell.roles, Permission::UploadAssessments) {
        links.push(("Upload", format!("/orgs/{org}/upload"), Section::Upload));
    }
    if may(shell.roles, Permission::ReadClinical) {
        links.push((
            "Injuries",
            format!("/orgs/{org}/injuries"),
            Section::Injuries,
        ));
    }
    if may(shell.roles, Permission::ReadTeamReadiness) {
        links.push(("Reports", format!("/orgs/{org}/reports"), Section::Reports));
    }
    if may(shell.roles, Permission::ReadOwnRecord) {
        links.push(("My results", format!("/orgs/{org}/me"), Section::Mine));
    }
    if may(shell.roles, Permission::ReadDeidentified) {
        links.push((
            "Datasets",
            format!("/orgs/{org}/datasets"),
            Section::Datasets,
        ));
    }
    if may(shell.roles, Permission::RunPipelines) {
        links.push(("Models", format!("/orgs/{org}/models"), Section::Models));
        links.push((
            "Pipelines",
            format!("/orgs/{org}/pipelines"),
            Section::Pipelines,
        ));
    }
    if may(shell.roles, Permission::ReadAudit) {
        links.push(("Audit log", format!("/orgs/{org}/audit"), Section::Audit));
    }
    if may(shell.roles, Permission::ReadSecurityReports) {
        links.push((
            "Security",
            format!("/orgs/{org}/security"),
            Section::Security,
        ));
    }
    if may(shell.roles, Permission::ManageMembers) {
        links.push((
            "Settings",
            format!("/orgs/{org}/settings"),
            Section::Settings,
        ));
    }
    // The start page explains where things are to roles without a dashboard of their own.
    if !may(shell.roles, Permission::ReadTeamReadiness)
        && (may(shell.roles, Permission::ReadAudit) || may(shell.roles, Permission::RunPipelines))
    {
        links.push(("Start", format!("/orgs/{org}/start"), Section::Start));
    }
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href="/" { (brand()) "MHP" }
                    span.org { (shell.org_name) }
                    nav aria-label="Main" {
                        ul {
                            @for (name, href, section) in &links {
                                li {
                                    @if *section == shell.section {
                                        a href=(href) aria-current="page" { (name) }
                                    } @else {
                                        a href=(href) { (name) }
                                    }
                                }
                            }
                        }
                    }
                    a.account href="/account" { "Account" }
                    form.signout method="post" action="/sign-out" {
                        input type="hidden" name=(CSRF_FIELD) value=(shell.csrf);
                        button type="submit" { "Sign out" }
                    }
                }
                main id="main" { (main) }
            }
        }
    }
}

/// The organisations a person belongs to, with their roles, by name.
pub async fn memberships(
    state: &AppState,
    user: UserId,
) -> Result<Vec<(OrgId, String, Vec<Role>)>, ApiError> {
    let mut tx = state.app.db.operator(Access::Read).await?;
    Ok(users::memberships_as_operator(&mut tx, user).await?)
}

/// Where a member of `org` with `roles` starts.
pub fn start_page(org: OrgId, roles: &[Role]) -> String {
    if may(roles, Permission::ReadTeamReadiness) {
        format!("/orgs/{org}")
    } else if may(roles, Permission::UploadAssessments) {
        format!("/orgs/{org}/upload")
    } else if may(roles, Permission::ReadOwnRecord) {
        format!("/orgs/{org}/me")
    } else if may(roles, Permission::ReadAudit) {
        format!("/orgs/{org}/audit")
    } else if may(roles, Permission::RunPipelines) {
        format!("/orgs/{org}/models")
    } else {
        format!("/orgs/{org}/start")
    }
}

/// Formats a number with `places` decimals, or an en dash for none.
pub fn num(v: Option<f64>, places: usize) -> String {
    match v {
        Some(x) if x.is_finite() => format!("{x:.places$}"),
        _ => "–".to_owned(),
    }
}

/// A date as `2026-03-12`, UTC (pages outside an organisation; inside one, [`super::show::Show`]
/// shows dates in its time zone).
pub fn date(t: mhp_domain::Timestamp) -> String {
    mhp_domain::CalendarDate::from_unix_millis(t.as_millis()).to_string()
}
