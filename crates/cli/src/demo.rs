//! `mhp demo`: creates a realistic synthetic organisation (teams, subjects, a season of weekly
//! jump sessions as real force traces, training load, injuries and return to duty from the
//! documented hazard model in `docs/design/hazard-model.md`) and sends all of it through the
//! API's own router, as a device and an administrator would: the same validation, analysis,
//! sealing, audit and indexing as real uploads.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use clap::Args;
use mhp_domain::{Clock as _, OrgName, OrgScope, Role, SystemClock, Timestamp};
use mhp_storage::Access;
use mhp_storage::repo::orgs;
use serde_json::{Value, json};
use tower::ServiceExt as _;

use crate::Failure;
use crate::logging;
use crate::settings::{LoadNotes, Settings};

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The organisation's name.
    #[arg(long, default_value = "Demo Performance Unit")]
    pub name: String,
    /// Seed of the generator (the same seed gives the same organisation).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Teams.
    #[arg(long, default_value_t = 3)]
    pub teams: usize,
    /// Subjects per team.
    #[arg(long, default_value_t = 50)]
    pub subjects_per_team: usize,
    /// Weeks of the season.
    #[arg(long, default_value_t = 16)]
    pub weeks: usize,
}

/// Progress bars on standard error while the demo is sent through the API: drawn only on a
/// terminal (indicatif hides them otherwise, and the log's lines say how far it got).
struct Progress {
    bars: indicatif::MultiProgress,
}

impl Progress {
    fn new() -> Self {
        Self {
            bars: indicatif::MultiProgress::with_draw_target(
                indicatif::ProgressDrawTarget::stderr(),
            ),
        }
    }

    /// A bar of `total` steps named `what`, under the earlier ones.
    fn bar(&self, what: &'static str, total: usize) -> indicatif::ProgressBar {
        let bar = self.bars.add(indicatif::ProgressBar::new(
            u64::try_from(total).unwrap_or(u64::MAX),
        ));
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{prefix:>18} [{bar:40}] {pos}/{len}, {elapsed} (about {eta} left)",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix(what);
        bar
    }
}

async fn key(
    state: &mhp_server::AppState,
    scope: &OrgScope,
    role: Role,
    name: &str,
) -> Result<String, Failure> {
    let now = SystemClock.now();
    let mut tx = state
        .app
        .db
        .tenant(scope, Access::Write)
        .await
        .context("cannot start a transaction")?;
    let expires_at = Timestamp::from_millis(now.as_millis() + 30 * 86_400_000);
    let (_, token) = crate::admin::issue_api_key(&mut tx, role, name, expires_at, now).await?;
    tx.commit().await.context("cannot commit")?;
    Ok(token.expose().clone())
}

/// One request through the router; its JSON answer, or an error naming the request.
struct Api {
    router: axum::Router,
    prefix: String,
}

impl Api {
    async fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        content_type: &str,
        body: Vec<u8>,
        extra: Option<(&str, String)>,
    ) -> Result<Value, Failure> {
        let mut req = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.prefix))
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", content_type);
        if let Some((name, value)) = extra {
            req = req.header(name, value);
        }
        let req = req
            .body(Body::from(body))
            .map_err(|e| Failure::Runtime(e.into()))?;
        let res = self
            .router
            .clone()
            .oneshot(req)
            .await
            .map_err(|e| Failure::Runtime(anyhow::anyhow!("{e}")))?;
        let status = res.status();
        let bytes = axum::body::to_bytes(res.into_body(), 16 * 1024 * 1024)
            .await
            .map_err(|e| Failure::Runtime(anyhow::anyhow!("{e}")))?;
        if !(status.is_success() || status == StatusCode::OK) {
            return Err(Failure::Runtime(anyhow::anyhow!(
                "{method} {path} answered {status}: {}",
                String::from_utf8_lossy(&bytes)
            )));
        }
        Ok(serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    async fn json(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: &Value,
    ) -> Result<Value, Failure> {
        self.call(
            method,
            path,
            token,
            "application/json",
            body.to_string().into_bytes(),
            None,
        )
        .await
    }
}

