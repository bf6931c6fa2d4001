//! The data key, kept wrapped beside the store in `<data dir>/vault.json`.
//!
//! Everything the store keeps is sealed with one random 32-byte [`DataKey`] (see the `sealed`
//! module). The key itself is written only wrapped, one of two ways:
//!
//! - **keyring**: a random wrapping key lives in the desktop's Secret Service keyring (GNOME
//!   Keyring, KWallet…), reached through `secret-tool` (Debian's `libsecret-tools`) under the
//!   attributes `application=duet`, `vault=<this vault's id>`. The person types nothing; the
//!   keyring opens with their session.
//! - **passphrase**: the wrapping key is argon2id of a passphrase the person chose, with a
//!   random 16-byte salt and m = 64 MiB, t = 3, p = 1 (RFC 9106's second recommended
//!   setting, with one lane: Duet's machines may have two cores; ~0.3 s here). The
//!   parameters are written in the file, so stronger ones can come later without a new format.
//!
//! The wrapped key is XChaCha20-Poly1305 of the data key under the wrapping key, with the
//! vault's id and wrapping as associated data: a wrong passphrase fails the tag and is refused
//! in words, having changed nothing. Changing the passphrase or moving between keyring and
//! passphrase re-wraps the same data key ([`rewrap`]), so no message is re-encrypted; the file
//! is replaced whole (temporary file, synced, renamed), so a crash leaves the old or the new.
//!
//! The file says nothing of the data key without the keyring or the passphrase. Losing both
//! loses the data: there is no way around the encryption, by design.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use duet_crypto::{DataKey, NONCE_LEN};
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use zeroize::Zeroizing;

/// The vault's file name inside the data directory.
pub const FILE: &str = "vault.json";

/// The shortest passphrase accepted for the data.
pub const MIN_PASSPHRASE: usize = 8;

/// The longest passphrase accepted (argon2 takes any length; this bounds what is hashed).
pub const MAX_PASSPHRASE: usize = 1024;

/// argon2id's memory in KiB, passes and lanes for a new passphrase.
pub(crate) const ARGON2: (u32, u32, u32) = (64 * 1024, 3, 1);

/// What opens the data key.
#[derive(Clone)]
pub enum Unlock {
    /// The desktop's keyring.
    Keyring,
    /// A passphrase the person chose.
    Passphrase(Zeroizing<String>),
}

impl Unlock {
    pub fn passphrase(p: impl Into<String>) -> Self {
        Unlock::Passphrase(Zeroizing::new(p.into()))
    }
}

impl std::fmt::Debug for Unlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Unlock::Keyring => "Unlock::Keyring",
            Unlock::Passphrase(_) => "Unlock::Passphrase(..)",
        })
    }
}

/// How a vault keeps its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Wrapping {
    Keyring,
    Passphrase,
}

/// Why the data key could not be had.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum VaultError {
    #[error("that passphrase does not open this Duet data")]
    WrongPassphrase,
    #[error("this Duet data is locked with a passphrase: type it, or give it in DUET_PASSPHRASE or --passphrase-file")]
    NeedsPassphrase,
    #[error("choose a passphrase of at least {MIN_PASSPHRASE} characters (and at most {MAX_PASSPHRASE})")]
    WeakPassphrase,
    #[error("the desktop keyring could not be used ({0}); choose a passphrase instead")]
    Keyring(String),
    #[error("the key file {path} is damaged ({reason}); without it the data cannot be opened")]
    Damaged { path: PathBuf, reason: String },
    #[error("cannot write the key file {path}: {reason}")]
    Unwritable { path: PathBuf, reason: String },
}

#[derive(Serialize, Deserialize)]
struct VaultFile {
    version: u32,
    /// Random; names this vault's keyring entry and binds the wrapped key to this file.
    id: String,
    wrapping: Wrapping,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    argon2id: Option<Argon2Params>,
    nonce: String,
    wrapped: String,
}

#[derive(Serialize, Deserialize)]
struct Argon2Params {
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
    salt: String,
}

pub(crate) fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE)
}

/// How the vault in `data_dir` keeps its key; `None` when there is no vault yet.
pub fn wrapping(data_dir: &Path) -> Result<Option<Wrapping>, VaultError> {
    Ok(read(data_dir)?.map(|f| f.wrapping))
}

/// The data key of `data_dir`, opened with `unlock`; a new key (and vault) when there is none
/// yet, wrapped as `unlock` says.
pub fn unlock(data_dir: &Path, unlock: &Unlock) -> Result<DataKey, VaultError> {
    match read(data_dir)? {
        Some(file) => open(data_dir, &file, unlock),
        None => {
            let key = DataKey::generate(&mut OsRng);
            write(data_dir, &wrap(&key, unlock, &random_hex(16))?)?;
            Ok(key)
        }
    }
}

