//! The scheduler: fires due cron schedules. Every worker process runs one; the firing
//! transaction moves the schedule's next time on (and PostgreSQL's `SKIP LOCKED` keeps two
//! schedulers off the same row), so each slot starts one run. Slots missed while no scheduler
//! ran start a single run, then the schedule continues from now.

use std::time::Duration;

use mhp_app::App;
use mhp_app::schedule::CronSchedule;
use mhp_domain::pipeline::{self, Trigger};
use mhp_storage::repo::pipelines::{self as queue, NewRun};
use mhp_storage::{Access, StorageError};
use tokio::sync::watch;

/// Fires every due schedule; returns how many runs it started.
///
/// # Errors
/// Storage errors; nothing is fired then.
pub async fn fire_due(state: &App) -> Result<usize, StorageError> {
    let now = state.clock.now();
    let mut tx = state.db.operator(Access::Write).await?;
    let due = queue::due_schedules(&mut tx, now, 100).await?;
    let mut started = 0;
    for s in &due {
        let def = pipeline::pipeline(&s.pipeline);
        let cron = CronSchedule::parse(&s.cron, &s.timezone);
        match (def, cron) {
            (Some(def), Ok(cron)) => {
                let run = NewRun {
                    pipeline: def,
                    trigger: Trigger::Schedule,
                    requested_by: "schedule",
                    params_json: &s.params_json,
                    not_before: now,
                };
                queue::fire_schedule(&mut tx, s, Some(&run), cron.next_after(now), now).await?;
                started += 1;
            }
            _ => {
                // Unknown pipeline or an expression that no longer parses: disable it, loudly.
                tracing::error!(
                    target: "mhp::alerts", alert = "pipeline_schedule_disabled",
                    schedule = %s.id, pipeline = %s.pipeline,
                    "a pipeline schedule cannot fire and was disabled"
                );
                queue::fire_schedule(&mut tx, s, None, None, now).await?;
            }
        }
    }
    tx.commit().await?;
    if started > 0 {
        state.pipeline_wakeup.notify_waiters();
    }
    Ok(started)
}

/// Fires due schedules every `every` until `shutdown`.
pub async fn run_scheduler(state: App, every: Duration, mut shutdown: watch::Receiver<bool>) {
    loop {
        if *shutdown.borrow() {
            break;
        }
        match fire_due(&state).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(runs = n, "pipeline schedules fired"),
            Err(e) => tracing::warn!(error = %e, "firing pipeline schedules failed"),
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => {}
        }
    }
}
