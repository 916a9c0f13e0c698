//! The test environment, shared by the tests and the benchmarks in `examples/`: a state over a
//! fresh database, object store and keys, with one organisation and a clock the caller moves.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mhp_domain::{OrgName, OrgScope, Timestamp};
use mhp_server::AppState;
use mhp_storage::repo::orgs;
use mhp_storage::{Access, Db, DbOptions, migrate};

pub use mhp_test_support::clock::TestClock;

/// A state with a fresh database, object store and keys, and one organisation.
#[allow(missing_debug_implementations)]
pub struct Env {
    pub state: AppState,
    pub scope: OrgScope,
    pub clock: Arc<TestClock>,
    _dir: Arc<tempfile::TempDir>,
}

impl Env {
    /// The same instance (state, database, keys, clock) acting in a new organisation.
    #[allow(dead_code)] // not every user of this module needs a second organisation
    pub async fn another_org(&self, name: &str) -> Env {
        let mut tx = self.state.app.db.operator(Access::Write).await.unwrap();
        let org = orgs::create(
            &mut tx,
            &OrgName::parse(name).unwrap(),
            self.state.app.clock.now(),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        Env {
            state: self.state.clone(),
            scope: OrgScope::for_operator(org.id, "test"),
            clock: self.clock.clone(),
            _dir: self._dir.clone(),
        }
    }

    /// A transaction in the test organisation.
    pub async fn tx(&self, access: Access) -> mhp_storage::TenantTx {
        self.state.app.db.tenant(&self.scope, access).await.unwrap()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub async fn env(backend: Backend, now: Timestamp) -> Option<Env> {
    let dir = tempfile::tempdir().unwrap();
    let url = match backend {
        Backend::Sqlite => format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("mhp.sqlite").display()
        ),
        Backend::Postgres => mhp_test_support::fresh_postgres().await?,
    };
    let db = Db::connect(&url, &DbOptions::default()).await.unwrap();
    migrate::run(&db).await.unwrap();
    Some(env_on(db, dir, now).await)
}

pub async fn env_on(db: Db, dir: tempfile::TempDir, now: Timestamp) -> Env {
    let clock = Arc::new(TestClock::starting_at(now));
    let state = mhp_server::local_state(dir.path(), db.clone(), clock.clone())
        .await
        .unwrap();
    let mut tx = db.operator(Access::Write).await.unwrap();
    let org = orgs::create(&mut tx, &OrgName::parse("Test org").unwrap(), now)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    Env {
        state,
        scope: OrgScope::for_operator(org.id, "test"),
        clock,
        _dir: Arc::new(dir),
    }
}

/// Enqueues a run of `def` with `params` (as the API would) and wakes the workers.
pub async fn enqueue(
    env: &Env,
    def: &mhp_domain::pipeline::PipelineDef,
    params: &serde_json::Value,
) -> mhp_domain::RunId {
    use mhp_storage::repo::pipelines::{self as queue, NewRun};
    let now = env.state.app.clock.now();
    let mut tx = env.tx(Access::Write).await;
    let id = queue::enqueue(
        &mut tx,
        &NewRun {
            pipeline: def,
            trigger: mhp_domain::pipeline::Trigger::Api,
            requested_by: "test",
            params_json: &params.to_string(),
            not_before: now,
        },
        now,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    env.state.app.pipeline_wakeup.notify_waiters();
    id
}

/// Waits (at most 2 minutes) until the run is `want`; panics, with its log, when it ends
/// otherwise.
pub async fn wait_for(
    env: &Env,
    run: mhp_domain::RunId,
    want: mhp_storage::repo::pipelines::RunStatus,
) -> mhp_storage::repo::pipelines::Run {
    use mhp_storage::repo::pipelines as queue;
    let started = Instant::now();
    loop {
        let mut tx = env.tx(Access::Read).await;
        let r = queue::get(&mut tx, run).await.unwrap();
        if r.status == want {
            return r;
        }
        if r.status.is_terminal() {
            let logs = queue::logs(&mut tx, run, 100).await.unwrap();
            panic!(
                "{} ended {:?}: {:?}\n{logs:#?}",
                r.pipeline, r.status, r.error
            );
        }
        drop(tx);
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "{} never became {want:?}",
            r.pipeline
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Runs the catalogue pipeline `name` to success.
pub async fn run_ok(env: &Env, name: &str, params: serde_json::Value) -> mhp_domain::RunId {
    let def = mhp_domain::pipeline::pipeline(name).unwrap();
    let id = enqueue(env, def, &params).await;
    wait_for(env, id, mhp_storage::repo::pipelines::RunStatus::Succeeded).await;
    id
}

/// The output of a step of a run.
pub async fn output(env: &Env, run: mhp_domain::RunId, step: &str) -> serde_json::Value {
    let mut tx = env.state.app.db.operator(Access::Read).await.unwrap();
    let out = mhp_storage::repo::pipelines::step_output(&mut tx, run, step)
        .await
        .unwrap()
        .unwrap();
    serde_json::from_str(&out).unwrap()
}
