//! Detection rules as data, and their evaluator.
//!
//! A rule matches OCSF events by their fields, groups them by an entity (an account, an
//! address, an organisation) and raises an alert when, inside a sliding window, the group holds
//! enough events or enough distinct values of a field (`threshold`); or when an entity shows a
//! value never seen for it after it has existed for a while (`new_value`); or when it acts after
//! a long silence (`dormant`). The shipped pack is `rules/default.toml`.
//!
//! [`Engine`] is deterministic: events in, alerts out. Its windows serialise ([`State`]); what
//! it must remember for months (when an account last signed in, a key's addresses) lives in a
//! table the caller loads and saves ([`Seen`]): [`Engine::seen_keys`] names the rows a batch
//! needs. An alert is deduplicated per rule and entity: while events keep arriving within the
//! window of the last one, they add to the open alert instead of raising another.

use std::collections::{BTreeMap, HashMap, VecDeque};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::fields::{Field, Fields};

/// A rule pack that does not read.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    /// The file is not a rule pack.
    #[error("rule pack: {0}")]
    Parse(String),
    /// A rule is inconsistent.
    #[error("rule {rule}: {problem}")]
    Invalid {
        /// Its id.
        rule: String,
        /// What is wrong.
        problem: String,
    },
}

/// How bad an alert is (OCSF `severity_id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// 1.
    Informational,
    /// 2.
    Low,
    /// 3.
    Medium,
    /// 4.
    High,
    /// 5.
    Critical,
}

impl Severity {
    /// The OCSF `severity_id`.
    pub const fn id(self) -> u32 {
        match self {
            Severity::Informational => 1,
            Severity::Low => 2,
            Severity::Medium => 3,
            Severity::High => 4,
            Severity::Critical => 5,
        }
    }

    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Severity::Informational => "informational",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// A MITRE ATT&CK reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Technique {
    /// `T1110.001`.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The tactic it serves.
    pub tactic: Option<Tactic>,
}

/// A MITRE ATT&CK tactic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tactic {
    /// `TA0006`.
    pub id: String,
    /// Its name.
    pub name: String,
}

/// Who sees a rule's alerts: the organisation of the events (and the platform operator), or
/// the platform operator only (attacks that cross organisations).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// The events' organisation, when they name one.
    #[default]
    Organisation,
    /// The platform.
    Platform,
}

/// One test on an event's field (a dotted path; a number step indexes an array).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// The field.
    pub field: String,
    /// Holds exactly this value.
    pub equals: Option<Value>,
    /// Holds one of these (an array field: any of its items does).
    pub one_of: Option<Vec<Value>>,
    /// An array field that holds this value.
    pub contains: Option<Value>,
    /// Holds the same value as this other field.
    pub same_as: Option<String>,
    /// Is present (true) or absent (false).
    pub exists: Option<bool>,
}

impl Condition {
    fn check(&self) -> Result<(), String> {
        let ops = [
            self.equals.is_some(),
            self.one_of.is_some(),
            self.contains.is_some(),
            self.same_as.is_some(),
            self.exists.is_some(),
        ];
        match ops.iter().filter(|o| **o).count() {
            1 => Ok(()),
            _ => Err(format!(
                "condition on {} needs exactly one of equals, one_of, contains, same_as, exists",
                self.field
            )),
        }
    }

    fn holds<E: Fields + ?Sized>(&self, event: &E) -> bool {
        let v = event.field(&self.field);
        if let Some(want) = &self.equals {
            return v.is_some_and(|v| v.is(want));
        }
        if let Some(options) = &self.one_of {
            return v.is_some_and(|v| match v {
                Field::List(items) => items.iter().any(|i| options.iter().any(|o| i.is(o))),
                v => options.iter().any(|o| v.is(o)),
            });
        }
        if let Some(want) = &self.contains {
            return matches!(v, Some(Field::List(items)) if items.iter().any(|i| i.is(want)));
        }
        if let Some(other) = &self.same_as {
            return match (v, event.field(other)) {
                (Some(a), Some(b)) => a != Field::Null && a.same(&b),
                _ => false,
            };
        }
        if let Some(present) = self.exists {
            return v.is_some_and(|v| v != Field::Null) == present;
        }
        false
    }
}

/// A field's value as text, for entities and distinct counts.
fn text<E: Fields + ?Sized>(event: &E, path: &str) -> Option<String> {
    event.field(path)?.text()
}

