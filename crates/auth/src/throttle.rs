//! Sign-in throttling. Failures are counted per (account, source address) and per source
//! address; past a threshold each further failure locks that key for a time that doubles, capped
//! at 15 minutes. A success clears the pair. Because the lock is per pair, an attacker failing
//! from their own addresses slows themselves down and never locks the account out for its owner;
//! and no lock lasts longer than the cap.

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
    use sha2::{Digest as _, Sha256};
    let digest = Sha256::digest(email.as_bytes());
    let mut s = format!("acct:{}", mhp_domain::to_hex(&digest[..16]));
    s.push('@');
    s.push_str(source);
    s
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
    }
}
