//! Encryption at rest for what users hand us in confidence: environment values and repository
//! access tokens.
//!
//! Each value is sealed with XChaCha20-Poly1305 under a key derived from `SECRET_KEY`. The
//! blob is `version (1) ‖ key id (4) ‖ nonce (24) ‖ ciphertext+tag`: the key id lets a
//! rotated installation (`SECRET_KEY_PREVIOUS`) still open old values, and the associated
//! data names the row a value belongs to, so a value copied into another row does not open.

use chacha20poly1305::{
    aead::{Aead, KeyInit, Payload},
    XChaCha20Poly1305, XNonce,
};
use sha2::{Digest, Sha256};

use super::config::SecretKey;

const VERSION: u8 = 1;
const HEADER: usize = 1 + 4 + 24;

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("the value was sealed with a key Slipway no longer has (key id {0}); set SECRET_KEY_PREVIOUS to the key it was made with")]
    UnknownKey(String),
    #[error("the value is damaged or belongs to another record")]
    Damaged,
    #[error("no randomness for a nonce: {0}")]
    Random(String),
}

struct SealingKey {
    id: [u8; 4],
    aead: XChaCha20Poly1305,
}

impl SealingKey {
    fn derive(secret: &SecretKey) -> Self {
        // SECRET_KEY is 32 uniformly random bytes, so a domain-separated hash is a sound KDF
        // and keeps this key apart from every other use of the secret.
        let key = Sha256::new()
            .chain_update(b"slipway/sealed-values/v1\0")
            .chain_update(secret.expose())
            .finalize();
        let id = Sha256::new()
            .chain_update(b"slipway/key-id/v1\0")
            .chain_update(secret.expose())
            .finalize();
        Self {
            id: [id[0], id[1], id[2], id[3]],
            aead: XChaCha20Poly1305::new(&key),
        }
    }
}

/// Seals with the current key; opens with the current or a previous one.
pub struct Cipher {
    current: SealingKey,
    previous: Vec<SealingKey>,
}

impl Cipher {
    pub fn new(current: &SecretKey, previous: &[SecretKey]) -> Self {
        Self {
            current: SealingKey::derive(current),
            previous: previous.iter().map(SealingKey::derive).collect(),
        }
    }

    /// `context` names the value's place (e.g. `env:<deployment>:<KEY>`).
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut nonce = [0u8; 24];
        getrandom::fill(&mut nonce).map_err(|e| CryptoError::Random(e.to_string()))?;
        let sealed = self
            .current
            .aead
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Damaged)?;
        let mut blob = Vec::with_capacity(HEADER + sealed.len());
        blob.push(VERSION);
        blob.extend_from_slice(&self.current.id);
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&sealed);
        Ok(blob)
    }

    pub fn open(&self, context: &str, blob: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if blob.len() < HEADER + 16 || blob[0] != VERSION {
            return Err(CryptoError::Damaged);
        }
        let id = &blob[1..5];
        let key = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == id)
            .ok_or_else(|| {
                CryptoError::UnknownKey(id.iter().map(|b| format!("{b:02x}")).collect())
            })?;
        key.aead
            .decrypt(
                XNonce::from_slice(&blob[5..HEADER]),
                Payload {
                    msg: &blob[HEADER..],
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Damaged)
    }

    pub fn open_string(&self, context: &str, blob: &[u8]) -> Result<String, CryptoError> {
        String::from_utf8(self.open(context, blob)?).map_err(|_| CryptoError::Damaged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::config::{Config, Settings};

    fn key(byte: u8) -> SecretKey {
        use base64::Engine as _;
        let raw = base64::engine::general_purpose::STANDARD.encode([byte; 32]);
        Config::from_settings(&Settings::from_pairs([
            ("DATABASE_URL", "postgres://u:p@localhost/db"),
            ("REDIS_URL", "redis://127.0.0.1:6379/0"),
            ("SECRET_KEY", raw.as_str()),
        ]))
        .expect("config")
        .secret_key
    }

    #[test]
    fn round_trips_and_hides_the_plaintext() {
        let cipher = Cipher::new(&key(1), &[]);
        let blob = cipher.seal("env:d:API_KEY", b"hunter2-secret").unwrap();
        assert!(!blob.windows(6).any(|w| w == b"hunter"));
        assert_eq!(
            cipher.open_string("env:d:API_KEY", &blob).unwrap(),
            "hunter2-secret"
        );
        // Same plaintext, fresh nonce: two seals never look alike.
        assert_ne!(
            blob,
            cipher.seal("env:d:API_KEY", b"hunter2-secret").unwrap()
        );
    }

    #[test]
    fn a_value_moved_to_another_row_or_tampered_with_does_not_open() {
        let cipher = Cipher::new(&key(1), &[]);
        let mut blob = cipher.seal("env:d:A", b"value").unwrap();
        assert!(matches!(
            cipher.open("env:d:B", &blob),
            Err(CryptoError::Damaged)
        ));
        let last = blob.len() - 1;
        blob[last] ^= 1;
        assert!(matches!(
            cipher.open("env:d:A", &blob),
            Err(CryptoError::Damaged)
        ));
    }

    #[test]
    fn rotated_keys_still_open_old_values_and_unknown_keys_are_named() {
        let old = Cipher::new(&key(1), &[]);
        let blob = old.seal("ctx", b"v").unwrap();
        let rotated = Cipher::new(&key(2), &[key(1)]);
        assert_eq!(rotated.open("ctx", &blob).unwrap(), b"v");
        let forgot = Cipher::new(&key(2), &[]);
        assert!(matches!(
            forgot.open("ctx", &blob),
            Err(CryptoError::UnknownKey(_))
        ));
    }
}
