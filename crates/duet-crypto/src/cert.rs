//! Device certificates: a person key says "this device is mine".
//!
//! When a person links a device, their person key signs a [`DeviceCertificate`] naming the
//! device's ed25519 id, its X25519 key (for receiving space keys) and a display name. Peers
//! store and forward the certificate's [`encode`](DeviceCertificate::encode)d bytes and call
//! [`verify`](DeviceCertificate::verify) before treating the device as the person's.
//!
//! The person signs `"duet/device-cert/1" || body`, where body is the encoding without the
//! signature, so a certificate signature can never be mistaken for any other Duet signature.

use duet_model::{DeviceId, PersonId, MAX_DEVICE_NAME_CHARS};
use x25519_dalek::{PublicKey as X25519Public, StaticSecret};

use crate::error::CryptoError;
use crate::keys::{parse_public, verify, PersonKey, Signature, SIGNATURE_LEN};

/// Prefix of the signed bytes, separating certificate signatures from every other use.
const SIGNING_DOMAIN: &[u8] = b"duet/device-cert/1";
/// First byte of the encoding.
const VERSION: u8 = 1;
/// Everything before the name: version, person, device, X25519 key, issued-at, name length.
const FIXED_HEAD_LEN: usize = 1 + 32 + 32 + 32 + 8 + 1;

/// A device certificate: the person key says "this device is mine".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceCertificate {
    /// The person who owns the device, and whose key signed this certificate.
    pub person: PersonId,
    /// The device's ed25519 public key.
    pub device: DeviceId,
    /// The device's X25519 public key, for wrapping space keys to it.
    pub device_x25519: [u8; 32],
    /// The device's display name: trimmed, 1..=64 characters, at most 255 bytes, no control
    /// characters.
    pub device_name: String,
    /// When the person issued it, in milliseconds since the Unix epoch (informational).
    pub issued_at_ms: u64,
    /// The person key's signature over the domain-separated encoding.
    pub signature: Signature,
}

impl DeviceCertificate {
    /// Longest device name in bytes (its length is stored in one byte).
    pub const MAX_NAME_BYTES: usize = u8::MAX as usize;
    /// Longest encoding: a name of [`Self::MAX_NAME_BYTES`].
    pub const MAX_ENCODED_LEN: usize = FIXED_HEAD_LEN + Self::MAX_NAME_BYTES + SIGNATURE_LEN;

    /// Signs a certificate for `device` with the person's key. The name is trimmed first;
    /// a name, device id or X25519 key that [`Self::verify`] would refuse is refused here
    /// with [`CryptoError::BadCertificate`].
    pub fn issue(
        person: &PersonKey,
        device: DeviceId,
        device_x25519: [u8; 32],
        device_name: &str,
        issued_at_ms: u64,
    ) -> Result<Self, CryptoError> {
        let mut cert = Self {
            person: person.id(),
            device,
            device_x25519,
            device_name: device_name.trim().to_owned(),
            issued_at_ms,
            signature: [0; SIGNATURE_LEN],
        };
        cert.check_fields()?;
        cert.signature = person.sign(&cert.signed_bytes());
        Ok(cert)
    }

    /// Checks the fields against the rules and the person's signature over a
    /// domain-separated encoding ("duet/device-cert/1" || fields).
    ///
    /// A field that breaks a rule gives [`CryptoError::BadCertificate`]; a person id that is
    /// not a usable key gives [`CryptoError::BadPublicKey`]; a signature that does not match
    /// gives [`CryptoError::BadSignature`].
    pub fn verify(&self) -> Result<(), CryptoError> {
        self.check_fields()?;
        verify(&self.person.0, &self.signed_bytes(), &self.signature)
    }

