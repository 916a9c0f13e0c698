//! Raw files no assessment refers to. An upload seals its raw file into the object store, then
//! commits the assessment's row; a crash between the two (or a failed delete after a failed
//! commit) leaves a sealed file with no row. `mhp serve` sweeps such files at start-up and then
//! every hour, once they are older than a grace period (so an upload in flight, whose file is
//! written but whose row is not committed yet, is never touched).

use std::collections::HashSet;
use std::time::{Duration, SystemTime};

use mhp_storage::Access;
use mhp_storage::repo::{assessments, orgs};

use crate::{App, AppError};

/// How old an unreferenced raw file must be before it is removed: far longer than any upload
/// takes between writing the file and committing its row.
pub const ORPHAN_GRACE: Duration = Duration::from_secs(60 * 60);

/// Removes every organisation's raw files that no assessment refers to and that were written
/// more than `grace` ago. Returns how many it removed.
pub async fn sweep_orphan_objects(app: &App, grace: Duration) -> Result<u64, AppError> {
    let cut_off = SystemTime::now()
        .checked_sub(grace)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let orgs = {
        let mut tx = app.db.operator(Access::Read).await?;
        orgs::list_all(&mut tx).await?
    };
    let mut removed = 0;
    for org in orgs {
        let old: Vec<_> = app
            .objects
            .list(&format!("orgs/{}/raw/", org.id))
            .await?
            .into_iter()
            .filter(|o| o.modified < cut_off)
            .collect();
        if old.is_empty() {
            continue;
        }
        // Read after listing: a row committed meanwhile is seen, so its file stays.
        let referenced: HashSet<String> = {
            let scope = mhp_domain::OrgScope::for_operator(org.id, "sweep of orphan raw files");
            let mut tx = app.db.tenant(&scope, Access::Read).await?;
            assessments::raw_object_keys(&mut tx)
                .await?
                .into_iter()
                .collect()
        };
        for object in old {
            if !referenced.contains(object.key.as_str()) {
                app.objects.delete(&object.key).await?;
                removed += 1;
            }
        }
    }
    Ok(removed)
}

/// The sweep of `mhp serve`: at start and every `every`, until `stop` resolves. Failures are
/// logged and retried on the next tick.
pub async fn run_sweeps(app: App, every: Duration, stop: impl std::future::Future<Output = ()>) {
    let mut ticks = tokio::time::interval(every);
    let sweeps = async {
        loop {
            ticks.tick().await;
            match sweep_orphan_objects(&app, ORPHAN_GRACE).await {
                Ok(removed) => {
                    tracing::info!(removed, "swept raw files that no assessment refers to");
                }
                Err(e) => tracing::error!(error = %e, "the sweep of orphan raw files failed"),
            }
        }
    };
    tokio::select! {
        () = sweeps => {}
        () = stop => {}
    }
}