/// How many, of what, raise a threshold rule.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Threshold {
    /// At least this many events.
    pub events: Option<u32>,
    /// At least this many distinct values of each field.
    #[serde(default)]
    pub distinct: BTreeMap<String, u32>,
}

/// What a rule looks for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Kind {
    /// Enough events (or distinct values) for one group inside the window.
    Threshold {
        /// The fields whose values make the group (none: one group for everything).
        group_by: Vec<String>,
        /// The window, in seconds.
        window_s: u64,
        /// What must be reached.
        threshold: Threshold,
    },
    /// A value never seen for an entity that has existed for at least `min_entity_age_s`.
    NewValue {
        /// The entity's field.
        entity: String,
        /// The value's field.
        value: String,
        /// How old the entity must be, in seconds.
        min_entity_age_s: u64,
        /// Events that mark an entity's birth (its creation), if any.
        #[serde(default)]
        born_when: Vec<Condition>,
        /// The entity's field in those events.
        born_entity: Option<String>,
    },
    /// An entity acting after at least `idle_s` seconds of silence.
    Dormant {
        /// The entity's field.
        entity: String,
        /// The silence, in seconds.
        idle_s: u64,
    },
}

/// One detection rule. (Unknown fields are refused by [`Kind`], which receives what the rule's
/// own fields leave.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// Stable id (`brute_force_account`), the alerts' and the Wazuh rules' reference.
    pub id: String,
    /// What an alert says.
    pub title: String,
    /// How bad.
    pub severity: Severity,
    /// The ATT&CK technique.
    pub technique: Option<Technique>,
    /// Who sees its alerts.
    #[serde(default)]
    pub scope: Scope,
    /// Whether it runs.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Conditions that must all hold.
    #[serde(default)]
    pub when: Vec<Condition>,
    /// Alternatives, one of which must hold (each a list of conditions).
    #[serde(default)]
    pub any: Vec<Vec<Condition>>,
    /// What it looks for.
    #[serde(flatten)]
    pub kind: Kind,
}

fn yes() -> bool {
    true
}

impl Rule {
    fn matches<E: Fields + ?Sized>(&self, event: &E) -> bool {
        self.when.iter().all(|c| c.holds(event))
            && (self.any.is_empty()
                || self
                    .any
                    .iter()
                    .any(|alt| alt.iter().all(|c| c.holds(event))))
    }

    /// How long an alert stays open to further events, in milliseconds.
    pub fn window_ms(&self) -> i64 {
        let s = match &self.kind {
            Kind::Threshold { window_s, .. } => *window_s,
            Kind::NewValue { .. } | Kind::Dormant { .. } => 3600,
        };
        i64::try_from(s.saturating_mul(1000)).unwrap_or(i64::MAX)
    }

    fn check(&self) -> Result<(), RuleError> {
        let bad = |problem: String| RuleError::Invalid {
            rule: self.id.clone(),
            problem,
        };
        if self.id.is_empty()
            || !self
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            return Err(bad("ids are lower-case letters, digits and _".into()));
        }
        if self.when.is_empty() && self.any.is_empty() {
            return Err(bad("a rule needs conditions (when or any)".into()));
        }
        for c in self.when.iter().chain(self.any.iter().flatten()) {
            c.check().map_err(bad)?;
        }
        match &self.kind {
            Kind::Threshold {
                window_s,
                threshold,
                ..
            } => {
                if *window_s == 0 {
                    return Err(bad("window_s must be at least 1".into()));
                }
                if threshold.events.is_none() && threshold.distinct.is_empty() {
                    return Err(bad("threshold needs events or distinct".into()));
                }
                if threshold.events == Some(0) || threshold.distinct.values().any(|n| *n == 0) {
                    return Err(bad("thresholds are at least 1".into()));
                }
            }
            Kind::NewValue {
                born_when,
                born_entity,
                ..
            } => {
                for c in born_when {
                    c.check().map_err(bad)?;
                }
                if !born_when.is_empty() && born_entity.is_none() {
                    return Err(bad("born_when needs born_entity".into()));
                }
            }
            Kind::Dormant { idle_s, .. } => {
                if *idle_s == 0 {
                    return Err(bad("idle_s must be at least 1".into()));
                }
            }
        }
        Ok(())
    }
}