    /// Fixed versioned binary: version byte 1, person 32, device 32, x25519 32, issued_at u64
    /// BE, name length u8 + UTF-8, signature 64.
    ///
    /// Certificates from [`Self::issue`] and [`Self::decode`] always fit. A hand-built one
    /// with a name over [`Self::MAX_NAME_BYTES`] is encoded with the name cut short, and will
    /// not verify.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.body();
        out.extend_from_slice(&self.signature);
        out
    }

    /// Reads [`Self::encode`]'s output: bounded (at most [`Self::MAX_ENCODED_LEN`] bytes),
    /// never panics, rejects trailing bytes. Does NOT verify: call [`Self::verify`].
    pub fn decode(bytes: &[u8]) -> Result<Self, CryptoError> {
        if bytes.len() > Self::MAX_ENCODED_LEN {
            return Err(CryptoError::Malformed("a device certificate is too long"));
        }
        let mut rest = bytes;
        if take(&mut rest, 1)? != [VERSION] {
            return Err(CryptoError::Malformed("a device certificate has an unknown version"));
        }
        let person = PersonId(take_array(&mut rest)?);
        let device = DeviceId(take_array(&mut rest)?);
        let device_x25519 = take_array(&mut rest)?;
        let issued_at_ms = u64::from_be_bytes(take_array(&mut rest)?);
        let [name_len] = take_array(&mut rest)?;
        let name = take(&mut rest, usize::from(name_len))?;
        let device_name = std::str::from_utf8(name)
            .map_err(|_| CryptoError::Malformed("a device name is not valid UTF-8"))?
            .to_owned();
        let signature = take_array(&mut rest)?;
        if !rest.is_empty() {
            return Err(CryptoError::Malformed("a device certificate has trailing bytes"));
        }
        Ok(Self { person, device, device_x25519, device_name, issued_at_ms, signature })
    }

    /// The rules every certificate must meet, apart from the signature.
    fn check_fields(&self) -> Result<(), CryptoError> {
        check_device_name(&self.device_name)?;
        // The device must be able to sign events, so its id must be a usable ed25519 key.
        if parse_public(&self.device.0).is_err() {
            return Err(CryptoError::BadCertificate("the device id is not a valid public key"));
        }
        // A small-order X25519 key makes every shared secret with it predictable.
        let probe = StaticSecret::from([1u8; 32]);
        if !probe.diffie_hellman(&X25519Public::from(self.device_x25519)).was_contributory() {
            return Err(CryptoError::BadCertificate("the device's X25519 key is not a usable key"));
        }
        Ok(())
    }

    /// The encoding without the signature.
    fn body(&self) -> Vec<u8> {
        let name = truncated_name(&self.device_name);
        let mut out = Vec::with_capacity(FIXED_HEAD_LEN + name.len() + SIGNATURE_LEN);
        out.push(VERSION);
        out.extend_from_slice(&self.person.0);
        out.extend_from_slice(&self.device.0);
        out.extend_from_slice(&self.device_x25519);
        out.extend_from_slice(&self.issued_at_ms.to_be_bytes());
        out.push(u8::try_from(name.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(name.as_bytes());
        out
    }

    /// What the person key signs.
    fn signed_bytes(&self) -> Vec<u8> {
        let body = self.body();
        let mut out = Vec::with_capacity(SIGNING_DOMAIN.len() + body.len());
        out.extend_from_slice(SIGNING_DOMAIN);
        out.extend_from_slice(&body);
        out
    }
}

/// The same rule the model applies to device names, plus the byte limit of the encoding.
fn check_device_name(name: &str) -> Result<(), CryptoError> {
    if name.trim() != name {
        return Err(CryptoError::BadCertificate("the device name has spaces around it"));
    }
    if name.is_empty() {
        return Err(CryptoError::BadCertificate("the device name is empty"));
    }
    if name.len() > DeviceCertificate::MAX_NAME_BYTES || name.chars().nth(MAX_DEVICE_NAME_CHARS).is_some() {
        return Err(CryptoError::BadCertificate("the device name is too long"));
    }
    if name.chars().any(char::is_control) {
        return Err(CryptoError::BadCertificate("the device name contains control characters"));
    }
    Ok(())
}

/// The longest prefix of `name` that fits the one-byte length, cut on a character boundary.
fn truncated_name(name: &str) -> &str {
    let mut end = name.len().min(DeviceCertificate::MAX_NAME_BYTES);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}

/// Splits `n` bytes off the front of `rest`.
fn take<'a>(rest: &mut &'a [u8], n: usize) -> Result<&'a [u8], CryptoError> {
    if rest.len() < n {
        return Err(CryptoError::Malformed("a device certificate is cut short"));
    }
    let (head, tail) = rest.split_at(n);
    *rest = tail;
    Ok(head)
}