fn id(v: &Value) -> Result<String, Failure> {
    v["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| Failure::Runtime(anyhow::anyhow!("an answer without an id")))
}

pub async fn run(settings: Settings, notes: LoadNotes, args: DemoArgs) -> Result<(), Failure> {
    logging::init(&settings.log, &notes);
    let spec = mhp_demo::DemoSpec {
        seed: args.seed,
        teams: args.teams,
        subjects_per_team: args.subjects_per_team,
        weeks: args.weeks,
        ..mhp_demo::DemoSpec::default()
    };
    let plan = mhp_demo::plan(&spec).map_err(|e| Failure::Invalid(format!("demo: {e}")))?;
    let name = OrgName::parse(&args.name).map_err(|e| Failure::Invalid(format!("--name {e}")))?;

    crate::serve::create_private_dir(&settings.data_dir)?;
    let state = crate::serve::open_state_for(&settings, crate::root::RootUse::Create).await?;
    let started = Instant::now();
    let org = {
        let mut tx = state
            .app
            .db
            .operator(Access::Write)
            .await
            .context("cannot start a transaction")?;
        let org = orgs::create(&mut tx, &name, SystemClock.now())
            .await
            .context("cannot create the organisation")?;
        tx.commit().await.context("cannot commit")?;
        org
    };
    let scope = OrgScope::for_command_line(org.id);
    let admin = key(&state, &scope, Role::OrgAdmin, "demo administrator").await?;
    let device = key(&state, &scope, Role::Device, "demo force plate").await?;
    let api = Api {
        router: mhp_server::router(state.clone(), &settings.http_config()),
        prefix: format!("/api/v1/orgs/{}", org.id),
    };

    let mut teams = Vec::new();
    for t in &plan.teams {
        teams.push(id(&api
            .json("POST", "/teams", &admin, &json!({"name": t.name}))
            .await?)?);
    }
    let progress = Progress::new();
    let bar = progress.bar("subjects", plan.subjects.len());
    let mut subjects = Vec::new();
    for s in &plan.subjects {
        let body = json!({
            "name": s.name, "external_id": s.external_id, "sex": s.sex.as_str(),
            "birth_date": mhp_demo::iso_date(s.birth_day), "sport": s.sport,
            "team_ids": [teams[s.team]],
        });
        subjects.push(id(&api.json("POST", "/subjects", &admin, &body).await?)?);
        bar.inc(1);
    }
    bar.finish();
    let bar = progress.bar("jump recordings", plan.assessments.len());
    let plan = Arc::new(plan);
    let mut uploaded = 0usize;
    for (i, a) in plan.assessments.iter().enumerate() {
        let p = plan.clone();
        let csv = tokio::task::spawn_blocking(move || mhp_demo::recording_csv(&p, i))
            .await
            .map_err(|e| Failure::Runtime(e.into()))?
            .map_err(|e| Failure::Runtime(anyhow::anyhow!("{e}")))?;
        let path = format!(
            "/subjects/{}/assessments?recorded_at_ms={}",
            subjects[a.subject], a.recorded_at_ms
        );
        let idem = Some(("idempotency-key", format!("demo-{}-{i}", args.seed)));
        api.call("POST", &path, &device, "text/csv", csv.into_bytes(), idem)
            .await?;
        uploaded += 1;
        bar.inc(1);
        if uploaded.is_multiple_of(250) && bar.is_hidden() {
            tracing::info!(uploaded, total = plan.assessments.len(), "demo uploads");
        }
    }
    bar.finish();
    let bar = progress.bar("training sessions", plan.loads.len());
    for l in &plan.loads {
        let body = json!({
            "session_date": mhp_demo::iso_date(l.day), "session_type": l.session_type,
            "duration_min": l.duration_min, "rpe": l.rpe,
        });
        api.json(
            "POST",
            &format!("/subjects/{}/loads", subjects[l.subject]),
            &admin,
            &body,
        )
        .await?;
        bar.inc(1);
    }
    bar.finish();
    let bar = progress.bar("injuries", plan.injuries.len());
    for inj in &plan.injuries {
        let body = json!({
            "body_region": inj.body_region, "injury_type": inj.injury_type, "side": inj.side,
            "severity": inj.severity, "mechanism": inj.mechanism,
            "occurred_on": mhp_demo::iso_date(inj.occurred_day),
            "time_loss_days": inj.time_loss_days,
        });
        let path = format!("/subjects/{}/injuries", subjects[inj.subject]);
        let injury = id(&api.json("POST", &path, &admin, &body).await?)?;
        for (stage, day) in &inj.return_to_duty {
            let body = json!({"stage": stage, "decided_on": mhp_demo::iso_date(*day)});
            api.json(
                "POST",
                &format!("/injuries/{injury}/decisions"),
                &admin,
                &body,
            )
            .await?;
        }
        bar.inc(1);
    }
    bar.finish();
    let people = sign_ins(&state, &org, &teams, &subjects).await?;
    // A season of data at once: the planner's statistics are made for it before anyone reads.
    state
        .app
        .db
        .refresh_statistics()
        .await
        .context("cannot refresh the planner's statistics")?;
    state.app.db.close().await;
    println!("organisation: {} ({})", org.name, org.id);
    println!(
        "{} teams, {} subjects, {} assessments, {} training sessions, {} injuries in {:.1} s",
        teams.len(),
        subjects.len(),
        uploaded,
        plan.loads.len(),
        plan.injuries.len(),
        started.elapsed().as_secs_f64()
    );
    println!("administrator api key (shown once, expires in 30 days): {admin}");
    println!("sign in at /sign-in (passwords shown once):");
    for (role, email, password) in &people {
        println!("  {role:<15} {email:<45} {}", password.expose());
    }
    Ok(())
}

/// The demo's people, one per role, each with a generated password (not one-time: the demo is
/// for looking around): an administrator, a clinician, a coach of the first team, an athlete
/// linked to the first subject, an auditor and a data scientist. Their addresses are made from
/// the organisation's name, so that demo organisations of other names do not collide.
async fn sign_ins(
    state: &mhp_server::AppState,
    org: &orgs::Organization,
    teams: &[String],
    subjects: &[String],
) -> Result<Vec<(&'static str, String, mhp_domain::Secret<String>)>, Failure> {
    use mhp_auth::password;
    use mhp_domain::{DisplayName, Email, SubjectId, TeamId};
    use mhp_storage::repo::audit::{self, AuditEvent};
    use mhp_storage::repo::users::{self, NewUser};
    let slug: String = org
        .name
        .as_str()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect::<String>()
        .split('-')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    let slug = if slug.is_empty() {
        "demo".to_owned()
    } else {
        slug
    };
    let roles = [
        ("org_admin", "admin", "Demo Administrator", Role::OrgAdmin),
        ("clinician", "clinician", "Demo Clinician", Role::Clinician),
        ("coach", "coach", "Demo Coach", Role::Coach),
        ("athlete", "athlete", "Demo Athlete", Role::Athlete),
        ("auditor", "auditor", "Demo Auditor", Role::Auditor),
        (
            "data_scientist",
            "data-scientist",
            "Demo Data Scientist",
            Role::DataScientist,
        ),
    ];
    let now = SystemClock.now();
    let mut people = Vec::new();
    let mut made = Vec::new();
    let mut tx = state
        .app
        .db
        .operator(Access::Write)
        .await
        .context("cannot start a transaction")?;
    for (code, local, name, role) in roles {
        let email = Email::parse(&format!("{local}@{slug}.example"))
            .map_err(|e| Failure::Invalid(format!("demo address: {e}")))?;
        let display = DisplayName::parse(name).map_err(|e| Failure::Invalid(e.to_string()))?;
        let secret = password::one_time_secret();
        let hash = password::hash(&secret).map_err(|e| Failure::Runtime(e.into()))?;
        let user = users::create(
            &mut tx,
            &NewUser {
                email: &email,
                display_name: &display,
                password_hash: Some(&hash),
                password_change_required: false,
                platform_role: None,
            },
            now,
        )
        .await
        .context("cannot create a demo user (run the demo with another --name?)")?;
        users::grant_as_operator(&mut tx, org.id, user.id, role, now)
            .await
            .context("cannot grant a demo role")?;
        for (action, id) in [
            ("user.create", user.id.to_string()),
            ("membership.grant", user.id.to_string()),
        ] {
            let event = AuditEvent::outside_request("cli", action, "user", Some(id));
            audit::append_as_operator(&mut tx, Some(org.id), &event, now)
                .await
                .context("cannot write the audit event")?;
        }
        made.push((role, user.id));
        people.push((code, email.as_str().to_owned(), secret));
    }
    tx.commit().await.context("cannot commit")?;
    let scope = OrgScope::for_command_line(org.id);
    let mut tx = state
        .app
        .db
        .tenant(&scope, Access::Write)
        .await
        .context("cannot start a transaction")?;
    let caller = mhp_app::Caller::cli();
    let mut coach = None;
    for (role, user) in made {
        match role {
            Role::Coach => {
                if let Some(team) = teams.first().and_then(|t| TeamId::parse(t).ok()) {
                    coach = Some((team, user));
                }
            }
            Role::Athlete => {
                if let Some(subject) = subjects.first().and_then(|s| SubjectId::parse(s).ok()) {
                    mhp_storage::repo::subjects::link_user(&mut tx, subject, user, now)
                        .await
                        .context("cannot link the athlete")?;
                    caller
                        .record(
                            &mut tx,
                            "subject.link",
                            "subject",
                            Some(subject.to_string()),
                            now,
                        )
                        .await
                        .context("cannot write the audit event")?;
                }
            }
            _ => {}
        }
    }
    tx.commit().await.context("cannot commit")?;
    if let Some((team, user)) = coach {
        mhp_app::teams::add_staff(&state.app, &scope, &caller, team, user)
            .await
            .context("cannot make the coach staff")?;
    }
    Ok(people)
}
