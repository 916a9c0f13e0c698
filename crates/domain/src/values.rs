//! Validated values. Each is parsed once at the edge; code that holds one may rely on it.

use std::fmt;

/// A value that failed validation. The message names the rule broken and never repeats the
/// input, which may be personal data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// An e-mail address that is not of the form local@domain.
    #[error("is not a valid e-mail address")]
    Email,
    /// A name that broke a rule.
    #[error(transparent)]
    Name(#[from] NameError),
}

/// A name that broke a rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Empty once surrounding spaces are removed.
    #[error("must not be empty")]
    Empty,
    /// Longer than allowed.
    #[error("must be at most {max} characters")]
    TooLong {
        /// The limit.
        max: usize,
    },
    /// Holds a control character (newline, tab, escape...).
    #[error("must not contain control characters")]
    ControlCharacter,
}

/// A normalised e-mail address (trimmed, lower-case).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Parses an address: one `@`, a non-empty local part, a dotted domain, no spaces or control
    /// characters, at most 254 characters (RFC 5321's path limit).
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let s = input.trim().to_lowercase();
        let ok = s.len() <= 254
            && !s.chars().any(|c| c.is_whitespace() || c.is_control())
            && match s.split_once('@') {
                Some((local, domain)) => {
                    !local.is_empty()
                        && local.len() <= 64
                        && !domain.contains('@')
                        && domain.contains('.')
                        && !domain.starts_with('.')
                        && !domain.ends_with('.')
                        && !domain.contains("..")
                }
                None => false,
            };
        if ok {
            Ok(Self(s))
        } else {
            Err(ValueError::Email)
        }
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn parse_name(input: &str, max: usize) -> Result<String, NameError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(NameError::Empty);
    }
    if s.chars().count() > max {
        return Err(NameError::TooLong { max });
    }
    if s.chars().any(char::is_control) {
        return Err(NameError::ControlCharacter);
    }
    Ok(s.to_owned())
}

macro_rules! name_type {
    ($name:ident, $max:literal, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            /// Trims surrounding spaces, then checks the rules of names.
            pub fn parse(input: &str) -> Result<Self, NameError> {
                parse_name(input, $max).map(Self)
            }

            /// The name.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

name_type!(
    OrgName,
    100,
    "An organisation's name (1 to 100 characters)."
);
name_type!(
    KeyName,
    100,
    "What an API key is for (1 to 100 characters)."
);
name_type!(TeamName, 100, "A team's name (1 to 100 characters).");
name_type!(
    DisplayName,
    200,
    "A user's display name (1 to 200 characters)."
);

/// Sex as recorded for reference norms (not gender identity).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sex {
    /// Female.
    Female,
    /// Male.
    Male,
    /// Other.
    Other,
    /// Not known or not recorded.
    Unknown,
}

impl Sex {
    /// The stable stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Sex::Female => "female",
            Sex::Male => "male",
            Sex::Other => "other",
            Sex::Unknown => "unknown",
        }
    }

    /// Parses a stable stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [Sex::Female, Sex::Male, Sex::Other, Sex::Unknown]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised() {
        let e = Email::parse("  Jane.Doe@Example.ORG ").unwrap();
        assert_eq!(e.as_str(), "jane.doe@example.org");
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in [
            "",
            "jane",
            "@example.org",
            "jane@",
            "jane@localhost",
            "jane@@example.org",
            "ja ne@example.org",
            "jane@example..org",
            "jane@.example.org",
        ] {
            assert_eq!(Email::parse(bad), Err(ValueError::Email), "{bad:?}");
        }
        let long = format!("{}@example.org", "a".repeat(250));
        assert!(Email::parse(&long).is_err());
    }

    #[test]
    fn names_are_trimmed_and_checked() {
        assert_eq!(
            OrgName::parse("  Navy SEALs ").unwrap().as_str(),
            "Navy SEALs"
        );
        assert_eq!(OrgName::parse("   "), Err(NameError::Empty));
        assert_eq!(
            TeamName::parse(&"x".repeat(101)),
            Err(NameError::TooLong { max: 100 })
        );
        assert_eq!(OrgName::parse("a\nb"), Err(NameError::ControlCharacter));
    }

    #[test]
    fn errors_do_not_repeat_the_input() {
        let err = Email::parse("john.smith.private").unwrap_err();
        assert!(!err.to_string().contains("john"));
    }
}
