//! Validated values. Each is parsed once at the edge; code that holds one may rely on it.

use std::fmt;

/// A value that failed validation. The message names the rule broken and never repeats the
/// input, which may be personal data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// An e-mail address that is not of the form local@domain.
    #[error("is not a valid e-mail address")]
    Email,
    /// An e-mail address holding an invisible, formatting, unassigned or private-use
    /// character: one that could make it pass for another address.
    #[error("contains a character not allowed in an e-mail address")]
    EmailCharacter,
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

/// A normalised e-mail address. Inputs that differ only in ways a reader cannot see (case,
/// compatibility forms such as fullwidth letters, invisible characters) either parse to the
/// same `Email` or are refused; visible look-alikes from other scripts are legitimate,
/// distinct addresses, found with [`Email::skeleton`] and [`Email::is_confusable_with`].
///
/// Why: accounts, invitations and sign-in are keyed by the address. If `opa@example.org` and
/// `opa\u{200b}@example.org` (with an invisible zero-width space) or `оpa@example.org` (with a
/// Cyrillic `о`) were stored as they came, an attacker could hold a second account that looks
/// like someone else's on every screen, in every audit line and in every invitation.
///
/// [`Email::parse`] applies, in this order:
///
/// 1. Unicode NFKC normalisation, so compatibility forms fold into their plain form:
///    fullwidth `ｏｐａ` is `opa`, the ligature `ﬁ` is `fi`, a decomposed `o` + combining
///    diaeresis is the precomposed `ö`.
/// 2. Trimming of surrounding white space.
/// 3. Lower-casing of the whole address, local part included: the platform treats addresses
///    case-insensitively (then NFKC again, as lower-casing may leave a non-normalised string).
/// 4. Refusal of characters that have no business in an address or that cannot be seen:
///    white space and control characters (as always, [`ValueError::Email`]); format characters
///    (zero-width space and joiners, word joiner, byte-order mark, soft hyphen, every
///    bidirectional control), the other default-ignorable code points (variation selectors,
///    Hangul fillers...), unassigned and private-use code points, noncharacters and the
///    replacement character U+FFFD ([`ValueError::EmailCharacter`]).
/// 5. IDNA (UTS #46) conversion of the domain to its ASCII form: `bücher.example` is stored
///    as `xn--bcher-kva.example`; a domain that is not a valid internationalised name is
///    refused, and the Unicode form of `xn--` labels is held to the rules of step 4 too.
/// 6. The shape and length rules on the result: one `@`, a non-empty local part of at most 64
///    bytes, a dotted domain without empty labels, at most 254 bytes in all (RFC 5321).
///
/// Plain ASCII addresses are judged and stored as they always were (trimmed, lower-cased),
/// except that an `xn--` label must be valid Punycode.
///
/// Letters of any script are kept, so `оpa@example.org` (Cyrillic `о`) is a valid address
/// distinct from `opa@example.org`: callers that create accounts or invitations should check
/// [`Email::is_confusable_with`] against the addresses already held.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

/// RFC 5321's limit on a path (the address between angle brackets), in bytes.
const EMAIL_MAX_BYTES: usize = 254;
/// RFC 5321's limit on the local part, in bytes.
const LOCAL_PART_MAX_BYTES: usize = 64;

