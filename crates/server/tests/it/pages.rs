//! The web application's pages over HTTP: sign-in through the form, the pages' gate (team
//! reach, CSRF on every form, sign-in for strangers), the audit event of a page that shows
//! PHI, the content security policy, and uploads through the page. The browser suite
//! (tools/browser) drives the same pages in Chromium.

use std::time::Duration;

use mhp_auth::password;
use mhp_biomech::synth::{self, CmjSpec};
use mhp_domain::{DisplayName, Email, Role, Secret, SubjectId, TeamId, TeamName};
use mhp_server::HttpConfig;
use mhp_storage::Access;
use mhp_storage::repo::users::{self, NewUser};
use mhp_storage::repo::{Page, assessments, audit, teams};
use reqwest::StatusCode;
use reqwest::redirect::Policy;

use crate::{Server, spawn};

const PASSWORD: &str = "a long and proper password";

fn config() -> HttpConfig {
    HttpConfig {
        body_limit_bytes: 4 * 1024 * 1024,
        request_timeout: Duration::from_secs(20),
        drain_delay: Duration::from_millis(100),
        shutdown_grace: Duration::from_secs(5),
        trusted_proxies: Vec::new(),
    }
}

struct World {
    s: Server,
    team_a: TeamId,
    on_a: SubjectId,
    on_b: SubjectId,
}