/// What an operator may change of a shipped rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tuning {
    /// Turn it on or off.
    pub enabled: Option<bool>,
    /// Its window, in seconds (threshold rules).
    pub window_s: Option<u64>,
    /// Its event threshold (threshold rules counting events).
    pub threshold: Option<u32>,
    /// Its distinct-value thresholds.
    pub distinct: Option<BTreeMap<String, u32>>,
    /// Its silence, in seconds (dormant rules).
    pub idle_s: Option<u64>,
}

/// A set of rules with distinct ids.
#[derive(Debug, Clone, PartialEq)]
pub struct RulePack {
    rules: Vec<Rule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PackFile {
    rule: Vec<Rule>,
}

/// The shipped pack's text.
pub const SHIPPED: &str = include_str!("../rules/default.toml");

impl RulePack {
    /// Reads a pack (TOML, `[[rule]]` tables) and checks every rule.
    pub fn parse(text: &str) -> Result<Self, RuleError> {
        let file: PackFile = toml::from_str(text).map_err(|e| RuleError::Parse(e.to_string()))?;
        let pack = Self { rules: file.rule };
        pack.check()?;
        Ok(pack)
    }

    /// The shipped pack.
    pub fn shipped() -> Self {
        // The shipped text is checked by this crate's tests; should it ever fail to read, no
        // rule is better than a panic at start-up.
        Self::parse(SHIPPED).unwrap_or(Self { rules: Vec::new() })
    }

    fn check(&self) -> Result<(), RuleError> {
        let mut seen = std::collections::BTreeSet::new();
        for r in &self.rules {
            r.check()?;
            if !seen.insert(r.id.as_str()) {
                return Err(RuleError::Invalid {
                    rule: r.id.clone(),
                    problem: "the id is used twice".into(),
                });
            }
        }
        Ok(())
    }

    /// Applies an operator's tuning, by rule id; an unknown id or a setting the rule does not
    /// have is an error.
    pub fn tune(mut self, tuning: &BTreeMap<String, Tuning>) -> Result<Self, RuleError> {
        for (id, t) in tuning {
            let bad = |problem: &str| RuleError::Invalid {
                rule: id.clone(),
                problem: problem.to_owned(),
            };
            let rule = self
                .rules
                .iter_mut()
                .find(|r| &r.id == id)
                .ok_or_else(|| bad("no such rule"))?;
            if let Some(e) = t.enabled {
                rule.enabled = e;
            }
            match &mut rule.kind {
                Kind::Threshold {
                    window_s,
                    threshold,
                    ..
                } => {
                    if t.idle_s.is_some() {
                        return Err(bad("idle_s is for dormant rules"));
                    }
                    if let Some(w) = t.window_s {
                        *window_s = w;
                    }
                    if let Some(n) = t.threshold {
                        if threshold.events.is_none() {
                            return Err(bad("this rule counts distinct values; tune `distinct`"));
                        }
                        threshold.events = Some(n);
                    }
                    if let Some(d) = &t.distinct {
                        for (f, n) in d {
                            match threshold.distinct.get_mut(f) {
                                Some(v) => *v = *n,
                                None => return Err(bad("no such distinct field")),
                            }
                        }
                    }
                }
                Kind::Dormant { idle_s, .. } => {
                    if t.window_s.is_some() || t.threshold.is_some() || t.distinct.is_some() {
                        return Err(bad("a dormant rule has only idle_s"));
                    }
                    if let Some(s) = t.idle_s {
                        *idle_s = s;
                    }
                }
                Kind::NewValue { .. } => {
                    if t.window_s.is_some()
                        || t.threshold.is_some()
                        || t.distinct.is_some()
                        || t.idle_s.is_some()
                    {
                        return Err(bad("a new-value rule can only be enabled or not"));
                    }
                }
            }
        }
        self.check()?;
        Ok(self)
    }

    /// Every rule.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The rule with this id.
    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }
}

/// One row of what the rules remember for long, by (kind, entity, value).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeenKey {
    /// `first:<rule>` (an entity's birth), `value:<rule>` (a value of an entity),
    /// `last:<rule>` (an entity's last activity).
    pub kind: String,
    /// The entity.
    pub entity: String,
    /// The value (empty for births and last activity).
    pub value: String,
}

/// When a remembered thing was first and last seen, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeenAt {
    /// First.
    pub first_ms: i64,
    /// Last.
    pub last_ms: i64,
}