impl Email {
    /// Parses and normalises an address; see [`Email`] for the rules and why.
    ///
    /// # Errors
    ///
    /// [`ValueError::EmailCharacter`] if the address holds an invisible, formatting,
    /// unassigned or private-use character (or U+FFFD); [`ValueError::Email`] for any other
    /// broken rule. Neither repeats the input.
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let s = normalise(input);
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ValueError::Email);
        }
        if s.chars().any(is_refused_char) {
            return Err(ValueError::EmailCharacter);
        }
        let Some((local, domain)) = s.split_once('@') else {
            return Err(ValueError::Email);
        };
        if local.is_empty() || local.len() > LOCAL_PART_MAX_BYTES || domain.contains('@') {
            return Err(ValueError::Email);
        }
        let domain = idna::domain_to_ascii(domain).map_err(|_| ValueError::Email)?;
        // An `xn--` label typed as ASCII must not smuggle in what the Unicode form may not hold.
        let (unicode_domain, decoded) = idna::domain_to_unicode(&domain);
        if decoded.is_err() {
            return Err(ValueError::Email);
        }
        if unicode_domain.chars().any(is_refused_char) {
            return Err(ValueError::EmailCharacter);
        }
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..");
        let address = format!("{local}@{domain}");
        if !domain_ok || address.len() > EMAIL_MAX_BYTES {
            return Err(ValueError::Email);
        }
        Ok(Self(address))
    }

    /// The address, in the normal form described at [`Email`] (domain in ASCII form).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// An address as the system of record holds it: parsed when it was written, and not
    /// parsed again, so that a rule added later (such as the refusal of invisible characters)
    /// does not make an earlier row unreadable. Only storage should call this.
    pub fn from_stored(stored: String) -> Self {
        Self(stored)
    }

    /// The local part (before the `@`) and the domain (ASCII form).
    fn parts(&self) -> (&str, &str) {
        // `parse` guarantees exactly one `@`.
        self.0.split_once('@').unwrap_or((&self.0, ""))
    }

    /// The UTS #39 confusable skeleton of the address: each character replaced by the
    /// prototype of the characters that look like it, the domain taken in its Unicode form
    /// (so an `xn--` label and its look-alike compare too). Two addresses with the same
    /// skeleton look the same to a reader: `оpa@example.org` (Cyrillic `о`) and
    /// `opa@example.org`, `m@x.org` and `rn@x.org`, `a1@x.org` and `al@x.org`.
    ///
    /// For comparison only: a skeleton is not an address, is not meant to be shown, and can
    /// change with the Unicode version of the confusables data (recompute any stored one on
    /// upgrade).
    pub fn skeleton(&self) -> String {
        let (local, domain) = self.parts();
        let (unicode_domain, _) = idna::domain_to_unicode(domain);
        let mut out = String::with_capacity(self.0.len());
        out.extend(unicode_security::skeleton(local));
        out.push('@');
        out.extend(unicode_security::skeleton(&unicode_domain));
        out
    }

    /// Whether `other` is a different address that looks like this one (same
    /// [`skeleton`](Email::skeleton)) through a character outside ASCII. Use it to refuse or
    /// flag a new account, invitation or member whose address impersonates an existing one.
    ///
    /// Two ASCII addresses are never confusable here, although UTS #39 says `rn` looks like
    /// `m` and `1` like `l`: `barn@` and `bam@` are both real people's addresses, and
    /// impersonation with non-ASCII letters is the attack this guards against.
    pub fn is_confusable_with(&self, other: &Email) -> bool {
        self != other
            && !(self.is_ascii_text() && other.is_ascii_text())
            && self.skeleton() == other.skeleton()
    }

    /// Whether the address, its domain decoded from IDNA, is plain ASCII.
    fn is_ascii_text(&self) -> bool {
        let (local, domain) = self.parts();
        let (unicode_domain, _) = idna::domain_to_unicode(domain);
        local.is_ascii() && unicode_domain.is_ascii()
    }
}

/// NFKC, trim, lower-case, NFKC again (lower-casing can undo normalisation, e.g. `İ` becomes
/// `i` + combining dot). The result is stable: normalising it again changes nothing.
fn normalise(input: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let nfkc: String = input.nfkc().collect();
    nfkc.trim().to_lowercase().nfkc().collect()
}