/// Re-wraps the data key of `data_dir`, opened with `current`, as `new` says: a changed
/// passphrase, or a move between keyring and passphrase. Nothing else changes.
pub fn rewrap(data_dir: &Path, current: &Unlock, new: &Unlock) -> Result<(), VaultError> {
    let file =
        read(data_dir)?.ok_or_else(|| VaultError::Damaged { path: path(data_dir), reason: "it is missing".into() })?;
    let key = open(data_dir, &file, current)?;
    // A fresh id: a keyring entry of the old id is cleared after the new file is in place.
    let next = wrap(&key, new, &random_hex(16))?;
    write(data_dir, &next)?;
    if file.wrapping == Wrapping::Keyring {
        keyring_clear(&file.id);
    }
    Ok(())
}

fn read(data_dir: &Path) -> Result<Option<VaultFile>, VaultError> {
    let path = path(data_dir);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(VaultError::Damaged { path, reason: e.to_string() }),
    };
    let file: VaultFile =
        serde_json::from_str(&text).map_err(|e| VaultError::Damaged { path: path.clone(), reason: e.to_string() })?;
    if file.version != 1 {
        return Err(VaultError::Damaged {
            path,
            reason: format!("format {} is not one this Duet reads", file.version),
        });
    }
    Ok(Some(file))
}

fn damaged(data_dir: &Path, reason: &str) -> VaultError {
    VaultError::Damaged { path: path(data_dir), reason: reason.into() }
}

fn open(data_dir: &Path, file: &VaultFile, unlock: &Unlock) -> Result<DataKey, VaultError> {
    let wrapping_key = match (file.wrapping, unlock) {
        (Wrapping::Passphrase, Unlock::Passphrase(p)) => {
            let params =
                file.argon2id.as_ref().ok_or_else(|| damaged(data_dir, "its passphrase settings are missing"))?;
            let salt = hex::decode(&params.salt).map_err(|_| damaged(data_dir, "its salt is not hex"))?;
            stretch(p, &salt, (params.memory_kib, params.iterations, params.parallelism))
                .map_err(|e| damaged(data_dir, &e))?
        }
        (Wrapping::Passphrase, Unlock::Keyring) => return Err(VaultError::NeedsPassphrase),
        // The keyring holds the key; a passphrase given as well (an environment set for every
        // data folder, say) is not needed.
        (Wrapping::Keyring, _) => keyring_lookup(&file.id)?,
    };
    let nonce: [u8; NONCE_LEN] = hex::decode(&file.nonce)
        .ok()
        .and_then(|n| n.try_into().ok())
        .ok_or_else(|| damaged(data_dir, "its nonce is not 24 bytes of hex"))?;
    let wrapped = hex::decode(&file.wrapped).map_err(|_| damaged(data_dir, "its key is not hex"))?;
    let bytes = DataKey::from_bytes(*wrapping_key)
        .open(&nonce, &associated(&file.id, file.wrapping), &wrapped)
        .map_err(|_| match file.wrapping {
            Wrapping::Passphrase => VaultError::WrongPassphrase,
            Wrapping::Keyring => damaged(data_dir, "the keyring's key does not open it"),
        })?;
    let bytes = Zeroizing::new(bytes);
    let key: [u8; 32] = bytes.as_slice().try_into().map_err(|_| damaged(data_dir, "its key is not 32 bytes"))?;
    Ok(DataKey::from_bytes(key))
}

fn wrap(key: &DataKey, unlock: &Unlock, id: &str) -> Result<VaultFile, VaultError> {
    let (wrapping, argon2id, wrapping_key) = match unlock {
        Unlock::Passphrase(p) => {
            check_passphrase(p)?;
            let mut salt = [0; 16];
            OsRng.fill_bytes(&mut salt);
            let wrapping_key = stretch(p, &salt, ARGON2).map_err(VaultError::Keyring)?;
            let (memory_kib, iterations, parallelism) = ARGON2;
            let params = Argon2Params { memory_kib, iterations, parallelism, salt: hex::encode(salt) };
            (Wrapping::Passphrase, Some(params), wrapping_key)
        }
        Unlock::Keyring => {
            let mut wrapping_key = Zeroizing::new([0; 32]);
            OsRng.fill_bytes(wrapping_key.as_mut());
            keyring_store(id, &wrapping_key)?;
            (Wrapping::Keyring, None, wrapping_key)
        }
    };
    let mut nonce = [0; NONCE_LEN];
    OsRng.fill_bytes(&mut nonce);
    let mut wrapped = Vec::new();
    DataKey::from_bytes(*wrapping_key).seal_append(&nonce, &associated(id, wrapping), &*key.to_bytes(), &mut wrapped);
    Ok(VaultFile {
        version: 1,
        id: id.to_owned(),
        wrapping,
        argon2id,
        nonce: hex::encode(nonce),
        wrapped: hex::encode(wrapped),
    })
}

