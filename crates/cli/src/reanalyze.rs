//! `mhp reanalyze`: recomputes stored assessments from their sealed raw files when this build's
//! analysis version differs from the one that computed them. The earlier result stays (history
//! of both versions); each new result is written with its audit event.

use anyhow::Context as _;
use mhp_domain::OrgScope;
use mhp_storage::Access;
use mhp_storage::repo::{Page, assessments};

use crate::Failure;
use crate::logging;
use crate::settings::{LoadNotes, Settings};

pub async fn run(settings: Settings, notes: LoadNotes, dry_run: bool) -> Result<(), Failure> {
    logging::init(&settings.log, &notes);
    let state = crate::serve::open_state(&settings).await?;
    let version = mhp_biomech::ANALYSIS_VERSION;
    let orgs = crate::serve::organisations(&state).await?;
    let (mut done, mut failed, mut stale_total) = (0u64, 0u64, 0u64);
    let started = std::time::Instant::now();
    for org in orgs {
        let scope = OrgScope::for_command_line(org.id);
        let mut after = None;
        loop {
            let page = {
                let mut tx = state
                    .app
                    .db
                    .tenant(&scope, Access::Read)
                    .await
                    .context("cannot start a transaction")?;
                assessments::stale(&mut tx, version, Page { after, limit: 200 })
                    .await
                    .context("cannot list assessments")?
            };
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            for a in &page {
                stale_total += 1;
                if dry_run {
                    continue;
                }
                match mhp_app::assessments::reanalyse(
                    &state.app,
                    &scope,
                    &mhp_app::Caller::cli(),
                    a,
                )
                .await
                {
                    Ok(_) => done += 1,
                    Err(e) => {
                        failed += 1;
                        // The id only: never the content.
                        tracing::error!(assessment = %a.id, error = %e, "re-analysis failed");
                    }
                }
            }
        }
    }
    state.app.db.close().await;
    if dry_run {
        println!("{stale_total} assessment(s) not at analysis version {version}");
    } else {
        let secs = started.elapsed().as_secs_f64();
        // Throughput and the process's peak memory, so that a run over a large organisation
        // shows its rate and that memory does not grow with the count (pages of 200).
        let rate = if secs > 0.0 {
            format!("{:.0} recordings/s", done as f64 / secs)
        } else {
            "-".to_owned()
        };
        let peak = peak_memory_mib().map_or_else(|| "unknown".to_owned(), |m| format!("{m} MiB"));
        println!(
            "re-analysed {done} assessment(s) to analysis version {version}; {failed} failed \
             ({rate} over {secs:.1} s, peak memory {peak})"
        );
    }
    if failed > 0 {
        return Err(Failure::Runtime(anyhow::anyhow!(
            "{failed} assessment(s) could not be re-analysed; see the log"
        )));
    }
    Ok(())
}

/// The process's peak resident memory (`VmHWM`), in MiB, where the system reports it (Linux).
fn peak_memory_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}
