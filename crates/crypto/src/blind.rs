//! Blind indexes: searchable stand-ins for sealed identifiers.
//!
//! A sealed value cannot be searched, and storing its plaintext (or an unkeyed hash, which a
//! dictionary of names or service numbers reverses) would defeat the sealing. A blind index
//! is HMAC-SHA-256 under a key derived from the master key, over the organisation, the field
//! and the *normalised* value, truncated to 128 bits: equal values in one organisation and
//! field give equal indexes, and without the key nothing can be learnt from them. Only exact
//! matches (of the whole value, or of one word of a name) are possible, by design.

use hkdf::Hkdf;
use hmac::{Hmac, Mac as _};
use mhp_domain::OrgId;
use sha2::Sha256;
use zeroize::Zeroize as _;

use crate::MasterKey;

/// Which field an index is for; indexes of different fields never compare equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// A subject's external id (service number, club id).
    ExternalId,
    /// A subject's whole name.
    Name,
    /// One word of a subject's name.
    NameWord,
    /// An e-mail address.
    Email,
}

impl Field {
    fn label(self) -> &'static [u8] {
        match self {
            Field::ExternalId => b"external_id",
            Field::Name => b"name",
            Field::NameWord => b"name_word",
            Field::Email => b"email",
        }
    }
}

/// Computes blind indexes. Holds only the derived key.
pub struct BlindIndexer {
    key: [u8; 32],
}

impl std::fmt::Debug for BlindIndexer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BlindIndexer([redacted])")
    }
}

impl Drop for BlindIndexer {
    fn drop(&mut self) {
        self.key.zeroize();
    }
}

impl BlindIndexer {
    /// Derives the index key from the master key (HKDF-SHA-256, its own label, so it shares
    /// nothing with the sealing keys).
    pub fn derive(master: &MasterKey) -> Self {
        let hk = Hkdf::<Sha256>::new(Some(b"mhp blind index v1"), master.expose());
        let mut key = [0u8; 32];
        // 32 bytes is far below HKDF-SHA-256's output limit; expand cannot fail here.
        let _ = hk.expand(b"blind-index", &mut key);
        Self { key }
    }

    /// The index of `value` for `field` in `org`, as 32 lowercase hex characters, or `None`
    /// when the value normalises to nothing.
    pub fn index(&self, org: OrgId, field: Field, value: &str) -> Option<String> {
        let norm = normalise(field, value);
        if norm.is_empty() {
            return None;
        }
        // HMAC takes keys of any length; new_from_slice cannot fail.
        let mut mac = <Hmac<Sha256>>::new_from_slice(&self.key).ok()?;
        let org = org.to_string();
        for part in [org.as_bytes(), field.label(), norm.as_bytes()] {
            mac.update(&u32::try_from(part.len()).unwrap_or(u32::MAX).to_be_bytes());
            mac.update(part);
        }
        let tag = mac.finalize().into_bytes();
        Some(mhp_domain::to_hex(&tag[..16]))
    }

    /// Indexes of each distinct word of a name (for search by first or last name).
    pub fn name_words(&self, org: OrgId, name: &str) -> Vec<String> {
        let mut words: Vec<String> = name
            .split(|c: char| c.is_whitespace() || c == '-' || c == ',')
            .filter_map(|w| self.index(org, Field::NameWord, w))
            .collect();
        words.sort();
        words.dedup();
        words
    }
}

/// Case, surrounding and repeated blanks and (for ids) separators do not matter.
fn normalise(field: Field, value: &str) -> String {
    let lower = value.trim().to_lowercase();
    match field {
        Field::ExternalId => lower
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-' && *c != '_')
            .collect(),
        Field::Name | Field::NameWord | Field::Email => {
            lower.split_whitespace().collect::<Vec<_>>().join(" ")
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn indexer(seed: u8) -> (tempfile::TempDir, BlindIndexer) {
        let dir = tempfile::tempdir().unwrap();
        let key = MasterKey::load_or_create(&dir.path().join(format!("k{seed}"))).unwrap();
        (dir, BlindIndexer::derive(&key))
    }

    #[test]
    fn equal_after_normalising_and_distinct_across_orgs_fields_and_keys() {
        let (_d, ix) = indexer(7);
        let (a, b) = (OrgId::new(), OrgId::new());
        let id = ix.index(a, Field::ExternalId, "SN-0042 17").unwrap();
        assert_eq!(id.len(), 32);
        assert_eq!(ix.index(a, Field::ExternalId, " sn004217 ").unwrap(), id);
        assert_ne!(ix.index(b, Field::ExternalId, "SN-0042 17").unwrap(), id);
        assert_ne!(ix.index(a, Field::Name, "SN-0042 17").unwrap(), id);
        assert_ne!(
            indexer(8)
                .1
                .index(a, Field::ExternalId, "SN-0042 17")
                .unwrap(),
            id
        );
        assert_eq!(
            ix.index(a, Field::Name, "Ada   LOVELACE"),
            ix.index(a, Field::Name, "ada lovelace ")
        );
        assert_eq!(ix.index(a, Field::Name, "   "), None);
    }

    #[test]
    fn name_words_find_either_name() {
        let (_d, ix) = indexer(1);
        let org = OrgId::new();
        let words = ix.name_words(org, "Mary-Jane  O'Neil, Jr");
        assert_eq!(words.len(), 4);
        assert!(words.contains(&ix.index(org, Field::NameWord, "o'neil").unwrap()));
        assert!(words.contains(&ix.index(org, Field::NameWord, "MARY").unwrap()));
        assert!(!words.iter().any(|w| w.contains("mary")));
    }
}
