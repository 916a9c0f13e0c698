//! Security monitoring without I/O (C8 of DESIGN.md).
//!
//! - [`event::SecurityEvent`]: one security-relevant event as MHP records it (an audit event or
//!   a signal that is not one: garbage credentials, a not-found probe, a raised alert).
//! - [`ocsf`]: the event in OCSF 1.8.0 (Authentication, Account Change, Authorize Session, User
//!   Access Management, API Activity, Web Resource Access, Detection Finding), the form every
//!   SIEM sink receives. No PHI, secret or token is ever in one: events carry ids and codes only.
//! - [`rules`]: detection rules as data (match on OCSF fields, group by, window, threshold,
//!   severity, MITRE ATT&CK technique), the shipped pack, and [`rules::Engine`], which
//!   evaluates events in order and keeps its windows in a state that serialises, so that
//!   evaluation resumes after a restart where it stopped.
//!
//! The application layer (`mhp_app::siem`) reads the events from the system of record, ships
//! them and stores what the rules raise.

pub mod event;
pub mod fields;
pub mod ocsf;
pub mod rules;

pub use event::SecurityEvent;
