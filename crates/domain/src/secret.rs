//! Values that must never be printed: secrets and ciphertexts.

use std::fmt;
use zeroize::Zeroize;

/// A secret value (password, token, key). `Debug` and `Display` print `[redacted]`, and the
/// value is wiped from memory when dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret<T: Zeroize>(T);

impl<T: Zeroize> Secret<T> {
    /// Wraps a secret.
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The secret itself; call only where the value is used, never to log it.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T: Zeroize> Drop for Secret<T> {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl<T: Zeroize> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl<T: Zeroize> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Bytes sealed by application-level encryption before they reach storage (direct identifiers,
/// clinical notes, raw signals). Storage accepts PHI only in this form, so plaintext PHI cannot
/// be written to a column by mistake. `Debug` shows only the length.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedBytes(Vec<u8>);

impl SealedBytes {
    /// Wraps ciphertext produced by the crypto layer, or read back from storage.
    pub fn from_ciphertext(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The ciphertext.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The ciphertext, by value.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

impl fmt::Debug for SealedBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealedBytes({} bytes)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let s = Secret::new(String::from("hunter2-hunter2"));
        assert_eq!(format!("{s:?} {s}"), "Secret([redacted]) [redacted]");
        assert_eq!(s.expose(), "hunter2-hunter2");
    }

    #[test]
    fn sealed_bytes_print_only_their_length() {
        let s = SealedBytes::from_ciphertext(b"Jane Doe".to_vec());
        assert_eq!(format!("{s:?}"), "SealedBytes(8 bytes)");
    }
}
