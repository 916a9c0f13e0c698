//! `mhp index rebuild`: reindexes every organisation's assessments from SQL, the system of
//! record (after a lost or changed index, or a new backend).

use mhp_domain::OrgScope;

use crate::Failure;
use crate::logging;
use crate::settings::{LoadNotes, Settings};

pub async fn rebuild(settings: Settings, notes: LoadNotes) -> Result<(), Failure> {
    logging::init(&settings.log, &notes);
    let state = crate::serve::open_state(&settings).await?;
    let all = crate::serve::organisations(&state).await?;
    let mut total = 0;
    for org in &all {
        let n = mhp_app::indexing::rebuild_org(&state.app, &OrgScope::for_command_line(org.id))
            .await
            .map_err(|e| Failure::Runtime(anyhow::anyhow!("organisation {}: {e}", org.id)))?;
        total += n;
    }
    state.app.db.close().await;
    println!(
        "indexed {total} assessment(s) of {} organisation(s)",
        all.len()
    );
    Ok(())
}