/// Whether `passphrase` may lock the data: [`MIN_PASSPHRASE`] characters at least, and at
/// most [`MAX_PASSPHRASE`] bytes.
pub fn check_passphrase(passphrase: &str) -> Result<(), VaultError> {
    if passphrase.chars().count() < MIN_PASSPHRASE || passphrase.len() > MAX_PASSPHRASE {
        return Err(VaultError::WeakPassphrase);
    }
    Ok(())
}

fn associated(id: &str, wrapping: Wrapping) -> Vec<u8> {
    let how: &[u8] = match wrapping {
        Wrapping::Keyring => b"keyring",
        Wrapping::Passphrase => b"passphrase",
    };
    [b"duet/vault/1\0".as_slice(), id.as_bytes(), b"\0", how].concat()
}

pub(crate) fn stretch(
    passphrase: &str,
    salt: &[u8],
    (m, t, p): (u32, u32, u32),
) -> Result<Zeroizing<[u8; 32]>, String> {
    use argon2::{Algorithm, Argon2, Params, Version};
    // Bounds on what a damaged file may ask for: at most 4 GiB of memory and 100 passes.
    if m > 4 << 20 || t > 100 || p > 16 {
        return Err("its passphrase settings are out of range".into());
    }
    let params = Params::new(m, t, p, Some(32)).map_err(|e| e.to_string())?;
    let mut out = Zeroizing::new([0; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase.as_bytes(), salt, out.as_mut())
        .map_err(|e| e.to_string())?;
    Ok(out)
}

fn random_hex(bytes: usize) -> String {
    let mut b = vec![0; bytes];
    OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

/// Writes the vault whole: a temporary file (0600) beside it, synced, renamed over, and the
/// folder synced, so a crash leaves the old file or the new one.
fn write(data_dir: &Path, file: &VaultFile) -> Result<(), VaultError> {
    use std::os::unix::fs::OpenOptionsExt;
    let target = path(data_dir);
    let tmp = data_dir.join(format!("{FILE}.part"));
    let failed = |e: std::io::Error| VaultError::Unwritable { path: target.clone(), reason: e.to_string() };
    let text = serde_json::to_string_pretty(file).map_err(|e| failed(std::io::Error::other(e)))?;
    let result = (|| {
        let mut out = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp)?;
        out.write_all(text.as_bytes())?;
        out.sync_all()?;
        std::fs::rename(&tmp, &target)?;
        std::fs::File::open(data_dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(failed)
}

const KEYRING_ATTRIBUTES: [&str; 2] = ["application", "duet"];

/// How long the keyring may take to answer (the person may be typing their password into its
/// unlock prompt).
const KEYRING_PATIENCE: std::time::Duration = std::time::Duration::from_secs(120);

fn secret_tool(args: &[&str], input: Option<&[u8]>) -> Result<Vec<u8>, VaultError> {
    let mut child = Command::new("secret-tool")
        .args(args)
        .stdin(if input.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => VaultError::Keyring("secret-tool is not installed".into()),
            _ => VaultError::Keyring(e.to_string()),
        })?;
    if let (Some(input), Some(mut stdin)) = (input, child.stdin.take()) {
        stdin.write_all(input).map_err(|e| VaultError::Keyring(e.to_string()))?;
    }
    // A locked keyring asks the person to unlock it; with nobody to answer (no desktop
    // session), it would wait for ever.
    let started = std::time::Instant::now();
    while child.try_wait().map_err(|e| VaultError::Keyring(e.to_string()))?.is_none() {
        if started.elapsed() > KEYRING_PATIENCE {
            let _ = child.kill();
            let _ = child.wait();
            return Err(VaultError::Keyring("it did not answer within two minutes".into()));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = child.wait_with_output().map_err(|e| VaultError::Keyring(e.to_string()))?;
    if !out.status.success() {
        let said = String::from_utf8_lossy(&out.stderr).trim().to_owned();
        return Err(VaultError::Keyring(if said.is_empty() { "no Secret Service answered".into() } else { said }));
    }
    Ok(out.stdout)
}

fn keyring_store(id: &str, key: &[u8; 32]) -> Result<(), VaultError> {
    let secret = Zeroizing::new(hex::encode(key));
    let [a, b] = KEYRING_ATTRIBUTES;
    secret_tool(&["store", "--label=Duet data key", a, b, "vault", id], Some(secret.as_bytes()))?;
    // Read back: a keyring that takes a secret and cannot give it back is no keyring.
    let back = keyring_lookup(id)?;
    if back.as_slice() != key {
        return Err(VaultError::Keyring("the keyring did not give back what it was given".into()));
    }
    Ok(())
}

fn keyring_lookup(id: &str) -> Result<Zeroizing<[u8; 32]>, VaultError> {
    let [a, b] = KEYRING_ATTRIBUTES;
    let out = Zeroizing::new(secret_tool(&["lookup", a, b, "vault", id], None)?);
    let text = std::str::from_utf8(&out).map_err(|_| VaultError::Keyring("its entry is not text".into()))?;
    let bytes = Zeroizing::new(
        hex::decode(text.trim()).map_err(|_| VaultError::Keyring("Duet's entry in it is damaged".into()))?,
    );
    let key: [u8; 32] =
        bytes.as_slice().try_into().map_err(|_| VaultError::Keyring("Duet's entry in it is damaged".into()))?;
    Ok(Zeroizing::new(key))
}

fn keyring_clear(id: &str) {
    let [a, b] = KEYRING_ATTRIBUTES;
    let _ = secret_tool(&["clear", a, b, "vault", id], None);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_passphrase_vault_opens_with_its_passphrase_only() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(wrapping(dir.path()).unwrap(), None);
        let key = unlock(dir.path(), &Unlock::passphrase("correct horse")).unwrap();
        assert_eq!(wrapping(dir.path()).unwrap(), Some(Wrapping::Passphrase));
        let again = unlock(dir.path(), &Unlock::passphrase("correct horse")).unwrap();
        assert_eq!(*key.to_bytes(), *again.to_bytes());
        let before = std::fs::read(path(dir.path())).unwrap();
        let wrong = unlock(dir.path(), &Unlock::passphrase("wrong horse")).unwrap_err();
        assert!(matches!(wrong, VaultError::WrongPassphrase), "{wrong}");
        assert_eq!(wrong.to_string(), "that passphrase does not open this Duet data");
        assert!(matches!(unlock(dir.path(), &Unlock::Keyring), Err(VaultError::NeedsPassphrase)));
        assert_eq!(std::fs::read(path(dir.path())).unwrap(), before, "a refusal changes nothing");
        // Nothing of the key is in the file.
        let text = String::from_utf8(before).unwrap();
        assert!(!text.contains(&hex::encode(*key.to_bytes())));
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(path(dir.path())).unwrap().permissions().mode() & 0o777, 0o600);
    }

    #[test]
    fn changing_the_passphrase_keeps_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let key = unlock(dir.path(), &Unlock::passphrase("first passphrase")).unwrap();
        let weak = rewrap(dir.path(), &Unlock::passphrase("first passphrase"), &Unlock::passphrase("short"));
        assert!(matches!(weak, Err(VaultError::WeakPassphrase)));
        let wrong = rewrap(dir.path(), &Unlock::passphrase("not it at all"), &Unlock::passphrase("second one!"));
        assert!(matches!(wrong, Err(VaultError::WrongPassphrase)));
        rewrap(dir.path(), &Unlock::passphrase("first passphrase"), &Unlock::passphrase("second one!")).unwrap();
        assert!(matches!(
            unlock(dir.path(), &Unlock::passphrase("first passphrase")),
            Err(VaultError::WrongPassphrase)
        ));
        let after = unlock(dir.path(), &Unlock::passphrase("second one!")).unwrap();
        assert_eq!(*key.to_bytes(), *after.to_bytes());
        assert!(!dir.path().join(format!("{FILE}.part")).exists());
    }

    #[test]
    fn a_damaged_vault_is_refused_in_words() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(path(dir.path()), "{ not json").unwrap();
        let e = unlock(dir.path(), &Unlock::passphrase("correct horse")).unwrap_err();
        assert!(matches!(e, VaultError::Damaged { .. }), "{e}");
        assert!(e.to_string().contains("vault.json is damaged"), "{e}");
        // Settings that would take the machine's memory are refused before argon2 runs.
        let _ = std::fs::remove_file(path(dir.path()));
        unlock(dir.path(), &Unlock::passphrase("correct horse")).unwrap();
        let text = std::fs::read_to_string(path(dir.path())).unwrap().replace("65536", "999999999");
        std::fs::write(path(dir.path()), text).unwrap();
        let e = unlock(dir.path(), &Unlock::passphrase("correct horse")).unwrap_err();
        assert!(e.to_string().contains("out of range"), "{e}");
    }
}
