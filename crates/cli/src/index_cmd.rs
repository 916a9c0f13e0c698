//! `mhp index rebuild`: reindexes every organisation's assessments from SQL, the system of
//! record (after a lost or changed index, or a new backend).

use anyhow::Context as _;
use mhp_domain::OrgScope;
use mhp_storage::Access;
use mhp_storage::repo::orgs;

use crate::Failure;
use crate::logging;
use crate::settings::{LoadNotes, Settings};

pub async fn rebuild(settings: Settings, notes: LoadNotes) -> Result<(), Failure> {
    logging::init(&settings.log, &notes);
    let state = crate::serve::open_state(&settings).await?;
    let all = {
        let mut tx = state
            .db
            .operator(Access::Read)
            .await
            .context("cannot start a transaction")?;
        orgs::list_all(&mut tx)
            .await
            .context("cannot list organisations")?
    };
    let mut total = 0;
    for org in &all {
        let n = mhp_server::indexing::rebuild_org(&state, &OrgScope::for_org(org.id))
            .await
            .map_err(|e| Failure::Runtime(anyhow::anyhow!("organisation {}: {e}", org.id)))?;
        total += n;
    }
    state.db.close().await;
    println!(
        "indexed {total} assessment(s) of {} organisation(s)",
        all.len()
    );
    Ok(())
}
