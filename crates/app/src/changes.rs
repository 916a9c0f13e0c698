//! An organisation's change feed, for systems that mirror MHP (an athlete-management system,
//! an electronic health record, a warehouse): what changed since a cursor, in commit order,
//! erasures and archivals included as tombstones, so a mirror never re-pulls whole months.
//!
//! The feed is the organisation's audit log of changes: each change wrote its event in its own
//! transaction, so the feed holds every change that committed and none that did not, and a
//! cursor (the event's position) is stable: the same cursor always gives the same next page.

use mhp_domain::OrgScope;
use mhp_storage::Access;
use mhp_storage::repo::audit;

use crate::{App, AppError};

/// What a change did to its resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// It was made.
    Created,
    /// It changed (fetch it again).
    Updated,
    /// It was archived: still readable, no longer active.
    Archived,
    /// It was erased, with everything recorded of it: a tombstone (delete it from the mirror).
    Erased,
}

impl ChangeKind {
    /// Its name.
    pub const fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Created => "created",
            ChangeKind::Updated => "updated",
            ChangeKind::Archived => "archived",
            ChangeKind::Erased => "erased",
        }
    }
}

/// The audit actions the feed tells of: (action, resource kind in the feed, change).
pub const FEED: &[(&str, &str, ChangeKind)] = &[
    ("subject.create", "subject", ChangeKind::Created),
    ("subject.update", "subject", ChangeKind::Updated),
    ("subject.archive", "subject", ChangeKind::Archived),
    ("subject.erase", "subject", ChangeKind::Erased),
    ("assessment.create", "assessment", ChangeKind::Created),
    ("assessment.reanalyze", "assessment", ChangeKind::Updated),
    ("injury.create", "injury", ChangeKind::Created),
    ("injury.decision", "injury", ChangeKind::Updated),
    // Training load is kept per subject: the subject's loads changed.
    ("load.create", "subject_loads", ChangeKind::Updated),
];

/// The resource kinds of the feed, in the order the documentation lists them.
pub const KINDS: &[&str] = &["subject", "assessment", "injury", "subject_loads"];

/// One change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeItem {
    /// Where it stands in the feed (pass it back to read on after it).
    pub cursor: String,
    /// The resource kind (`subject`, `assessment`, `injury`, `subject_loads`).
    pub kind: &'static str,
    /// The resource's id (for `subject_loads`, the subject's).
    pub id: String,
    /// What happened.
    pub change: ChangeKind,
    /// When, ms since the epoch.
    pub at_ms: i64,
}

/// A cursor as clients see it: `<transaction>.<row>`, both decimal.
pub fn cursor_text(position: (i64, i64)) -> String {
    format!("{}.{}", position.0, position.1)
}

/// Reads a cursor given back by a client as `after`; `None` is the beginning.
pub fn parse_cursor(text: Option<&str>) -> Result<(i64, i64), AppError> {
    cursor_named("after", text)
}

/// Reads a cursor given back by a client in the parameter `field`; `None` is the beginning.
fn cursor_named(field: &str, text: Option<&str>) -> Result<(i64, i64), AppError> {
    let Some(text) = text else {
        return Ok((0, 0));
    };
    text.split_once('.')
        .and_then(|(a, b)| Some((a.parse::<i64>().ok()?, b.parse::<i64>().ok()?)))
        .filter(|(a, b)| *a >= 0 && *b >= 0)
        .ok_or_else(|| {
            AppError::malformed(format!(
                "{field} must be a cursor from the change feed or an earlier listing (or 0.0)"
            ))
        })
}

/// What changed of one kind since a cursor: a listing's `updated_since`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Since {
    /// The resources made, changed or archived since the cursor (still there: list them), in
    /// the order of their latest change.
    pub changed: Vec<String>,
    /// The resources erased since the cursor, with when: tombstones.
    pub erased: Vec<(String, i64)>,
    /// When each changed resource first changed after the cursor, ms since the epoch (for
    /// records kept per resource, such as a subject's sessions: those made from then on).
    pub first_changed_ms: std::collections::BTreeMap<String, i64>,
    /// The cursor to pass as `updated_since` next time (the same as given when nothing
    /// changed: poll again later with it).
    pub next: String,
}

/// The `kind` resources that changed after the cursor `updated_since` (`0.0`: since the
/// beginning), reading at most `limit` changes of the feed; a listing shows the changed ones
/// and the tombstones, and its next call passes [`Since::next`].
pub async fn since(
    app: &App,
    scope: &OrgScope,
    updated_since: &str,
    kind: &'static str,
    limit: u32,
) -> Result<Since, AppError> {
    let after = cursor_named("updated_since", Some(updated_since))?;
    let (items, next) = feed(app, scope, after, &[kind.to_owned()], limit).await?;
    let mut changed: Vec<String> = Vec::new();
    let mut erased: Vec<(String, i64)> = Vec::new();
    let mut first_changed_ms = std::collections::BTreeMap::new();
    for item in items {
        first_changed_ms
            .entry(item.id.clone())
            .or_insert(item.at_ms);
        changed.retain(|id| *id != item.id);
        if item.change == ChangeKind::Erased {
            erased.push((item.id, item.at_ms));
        } else {
            changed.push(item.id);
        }
    }
    first_changed_ms.retain(|id, _| changed.contains(id));
    Ok(Since {
        changed,
        erased,
        first_changed_ms,
        next,
    })
}

/// The changes after `after` of the kinds asked for (all when `kinds` is empty), at most
/// `limit`; with the cursor to read on from (the last change's, or `after` when none).
pub async fn feed(
    app: &App,
    scope: &OrgScope,
    after: (i64, i64),
    kinds: &[String],
    limit: u32,
) -> Result<(Vec<ChangeItem>, String), AppError> {
    if let Some(unknown) = kinds.iter().find(|k| !KINDS.contains(&k.as_str())) {
        return Err(AppError::malformed(format!(
            "kind {unknown:?} is not one of {}",
            KINDS.join(", ")
        )));
    }
    let actions: Vec<&str> = FEED
        .iter()
        .filter(|(_, kind, _)| kinds.is_empty() || kinds.iter().any(|k| k == kind))
        .map(|(action, _, _)| *action)
        .collect();
    let mut tx = app.db.tenant(scope, Access::Read).await?;
    let changes = audit::changes_after(&mut tx, after, &actions, limit).await?;
    tx.commit().await?;
    let next = changes
        .last()
        .map_or_else(|| cursor_text(after), |c| cursor_text(c.position));
    let items = changes
        .into_iter()
        .filter_map(|c| {
            let (_, kind, change) = FEED.iter().find(|(a, _, _)| *a == c.action)?;
            Some(ChangeItem {
                cursor: cursor_text(c.position),
                kind,
                id: c.resource_id?,
                change: *change,
                at_ms: c.at_ms,
            })
        })
        .collect();
    Ok((items, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_nonsense_is_refused() {
        assert_eq!(parse_cursor(None).unwrap(), (0, 0));
        assert_eq!(
            parse_cursor(Some(&cursor_text((17, 4242)))).unwrap(),
            (17, 4242)
        );
        for bad in ["", "12", "a.b", "-1.3", "1.2.3", "1."] {
            assert!(parse_cursor(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_kind_is_fed_by_some_action() {
        for kind in KINDS {
            assert!(FEED.iter().any(|(_, k, _)| k == kind), "{kind}");
        }
        for (_, kind, _) in FEED {
            assert!(KINDS.contains(kind), "{kind}");
        }
    }
}
