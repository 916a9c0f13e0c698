//! Sign-in throttling and limits on mail. Failures are counted per (account, source address),
//! per source address, and per account across all addresses; past a threshold each further
//! failure locks that key for a time that doubles, capped at 15 minutes. A success clears the
//! pair. The lock per pair slows an attacker failing from one address without touching the
//! owner's other addresses; the account-wide lock caps what an attacker spreading over many
//! addresses gets (at most [`FREE_FAILURES_PER_ACCOUNT`] plus one per lock, about 17 an hour,
//! well under OWASP ASVS 2.2.1's 100), at the price that the owner may have to wait or reset
//! their password, which clears every lock of the account. No lock lasts longer than the cap.
//!
//! Keys hold a hash of the normalised e-mail, never the address, so unknown addresses are
//! throttled and limited exactly like known ones.

/// Failures allowed before the first lock.
pub const FREE_FAILURES: i64 = 5;
/// The first lock.
pub const BASE_LOCK_MS: i64 = 30_000;
/// The longest lock.
pub const MAX_LOCK_MS: i64 = 15 * 60 * 1000;
/// Failures are forgotten after this long without one.
pub const WINDOW_MS: i64 = 60 * 60 * 1000;
/// Per source address (any account), a looser threshold against password spraying.
pub const FREE_FAILURES_PER_ADDRESS: i64 = 30;
/// Per account, whatever the source address: against guessing spread over many addresses.
pub const FREE_FAILURES_PER_ACCOUNT: i64 = 10;
/// The window of the limits on mail.
pub const MAIL_WINDOW_MS: i64 = 60 * 60 * 1000;

/// How long a key is locked after its `failures`-th failure, given the threshold.
pub fn lock_after(failures: i64, free: i64) -> Option<i64> {
    if failures < free {
        return None;
    }
    let doublings = u32::try_from((failures - free).min(30)).unwrap_or(30);
    Some(
        BASE_LOCK_MS
            .saturating_mul(1i64 << doublings)
            .min(MAX_LOCK_MS),
    )
}

/// The throttle key of an account seen from an address. The account part is the normalised
/// e-mail hashed, so unknown addresses are throttled exactly like known ones and the table holds
/// no e-mail in clear.
pub fn account_key(email: &str, source: &str) -> String {
    let mut s = account_wide_key(email);
    s.push('@');
    s.push_str(source);
    s
}

/// The throttle key of an account from every address; also the prefix of its per-address keys
/// (so a password reset can clear them all).
pub fn account_wide_key(email: &str) -> String {
    format!("acct:{}", email_hash(email))
}

/// The mail-limit key of an address.
pub fn mail_address_key(email: &str) -> String {
    format!("mail:addr:{}", email_hash(email))
}

/// The mail-limit key of an organisation.
pub fn mail_org_key(org: &str) -> String {
    format!("mail:org:{org}")
}

fn email_hash(email: &str) -> String {
    use sha2::{Digest as _, Sha256};
    let digest = Sha256::digest(email.as_bytes());
    mhp_domain::to_hex(&digest[..16])
}

/// The throttle key of an address.
pub fn address_key(source: &str) -> String {
    format!("addr:{source}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_double_and_are_capped() {
        assert_eq!(lock_after(4, FREE_FAILURES), None);
        assert_eq!(lock_after(5, FREE_FAILURES), Some(30_000));
        assert_eq!(lock_after(6, FREE_FAILURES), Some(60_000));
        assert_eq!(lock_after(9, FREE_FAILURES), Some(480_000));
        assert_eq!(lock_after(10, FREE_FAILURES), Some(MAX_LOCK_MS));
        assert_eq!(lock_after(10_000, FREE_FAILURES), Some(MAX_LOCK_MS));
    }

    #[test]
    fn keys_hold_no_email() {
        let k = account_key("jane@example.org", "10.0.0.1");
        assert!(!k.contains("jane"));
        assert_eq!(k, account_key("jane@example.org", "10.0.0.1"));
        assert_ne!(k, account_key("jane@example.org", "10.0.0.2"));
        assert!(k.starts_with(&account_wide_key("jane@example.org")));
        assert!(!mail_address_key("jane@example.org").contains("jane"));
    }
}