/// The rows of what the rules remember that a batch reads and writes. Load the keys
/// [`Engine::seen_keys`] names, evaluate, then save [`Seen::changed`].
#[derive(Debug, Clone, Default)]
pub struct Seen {
    rows: HashMap<SeenKey, SeenAt>,
    changed: std::collections::BTreeSet<SeenKey>,
}

impl Seen {
    /// Adds a loaded row.
    pub fn load(&mut self, key: SeenKey, at: SeenAt) {
        self.rows.insert(key, at);
    }

    fn get(&self, key: &SeenKey) -> Option<SeenAt> {
        self.rows.get(key).copied()
    }

    fn touch(&mut self, key: SeenKey, at_ms: i64) {
        let row = self.rows.entry(key.clone()).or_insert(SeenAt {
            first_ms: at_ms,
            last_ms: at_ms,
        });
        row.first_ms = row.first_ms.min(at_ms);
        row.last_ms = row.last_ms.max(at_ms);
        self.changed.insert(key);
    }

    /// The rows to save.
    pub fn changed(&self) -> impl Iterator<Item = (&SeenKey, SeenAt)> {
        self.changed
            .iter()
            .filter_map(|k| self.rows.get(k).map(|at| (k, *at)))
    }
}

/// One group's window, kept no larger than its thresholds need: the times of its latest events
/// (at most the event threshold), and for each distinct field its latest values with the time
/// each was last seen (at most that field's threshold). A threshold is reached when that many
/// lie inside the window, so older or surplus entries cannot change an answer; the state stays
/// small however busy the platform is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Window {
    /// Times of the latest events, oldest first.
    events: VecDeque<i64>,
    /// Per distinct field (in the order of the rule's `distinct` map): value → last seen.
    distinct: Vec<BTreeMap<String, i64>>,
}

impl Window {
    fn add(&mut self, at: i64, values: Vec<String>, threshold: &Threshold) {
        if let Some(n) = threshold.events {
            self.events.push_back(at);
            while self.events.len() > n as usize {
                self.events.pop_front();
            }
        }
        self.distinct.resize_with(values.len(), BTreeMap::new);
        for ((seen, value), cap) in self
            .distinct
            .iter_mut()
            .zip(values)
            .zip(threshold.distinct.values())
        {
            let t = seen.entry(value).or_insert(at);
            *t = (*t).max(at);
            while seen.len() > *cap as usize {
                let Some(oldest) = seen.iter().min_by_key(|(_, t)| **t).map(|(v, _)| v.clone())
                else {
                    break;
                };
                seen.remove(&oldest);
            }
        }
    }

    /// Forgets what happened at or before `cutoff`.
    fn evict(&mut self, cutoff: i64) {
        while self.events.front().is_some_and(|t| *t <= cutoff) {
            self.events.pop_front();
        }
        for seen in &mut self.distinct {
            seen.retain(|_, t| *t > cutoff);
        }
    }

    fn is_empty(&self) -> bool {
        self.events.is_empty() && self.distinct.iter().all(BTreeMap::is_empty)
    }

    /// Whether `threshold` is reached, and how many events (or distinct values) it stands on.
    fn reached(&self, threshold: &Threshold) -> Option<u32> {
        let events_ok = threshold
            .events
            .is_none_or(|n| self.events.len() >= n as usize);
        let distinct_ok = threshold
            .distinct
            .values()
            .enumerate()
            .all(|(i, n)| self.distinct.get(i).map_or(0, BTreeMap::len) >= *n as usize);
        let count = if threshold.events.is_some() {
            self.events.len()
        } else {
            self.distinct.iter().map(BTreeMap::len).max().unwrap_or(0)
        };
        (events_ok && distinct_ok).then(|| u32::try_from(count).unwrap_or(u32::MAX))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Open {
    /// When the alert was raised (its key with rule and entity).
    first_ms: i64,
    /// Its latest event.
    last_ms: i64,
}

/// The rules' windows and open alerts, serialised between batches.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    windows: BTreeMap<String, BTreeMap<String, Window>>,
    open: BTreeMap<String, BTreeMap<String, Open>>,
}

/// What a batch raised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Raised {
    /// A new alert.
    New {
        /// The rule.
        rule: String,
        /// The entity, `field=value` pairs joined by `,` (or `all`).
        entity: String,
        /// The organisation whose members may see it (none: the platform's).
        org: Option<String>,
        /// When its last event happened (the alert's key with rule and entity).
        first_ms: i64,
        /// How many events it stands on.
        events: u32,
    },
    /// More events for an open alert.
    More {
        /// The rule.
        rule: String,
        /// The entity.
        entity: String,
        /// The open alert's key.
        first_ms: i64,
        /// The newest event's time.
        last_ms: i64,
    },
}

