//! Signing keys at rest. Each private key is stored encrypted (XChaCha20-Poly1305, a random
//! 24-byte nonce, the key's `kid` as associated data so a sealed key cannot be moved to another
//! row) under a 32-byte key that lives outside the database, in a key file. A copy of the
//! database alone — a backup, a dump — reveals no signing key.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use super::KeyRingError;

/// What a sealed key starts with in the database; anything else is a plaintext key written by
/// an older version (or imported), to be sealed on the next start.
const PREFIX: &str = "sealed:v1:";
const NONCE_LEN: usize = 24;

/// The key that seals the signing keys.
pub struct SealingKey(XChaCha20Poly1305);

impl SealingKey {
    pub fn generate() -> Result<(SealingKey, [u8; 32]), KeyRingError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| KeyRingError::Random(e.to_string()))?;
        Ok((SealingKey::from_bytes(&bytes), bytes))
    }

    fn from_bytes(bytes: &[u8; 32]) -> SealingKey {
        SealingKey(XChaCha20Poly1305::new(bytes.into()))
    }

    pub fn is_sealed(stored: &str) -> bool {
        stored.starts_with(PREFIX)
    }

    /// `private_key` (as [`super::GeneratedKey`] has it) sealed for the row `kid`.
    pub fn seal(&self, kid: &str, private_key: &str) -> Result<String, KeyRingError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|e| KeyRingError::Random(e.to_string()))?;
        let sealed = self
            .0
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: private_key.as_bytes(),
                    aad: kid.as_bytes(),
                },
            )
            .map_err(|_| KeyRingError::Sealing {
                kid: kid.to_string(),
            })?;
        let mut bytes = Vec::with_capacity(NONCE_LEN + sealed.len());
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&sealed);
        Ok(format!("{PREFIX}{}", STANDARD.encode(bytes)))
    }

    /// The private key of row `kid` from its sealed form; `None` if this is not the key it was
    /// sealed with, or the value was tampered with or belongs to another row.
    pub fn open(&self, kid: &str, stored: &str) -> Option<String> {
        let bytes = STANDARD.decode(stored.strip_prefix(PREFIX)?).ok()?;
        if bytes.len() < NONCE_LEN {
            return None;
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
        let plain = self
            .0
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: sealed,
                    aad: kid.as_bytes(),
                },
            )
            .ok()?;
        String::from_utf8(plain).ok()
    }
}

/// The key file: the sealing key as 64 hex digits, readable by its owner only.
pub struct KeyFile {
    pub path: PathBuf,
}

impl KeyFile {
    fn error(&self, reason: impl ToString) -> KeyRingError {
        KeyRingError::KeyFile {
            path: self.path.display().to_string(),
            reason: reason.to_string(),
        }
    }

    /// The sealing key, or `None` if there is no key file.
    pub fn read(&self) -> Result<Option<SealingKey>, KeyRingError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.error(e)),
        };
        let bytes: [u8; 32] = hex::decode(text.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| self.error("it does not hold 64 hex digits"))?;
        Ok(Some(SealingKey::from_bytes(&bytes)))
    }

    /// Writes a new key file; never overwrites one (`AlreadyExists` if there is one). The file
    /// appears whole (written aside, then linked into place), so a process starting at the same
    /// moment never reads it half-written.
    pub fn create(&self, key: &[u8; 32]) -> std::io::Result<()> {
        let mut random = [0u8; 8];
        getrandom::fill(&mut random).map_err(std::io::Error::other)?;
        let mut aside = self.path.clone().into_os_string();
        aside.push(format!(".{}.partial", hex::encode(random)));
        let aside = PathBuf::from(aside);
        let linked = write_new(&aside, key).and_then(|()| std::fs::hard_link(&aside, &self.path));
        let _ = std::fs::remove_file(&aside);
        linked
    }

    /// Replaces the key file with `key` in two steps: [`KeyFile::stage`] writes it beside
    /// (`<file>.new`), [`KeyFile::commit_staged`] renames it over the old one, atomically.
    pub fn staged_path(&self) -> PathBuf {
        let mut name = self.path.clone().into_os_string();
        name.push(".new");
        PathBuf::from(name)
    }

    pub fn stage(&self, key: &[u8; 32]) -> Result<(), KeyRingError> {
        write_new(&self.staged_path(), key).map_err(|e| {
            self.error(format!(
                "cannot write {}: {e} (if a rewrap was interrupted, see the operations notes)",
                self.staged_path().display()
            ))
        })
    }

    pub fn commit_staged(&self) -> Result<(), KeyRingError> {
        std::fs::rename(self.staged_path(), &self.path).map_err(|e| self.error(e))
    }
}

/// Creates `path` (mode 0600 whatever the umask; never over an existing file) holding `key`,
/// flushed to disk.
fn write_new(path: &Path, key: &[u8; 32]) -> std::io::Result<()> {
    let mut file = crate::files::create_private(path)?;
    writeln!(file, "{}", hex::encode(key))?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_key_opens_only_with_its_key_and_its_row() {
        let (key, _) = SealingKey::generate().unwrap();
        let sealed = key.seal("ed-1", "secret der").unwrap();
        assert!(SealingKey::is_sealed(&sealed));
        assert!(!sealed.contains("secret"));
        assert_eq!(key.open("ed-1", &sealed).as_deref(), Some("secret der"));
        assert_eq!(key.open("ed-2", &sealed), None, "moved to another row");
        let (other, _) = SealingKey::generate().unwrap();
        assert_eq!(other.open("ed-1", &sealed), None, "another key file");
        assert_ne!(
            sealed,
            key.seal("ed-1", "secret der").unwrap(),
            "fresh nonce"
        );
    }

    #[test]
    fn the_key_file_is_private_and_never_overwritten() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = KeyFile {
            path: dir.path().join("encore.key"),
        };
        assert!(file.read().unwrap().is_none());
        let (key, bytes) = SealingKey::generate().unwrap();
        file.create(&bytes).unwrap();
        let mode = std::fs::metadata(&file.path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(file.create(&bytes).is_err());
        let sealed = key.seal("k", "v").unwrap();
        let read = file.read().unwrap().unwrap();
        assert_eq!(read.open("k", &sealed).as_deref(), Some("v"));
    }
}
