//! What the detection rules read of an event: its fields by dotted path (`actor.user.uid`; a
//! number step indexes an array, `resources.0.type`).
//!
//! The monitor evaluates the rules on the typed OCSF event ([`crate::ocsf::Event`]), which
//! answers a path without building a JSON tree; tests and tools may hand the rules a
//! `serde_json::Value` instead. Both answer alike: `crates/security/src/ocsf.rs` checks every
//! path of every kind of event against the event's own JSON.

use std::borrow::Cow;

use serde_json::Value;

/// A field's value as the rules compare it.
#[derive(Debug, Clone, PartialEq)]
pub enum Field<'a> {
    /// JSON `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A number with a fraction.
    Float(f64),
    /// A string.
    Str(Cow<'a, str>),
    /// An array.
    List(Vec<Field<'a>>),
    /// An object (the rules only ask whether it exists).
    Object,
}

impl Field<'_> {
    /// Equal to a value from a rule (`equals`, `one_of`, `contains`), numbers compared as
    /// numbers.
    pub fn is(&self, want: &Value) -> bool {
        match (self, want) {
            (Field::Null, Value::Null) => true,
            (Field::Bool(a), Value::Bool(b)) => a == b,
            (Field::Int(a), Value::Number(b)) => b.as_f64() == Some(*a as f64),
            (Field::Float(a), Value::Number(b)) => b.as_f64() == Some(*a),
            (Field::Str(a), Value::String(b)) => a == b,
            (Field::List(items), Value::Array(wants)) => {
                items.len() == wants.len() && items.iter().zip(wants).all(|(i, w)| i.is(w))
            }
            _ => false,
        }
    }

    /// Equal to another field (`same_as`), numbers compared as numbers.
    pub fn same(&self, other: &Field<'_>) -> bool {
        let number = |f: &Field<'_>| match f {
            Field::Int(i) => Some(*i as f64),
            Field::Float(x) => Some(*x),
            _ => None,
        };
        match (self, other) {
            (Field::Null, Field::Null) => true,
            (Field::Bool(a), Field::Bool(b)) => a == b,
            (Field::Str(a), Field::Str(b)) => a == b,
            (Field::List(a), Field::List(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same(y))
            }
            (a, b) => matches!((number(a), number(b)), (Some(x), Some(y)) if x == y),
        }
    }

    /// The value as text, for entities and distinct counts: a non-empty string, a number, a
    /// boolean (nothing for the rest).
    pub fn text(&self) -> Option<String> {
        match self {
            Field::Str(s) if !s.is_empty() => Some(s.clone().into_owned()),
            Field::Int(i) => Some(i.to_string()),
            Field::Float(x) => serde_json::Number::from_f64(*x).map(|n| n.to_string()),
            Field::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// The field of a JSON value.
    pub fn of(v: &Value) -> Field<'_> {
        match v {
            Value::Null => Field::Null,
            Value::Bool(b) => Field::Bool(*b),
            Value::Number(n) => n
                .as_i64()
                .map(Field::Int)
                .or_else(|| n.as_f64().map(Field::Float))
                .unwrap_or(Field::Null),
            Value::String(s) => Field::Str(Cow::Borrowed(s)),
            Value::Array(items) => Field::List(items.iter().map(Field::of).collect()),
            Value::Object(_) => Field::Object,
        }
    }
}

/// An event the rules can read.
pub trait Fields {
    /// The field at a dotted path, if the event has it.
    fn field(&self, path: &str) -> Option<Field<'_>>;

    /// The event's time, ms since the epoch (`time`).
    fn time_ms(&self) -> Option<i64> {
        match self.field("time")? {
            Field::Int(t) => Some(t),
            _ => None,
        }
    }
}

impl Fields for Value {
    fn field(&self, path: &str) -> Option<Field<'_>> {
        value_at(self, path).map(Field::of)
    }
}

/// The JSON value at a dotted path.
pub fn value_at<'a>(event: &'a Value, path: &str) -> Option<&'a Value> {
    let mut v = event;
    for step in path.split('.') {
        v = match v {
            Value::Object(m) => m.get(step)?,
            Value::Array(items) => items.get(step.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(v)
}