/// Evaluates a pack over events, in order.
#[derive(Debug, Clone)]
pub struct Engine {
    pack: RulePack,
    /// The windows and open alerts.
    pub state: State,
}

/// Events older than this (or their rule's window, if longer) when evaluated feed the state and
/// raise nothing: a first run over a year of history does not alert on last year.
const STALE_MS: i64 = 3_600_000;

impl Engine {
    /// An engine resuming from `state`.
    pub fn new(pack: RulePack, state: State) -> Self {
        Self { pack, state }
    }

    /// The pack.
    pub fn pack(&self) -> &RulePack {
        &self.pack
    }

    /// The remembered rows `events` need.
    pub fn seen_keys<E: Fields>(&self, events: &[E]) -> Vec<SeenKey> {
        let mut keys = std::collections::BTreeSet::new();
        for rule in self.pack.rules.iter().filter(|r| r.enabled) {
            for event in events {
                match &rule.kind {
                    Kind::NewValue {
                        entity,
                        value,
                        born_when,
                        born_entity,
                        ..
                    } => {
                        if let Some(b) = born_entity
                            && !born_when.is_empty()
                            && born_when.iter().all(|c| c.holds(event))
                            && let Some(e) = text(event, b)
                        {
                            keys.insert(first_key(&rule.id, &e));
                        }
                        if rule.matches(event)
                            && let (Some(e), Some(v)) = (text(event, entity), text(event, value))
                        {
                            keys.insert(first_key(&rule.id, &e));
                            keys.insert(value_key(&rule.id, &e, &v));
                        }
                    }
                    Kind::Dormant { entity, .. } => {
                        if rule.matches(event)
                            && let Some(e) = text(event, entity)
                        {
                            keys.insert(last_key(&rule.id, &e));
                        }
                    }
                    Kind::Threshold { .. } => {}
                }
            }
        }
        keys.into_iter().collect()
    }

    /// Evaluates events in order at `now_ms`, reading and updating `seen`.
    pub fn evaluate<E: Fields>(
        &mut self,
        events: &[E],
        seen: &mut Seen,
        now_ms: i64,
    ) -> Vec<Raised> {
        let mut raised = Vec::new();
        for event in events {
            let Some(at) = event.time_ms() else {
                continue;
            };
            let org = text(event, "metadata.tenant_uid");
            for i in 0..self.pack.rules.len() {
                let rule = &self.pack.rules[i];
                if !rule.enabled {
                    continue;
                }
                let live = now_ms - at <= rule.window_ms().max(STALE_MS);
                let hit = match &rule.kind {
                    Kind::Threshold {
                        group_by,
                        window_s,
                        threshold,
                    } => {
                        if !rule.matches(event) {
                            continue;
                        }
                        threshold_hit(
                            &mut self.state,
                            rule,
                            event,
                            at,
                            group_by,
                            *window_s,
                            threshold,
                        )
                    }
                    Kind::NewValue {
                        entity,
                        value,
                        min_entity_age_s,
                        born_when,
                        born_entity,
                    } => {
                        if let Some(b) = born_entity
                            && !born_when.is_empty()
                            && born_when.iter().all(|c| c.holds(event))
                            && let Some(e) = text(event, b)
                        {
                            seen.touch(first_key(&rule.id, &e), at);
                        }
                        if !rule.matches(event) {
                            continue;
                        }
                        let (Some(e), Some(v)) = (text(event, entity), text(event, value)) else {
                            continue;
                        };
                        let born = seen.get(&first_key(&rule.id, &e)).map(|s| s.first_ms);
                        let known = seen.get(&value_key(&rule.id, &e, &v)).is_some();
                        seen.touch(first_key(&rule.id, &e), at);
                        seen.touch(value_key(&rule.id, &e, &v), at);
                        let age_ms = i64::try_from(min_entity_age_s.saturating_mul(1000))
                            .unwrap_or(i64::MAX);
                        match born {
                            Some(b) if !known && at - b >= age_ms => {
                                Some((format!("{entity}={e}"), 1))
                            }
                            _ => None,
                        }
                    }
                    Kind::Dormant { entity, idle_s } => {
                        if !rule.matches(event) {
                            continue;
                        }
                        let Some(e) = text(event, entity) else {
                            continue;
                        };
                        let key = last_key(&rule.id, &e);
                        let last = seen.get(&key).map(|s| s.last_ms);
                        seen.touch(key, at);
                        let idle_ms =
                            i64::try_from(idle_s.saturating_mul(1000)).unwrap_or(i64::MAX);
                        match last {
                            Some(l) if at - l >= idle_ms => Some((format!("{entity}={e}"), 1)),
                            _ => None,
                        }
                    }
                };
                let Some((entity, events)) = hit else {
                    continue;
                };
                if !live {
                    continue;
                }
                let rule = &self.pack.rules[i];
                let window = rule.window_ms();
                let open = self.state.open.entry(rule.id.clone()).or_default();
                match open.get_mut(&entity) {
                    Some(o) if at <= o.last_ms + window => {
                        o.last_ms = o.last_ms.max(at);
                        raised.push(Raised::More {
                            rule: rule.id.clone(),
                            entity,
                            first_ms: o.first_ms,
                            last_ms: o.last_ms,
                        });
                    }
                    _ => {
                        open.insert(
                            entity.clone(),
                            Open {
                                first_ms: at,
                                last_ms: at,
                            },
                        );
                        raised.push(Raised::New {
                            rule: rule.id.clone(),
                            entity,
                            org: match rule.scope {
                                Scope::Organisation => org.clone(),
                                Scope::Platform => None,
                            },
                            first_ms: at,
                            events,
                        });
                    }
                }
            }
        }
        self.prune(now_ms);
        raised
    }