/// A character refused in an address beyond white space and controls: one that cannot be seen
/// or has no agreed meaning. General category `Cf` (format: zero-width space and joiners,
/// word joiner, BOM, soft hyphen, bidirectional controls, tags), `Cn` (unassigned,
/// noncharacters), `Co` (private use), `Cs`, `Z*` (separators), every other
/// Default_Ignorable_Code_Point (variation selectors, combining grapheme joiner, Hangul
/// fillers...), and U+FFFD, the trace of a failed decoding.
fn is_refused_char(c: char) -> bool {
    use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};
    use unicode_security::GeneralSecurityProfile;
    use unicode_security::general_security_profile::IdentifierType;
    if c.is_ascii() {
        return c.is_ascii_control() || c == ' ';
    }
    matches!(
        c.general_category_group(),
        GeneralCategoryGroup::Other | GeneralCategoryGroup::Separator
    ) || c.identifier_type() == Some(IdentifierType::Default_Ignorable)
        || c == char::REPLACEMENT_CHARACTER
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

    fn refused_char(input: &str) {
        assert_eq!(
            Email::parse(input),
            Err(ValueError::EmailCharacter),
            "{input:?}"
        );
    }

    #[test]
    fn plain_ascii_addresses_parse_as_before() {
        for (input, stored) in [
            ("ops@example.org", "ops@example.org"),
            ("  Coach@Example.org\t", "coach@example.org"),
            ("Ana@Clinic.EXAMPLE", "ana@clinic.example"),
            (
                "first.last+tag@sub.example.co.uk",
                "first.last+tag@sub.example.co.uk",
            ),
            ("o'brien@example.org", "o'brien@example.org"),
            ("a_b-c@exa-mple.org", "a_b-c@exa-mple.org"),
            ("x@1.2", "x@1.2"),
        ] {
            let e = Email::parse(input).unwrap();
            assert_eq!(e.as_str(), stored, "{input:?}");
            assert_eq!(e.to_string(), stored);
        }
    }

    /// `Email::parse` before Unicode hardening, kept to check ASCII input against it.
    fn ascii_era_parse(input: &str) -> Result<String, ValueError> {
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
        if ok { Ok(s) } else { Err(ValueError::Email) }
    }

    #[test]
    fn ascii_input_is_judged_as_before() {
        let templates = [
            "?ops@example.org",
            "o?ps@example.org",
            "ops?@example.org",
            "ops@?example.org",
            "ops@exa?mple.org",
            "ops@example?.org",
            "ops@example.?org",
            "ops@example.org?",
            "OPS@?.ORG",
            "?@?.?",
            "ops@ex?mple.c?m",
        ];
        for template in templates {
            for c in (0..=0x7f_u8).map(char::from) {
                for with in [c.to_string(), format!("{c}{c}"), format!("-{c}-")] {
                    let input = template.replace('?', &with);
                    assert_eq!(
                        Email::parse(&input).map(|e| e.0),
                        ascii_era_parse(&input),
                        "{input:?}"
                    );
                }
            }
        }
        for input in [
            String::new(),
            format!("{}@example.org", "a".repeat(64)),
            format!("{}@example.org", "a".repeat(65)),
            format!("{}@{}.org", "a".repeat(64), "b".repeat(185)),
            format!("{}@{}.org", "a".repeat(64), "b".repeat(186)),
            "ops@xn--bcher-kva.example".to_owned(),
            "ops@_dmarc.example.org".to_owned(),
        ] {
            assert_eq!(
                Email::parse(&input).map(|e| e.0),
                ascii_era_parse(&input),
                "{input:?}"
            );
        }
    }

    #[test]
    fn the_uppercase_domain_is_lower_cased() {
        assert_eq!(
            Email::parse("ops@EXAMPLE.ORG").unwrap(),
            Email::parse("ops@example.org").unwrap()
        );
    }

    #[test]
    fn a_zero_width_space_is_refused() {
        refused_char("opa\u{200b}@example.org");
        refused_char("\u{200b}opa@example.org");
        refused_char("opa@\u{200b}example.org");
        refused_char("opa@example.org\u{200b}");
        refused_char("opa@exam\u{200b}ple.org");
    }

    #[test]
    fn every_bidirectional_control_is_refused() {
        let bidi = ['\u{061c}', '\u{200e}', '\u{200f}']
            .into_iter()
            .chain('\u{202a}'..='\u{202e}')
            .chain('\u{2066}'..='\u{2069}');
        let mut n = 0;
        for c in bidi {
            refused_char(&format!("op{c}a@example.org"));
            refused_char(&format!("{c}opa@example.org"));
            refused_char(&format!("opa@example.org{c}"));
            refused_char(&format!("opa@exa{c}mple.org"));
            n += 1;
        }
        assert_eq!(n, 12);
    }

    #[test]
    fn other_invisible_characters_are_refused() {
        for c in [
            '\u{00ad}',  // soft hyphen
            '\u{200c}',  // zero-width non-joiner
            '\u{200d}',  // zero-width joiner
            '\u{2060}',  // word joiner
            '\u{feff}',  // byte-order mark
            '\u{180e}',  // Mongolian vowel separator
            '\u{034f}',  // combining grapheme joiner (Mn, default-ignorable)
            '\u{fe0f}',  // variation selector 16 (Mn, default-ignorable)
            '\u{e0100}', // variation selector 17
            '\u{3164}',  // Hangul filler (Lo, default-ignorable)
            '\u{115f}',  // Hangul choseong filler
            '\u{e0041}', // tag latin capital letter a
            '\u{2065}',  // unassigned, default-ignorable
        ] {
            refused_char(&format!("op{c}a@example.org"));
            refused_char(&format!("opa@exa{c}mple.org"));
        }
    }

    #[test]
    fn unassigned_private_use_and_replacement_characters_are_refused() {
        for c in [
            '\u{0378}',   // unassigned
            '\u{fdd0}',   // noncharacter
            '\u{ffff}',   // noncharacter
            '\u{e000}',   // private use
            '\u{f8ff}',   // private use
            '\u{10fffd}', // supplementary private use
            '\u{fffd}',   // replacement character
        ] {
            refused_char(&format!("op{c}a@example.org"));
            refused_char(&format!("opa@exa{c}mple.org"));
        }
    }

    #[test]
    fn unicode_white_space_and_controls_are_refused_as_before() {
        for bad in [
            "op\u{a0}a@example.org",   // no-break space (NFKC: space)
            "op\u{3000}a@example.org", // ideographic space
            "op\u{2028}a@example.org", // line separator
            "op\u{85}a@example.org",   // next line (C1 control)
            "opa@exa\u{9f}mple.org",   // C1 control
            "op\u{1b}a@example.org",   // escape
        ] {
            assert_eq!(Email::parse(bad), Err(ValueError::Email), "{bad:?}");
        }
        // Surrounding Unicode white space is trimmed like ASCII white space.
        assert_eq!(
            Email::parse("\u{3000}opa@example.org\u{a0}")
                .unwrap()
                .as_str(),
            "opa@example.org"
        );
    }

    #[test]
    fn fullwidth_letters_are_the_same_address() {
        let full = Email::parse("ｏｐａ@ｅｘａｍｐｌｅ．ｏｒｇ").unwrap();
        let plain = Email::parse("opa@example.org").unwrap();
        assert_eq!(full, plain);
        assert_eq!(full.as_str(), "opa@example.org");
        assert!(!full.is_confusable_with(&plain));
        assert_eq!(
            Email::parse("ＯＰＡ＠example.org").unwrap().as_str(),
            "opa@example.org"
        );
    }

    #[test]
    fn a_cyrillic_look_alike_parses_but_is_confusable() {
        let cyrillic = Email::parse("\u{43e}pa@example.org").unwrap();
        let latin = Email::parse("opa@example.org").unwrap();
        assert_ne!(cyrillic, latin);
        assert_eq!(cyrillic.as_str(), "\u{43e}pa@example.org");
        assert_eq!(cyrillic.skeleton(), latin.skeleton());
        assert!(cyrillic.is_confusable_with(&latin));
        assert!(latin.is_confusable_with(&cyrillic));
        // An address is not confusable with itself, and truly different ones are not.
        assert!(!latin.is_confusable_with(&latin.clone()));
        assert!(!latin.is_confusable_with(&Email::parse("ops@example.org").unwrap()));
        // The upper-case Cyrillic О folds first, then looks like the Latin o as well.
        assert!(
            Email::parse("\u{41e}PA@example.org")
                .unwrap()
                .is_confusable_with(&latin)
        );
    }

    #[test]
    fn skeletons_follow_uts_39() {
        let skeleton = |s: &str| Email::parse(s).unwrap().skeleton();
        assert_eq!(skeleton("rn@x.org"), skeleton("m@x.org"));
        assert_eq!(skeleton("a1@x.org"), skeleton("al@x.org"));
        assert_ne!(skeleton("opa@example.org"), skeleton("ops@example.org"));
        // Both plain ASCII: distinct people's addresses, not an impersonation.
        assert!(
            !Email::parse("rn@x.org")
                .unwrap()
                .is_confusable_with(&Email::parse("m@x.org").unwrap())
        );
    }

    #[test]
    fn look_alike_domains_are_confusable_in_either_form() {
        let latin = Email::parse("opa@example.org").unwrap();
        // Cyrillic е and а in the domain.
        let unicode = Email::parse("opa@\u{435}x\u{430}mple.org").unwrap();
        assert!(unicode.as_str().starts_with("opa@xn--"), "{unicode}");
        assert!(unicode.as_str().is_ascii());
        assert!(unicode.is_confusable_with(&latin));
        // Typed directly in its ASCII form, it is the same address, still confusable.
        let ascii = Email::parse(unicode.as_str()).unwrap();
        assert_eq!(ascii, unicode);
        assert!(ascii.is_confusable_with(&latin));
    }

    #[test]
    fn internationalised_domains_are_stored_in_ascii_form() {
        let e = Email::parse("Jöe@Bücher.Example").unwrap();
        assert_eq!(e.as_str(), "jöe@xn--bcher-kva.example");
        // Decomposed input (o + combining diaeresis) is the same address.
        assert_eq!(Email::parse("jo\u{308}e@bu\u{308}cher.example").unwrap(), e);
        // The ASCII form parses to itself.
        assert_eq!(Email::parse("jöe@xn--bcher-kva.example").unwrap(), e);
        // The ideographic full stop is a label separator in IDNA.
        assert_eq!(
            Email::parse("ops@example\u{3002}org").unwrap().as_str(),
            "ops@example.org"
        );
        // Not a valid IDNA name: an invalid Punycode label, a disallowed symbol.
        for bad in ["ops@xn--a.example", "ops@a\u{2488}.example"] {
            assert_eq!(Email::parse(bad), Err(ValueError::Email), "{bad:?}");
        }
    }

    #[test]
    fn length_limits_apply_to_the_normalised_form() {
        // 64 fullwidth letters take 192 bytes as typed, 64 once normalised: accepted.
        let local = "ａ".repeat(64);
        let e = Email::parse(&format!("{local}@example.org")).unwrap();
        assert_eq!(e.as_str(), format!("{}@example.org", "a".repeat(64)));
        assert!(Email::parse(&format!("{}@example.org", "ａ".repeat(65))).is_err());
        // Over 254 bytes as typed, far under once normalised: accepted.
        let typed = format!("{}@{}.org", "ａ".repeat(60), "ｂ".repeat(40));
        assert!(typed.len() > 254);
        assert!(Email::parse(&typed).is_ok());
        // ㎉ (3 bytes) normalises to "kcal" (4 bytes): 16 fit the local part, 17 do not.
        assert_eq!(
            Email::parse(&format!("{}@example.org", "㎉".repeat(16)))
                .unwrap()
                .as_str(),
            format!("{}@example.org", "kcal".repeat(16))
        );
        assert_eq!(
            Email::parse(&format!("{}@example.org", "㎉".repeat(17))),
            Err(ValueError::Email)
        );
        // The total counts the ASCII (Punycode) form of the domain, longer than the Unicode one.
        let domain = (0..20)
            .map(|i| format!("l{i}€."))
            .chain(["example".to_owned()])
            .collect::<String>();
        let ascii_len = idna::domain_to_ascii(&domain).unwrap().len();
        let local_len = 254 - 1 - ascii_len;
        assert!((1..64).contains(&local_len), "{local_len}");
        assert!(1 + domain.len() + local_len + 1 < 254);
        assert!(Email::parse(&format!("{}@{domain}", "a".repeat(local_len))).is_ok());
        assert_eq!(
            Email::parse(&format!("{}@{domain}", "a".repeat(local_len + 1))),
            Err(ValueError::Email)
        );
    }

    #[test]
    fn parsing_a_stored_address_gives_it_back() {
        for input in [
            "ops@example.org",
            "Jöe@Bücher.Example",
            "\u{43e}pa@example.org",
            "İSTANBUL@example.org",
            "ΌΣΟΣ@example.gr",
            "ｏｐａ@ｅｘａｍｐｌｅ．ｏｒｇ",
            "ᴬᴮ@example.org",
            "straße@straße.example",
        ] {
            let e = Email::parse(input).unwrap();
            assert_eq!(Email::parse(e.as_str()).unwrap(), e, "{input:?}");
        }
    }

    #[test]
    fn normalisation_is_stable_for_every_code_point() {
        for c in (0..=0x10_ffff_u32).filter_map(char::from_u32) {
            let once = normalise(&format!("a{c}"));
            assert_eq!(normalise(&once), once, "U+{:04X}", u32::from(c));
        }
    }

    #[test]
    fn every_default_ignorable_code_point_is_refused() {
        // unicode-security drops default-ignorable code points from skeletons (its own table):
        // any character whose decomposition is entirely dropped must be refused here.
        for c in (0x80..=0x10_ffff_u32).filter_map(char::from_u32) {
            if unicode_security::skeleton(c.encode_utf8(&mut [0; 4]))
                .next()
                .is_none()
            {
                assert!(is_refused_char(c), "U+{:04X}", u32::from(c));
            }
        }
    }

    #[test]
    fn email_errors_do_not_repeat_the_input() {
        for bad in [
            "john.smith.private",
            "john\u{200b}smith@example.org",
            "john smith@example.org",
            "johnsmith@xn--a.example",
        ] {
            let err = Email::parse(bad).unwrap_err();
            let msg = err.to_string();
            for part in ["john", "smith", "example", "xn--"] {
                assert!(!msg.contains(part), "{msg}");
            }
            assert!(msg.len() < 60, "{msg}");
        }
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