/// Splits a fixed-size array off the front of `rest`.
fn take_array<const N: usize>(rest: &mut &[u8]) -> Result<[u8; N], CryptoError> {
    take(rest, N)?.try_into().map_err(|_| CryptoError::Malformed("a device certificate is cut short"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::DeviceKey;
    use proptest::prelude::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    fn issue(name: &str) -> (DeviceCertificate, PersonKey) {
        let mut rng = StdRng::seed_from_u64(21);
        let person = PersonKey::generate(&mut rng);
        let device = DeviceKey::generate(&mut rng);
        let cert =
            DeviceCertificate::issue(&person, device.id(), device.x25519_public(), name, 1_767_225_600_000).unwrap();
        (cert, person)
    }

    #[test]
    fn issue_verify_encode_decode_round_trip() {
        let (cert, person) = issue("  Maya's phone ");
        assert_eq!(cert.device_name, "Maya's phone");
        assert_eq!(cert.person, person.id());
        assert_eq!(cert.verify(), Ok(()));
        let bytes = cert.encode();
        assert_eq!(bytes.len(), FIXED_HEAD_LEN + "Maya's phone".len() + SIGNATURE_LEN);
        assert_eq!(bytes[0], 1);
        let decoded = DeviceCertificate::decode(&bytes).unwrap();
        assert_eq!(decoded, cert);
        assert_eq!(decoded.verify(), Ok(()));
    }

    #[test]
    fn longest_names_fit() {
        let (cert, _) = issue(&"é".repeat(MAX_DEVICE_NAME_CHARS));
        assert_eq!(DeviceCertificate::decode(&cert.encode()).unwrap().verify(), Ok(()));
        let (cert, _) = issue(&format!("{}a", "💛".repeat(63)));
        assert_eq!(cert.device_name.len(), 253);
        assert!(cert.encode().len() <= DeviceCertificate::MAX_ENCODED_LEN);
        assert_eq!(DeviceCertificate::decode(&cert.encode()).unwrap().verify(), Ok(()));
    }

    #[test]
    fn bad_names_are_refused_at_issue() {
        let mut rng = StdRng::seed_from_u64(22);
        let person = PersonKey::generate(&mut rng);
        let device = DeviceKey::generate(&mut rng);
        for name in ["", "   ", "a\u{7}b", &"a".repeat(65), &"💛".repeat(64)] {
            let result = DeviceCertificate::issue(&person, device.id(), device.x25519_public(), name, 0);
            assert!(matches!(result, Err(CryptoError::BadCertificate(_))), "{name:?}");
        }
    }

    #[test]
    fn bad_keys_are_refused_at_issue() {
        let mut rng = StdRng::seed_from_u64(23);
        let person = PersonKey::generate(&mut rng);
        let device = DeviceKey::generate(&mut rng);
        let bad_device = DeviceCertificate::issue(&person, DeviceId([0; 32]), device.x25519_public(), "x", 0);
        assert!(matches!(bad_device, Err(CryptoError::BadCertificate(_))));
        let bad_x25519 = DeviceCertificate::issue(&person, device.id(), [0; 32], "x", 0);
        assert!(matches!(bad_x25519, Err(CryptoError::BadCertificate(_))));
    }

    #[test]
    fn tampered_fields_fail_to_verify() {
        let (cert, _) = issue("laptop");
        let mut rng = StdRng::seed_from_u64(24);
        let stranger = DeviceKey::generate(&mut rng);
        let other_person = PersonKey::generate(&mut rng);

        let mut bad = cert.clone();
        bad.device = stranger.id();
        assert_eq!(bad.verify(), Err(CryptoError::BadSignature));
        let mut bad = cert.clone();
        bad.device_x25519 = stranger.x25519_public();
        assert_eq!(bad.verify(), Err(CryptoError::BadSignature));
        let mut bad = cert.clone();
        bad.device_name = "desktop".into();
        assert_eq!(bad.verify(), Err(CryptoError::BadSignature));
        let mut bad = cert.clone();
        bad.issued_at_ms += 1;
        assert_eq!(bad.verify(), Err(CryptoError::BadSignature));
        let mut bad = cert.clone();
        bad.person = other_person.id();
        assert_eq!(bad.verify(), Err(CryptoError::BadSignature));
        let mut bad = cert.clone();
        bad.signature[10] ^= 1;
        assert_eq!(bad.verify(), Err(CryptoError::BadSignature));
        let mut bad = cert.clone();
        bad.person = PersonId([0; 32]);
        assert_eq!(bad.verify(), Err(CryptoError::BadPublicKey));
        let mut bad = cert.clone();
        bad.device_name = " laptop".into();
        assert!(matches!(bad.verify(), Err(CryptoError::BadCertificate(_))));
        let mut bad = cert;
        bad.device_x25519 = [0; 32];
        assert!(matches!(bad.verify(), Err(CryptoError::BadCertificate(_))));
    }

    #[test]
    fn tampered_encoding_fails_to_decode_or_verify() {
        let (cert, _) = issue("laptop");
        let bytes = cert.encode();
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x20;
            let accepted = DeviceCertificate::decode(&bad).and_then(|c| c.verify());
            assert!(accepted.is_err(), "flipping byte {i} was not noticed");
        }
    }

    #[test]
    fn decode_refuses_truncated_oversize_and_trailing() {
        let (cert, _) = issue("laptop");
        let bytes = cert.encode();
        for len in 0..bytes.len() {
            assert!(DeviceCertificate::decode(&bytes[..len]).is_err(), "len {len}");
        }
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert_eq!(
            DeviceCertificate::decode(&trailing),
            Err(CryptoError::Malformed("a device certificate has trailing bytes"))
        );
        let oversize = vec![1u8; DeviceCertificate::MAX_ENCODED_LEN + 1];
        assert_eq!(
            DeviceCertificate::decode(&oversize),
            Err(CryptoError::Malformed("a device certificate is too long"))
        );
        let mut other_version = bytes.clone();
        other_version[0] = 2;
        assert!(DeviceCertificate::decode(&other_version).is_err());
        let mut bad_utf8 = bytes;
        bad_utf8[FIXED_HEAD_LEN] = 0xff;
        assert_eq!(
            DeviceCertificate::decode(&bad_utf8),
            Err(CryptoError::Malformed("a device name is not valid UTF-8"))
        );
    }

    #[test]
    fn hand_built_oversize_name_encodes_but_does_not_verify() {
        let (mut cert, _) = issue("laptop");
        cert.device_name = "é".repeat(200);
        let bytes = cert.encode();
        assert!(bytes.len() <= DeviceCertificate::MAX_ENCODED_LEN);
        let decoded = DeviceCertificate::decode(&bytes).unwrap();
        assert_eq!(decoded.device_name, "é".repeat(127));
        assert!(decoded.verify().is_err());
        assert!(cert.verify().is_err());
    }

    proptest! {
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            if let Ok(cert) = DeviceCertificate::decode(&bytes) {
                prop_assert_eq!(cert.encode(), bytes);
                let _ = cert.verify();
            }
        }

        #[test]
        fn decode_never_panics_near_valid(mut bytes in proptest::collection::vec(any::<u8>(), FIXED_HEAD_LEN..FIXED_HEAD_LEN + 300),
                                          name_len in any::<u8>()) {
            // Random bytes rarely get past the version byte; steer them to the interesting part.
            bytes[0] = VERSION;
            bytes[FIXED_HEAD_LEN - 1] = name_len;
            if let Ok(cert) = DeviceCertificate::decode(&bytes) {
                prop_assert_eq!(cert.encode(), bytes);
                let _ = cert.verify();
            }
        }

        #[test]
        fn round_trip_any_valid_name(name in "[a-zA-Z0-9 'é💛]{1,64}") {
            let mut rng = StdRng::seed_from_u64(25);
            let person = PersonKey::generate(&mut rng);
            let device = DeviceKey::generate(&mut rng);
            if let Ok(cert) = DeviceCertificate::issue(&person, device.id(), device.x25519_public(), &name, 9) {
                let decoded = DeviceCertificate::decode(&cert.encode()).unwrap();
                prop_assert_eq!(decoded.verify(), Ok(()));
                prop_assert_eq!(decoded, cert);
            } else {
                prop_assert!(name.trim().is_empty());
            }
        }
    }
}