    /// Drops windows and open alerts that nothing can extend any more.
    fn prune(&mut self, now_ms: i64) {
        for rule in &self.pack.rules {
            let window = rule.window_ms();
            if let Some(w) = self.state.windows.get_mut(&rule.id) {
                w.retain(|_, win| {
                    win.evict(now_ms - window);
                    !win.is_empty()
                });
            }
            if let Some(o) = self.state.open.get_mut(&rule.id) {
                o.retain(|_, open| open.last_ms + window >= now_ms);
            }
        }
        let ids: std::collections::BTreeSet<&str> =
            self.pack.rules.iter().map(|r| r.id.as_str()).collect();
        self.state
            .windows
            .retain(|k, w| ids.contains(k.as_str()) && !w.is_empty());
        self.state
            .open
            .retain(|k, o| ids.contains(k.as_str()) && !o.is_empty());
    }
}

/// Adds an event to its group's window; the entity and the event count when the threshold is
/// reached.
fn threshold_hit<E: Fields + ?Sized>(
    state: &mut State,
    rule: &Rule,
    event: &E,
    at: i64,
    group_by: &[String],
    window_s: u64,
    threshold: &Threshold,
) -> Option<(String, u32)> {
    let mut parts = Vec::with_capacity(group_by.len());
    for g in group_by {
        parts.push(format!("{g}={}", text(event, g)?));
    }
    let entity = if parts.is_empty() {
        "all".to_owned()
    } else {
        parts.join(",")
    };
    let mut values = Vec::with_capacity(threshold.distinct.len());
    for f in threshold.distinct.keys() {
        values.push(text(event, f)?);
    }
    let window_ms = i64::try_from(window_s.saturating_mul(1000)).unwrap_or(i64::MAX);
    let win = state
        .windows
        .entry(rule.id.clone())
        .or_default()
        .entry(entity.clone())
        .or_default();
    win.evict(at - window_ms);
    win.add(at, values, threshold);
    win.reached(threshold).map(|count| (entity, count))
}

fn first_key(rule: &str, entity: &str) -> SeenKey {
    SeenKey {
        kind: format!("first:{rule}"),
        entity: entity.to_owned(),
        value: String::new(),
    }
}

fn value_key(rule: &str, entity: &str, value: &str) -> SeenKey {
    SeenKey {
        kind: format!("value:{rule}"),
        entity: entity.to_owned(),
        value: value.to_owned(),
    }
}