async fn person(s: &Server, email: &str, role: Role) -> mhp_domain::UserId {
    let hash = password::hash(&Secret::new(PASSWORD.to_owned())).unwrap();
    let mut tx = s.state.app.db.operator(Access::Write).await.unwrap();
    let user = users::create(
        &mut tx,
        &NewUser {
            email: &Email::parse(email).unwrap(),
            display_name: &DisplayName::parse("Person").unwrap(),
            password_hash: Some(&hash),
            password_change_required: false,
            platform_role: None,
        },
        s.state.app.clock.now(),
    )
    .await
    .unwrap();
    users::grant_as_operator(&mut tx, s.org.org(), user.id, role, s.state.app.clock.now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    user.id
}

async fn world() -> World {
    let s = spawn(config()).await;
    let caller = mhp_app::Caller::cli();
    let now = s.state.app.clock.now();
    let mut tx = s.state.app.db.tenant(&s.org, Access::Write).await.unwrap();
    let a = teams::create(&mut tx, &TeamName::parse("Alpha").unwrap(), now)
        .await
        .unwrap();
    let b = teams::create(&mut tx, &TeamName::parse("Bravo").unwrap(), now)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut made = Vec::new();
    for (name, team) in [("Ada Alpha", a.id), ("Bo Bravo", b.id)] {
        let fields = mhp_app::subjects::SubjectFields::check(
            &mhp_app::subjects::SubjectDraft {
                name: name.into(),
                ..Default::default()
            },
            s.state.app.today(),
        )
        .unwrap();
        let v = mhp_app::subjects::create(&s.state.app, &s.org, &caller, &fields, &[team])
            .await
            .unwrap();
        made.push(v.id);
    }
    person(&s, "clinician@example.org", Role::Clinician).await;
    person(&s, "auditor@example.org", Role::Auditor).await;
    let coach = person(&s, "coach@example.org", Role::Coach).await;
    let mut tx = s.state.app.db.tenant(&s.org, Access::Write).await.unwrap();
    teams::add_staff(&mut tx, a.id, coach, now).await.unwrap();
    tx.commit().await.unwrap();
    World {
        s,
        team_a: a.id,
        on_a: made[0],
        on_b: made[1],
    }
}

/// A browser of sorts: no redirects followed, cookies carried by hand.
struct Browser {
    c: reqwest::Client,
    base: String,
    cookies: Vec<(String, String)>,
}

impl Browser {
    fn new(s: &Server) -> Self {
        Self {
            c: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .unwrap(),
            base: s.base.clone(),
            cookies: Vec::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep(&mut self, res: &reqwest::Response) {
        for v in res.headers().get_all("set-cookie") {
            let pair = v.to_str().unwrap().split(';').next().unwrap();
            let (k, v) = pair.split_once('=').unwrap();
            self.cookies.retain(|(name, _)| name != k);
            if !v.is_empty() {
                self.cookies.push((k.to_owned(), v.to_owned()));
            }
        }
    }

    async fn get(&mut self, path: &str) -> (StatusCode, reqwest::header::HeaderMap, String) {
        let res = self
            .c
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.keep(&res);
        let (status, headers) = (res.status(), res.headers().clone());
        (status, headers, res.text().await.unwrap())
    }

    async fn post_form(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
    ) -> (StatusCode, String, String) {
        let res = self
            .c
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .form(fields)
            .send()
            .await
            .unwrap();
        self.keep(&res);
        let status = res.status();
        let location = res
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (status, location, res.text().await.unwrap())
    }

    /// Signs in through the form; answers the session's CSRF token (read off the next page).
    async fn sign_in(&mut self, email: &str) {
        let (status, _, body) = self.get("/sign-in").await;
        assert_eq!(status, StatusCode::OK);
        let token = csrf_of(&body);
        let (status, location, _) = self
            .post_form(
                "/sign-in",
                &[("_csrf", &token), ("email", email), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(location, "/");
        assert!(self.cookies.iter().any(|(k, _)| k == "mhp_session"));
    }
}

fn csrf_of(body: &str) -> String {
    let at = body
        .find("name=\"_csrf\" value=\"")
        .expect("a form with a CSRF token");
    let rest = &body[at + "name=\"_csrf\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

fn title_of(body: &str) -> &str {
    let start = body.find("<title>").unwrap() + "<title>".len();
    &body[start..body[start..].find("</title>").unwrap() + start]
}

async fn reads_of(s: &Server, subject: SubjectId) -> usize {
    events_of(s, "subject.read", &subject.to_string()).await
}

#[tokio::test]
async fn strangers_are_sent_to_sign_in_and_pages_carry_the_strict_policy() {
    let w = world().await;
    let mut b = Browser::new(&w.s);
    let org = w.s.org.org();
    for path in [
        "/".to_owned(),
        format!("/orgs/{org}"),
        format!("/orgs/{org}/athletes/{}", w.on_a),
    ] {
        let (status, headers, _) = b.get(&path).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(headers["location"], "/sign-in", "{path}");
    }
    let (status, headers, body) = b.get("/sign-in").await;
    assert_eq!(status, StatusCode::OK);
    let csp = headers["content-security-policy"].to_str().unwrap();
    for part in [
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ] {
        assert!(csp.contains(part), "{csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(
        !body.contains("<script>") && !body.contains("style=\""),
        "nothing inline"
    );
    for label in ["for=\"email\">Email<", "for=\"password\">Password<"] {
        assert!(body.contains(label), "{label}");
    }
    // The form's token is bound to a cookie of this browser.
    assert!(b.cookies.iter().any(|(k, _)| k == "mhp_form"));
}

#[tokio::test]
async fn sign_in_refuses_a_wrong_password_in_words_and_a_form_without_its_token() {
    let w = world().await;
    let mut b = Browser::new(&w.s);
    let (_, _, body) = b.get("/sign-in").await;
    let token = csrf_of(&body);
    let (status, _, body) = b
        .post_form(
            "/sign-in",
            &[
                ("_csrf", &token),
                ("email", "clinician@example.org"),
                ("password", "wrong wrong wrong"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("The e-mail address or the password is not right."));
    assert!(!b.cookies.iter().any(|(k, _)| k == "mhp_session"));
    // Without the token, or with another one, the right password does not sign in either.
    for presented in ["", "forged-token-of-the-right-length-0000000000"] {
        let (status, _, _) = b
            .post_form(
                "/sign-in",
                &[
                    ("_csrf", presented),
                    ("email", "clinician@example.org"),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{presented:?}");
        assert!(!b.cookies.iter().any(|(k, _)| k == "mhp_session"));
    }
}

#[tokio::test]
async fn a_coach_sees_their_team_and_cannot_open_another_teams_athlete_by_url() {
    let w = world().await;
    let org = w.s.org.org();
    let mut b = Browser::new(&w.s);
    b.sign_in("coach@example.org").await;
    let (status, headers, _) = b.get("/").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], format!("/orgs/{org}").as_str());
    let (status, headers, _) = b.get(&format!("/orgs/{org}")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        headers["location"],
        format!("/orgs/{org}/teams/{}", w.team_a).as_str()
    );
    let (status, _, body) = b.get(&format!("/orgs/{org}/teams/{}", w.team_a)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Ada Alpha"));
    assert!(!body.contains("Bo Bravo"));
    assert_eq!(body.matches("<h1").count(), 1);
    assert_eq!(title_of(&body), "Dashboard · MHP");
    // The navigation shows what a coach may use, no more.
    assert!(body.contains(">Dashboard</a>"));
    assert!(!body.contains(">Upload</a>"));

    let before = reads_of(&w.s, w.on_a).await;
    let (status, _, body) = b.get(&format!("/orgs/{org}/athletes/{}", w.on_a)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Ada Alpha"));
    assert_eq!(title_of(&body), "Athlete · MHP", "no name in the title");
    assert_eq!(
        reads_of(&w.s, w.on_a).await,
        before + 1,
        "the page's read is audited"
    );
    // Readiness, not records: no injuries section for a coach.
    assert!(!body.contains("Injuries and return to duty"));

    let before = reads_of(&w.s, w.on_b).await;
    let (status, _, body) = b.get(&format!("/orgs/{org}/athletes/{}", w.on_b)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!body.contains("Bo Bravo"));
    assert_eq!(reads_of(&w.s, w.on_b).await, before, "nothing read");
    let (status, _, _) = b.get(&format!("/orgs/{org}/upload")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Reports reach as far as the pages they summarise.
    let (status, _, body) = b
        .get(&format!("/orgs/{org}/teams/{}/report", w.team_a))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Team report: Alpha") && body.contains("Ada Alpha"));
    let (status, _, body) = b
        .get(&format!("/orgs/{org}/athletes/{}/report", w.on_b))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!body.contains("Bo Bravo"));
    let mut tx =
        w.s.state
            .app
            .db
            .tenant(&w.s.org, Access::Read)
            .await
            .unwrap();
    let other = teams::list(&mut tx, Page::first(10))
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.id != w.team_a)
        .unwrap()
        .id;
    drop(tx);
    let (status, _, _) = b.get(&format!("/orgs/{org}/teams/{other}/report")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn every_form_refuses_a_missing_or_wrong_csrf_token() {
    let w = world().await;
    let org = w.s.org.org();
    // An administrator may use every form but the athlete's own, so the token decides.
    person(&w.s, "admin@example.org", Role::OrgAdmin).await;
    let mut b = Browser::new(&w.s);
    b.sign_in("admin@example.org").await;
    let (_, _, body) = b.get(&format!("/orgs/{org}/upload")).await;
    let token = csrf_of(&body);
    let upload = format!("/orgs/{org}/upload");
    // Every form the application declares, public or not, with its parameters filled in.
    let forms: Vec<String> = mhp_server::web::PAGES
        .iter()
        .filter(|p| p.method == "POST")
        .map(|p| {
            p.path
                .replace("{org}", &org.to_string())
                .replace("{subject}", &w.on_a.to_string())
                .replace("{injury}", "00000000-0000-4000-8000-000000000000")
                .replace("{user}", "00000000-0000-4000-8000-000000000000")
                .replace("{key}", "k0000000000000000")
                .replace("{version}", "00000000-0000-4000-8000-000000000000")
                .replace("{model}", "injury-risk")
                .replace("{pipeline}", mhp_domain::pipeline::TRAIN)
                .replace("{run}", "00000000-0000-4000-8000-000000000000")
        })
        .collect();
    assert!(forms.len() >= 26, "{forms:?}");
    assert!(forms.contains(&"/sign-out".to_owned()) && forms.contains(&upload));
    for path in &forms {
        for presented in [None, Some("x".repeat(43))] {
            let mut form: Vec<(&str, String)> = vec![("subject", w.on_a.to_string())];
            if let Some(p) = &presented {
                form.push(("_csrf", p.clone()));
            }
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let (status, _, body) = b.post_form(path, &form).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{path} {presented:?}");
            assert!(body.contains("This form has expired"), "{path}: {body}");
        }
    }
    // The session survived the forged sign-out; the real one ends it.
    let (status, _, _) = b.get(&upload).await;
    assert_eq!(status, StatusCode::OK);
    let (status, location, _) = b.post_form("/sign-out", &[("_csrf", &token)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, "/sign-in");
    let (status, headers, _) = b.get(&upload).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "/sign-in");
}

/// Uploads a synthetic jump for the first athlete through the upload form (and a file that is
/// no recording, when `with_bad`).
async fn upload_jump(b: &mut Browser, w: &World, token: &str, with_bad: bool) -> reqwest::Response {
    upload_spec(b, w, token, with_bad, &CmjSpec::default()).await
}

/// Uploads the jump `spec` describes for the first athlete through the upload form.
async fn upload_spec(
    b: &mut Browser,
    w: &World,
    token: &str,
    with_bad: bool,
    spec: &CmjSpec,
) -> reqwest::Response {
    let org = w.s.org.org();
    let jump = synth::cmj(spec).unwrap();
    let csv = mhp_biomech::to_mhp_csv(&jump.recording);
    let mut form = reqwest::multipart::Form::new()
        .text("_csrf", token.to_owned())
        .text("subject", w.on_a.to_string())
        .part(
            "files",
            reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("jump.csv"),
        );
    if with_bad {
        form = form.part(
            "files",
            reqwest::multipart::Part::bytes(b"not,a\nrecording\n".to_vec()).file_name("notes.csv"),
        );
    }
    b.c.post(format!("{}/orgs/{org}/upload", b.base))
        .header("cookie", b.cookie_header())
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// The number in the cell after the row heading `label` of a table.
fn cell_after(body: &str, label: &str) -> f64 {
    let head = format!("<th scope=\"row\">{label}</th><td class=\"num\">");
    let at = body.find(&head).unwrap_or_else(|| panic!("no row {label}"));
    let rest = &body[at + head.len()..];
    rest[..rest.find('<').unwrap()].parse().unwrap()
}

#[tokio::test]
async fn a_person_sees_values_in_their_units_and_dates_in_the_organisations_zone() {
    let w = world().await;
    let org = w.s.org.org();
    person(&w.s, "admin@example.org", Role::OrgAdmin).await;
    let mut b = Browser::new(&w.s);
    b.sign_in("clinician@example.org").await;
    let (_, _, body) = b.get(&format!("/orgs/{org}/upload")).await;
    let res = upload_jump(&mut b, &w, &csrf_of(&body), false).await;
    assert_eq!(res.status(), StatusCode::OK);
    let athlete = format!("/orgs/{org}/athletes/{}", w.on_a);
    let (_, _, body) = b.get(&athlete).await;
    let cm = cell_after(&body, "Jump height (cm)");
    let per_kg = cell_after(&body, "Mean propulsive force (N/kg)");

    // Inches and absolute force, chosen on the account page.
    let (_, _, body) = b.get("/account").await;
    let token = csrf_of(&body);
    let (status, location, _) = b
        .post_form(
            "/account/units",
            &[
                ("_csrf", &token),
                ("length_unit", "in"),
                ("mass_unit", "lb"),
                ("force_unit", "n"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, "/account?saved=units#units");
    let (_, _, body) = b.get(&athlete).await;
    let inches = cell_after(&body, "Jump height (in)");
    assert!(
        (inches - cm / 2.54).abs() < 0.06,
        "{inches} in against {cm} cm"
    );
    let newtons = cell_after(&body, "Mean propulsive force (N)");
    assert!(newtons > per_kg * 40.0, "{newtons} N against {per_kg} N/kg");
    assert!(!body.contains("(N/kg)") && !body.contains("(cm)"));
    assert!(body.contains(">Force (N)<"), "the curve in newtons too");
    assert!(body.contains(" lb."), "body mass in pounds: {body}");
    // A unit MHP does not know is refused in words and changes nothing.
    let (status, _, body) = b
        .post_form(
            "/account/units",
            &[("_csrf", &token), ("length_unit", "ft")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains("Length unit must be one of cm, in."),
        "{body}"
    );
    let (_, _, body) = b.get(&athlete).await;
    assert!(body.contains("Jump height (in)"));
    // Another reader keeps their own units.
    let mut coach = Browser::new(&w.s);
    coach.sign_in("coach@example.org").await;
    let (_, _, body) = coach.get(&athlete).await;
    assert!(body.contains("Jump height (cm)"), "{body}");

    // The organisation's time zone, set in Settings, is the one its pages show times in.
    let mut admin = Browser::new(&w.s);
    admin.sign_in("admin@example.org").await;
    let (_, _, body) = admin.get(&format!("/orgs/{org}/settings")).await;
    assert!(body.contains("value=\"UTC\""));
    let token = csrf_of(&body);
    let name_at = body.find("id=\"org-name\"").unwrap();
    let name = body[name_at..].split("value=\"").nth(1).unwrap();
    let name = name[..name.find('"').unwrap()].to_owned();
    let set = format!("/orgs/{org}/settings/organisation");
    let (status, _, body) = admin
        .post_form(
            &set,
            &[
                ("_csrf", &token),
                ("name", &name),
                ("time_zone", "Mars/Olympus"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains("Time zone must be an IANA time zone name"),
        "{body}"
    );
    let (status, location, _) = admin
        .post_form(
            &set,
            &[
                ("_csrf", &token),
                ("name", &name),
                ("time_zone", "Pacific/Auckland"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{location}");
    let (_, _, body) = admin
        .get(&format!("/orgs/{org}/audit?action=organisation.time_zone"))
        .await;
    assert!(body.contains("Time (Pacific/Auckland)"), "{body}");
    assert!(
        body.contains(" NZDT</td>") || body.contains(" NZST</td>"),
        "{body}"
    );
    assert_eq!(
        body.matches("organisation.time_zone</th>").count(),
        1,
        "{body}"
    );
    let (_, _, body) = admin
        .get(&format!("/orgs/{org}/audit?action=organisation.rename"))
        .await;
    assert!(
        !body.contains("organisation.rename</th>"),
        "the name did not change"
    );
}

#[tokio::test]
async fn a_clinician_uploads_files_and_sees_each_outcome_in_words() {
    let w = world().await;
    let org = w.s.org.org();
    let mut b = Browser::new(&w.s);
    b.sign_in("clinician@example.org").await;
    let (_, _, body) = b.get(&format!("/orgs/{org}/upload")).await;
    assert!(body.contains("Ada Alpha") && body.contains("Bo Bravo"));
    let res = upload_jump(&mut b, &w, &csrf_of(&body), true).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = res.text().await.unwrap();
    assert!(
        body.contains("jump.csv</strong>: analysed, 1 trial(s) of cmj, jump height 35."),
        "{body}"
    );
    assert!(body.contains("notes.csv</strong>: not stored."), "{body}");
    let mut tx =
        w.s.state
            .app
            .db
            .tenant(&w.s.org, Access::Read)
            .await
            .unwrap();
    let stored = assessments::list_for_subject(&mut tx, w.on_a, Page::first(10))
        .await
        .unwrap();
    drop(tx);
    assert_eq!(stored.len(), 1, "only the good file is stored");

    // The athlete page draws its force-time curve with the phases shaded.
    let (status, _, body) = b.get(&format!("/orgs/{org}/athletes/{}", w.on_a)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("<title id=\"force-latest-title\">Force-time curve</title>"),
        "{body}"
    );
    for phase in ["Unweighting", "Braking", "Propulsion", "Flight", "Landing"] {
        assert!(body.contains(phase), "{phase}");
    }
    assert!(
        body.contains("Injuries and return to duty"),
        "a clinician sees records"
    );
}

/// Audit events of `action` on `resource`.
async fn events_of(s: &Server, action: &str, resource: &str) -> usize {
    let mut tx = s.state.app.db.tenant(&s.org, Access::Read).await.unwrap();
    let filter = audit::Filter {
        action: Some(action.into()),
        resource_id: Some(resource.into()),
        ..Default::default()
    };
    audit::search(&mut tx, &filter, None, 1000)
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn a_clinician_compares_two_jumps_and_reads_norms_and_training_load() {
    let w = world().await;
    let org = w.s.org.org();
    let mut b = Browser::new(&w.s);
    b.sign_in("clinician@example.org").await;
    for (i, velocity) in [2.4, 2.7].into_iter().enumerate() {
        let (_, _, body) = b.get(&format!("/orgs/{org}/upload")).await;
        let spec = CmjSpec {
            takeoff_velocity_m_s: velocity,
            seed: 10 + i as u64,
            ..CmjSpec::default()
        };
        let res = upload_spec(&mut b, &w, &csrf_of(&body), false, &spec).await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    // Five weeks of sessions, the last week three times the earlier ones: a spike.
    let today = w.s.state.app.today();
    let mut tx =
        w.s.state
            .app
            .db
            .tenant(&w.s.org, Access::Write)
            .await
            .unwrap();
    for back in 0..35 {
        let day = today.plus_days(-back);
        let load_au = if back < 7 { 900 } else { 300 };
        mhp_storage::repo::loads::create(
            &mut tx,
            &mhp_storage::repo::loads::LoadEntry {
                id: uuid::Uuid::now_v7().to_string(),
                subject: w.on_a,
                session_date: day.to_string(),
                session_type: "field_training".into(),
                duration_min: 60,
                rpe: 5,
                load_au,
                recorded_by: "test".into(),
                created_at: w.s.state.app.now(),
            },
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let athlete = format!("/orgs/{org}/athletes/{}", w.on_a);
    let (status, _, body) = b.get(&athlete).await;
    assert_eq!(status, StatusCode::OK);
    // Load: 6,300 AU in 7 days against a weekly mean of (6,300 + 3 × 2,100) / 4 = 3,150.
    assert!(
        body.contains("Acute:chronic workload ratio on ")
            && body.contains("<strong class=\"change bad\">2.00 (a spike)</strong>"),
        "{body}"
    );
    assert!(body.contains("6300 AU in the last 7 days against a weekly mean of 3150 AU"));
    assert!(body.contains("Sessions of the last 28 days") && body.contains("field training"));
    // Norms: too few athletes for percentiles, a change from the one earlier jump.
    assert!(body.contains("<h2 id=\"norms-h\">Norms</h2>"), "{body}");
    assert!(body.contains("the minimal detectable change at 95 %"));
    assert!(
        body.contains("coefficient of variation over the latest test&#39;s reps")
            || body.contains("coefficient of variation over the latest test's reps"),
        "{body}"
    );
    // The force-time curve in the reader's force unit (per kilogram unless chosen otherwise).
    assert!(body.contains(">Force (N/kg)<"), "{body}");

    // Two jumps overlaid: the form offers both, a choice draws them and records both reads.
    let ids: Vec<String> = body
        .split("<select id=\"jump-a\" name=\"a\">")
        .nth(1)
        .unwrap()
        .split("</select>")
        .next()
        .unwrap()
        .split("value=\"")
        .skip(1)
        .map(|v| v[..v.find('"').unwrap()].to_owned())
        .collect();
    assert_eq!(ids.len(), 2, "{body}");
    let reads_before = events_of(&w.s, "assessment.read", &ids[1]).await;
    let (status, _, body) = b.get(&format!("{athlete}?a={}&b={}", ids[0], ids[1])).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("<title id=\"force-overlay-title\">Two jumps compared</title>"),
        "{body}"
    );
    assert!(body.contains("Phase durations of the two jumps"));
    assert_eq!(
        events_of(&w.s, "assessment.read", &ids[1]).await,
        reads_before + 1,
        "the second jump's curve was read and recorded"
    );
    // A jump that is not this athlete's is refused in words; nothing else is drawn.
    let (status, _, body) = b
        .get(&format!(
            "{athlete}?a={}&b={}",
            ids[0],
            mhp_domain::AssessmentId::new()
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("Choose two of this athlete&#39;s jumps.")
            || body.contains("Choose two of this athlete's jumps."),
        "{body}"
    );
    assert!(!body.contains("force-overlay-title"));
    let (_, _, body) = b.get(&format!("{athlete}?a={}&b={}", ids[0], ids[0])).await;
    assert!(body.contains("Choose two different jumps."));
    // Another population for the norms.
    let (_, _, body) = b.get(&format!("{athlete}?population=sport")).await;
    assert!(body.contains("athletes of the same sport"));

    // The dashboard flags the spike and draws the team's weekly load.
    let (_, _, body) = b.get(&format!("/orgs/{org}/teams/{}", w.team_a)).await;
    assert!(body.contains("load spike (ACWR over 1.5)"), "{body}");
    assert!(body.contains("<h2 id=\"load-h\">Training load by week</h2>"));
    assert!(body.contains("<title id=\"team-load-title\">Team training load by week</title>"));

    // A coach reads the ratio and the weekly load, not the sessions, norms or curves.
    let mut coach = Browser::new(&w.s);
    coach.sign_in("coach@example.org").await;
    let (status, _, body) = coach.get(&athlete).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Acute:chronic workload ratio on "));
    assert!(!body.contains("Sessions of the last 28 days"));
    assert!(!body.contains("norms-h") && !body.contains("compare-h"));
    let reads = events_of(&w.s, "assessment.read", &ids[1]).await;
    let (_, _, body) = coach
        .get(&format!("{athlete}?a={}&b={}", ids[0], ids[1]))
        .await;
    assert!(!body.contains("force-overlay"));
    assert_eq!(events_of(&w.s, "assessment.read", &ids[1]).await, reads);
}

#[tokio::test]
async fn a_clinician_records_an_injury_and_returns_the_athlete_to_duty() {
    let w = world().await;
    let org = w.s.org.org();
    let mut b = Browser::new(&w.s);
    b.sign_in("clinician@example.org").await;
    let page = format!("/orgs/{org}/athletes/{}", w.on_a);
    let (_, _, body) = b.get(&page).await;
    let token = csrf_of(&body);
    let record = format!("{page}/injuries");
    let today = w.s.state.app.today().to_string();
    // A refused form says why, keeps what was entered and writes nothing.
    let (status, _, body) = b
        .post_form(
            &record,
            &[
                ("_csrf", &token),
                ("body_region", "knee"),
                ("injury_type", "ligament_sprain"),
                ("side", "sideways"),
                ("mechanism", "contact"),
                ("severity", "moderate"),
                ("occurred_on", &today),
                ("notes", "twisted in a tackle"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains("Side must be one of left, right, bilateral, central."),
        "{body}"
    );
    assert!(body.contains(">twisted in a tackle</textarea>"));
    let mut tx =
        w.s.state
            .app
            .db
            .tenant(&w.s.org, Access::Read)
            .await
            .unwrap();
    assert!(
        mhp_storage::repo::injuries::list_for_subject(&mut tx, w.on_a)
            .await
            .unwrap()
            .is_empty()
    );
    drop(tx);
    let (status, location, _) = b
        .post_form(
            &record,
            &[
                ("_csrf", &token),
                ("body_region", "knee"),
                ("injury_type", "ligament_sprain"),
                ("side", "left"),
                ("mechanism", "contact"),
                ("occurred_on", &today),
                ("time_loss_days", ""),
                ("severity", "moderate"),
                ("notes", ""),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, format!("{page}#injuries-h"));
    let (_, _, body) = b.get(&page).await;
    assert!(
        body.contains("Unavailable"),
        "an injury without a decision keeps them out"
    );
    let mut tx =
        w.s.state
            .app
            .db
            .tenant(&w.s.org, Access::Read)
            .await
            .unwrap();
    let injury = mhp_storage::repo::injuries::list_for_subject(&mut tx, w.on_a)
        .await
        .unwrap()[0]
        .id;
    drop(tx);
    // The injuries list shows it, open, with no decision yet; coaches have no such list.
    let list = format!("/orgs/{org}/injuries");
    let (status, _, body) = b.get(&list).await;
    assert_eq!(status, StatusCode::OK);
    let row = &body[body.find("Ada Alpha</a>").expect("the open injury")..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(
        row.contains("knee, ligament sprain (left)") && row.contains("no decision yet"),
        "{row}"
    );
    assert!(!body.contains("Bo Bravo"));
    let mut coach = Browser::new(&w.s);
    coach.sign_in("coach@example.org").await;
    assert_eq!(coach.get(&list).await.0, StatusCode::FORBIDDEN);
    let decide = format!("{page}/injuries/{injury}/decisions");
    // Another athlete's path cannot carry this injury.
    let (status, _, _) = b
        .post_form(
            &format!(
                "/orgs/{org}/athletes/{}/injuries/{injury}/decisions",
                w.on_b
            ),
            &[
                ("_csrf", &token),
                ("stage", "cleared"),
                ("decided_on", &today),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = b
        .post_form(
            &decide,
            &[
                ("_csrf", &token),
                ("stage", "cleared"),
                ("decided_on", &today),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, _, body) = b.get(&format!("/orgs/{org}/teams/{}", w.team_a)).await;
    let row = &body[body.find("Ada Alpha</a>").unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains(">Available<"), "{row}");
    // Cleared, it leaves the list.
    let (_, _, body) = b.get(&list).await;
    assert!(
        body.contains("No open injury.") && !body.contains("Ada Alpha"),
        "{body}"
    );
}

#[tokio::test]
async fn athletes_are_listed_and_found_by_name_within_the_callers_reach() {
    let w = world().await;
    let org = w.s.org.org();
    let list = format!("/orgs/{org}/athletes");
    let mut b = Browser::new(&w.s);
    b.sign_in("clinician@example.org").await;
    let (status, _, body) = b.get(&list).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("Ada Alpha") && body.contains("Bo Bravo"),
        "{body}"
    );
    assert!(body.contains(&format!("/orgs/{org}/athletes/{}", w.on_b)));
    let (_, _, body) = b.get(&format!("{list}?q=ada+alpha")).await;
    assert!(
        body.contains("1 athlete(s) found.") && body.contains("Ada Alpha"),
        "{body}"
    );
    assert!(!body.contains("Bo Bravo"));
    let (_, _, body) = b.get(&format!("{list}?q=nobody")).await;
    assert!(body.contains("0 athlete(s) found."), "{body}");
    // A coach sees their own team only.
    let mut coach = Browser::new(&w.s);
    coach.sign_in("coach@example.org").await;
    let (status, _, body) = coach.get(&list).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("Ada Alpha") && !body.contains("Bo Bravo"),
        "{body}"
    );
    assert!(body.contains("<h2>Alpha</h2>"), "{body}");
    let (_, _, body) = coach.get(&format!("{list}?q=bo+bravo")).await;
    assert!(
        body.contains("0 athlete(s) found.") && !body.contains("Bo Bravo</a>"),
        "{body}"
    );
}

#[tokio::test]
async fn an_auditor_reads_the_audit_log_with_filters_and_no_names() {
    let w = world().await;
    let org = w.s.org.org();
    let mut b = Browser::new(&w.s);
    b.sign_in("auditor@example.org").await;
    let (status, headers, _) = b.get("/").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], format!("/orgs/{org}/audit").as_str());
    let (status, _, body) = b
        .get(&format!("/orgs/{org}/audit?action=subject.create"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body.matches("<th scope=\"row\">subject.create</th>")
            .count(),
        2,
        "{body}"
    );
    assert!(!body.contains("Ada Alpha") && !body.contains("Bo Bravo"));
    assert!(body.contains(&format!(
        "/api/v1/orgs/{org}/audit/export?action=subject.create"
    )));
    // The read itself is recorded.
    let mut tx =
        w.s.state
            .app
            .db
            .tenant(&w.s.org, Access::Read)
            .await
            .unwrap();
    let filter = audit::Filter {
        action: Some("audit.read".into()),
        ..Default::default()
    };
    assert_eq!(
        audit::search(&mut tx, &filter, None, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    drop(tx);
    let (status, _, body) = b.get(&format!("/orgs/{org}/audit?from=2026-13-40")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("role=\"alert\">from "), "{body}");
    // A coach has no audit log.
    let mut coach = Browser::new(&w.s);
    coach.sign_in("coach@example.org").await;
    let (status, _, _) = coach.get(&format!("/orgs/{org}/audit")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The chain verifies, and stops verifying once an event is changed behind MHP's back.
    let verify = format!("/orgs/{org}/audit?verify=1");
    let (status, _, body) = b.get(&verify).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("role=\"status\">Verified: "), "{body}");
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&w.s.url)
        .await
        .unwrap();
    for sql in [
        "DROP TRIGGER audit_events_no_update".to_owned(),
        format!(
            "UPDATE audit_events SET action = 'subject.tampered' \
             WHERE chain = '{org}' AND chain_index = 1"
        ),
    ] {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let (status, _, body) = b.get(&verify).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("does not verify")
            && body.contains("event 1")
            && body.contains("was altered"),
        "{body}"
    );
}

/// The link (path and query) in the newest message to `to` that leads to `page`, with the
/// address MHP says it is reached at in front of it.
fn emailed_link(s: &Server, to: &str, page: &str) -> String {
    let mut files: Vec<_> = std::fs::read_dir(&s.outbox)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    files.sort();
    let line = files
        .iter()
        .rev()
        .filter_map(|f| {
            serde_json::from_slice::<serde_json::Value>(&std::fs::read(f).unwrap()).ok()
        })
        .filter(|v| v["to"] == to)
        .filter_map(|v| {
            v["body"]
                .as_str()?
                .lines()
                .find(|l| l.contains(&format!("{page}?token=")))
                .map(str::to_owned)
        })
        .next()
        .unwrap_or_else(|| panic!("no message to {to} links to {page}"));
    assert!(
        line.starts_with("http://") || line.starts_with("https://"),
        "{line}"
    );
    line[line.find(page).unwrap()..].to_owned()
}

fn hidden_of(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let at = body
        .find(&marker)
        .unwrap_or_else(|| panic!("no field {name}"));
    let rest = &body[at + marker.len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

async fn signs_in_with(b: &mut Browser, email: &str, password: &str) -> (StatusCode, String) {
    let (_, _, body) = b.get("/sign-in").await;
    let token = csrf_of(&body);
    let (status, location, _) = b
        .post_form(
            "/sign-in",
            &[("_csrf", &token), ("email", email), ("password", password)],
        )
        .await;
    (status, location)
}

#[tokio::test]
async fn a_forgotten_password_is_reset_through_the_pages_by_a_link_that_works_once() {
    let w = world().await;
    let mut b = Browser::new(&w.s);
    let (_, _, body) = b.get("/sign-in").await;
    assert!(
        body.contains("href=\"/password-reset\""),
        "the sign-in page links to it"
    );
    let (status, _, body) = b.get("/password-reset").await;
    assert_eq!(status, StatusCode::OK);
    let token = csrf_of(&body);
    for (n, email) in [(1, "nobody@example.org"), (2, "clinician@example.org")] {
        let (status, _, body) = b
            .post_form("/password-reset", &[("_csrf", &token), ("email", email)])
            .await;
        assert_eq!(status, StatusCode::OK, "alike for both");
        assert!(body.contains("on its way"), "{body}");
        crate::sign_in::resets_processed(&w.s, n).await;
    }
    let link = emailed_link(&w.s, "clinician@example.org", "/password-reset/new");
    let (status, _, body) = b.get(&link).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Choose a new password"));
    let csrf = csrf_of(&body);
    let reset = hidden_of(&body, "token");
    let new = "a brand new passphrase";
    for (password, repeat, says) in [
        (new, "something else entirely", "differ"),
        ("short", "short", "at least 12 characters"),
    ] {
        let (status, _, body) = b
            .post_form(
                "/password-reset/new",
                &[
                    ("_csrf", &csrf),
                    ("token", &reset),
                    ("password", password),
                    ("repeat", repeat),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.contains(says), "{says}: {body}");
    }
    let form = [
        ("_csrf", csrf.as_str()),
        ("token", reset.as_str()),
        ("password", new),
        ("repeat", new),
    ];
    let (status, _, body) = b.post_form("/password-reset/new", &form).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Password changed"), "{body}");
    let (status, _, body) = b.post_form("/password-reset/new", &form).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a link works once"
    );
    assert!(body.contains("invalid, used or expired"), "{body}");
    let mut fresh = Browser::new(&w.s);
    let (status, _) = signs_in_with(&mut fresh, "clinician@example.org", PASSWORD).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the old password is gone");
    let (status, location) = signs_in_with(&mut fresh, "clinician@example.org", new).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/"));
}

#[tokio::test]
async fn an_invitation_link_opens_a_page_that_makes_the_account_and_joins() {
    let w = world().await;
    let org = w.s.org.org();
    person(&w.s, "admin@example.org", Role::OrgAdmin).await;
    let mut admin = Browser::new(&w.s);
    admin.sign_in("admin@example.org").await;
    let (_, _, body) = admin.get("/account").await;
    let csrf = csrf_of(&body);
    let res = admin
        .c
        .post(format!("{}/api/v1/orgs/{org}/invitations", w.s.base))
        .header("cookie", admin.cookie_header())
        .header("x-csrf-token", &csrf)
        .json(&serde_json::json!({"email": "newcoach@example.org", "role": "coach"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);

    let mut b = Browser::new(&w.s);
    let link = emailed_link(&w.s, "newcoach@example.org", "/invitation");
    let (status, _, body) = b.get(&link).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("as a coach") && body.contains("newcoach@example.org"),
        "{body}"
    );
    assert!(
        body.contains("for=\"password\""),
        "a new account needs a password"
    );
    let csrf = csrf_of(&body);
    let token = hidden_of(&body, "token");
    let password = "the coach's own passphrase";
    for (name, repeat, says) in [
        ("", password, "Your name must not be empty"),
        ("Nia Coach", "not the same at all", "differ"),
    ] {
        let (status, _, body) = b
            .post_form(
                "/invitation",
                &[
                    ("_csrf", &csrf),
                    ("token", &token),
                    ("display_name", name),
                    ("password", password),
                    ("repeat", repeat),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.contains(says), "{says}: {body}");
    }
    let form = [
        ("_csrf", csrf.as_str()),
        ("token", token.as_str()),
        ("display_name", "Nia Coach"),
        ("password", password),
        ("repeat", password),
    ];
    let (status, _, body) = b.post_form("/invitation", &form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("Welcome to"), "{body}");
    let (status, _, body) = b.post_form("/invitation", &form).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "an invitation is accepted once"
    );
    assert!(body.contains("invalid, used or expired"));
    let (status, _, _) = b.get(&link).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, location) = signs_in_with(&mut b, "newcoach@example.org", password).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/"));
    let (status, headers, _) = b.get("/").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], format!("/orgs/{org}").as_str());
}

#[tokio::test]
async fn an_authenticator_is_set_up_from_the_account_page_when_the_organisation_requires_one() {
    let w = world().await;
    let org = w.s.org.org();
    let mut tx =
        w.s.state
            .app
            .db
            .tenant(&w.s.org, Access::Write)
            .await
            .unwrap();
    mhp_storage::repo::mfa::set_policy(&mut tx, mhp_domain::MfaPolicy::Everyone)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut b = Browser::new(&w.s);
    b.sign_in("coach@example.org").await;
    // The organisation's pages wait for a second factor the coach has not set up: the code
    // form sends them to their account, which says why.
    let (status, headers, _) = b.get(&format!("/orgs/{org}")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "/sign-in/code");
    let (status, headers, _) = b.get("/sign-in/code").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "/account?required=1");
    let (status, _, body) = b.get("/account?required=1").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("requires an authenticator app"), "{body}");
    let csrf = csrf_of(&body);

    let (status, _, body) = b
        .post_form("/account/authenticator", &[("_csrf", &csrf)])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("<svg class=\"qr\" role=\"img\""),
        "a QR code to scan"
    );
    let at = body.find("<code class=\"key\"").unwrap();
    let key: String = body[at..][body[at..].find('>').unwrap() + 1..]
        .split('<')
        .next()
        .unwrap()
        .replace(' ', "");
    let secret = mhp_test_support::base32_decode(&key);
    let code_at = |offset: i64| {
        let step = mhp_auth::totp::step_of(w.s.state.app.clock.now()) + offset;
        format!("{:06}", mhp_auth::totp::code_at(&secret, step))
    };
    let wrong = ["000000", "111111", "222222"]
        .into_iter()
        .find(|c| (-1..=1).all(|d| code_at(d) != *c))
        .unwrap();
    let (status, _, body) = b
        .post_form(
            "/account/authenticator/confirm",
            &[("_csrf", &csrf), ("code", wrong)],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains("does not match") && body.contains(&key[..4]),
        "the same key again"
    );
    let before = b.cookies.clone();
    let (status, _, body) = b
        .post_form(
            "/account/authenticator/confirm",
            &[("_csrf", &csrf), ("code", &code_at(0))],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("Save your recovery codes"));
    assert_eq!(body.matches("<li><code>").count(), 10, "{body}");
    let session = |c: &[(String, String)]| {
        c.iter()
            .find(|(k, _)| k == "mhp_session")
            .map(|(_, v)| v.clone())
    };
    assert_ne!(session(&before), session(&b.cookies), "a new session id");
    let (status, headers, _) = b.get(&format!("/orgs/{org}")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let team = headers["location"].to_str().unwrap().to_owned();
    assert_eq!(
        team,
        format!("/orgs/{org}/teams/{}", w.team_a),
        "the policy is met now"
    );
    let (status, _, body) = b.get(&team).await;
    assert_eq!(status, StatusCode::OK);
    let (_, _, body_account) = b.get("/account").await;
    assert!(body_account.contains("protects your sign-in since"));
    assert!(
        body.contains("href=\"/account\""),
        "the shell links to the account"
    );

    // Signing out everywhere ends this session; the next sign-in asks for the code.
    let csrf = csrf_of(&body_account);
    let (status, location, _) = b
        .post_form("/sign-out", &[("_csrf", &csrf), ("everywhere", "1")])
        .await;
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::SEE_OTHER, "/sign-in")
    );
    let (status, location) = signs_in_with(&mut b, "coach@example.org", PASSWORD).await;
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::SEE_OTHER, "/sign-in/code")
    );
}

/// Stores an organisation's provider as the API would, straight into the system of record,
/// with its domains proven as a DNS check records them (the check itself, against a real DNS
/// server, is in the command line's SSO tests).
async fn provider_for(s: &Server, org: mhp_domain::OrgId, domains: &[&str]) {
    let scope = mhp_domain::OrgScope::for_operator(org, "test");
    let json = serde_json::json!({
        "issuer": "https://idp.example.net",
        "client_id": "mhp",
        "allowed_domains": domains,
    })
    .to_string();
    let mut tx = s.state.app.db.tenant(&scope, Access::Write).await.unwrap();
    let sealed = mhp_domain::SealedBytes::from_ciphertext(vec![1, 2, 3]);
    mhp_storage::repo::sso::put_config(
        &mut tx,
        &json,
        false,
        Some(&sealed),
        "test",
        s.state.app.clock.now(),
    )
    .await
    .unwrap();
    let owned: Vec<String> = domains.iter().map(|d| d.to_lowercase()).collect();
    let now = s.state.app.clock.now();
    mhp_storage::repo::sso::keep_domains(&mut tx, &owned, |d| format!("token-of-{d}"), now)
        .await
        .unwrap();
    for d in &owned {
        mhp_storage::repo::sso::mark_proven(&mut tx, d, now)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
}

async fn another_org(s: &Server, name: &str) -> mhp_domain::OrgId {
    let mut tx = s.state.app.db.operator(Access::Write).await.unwrap();
    let org = mhp_storage::repo::orgs::create(
        &mut tx,
        &mhp_domain::OrgName::parse(name).unwrap(),
        s.state.app.clock.now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    org.id
}

#[tokio::test]
async fn sign_in_with_your_organisation_finds_it_from_the_domain_and_a_domain_has_one_owner() {
    let w = world().await;
    let brook = another_org(&w.s, "Brook Clinic").await;
    provider_for(&w.s, brook, &["brook.example"]).await;
    let mut b = Browser::new(&w.s);
    let (_, _, body) = b.get("/sign-in").await;
    assert!(body.contains("href=\"/sign-in/sso\""));
    let (status, _, body) = b.get("/sign-in/sso").await;
    assert_eq!(status, StatusCode::OK);
    let csrf = csrf_of(&body);
    let ask = |email: &'static str| [("_csrf", csrf.clone()), ("email", email.to_owned())];
    let form = ask("Ana@Brook.Example");
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, location, _) = b.post_form("/sign-in/sso", &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, format!("/api/v1/auth/sso/{brook}/start"));
    let form = ask("someone@elsewhere.example");
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, _, body) = b.post_form("/sign-in/sso", &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("No organisation signs in people of this e-mail domain"));

    // Another tenant cannot draw Brook's people to its own provider.
    person(&w.s, "admin@example.org", Role::OrgAdmin).await;
    let mut admin = Browser::new(&w.s);
    admin.sign_in("admin@example.org").await;
    let (_, _, body) = admin.get("/account").await;
    let res = admin
        .c
        .put(format!("{}/api/v1/orgs/{}/sso", w.s.base, w.s.org.org()))
        .header("cookie", admin.cookie_header())
        .header("x-csrf-token", csrf_of(&body))
        .json(&serde_json::json!({
            "issuer": "https://idp.example.org", "client_id": "mhp",
            "client_secret": "a secret of the tenant's", "allowed_domains": ["BROOK.example"],
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: serde_json::Value = res.json().await.unwrap();
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("another organisation"),
        "{problem}"
    );

    // Two proven owners (records an operator made disagree): no guess, the person is told.
    let cove = another_org(&w.s, "Cove Clinic").await;
    provider_for(&w.s, cove, &["brook.example"]).await;
    let form = ask("ana@brook.example");
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, _, body) = b.post_form("/sign-in/sso", &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("More than one organisation"), "{body}");
}

#[tokio::test]
async fn an_administrator_runs_the_organisation_from_the_settings_page() {
    let w = world().await;
    let org = w.s.org.org();
    let settings = format!("/orgs/{org}/settings");
    let mut coach = Browser::new(&w.s);
    coach.sign_in("coach@example.org").await;
    let (status, _, _) = coach.get(&settings).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "administrators only");

    person(&w.s, "admin@example.org", Role::OrgAdmin).await;
    let mut b = Browser::new(&w.s);
    b.sign_in("admin@example.org").await;
    let (status, _, body) = b.get(&settings).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains(&format!(
        "href=\"{settings}\" aria-current=\"page\">Settings<"
    )));
    let csrf = csrf_of(&body);
    let done = |key: &str| format!("{settings}?done={key}");

    // Invitations: sent through the API's function (its message), refused in words.
    let (status, location, _) = b
        .post_form(
            &format!("{settings}/invitations"),
            &[
                ("_csrf", &csrf),
                ("email", "newbie@example.org"),
                ("role", "coach"),
            ],
        )
        .await;
    assert_eq!((status, location), (StatusCode::SEE_OTHER, done("invited")));
    emailed_link(&w.s, "newbie@example.org", "/invitation");
    let (_, _, body) = b.get(&done("invited")).await;
    assert!(body.contains("The invitation is on its way."));
    let (status, _, body) = b
        .post_form(
            &format!("{settings}/invitations"),
            &[
                ("_csrf", &csrf),
                ("email", "not an address"),
                ("role", "coach"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("role=\"alert\">Email"), "{body}");

    // Roles: the clinician becomes clinician and auditor.
    let clinician = {
        let mut tx = w.s.state.app.db.operator(Access::Read).await.unwrap();
        users::find_by_email(&mut tx, &Email::parse("clinician@example.org").unwrap())
            .await
            .unwrap()
            .unwrap()
            .0
            .id
    };
    let (status, location, _) = b
        .post_form(
            &format!("{settings}/members/{clinician}"),
            &[("_csrf", &csrf), ("role", "clinician"), ("role", "auditor")],
        )
        .await;
    assert_eq!((status, location), (StatusCode::SEE_OTHER, done("roles")));
    let mut tx =
        w.s.state
            .app
            .db
            .tenant(&w.s.org, Access::Read)
            .await
            .unwrap();
    assert_eq!(
        users::roles(&mut tx, clinician).await.unwrap(),
        vec![Role::Clinician, Role::Auditor]
    );
    drop(tx);

    // Teams and staff.
    let (status, location, _) = b
        .post_form(
            &format!("{settings}/teams"),
            &[("_csrf", &csrf), ("name", "Charlie")],
        )
        .await;
    assert_eq!((status, location), (StatusCode::SEE_OTHER, done("team")));
    let (status, location, _) = b
        .post_form(
            &format!("{settings}/staff"),
            &[
                ("_csrf", &csrf),
                ("team", &w.team_a.to_string()),
                ("user", &clinician.to_string()),
            ],
        )
        .await;
    assert_eq!((status, location), (StatusCode::SEE_OTHER, done("staff")));

    // An API key: the token shown once works, until it is revoked.
    let (status, _, body) = b
        .post_form(
            &format!("{settings}/api-keys"),
            &[
                ("_csrf", &csrf),
                ("name", "Front desk"),
                ("role", "clinician"),
                ("days", "30"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("shown only this once"));
    let at = body.find("aria-label=\"Token\">").unwrap() + "aria-label=\"Token\">".len();
    let token = body[at..body[at..].find('<').unwrap() + at].to_owned();
    let subjects = format!("{}/api/v1/orgs/{org}/subjects", w.s.base);
    let api = reqwest::Client::new();
    let call = || api.get(&subjects).bearer_auth(&token).send();
    assert_eq!(call().await.unwrap().status(), StatusCode::OK);
    let (_, _, body) = b.get(&settings).await;
    let marker = "/settings/api-keys/";
    let at = body.find(marker).unwrap() + marker.len();
    let key = body[at..at + body[at..].find('/').unwrap()].to_owned();
    let (status, location, _) = b
        .post_form(
            &format!("{settings}/api-keys/{key}/revoke"),
            &[("_csrf", &csrf)],
        )
        .await;
    assert_eq!((status, location), (StatusCode::SEE_OTHER, done("revoked")));
    assert_eq!(call().await.unwrap().status(), StatusCode::UNAUTHORIZED);

    let (_, _, body) = b.get(&settings).await;
    for shown in ["Charlie", "Front desk", "<td>revoked</td>"] {
        assert!(body.contains(shown), "{shown}: {body}");
    }
    // Single sign-on: the form's own checks, then the API's (a domain has one owner).
    let brook = another_org(&w.s, "Brook Clinic").await;
    provider_for(&w.s, brook, &["brook.example"]).await;
    for (map, domains, says) in [
        (
            "mhp-staff clinician",
            "clinic.example",
            "write each line as group = role",
        ),
        (
            "mhp-staff = clinician",
            "brook.example",
            "another organisation",
        ),
    ] {
        let (status, _, body) = b
            .post_form(
                &format!("{settings}/sso"),
                &[
                    ("_csrf", &csrf),
                    ("issuer", "https://login.example.org"),
                    ("client_id", "mhp"),
                    ("client_secret", "the tenant's secret"),
                    ("allowed_domains", domains),
                    ("role_claim", "groups"),
                    ("role_map", map),
                    ("default_role", ""),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{says}");
        assert!(body.contains(says), "{says}: {body}");
        assert!(!body.contains("the tenant&#39;s secret") && !body.contains("the tenant's secret"));
    }
    // Saved, each domain waits for its owner's DNS record, which the page names.
    let (status, location, _) = b
        .post_form(
            &format!("{settings}/sso"),
            &[
                ("_csrf", &csrf),
                ("issuer", "https://login.example.org"),
                ("client_id", "mhp"),
                ("client_secret", "the tenant's secret"),
                ("allowed_domains", "clinic.example"),
                ("role_claim", "groups"),
                ("role_map", "mhp-staff = clinician"),
                ("default_role", ""),
            ],
        )
        .await;
    assert_eq!((status, location), (StatusCode::SEE_OTHER, done("sso")));
    let (_, _, body) = b.get(&settings).await;
    assert!(
        body.contains("<code>_mhp-verification.clinic.example</code>")
            && body.contains("Not proven")
            && body.contains("Check the DNS of clinic.example"),
        "{body}"
    );
    assert!(!body.contains("the tenant&#39;s secret") && !body.contains("the tenant's secret"));

    // Risk bands, in percent.
    let bands = format!("{settings}/risk-thresholds");
    let (status, location, _) = b
        .post_form(
            &bands,
            &[("_csrf", &csrf), ("moderate", "4"), ("high", "9.5")],
        )
        .await;
    assert_eq!(
        (status, location),
        (StatusCode::SEE_OTHER, done("thresholds"))
    );
    let mut tx =
        w.s.state
            .app
            .db
            .tenant(&w.s.org, Access::Read)
            .await
            .unwrap();
    let t = mhp_storage::repo::risk::thresholds(&mut tx).await.unwrap();
    assert!(
        (t.moderate - 0.04).abs() < 1e-12 && (t.high - 0.095).abs() < 1e-12,
        "{t:?}"
    );
    drop(tx);
    let (_, _, body) = b.get(&settings).await;
    assert!(
        body.contains("name=\"high\"") && body.contains("value=\"9.5\""),
        "{body}"
    );
    for (moderate, high) in [("9", "4"), ("x", "5")] {
        let (status, _, body) = b
            .post_form(
                &bands,
                &[("_csrf", &csrf), ("moderate", moderate), ("high", high)],
            )
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{moderate} {high}"
        );
        assert!(body.contains("role=\"alert\""), "{body}");
    }

    // The second-factor policy.
    let (status, location, _) = b
        .post_form(
            &format!("{settings}/mfa-policy"),
            &[("_csrf", &csrf), ("policy", "privileged")],
        )
        .await;
    assert_eq!((status, location), (StatusCode::SEE_OTHER, done("policy")));
    let mut tx =
        w.s.state
            .app
            .db
            .tenant(&w.s.org, Access::Read)
            .await
            .unwrap();
    assert_eq!(
        mhp_storage::repo::mfa::policy(&mut tx).await.unwrap(),
        mhp_domain::MfaPolicy::Privileged
    );
    drop(tx);
    // The administrator has no authenticator yet: the organisation's pages wait for one.
    let (status, headers, _) = b.get(&settings).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "/sign-in/code");
}

/// A version of the risk model registered as training would, with an evaluation's metrics.
async fn model_version(s: &Server, auc: f64) -> mhp_domain::ModelVersionId {
    model_version_with(s, auc, "{}").await
}

/// As [`model_version`], with its lineage.
async fn model_version_with(s: &Server, auc: f64, lineage: &str) -> mhp_domain::ModelVersionId {
    let bin = |p: f64, o: f64| {
        serde_json::json!({"count": 40, "min_predicted": p - 0.01, "max_predicted": p + 0.01,
                            "mean_predicted": p, "observed_rate": o})
    };
    let metrics = serde_json::json!({
        "rows": 400, "positives": 31, "roc_auc": auc, "pr_auc": 0.2, "brier": 0.0712,
        "log_loss": 0.26, "calibration_error": 0.0123,
        "calibration": [bin(0.02, 0.0), bin(0.05, 0.05), bin(0.12, 0.15), bin(0.3, 0.275)],
    });
    let evaluation = serde_json::json!({
        "overall": metrics,
        "groups": [{"key": "sex", "value": "F", "metrics": metrics}],
    });
    let id = mhp_domain::ModelVersionId::new();
    let mut tx = s.state.app.db.tenant(&s.org, Access::Write).await.unwrap();
    mhp_storage::repo::models::register(
        &mut tx,
        &mhp_storage::repo::models::NewVersion {
            id,
            model: "injury-risk",
            kind: "native",
            artifact_key: "models/x",
            artifact_sha256: "00",
            features_json: "[]",
            lineage_json: lineage,
            metrics_json: &evaluation.to_string(),
            training_run: None,
            created_by: "test",
        },
        s.state.app.clock.now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

#[tokio::test]
async fn a_data_scientist_runs_pipelines_and_reads_models_and_an_administrator_decides() {
    let w = world().await;
    let org = w.s.org.org();
    let v1 = model_version(&w.s, 0.701).await;
    mhp_app::scoring::decide_stage(
        &w.s.state.app,
        &w.s.org,
        &mhp_app::Caller::cli(),
        v1,
        mhp_storage::repo::models::Stage::Production,
    )
    .await
    .unwrap();
    let v2 = model_version(&w.s, 0.734).await;
    person(&w.s, "ds@example.org", Role::DataScientist).await;
    let mut ds = Browser::new(&w.s);
    ds.sign_in("ds@example.org").await;
    let (status, headers, _) = ds.get("/").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], format!("/orgs/{org}/models").as_str());
    let models = format!("/orgs/{org}/models");
    let (status, _, body) = ds.get(&models).await;
    assert_eq!(status, StatusCode::OK);
    for shown in [
        "v1",
        "v2",
        "0.734",
        "0.0712",
        "candidate",
        "production",
        "sex = F",
    ] {
        assert!(body.contains(shown), "{shown}");
    }
    assert!(body.contains("<svg") && body.contains("Calibration of injury-risk v1"));
    assert!(
        !body.contains("Approve for production"),
        "a data scientist does not decide"
    );
    let csrf = csrf_of(&body);
    let stage = format!("{models}/versions/{v2}/stage");
    let (status, _, _) = ds
        .post_form(&stage, &[("_csrf", &csrf), ("stage", "production")])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let mut coach = Browser::new(&w.s);
    coach.sign_in("coach@example.org").await;
    assert_eq!(coach.get(&models).await.0, StatusCode::FORBIDDEN);

    // The administrator approves v2, then rolls production back to v1.
    person(&w.s, "admin@example.org", Role::OrgAdmin).await;
    let mut admin = Browser::new(&w.s);
    admin.sign_in("admin@example.org").await;
    let (_, _, body) = admin.get(&models).await;
    assert!(body.contains("Approve v2 for production"));
    let csrf_admin = csrf_of(&body);
    let (status, location, _) = admin
        .post_form(&stage, &[("_csrf", &csrf_admin), ("stage", "production")])
        .await;
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::SEE_OTHER, models.as_str())
    );
    let stage_of = |id| {
        let s = &w.s;
        async move {
            let mut tx = s.state.app.db.tenant(&s.org, Access::Read).await.unwrap();
            mhp_storage::repo::models::get(&mut tx, id)
                .await
                .unwrap()
                .stage
        }
    };
    use mhp_storage::repo::models::Stage;
    assert_eq!(stage_of(v2).await, Stage::Production);
    assert_eq!(stage_of(v1).await, Stage::Archived);
    let rollback = format!("{models}/injury-risk/rollback");
    let (status, _, _) = admin.post_form(&rollback, &[("_csrf", &csrf_admin)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(stage_of(v1).await, Stage::Production);
    let (status, _, body) = admin.post_form(&rollback, &[("_csrf", &csrf_admin)]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body.contains("no earlier version"));

    // Pipelines: a run started from its button, followed on its page, cancelled.
    let pipelines = format!("/orgs/{org}/pipelines");
    let (status, _, body) = ds.get(&pipelines).await;
    assert_eq!(status, StatusCode::OK);
    // The promotions above enqueued their scoring runs.
    assert!(body.contains(mhp_domain::pipeline::TRAIN) && body.contains(">score-all<"));
    let train = mhp_domain::pipeline::TRAIN;
    let (status, run, _) = ds
        .post_form(&format!("{pipelines}/{train}/runs"), &[("_csrf", &csrf)])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(run.starts_with(&format!("/orgs/{org}/runs/")), "{run}");
    let (status, _, body) = ds.get(&run).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("queued") && body.contains("dataset") && body.contains("Cancel the run"));
    let (status, location, _) = ds
        .post_form(&format!("{run}/cancel"), &[("_csrf", &csrf)])
        .await;
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::SEE_OTHER, run.as_str())
    );
    let (_, _, body) = ds.get(&run).await;
    assert!(body.contains("cancelled"), "{body}");

    // Schedules: set, refused in words, removed.
    let schedule = format!("{pipelines}/{train}/schedule");
    let (status, _, _) = ds
        .post_form(
            &schedule,
            &[
                ("_csrf", &csrf),
                ("cron", "0 4 * * 1"),
                ("timezone", "Europe/Oslo"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, _, body) = ds.get(&pipelines).await;
    assert!(
        body.contains("<code>0 4 * * 1</code> (Europe/Oslo)"),
        "{body}"
    );
    let (status, _, body) = ds
        .post_form(
            &schedule,
            &[
                ("_csrf", &csrf),
                ("cron", "now and then"),
                ("timezone", "UTC"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // The page again, the refusal beside the form, what was typed kept, the saved one intact.
    assert!(body.contains("<h1>Pipelines</h1>"), "{body}");
    assert!(
        body.contains(
            "role=\"alert\" id=\"schedule-error-train-injury-risk\">The schedule was not saved: "
        ),
        "{body}"
    );
    assert!(body.contains("value=\"now and then\""), "{body}");
    assert!(
        body.contains("<code>0 4 * * 1</code> (Europe/Oslo)"),
        "{body}"
    );
    let (status, _, _) = ds
        .post_form(&schedule, &[("_csrf", &csrf), ("remove", "1")])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, _, body) = ds.get(&pipelines).await;
    assert!(!body.contains("0 4 * * 1"));
}

#[tokio::test]
async fn a_data_scientist_finds_each_dataset_with_its_models_and_downloads_its_rows() {
    let w = world().await;
    let org = w.s.org.org();
    person(&w.s, "ds@example.org", Role::DataScientist).await;
    let mut ds = Browser::new(&w.s);
    ds.sign_in("ds@example.org").await;
    let page = format!("/orgs/{org}/datasets");
    let (status, _, body) = ds.get(&page).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("No dataset yet."), "{body}");
    assert!(body.contains(&format!(
        "<a href=\"{page}\" aria-current=\"page\">Datasets</a>"
    )));

    let run = crate::fixture_dataset(&w.s, &w.s.org).await;
    let lineage = serde_json::json!({ "dataset_fingerprint": "ab".repeat(32) }).to_string();
    model_version_with(&w.s, 0.71, &lineage).await;
    let (status, _, body) = ds.get(&page).await;
    assert_eq!(status, StatusCode::OK);
    for shown in [
        "2024-10-20",
        "1 (50.0 %)",
        "injury-risk v1</a> (candidate)",
        "<code>jump_height_z</code>",
        &format!("/api/v1/orgs/{org}/datasets/{run}/csv"),
    ] {
        assert!(body.contains(shown), "{shown}: {body}");
    }
    assert!(
        !body.contains("Ada Alpha") && !body.contains("p-one"),
        "no names, no rows"
    );

    // The download is the API's export: the rows, pseudonyms only, and an audit event.
    let (status, headers, csv) = ds
        .get(&format!("/api/v1/orgs/{org}/datasets/{run}/csv"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "subject,time,sex,sport,label,jump_height_z");
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(
        lines[2].starts_with("p-two,") && lines[2].ends_with(",1,-1.25"),
        "{csv}"
    );
    let mut tx =
        w.s.state
            .app
            .db
            .tenant(&w.s.org, Access::Read)
            .await
            .unwrap();
    let filter = audit::Filter {
        action: Some("dataset.export".into()),
        resource_id: Some(run.to_string()),
        ..Default::default()
    };
    assert_eq!(
        audit::search(&mut tx, &filter, None, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    drop(tx);
    // A run without a dataset has none to export.
    let other = mhp_domain::RunId::new();
    let (status, _, _) = ds
        .get(&format!("/api/v1/orgs/{org}/datasets/{other}/csv"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Staff of teams see no datasets.
    let mut coach = Browser::new(&w.s);
    coach.sign_in("coach@example.org").await;
    assert_eq!(coach.get(&page).await.0, StatusCode::FORBIDDEN);
}

/// The security page: administrators and auditors read the organisation's alerts and the
/// newest compliance self-check; an administrator acknowledges and resolves (with a reason);
/// an auditor has no decision to make, and a coach no page.
#[tokio::test]
async fn the_security_page_lists_alerts_and_an_administrator_resolves_one() {
    let w = world().await;
    person(&w.s, "admin@example.org", Role::OrgAdmin).await;
    let org = w.s.org.org();
    let app = &w.s.state.app;
    let mut tx = app.db.operator(Access::Write).await.unwrap();
    let org_text = org.to_string();
    let id = mhp_storage::repo::security::insert_alert(
        &mut tx,
        &mhp_storage::repo::security::NewAlert {
            rule_id: "erasure_burst",
            org: Some(&org_text),
            entity: "org.uid=x",
            severity: "high",
            technique: Some("T1485"),
            title: "Many subjects erased at once",
            first_at: app.clock.now(),
            event_count: 5,
        },
    )
    .await
    .unwrap()
    .unwrap();
    tx.commit().await.unwrap();
    let observed = mhp_app::compliance::Observed {
        at_ms: app.clock.now().as_millis(),
        ..Default::default()
    };
    let report =
        mhp_app::compliance::report(app, &mhp_app::compliance::Deployment::default(), &observed);
    mhp_app::compliance::record(app, &report).await.unwrap();

    let mut auditor = Browser::new(&w.s);
    auditor.sign_in("auditor@example.org").await;
    let (status, _, body) = auditor.get(&format!("/orgs/{org}/security")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Many subjects erased at once"), "{body}");
    assert!(body.contains("Compliance self-check"));
    assert!(!body.contains("Acknowledge"), "auditors decide nothing");
    let mut coach = Browser::new(&w.s);
    coach.sign_in("coach@example.org").await;
    let (status, _, _) = coach.get(&format!("/orgs/{org}/security")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let mut admin = Browser::new(&w.s);
    admin.sign_in("admin@example.org").await;
    let (status, _, body) = admin.get(&format!("/orgs/{org}/security")).await;
    assert_eq!(status, StatusCode::OK);
    let token = csrf_of(&body);
    let action = format!("/orgs/{org}/security/alerts/{id}");
    assert!(body.contains(&action), "{body}");
    // Resolving needs a reason: refused without one, nothing changed.
    let (status, _, _) = admin
        .post_form(&action, &[("_csrf", &token), ("status", "resolved")])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, location, _) = admin
        .post_form(
            &action,
            &[
                ("_csrf", &token),
                ("status", "resolved"),
                ("reason", "a planned clean-up of test records"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, format!("/orgs/{org}/security"));
    let (_, _, body) = admin.get(&format!("/orgs/{org}/security")).await;
    assert!(body.contains("No open alert."), "{body}");
    let (_, _, body) = admin
        .get(&format!("/orgs/{org}/security?status=resolved"))
        .await;
    assert!(
        body.contains("a planned clean-up of test records"),
        "{body}"
    );
}