fn last_key(rule: &str, entity: &str) -> SeenKey {
    SeenKey {
        kind: format!("last:{rule}"),
        entity: entity.to_owned(),
        value: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const MIN: i64 = 60_000;

    fn sign_in_failure(at: i64, user: &str, ip: &str) -> Value {
        json!({ "time": at, "status_id": 2, "user": { "uid": user },
                "src_endpoint": { "ip": ip },
                "metadata": { "event_code": "auth.sign_in", "tenant_uid": "org-1" } })
    }

    fn run(engine: &mut Engine, events: &[Value], now: i64) -> Vec<Raised> {
        let mut seen = Seen::default();
        engine.evaluate(events, &mut seen, now)
    }

    fn new_rules(raised: &[Raised]) -> Vec<&str> {
        raised
            .iter()
            .filter_map(|r| match r {
                Raised::New { rule, .. } => Some(rule.as_str()),
                Raised::More { .. } => None,
            })
            .collect()
    }

    #[test]
    fn the_shipped_pack_reads() {
        let pack = RulePack::parse(SHIPPED).unwrap();
        assert_eq!(pack.rules().len(), 14);
        assert!(pack.get("brute_force_account").is_some());
    }

    #[test]
    fn brute_force_raises_once_at_ten_failures() {
        let mut engine = Engine::new(RulePack::shipped(), State::default());
        let t0 = 1_700_000_000_000;
        let nine: Vec<Value> = (0..9)
            .map(|i| sign_in_failure(t0 + i, "u-1", "198.51.100.1"))
            .collect();
        assert!(new_rules(&run(&mut engine, &nine, t0 + 10)).is_empty());
        // The state survives a round trip through JSON, as between batches.
        let state: State =
            serde_json::from_str(&serde_json::to_string(&engine.state).unwrap()).unwrap();
        let mut engine = Engine::new(RulePack::shipped(), state);
        let more: Vec<Value> = (9..15)
            .map(|i| sign_in_failure(t0 + i, "u-1", "198.51.100.1"))
            .collect();
        let raised = run(&mut engine, &more, t0 + 20);
        assert_eq!(new_rules(&raised), vec!["brute_force_account"]);
        assert_eq!(
            raised.len(),
            6,
            "the five later failures add to the open alert"
        );
    }

    #[test]
    fn failures_spread_past_the_window_raise_nothing() {
        let mut engine = Engine::new(RulePack::shipped(), State::default());
        let t0 = 1_700_000_000_000;
        let events: Vec<Value> = (0..12)
            .map(|i| sign_in_failure(t0 + i * MIN, "u-1", "198.51.100.1"))
            .collect();
        assert!(new_rules(&run(&mut engine, &events, t0 + 12 * MIN)).is_empty());
    }

    #[test]
    fn spraying_and_stuffing_count_distinct_values() {
        let mut engine = Engine::new(RulePack::shipped(), State::default());
        let t0 = 1_700_000_000_000;
        let spray: Vec<Value> = (0..10)
            .map(|i| sign_in_failure(t0 + i, &format!("u-{i}"), "198.51.100.7"))
            .collect();
        assert_eq!(
            new_rules(&run(&mut engine, &spray, t0 + 10)),
            vec!["password_spraying"]
        );
        let mut engine = Engine::new(RulePack::shipped(), State::default());
        let stuffing: Vec<Value> = (0..20)
            .map(|i| sign_in_failure(t0 + i, &format!("u-{i}"), &format!("198.51.100.{}", i % 5)))
            .collect();
        assert_eq!(
            new_rules(&run(&mut engine, &stuffing, t0 + 30)),
            vec!["credential_stuffing"]
        );
    }

    #[test]
    fn old_events_feed_the_state_but_raise_nothing() {
        let mut engine = Engine::new(RulePack::shipped(), State::default());
        let t0 = 1_700_000_000_000;
        let events: Vec<Value> = (0..10)
            .map(|i| sign_in_failure(t0 + i, "u-1", "198.51.100.1"))
            .collect();
        assert!(run(&mut engine, &events, t0 + 2 * 3_600_000).is_empty());
    }

    #[test]
    fn dormant_and_new_address_rules_use_what_was_seen() {
        let mut engine = Engine::new(RulePack::shipped(), State::default());
        let day = 86_400_000;
        let t0 = 1_700_000_000_000;
        let sign_in = |at: i64| {
            json!({ "time": at, "status_id": 1, "user": { "uid": "u-1" },
                    "metadata": { "event_code": "auth.sign_in" } })
        };
        let mut seen = Seen::default();
        assert!(
            engine
                .evaluate(&[sign_in(t0)], &mut seen, t0 + 1)
                .is_empty()
        );
        assert!(
            engine
                .evaluate(&[sign_in(t0 + 10 * day)], &mut seen, t0 + 10 * day)
                .is_empty()
        );
        let later = t0 + 101 * day;
        assert_eq!(
            new_rules(&engine.evaluate(&[sign_in(later)], &mut seen, later)),
            vec!["dormant_account_use"]
        );
        let issue = json!({ "time": t0, "user": { "uid": "k-1", "type_id": 4 },
                            "metadata": { "event_code": "apikey.issue" } });
        let use_from = |at: i64, ip: &str| {
            json!({ "time": at, "actor": { "user": { "uid": "k-1", "type_id": 4 } },
                    "src_endpoint": { "ip": ip }, "metadata": { "event_code": "subject.read" } })
        };
        let keys = engine.seen_keys(&[issue.clone(), use_from(t0, "192.0.2.1")]);
        assert!(keys.iter().any(|k| k.kind == "first:api_key_new_address"));
        let mut seen = Seen::default();
        // A young key's second address is no alert; an old key's new one is.
        assert!(
            engine
                .evaluate(
                    &[
                        issue,
                        use_from(t0 + 1, "192.0.2.1"),
                        use_from(t0 + 2, "192.0.2.2")
                    ],
                    &mut seen,
                    t0 + 3
                )
                .is_empty()
        );
        let raised = engine.evaluate(
            &[use_from(t0 + 2 * day, "192.0.2.3")],
            &mut seen,
            t0 + 2 * day,
        );
        assert_eq!(new_rules(&raised), vec!["api_key_new_address"]);
        assert!(
            engine
                .evaluate(
                    &[use_from(t0 + 3 * day, "192.0.2.1")],
                    &mut seen,
                    t0 + 3 * day
                )
                .is_empty()
        );
    }

    #[test]
    fn the_state_stays_small_however_many_events() {
        let mut engine = Engine::new(RulePack::shipped(), State::default());
        let t0 = 1_700_000_000_000;
        let reads: Vec<Value> = (0..20_000)
            .map(|i| {
                json!({ "time": t0 + i, "status_id": 1,
                        "actor": { "user": { "uid": format!("u-{}", i % 3) } },
                        "resources": [{ "type": "subject", "uid": format!("s-{}", i % 40) }],
                        "metadata": { "event_code": "subject.read" } })
            })
            .collect();
        assert!(
            run(&mut engine, &reads, t0 + 20_000).is_empty(),
            "40 subjects is no mass access"
        );
        let size = serde_json::to_string(&engine.state).unwrap().len();
        assert!(size < 8_000, "state of {size} bytes");
    }

    #[test]
    fn a_misspelt_rule_is_refused() {
        let text = SHIPPED.replacen("window_s = 300", "window_secs = 300", 1);
        let err = RulePack::parse(&text).unwrap_err().to_string();
        assert!(err.contains("window_secs"), "{err}");
    }

    #[test]
    fn tuning_changes_thresholds_and_refuses_nonsense() {
        let mut tuning = BTreeMap::new();
        tuning.insert(
            "brute_force_account".to_owned(),
            Tuning {
                threshold: Some(3),
                ..Tuning::default()
            },
        );
        let pack = RulePack::shipped().tune(&tuning).unwrap();
        let mut engine = Engine::new(pack, State::default());
        let t0 = 1_700_000_000_000;
        let three: Vec<Value> = (0..3)
            .map(|i| sign_in_failure(t0 + i, "u-1", "198.51.100.1"))
            .collect();
        assert_eq!(
            new_rules(&run(&mut engine, &three, t0 + 5)),
            vec!["brute_force_account"]
        );
        tuning.insert(
            "password_spraying".to_owned(),
            Tuning {
                threshold: Some(3),
                ..Tuning::default()
            },
        );
        assert!(RulePack::shipped().tune(&tuning).is_err());
        let mut unknown = BTreeMap::new();
        unknown.insert("no_such_rule".to_owned(), Tuning::default());
        assert!(RulePack::shipped().tune(&unknown).is_err());
        assert!(RulePack::parse("[[rule]]\nid = \"x\"").is_err());
    }
}
