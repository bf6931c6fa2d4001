//! STUN messages on the wire (RFC 8489), for the binding answers of [`crate::stun`] and for
//! TURN (RFC 8656, [`crate::turn`]): the parsing and building half, with nothing but `std`
//! and the hashes STUN names (HMAC-SHA1, MD5, CRC-32), so the fuzz targets (`stun`, `turn`)
//! compile this file by itself instead of building libp2p under the sanitizer.
//!
//! Only what a binding service and a TURN server for UDP relays need: the message header,
//! attributes as type-length-value, XOR'd addresses, MESSAGE-INTEGRITY with long-term
//! credentials, FINGERPRINT, and ChannelData framing. Every length is checked against the
//! datagram before it is used; anything that does not add up is `None`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use sha1::Sha1;

/// STUN's port (RFC 8489 §18.6), where `duet relay` answers by default.
pub const STUN_PORT: u16 = 3478;

pub(crate) const MAGIC_COOKIE: u32 = 0x2112_A442;
pub(crate) const HEADER_LEN: usize = 20;
/// Longest binding request answered (one is 20 bytes plus a few attributes).
pub(crate) const MAX_REQUEST: usize = 548;
/// The most attributes read from one message; a request needs fewer than ten.
pub(crate) const MAX_ATTRIBUTES: usize = 32;

// Methods (RFC 8489 §18.2, RFC 8656 §17).
pub(crate) const BINDING: u16 = 0x001;
pub(crate) const ALLOCATE: u16 = 0x003;
pub(crate) const REFRESH: u16 = 0x004;
pub(crate) const SEND: u16 = 0x006;
pub(crate) const DATA_INDICATION: u16 = 0x007;
pub(crate) const CREATE_PERMISSION: u16 = 0x008;
pub(crate) const CHANNEL_BIND: u16 = 0x009;

// Attributes.
pub(crate) const USERNAME: u16 = 0x0006;
pub(crate) const MESSAGE_INTEGRITY: u16 = 0x0008;
pub(crate) const ERROR_CODE: u16 = 0x0009;
pub(crate) const CHANNEL_NUMBER: u16 = 0x000C;
pub(crate) const LIFETIME: u16 = 0x000D;
pub(crate) const XOR_PEER_ADDRESS: u16 = 0x0012;
pub(crate) const DATA: u16 = 0x0013;
pub(crate) const REALM: u16 = 0x0014;
pub(crate) const NONCE: u16 = 0x0015;
pub(crate) const XOR_RELAYED_ADDRESS: u16 = 0x0016;
pub(crate) const REQUESTED_TRANSPORT: u16 = 0x0019;
pub(crate) const XOR_MAPPED_ADDRESS: u16 = 0x0020;
pub(crate) const FINGERPRINT: u16 = 0x8028;

/// REQUESTED-TRANSPORT's protocol number for UDP.
pub(crate) const TRANSPORT_UDP: u8 = 17;
/// The channel numbers a client may bind (RFC 8656 §12).
pub(crate) const CHANNELS: std::ops::RangeInclusive<u16> = 0x4000..=0x4FFF;

const FINGERPRINT_XOR: u32 = 0x5354_554E;
const INTEGRITY_LEN: usize = 20;

/// A message's class (the two bits spread through its type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    Request,
    Indication,
    Success,
    Error,
}

impl Class {
    fn bits(self) -> u16 {
        match self {
            Class::Request => 0b00,
            Class::Indication => 0b01,
            Class::Success => 0b10,
            Class::Error => 0b11,
        }
    }
}

fn message_type(method: u16, class: Class) -> u16 {
    let c = class.bits();
    (method & 0x000F) | ((method & 0x0070) << 1) | ((method & 0x0F80) << 2) | ((c & 1) << 4) | ((c & 2) << 7)
}

fn split_type(kind: u16) -> (u16, Class) {
    let method = (kind & 0x000F) | ((kind >> 1) & 0x0070) | ((kind >> 2) & 0x0F80);
    let class = match ((kind >> 4) & 1) | ((kind >> 7) & 2) {
        0b00 => Class::Request,
        0b01 => Class::Indication,
        0b10 => Class::Success,
        _ => Class::Error,
    };
    (method, class)
}

/// A STUN message read from a datagram, borrowing it.
#[derive(Debug)]
pub(crate) struct Message<'a> {
    pub method: u16,
    pub class: Class,
    pub transaction: [u8; 12],
    /// The attributes before MESSAGE-INTEGRITY (and it), in order: those after it are not
    /// covered by it and are ignored, as RFC 8489 §14.5 says.
    attributes: Vec<(u16, &'a [u8])>,
    /// The datagram.
    raw: &'a [u8],
    /// Where MESSAGE-INTEGRITY's attribute header starts, if there is one.
    integrity_at: Option<usize>,
}

impl<'a> Message<'a> {
    /// Reads a STUN message; `None` for anything that is not one, whole.
    pub fn parse(raw: &'a [u8]) -> Option<Message<'a>> {
        if raw.len() < HEADER_LEN || raw[0] & 0xC0 != 0 {
            return None;
        }
        let kind = u16::from_be_bytes([raw[0], raw[1]]);
        let length = usize::from(u16::from_be_bytes([raw[2], raw[3]]));
        if u32::from_be_bytes([raw[4], raw[5], raw[6], raw[7]]) != MAGIC_COOKIE
            || length != raw.len() - HEADER_LEN
            || !length.is_multiple_of(4)
        {
            return None;
        }
        let (method, class) = split_type(kind);
        let mut transaction = [0u8; 12];
        transaction.copy_from_slice(&raw[8..HEADER_LEN]);
        let mut attributes = Vec::new();
        let mut integrity_at = None;
        let mut at = HEADER_LEN;
        while at < raw.len() {
            let header = raw.get(at..at + 4)?;
            let kind = u16::from_be_bytes([header[0], header[1]]);
            let len = usize::from(u16::from_be_bytes([header[2], header[3]]));
            let value = raw.get(at + 4..at + 4 + len)?;
            if integrity_at.is_none() {
                if attributes.len() == MAX_ATTRIBUTES {
                    return None;
                }
                attributes.push((kind, value));
                if kind == MESSAGE_INTEGRITY {
                    integrity_at = Some(at);
                }
            }
            at += 4 + len.next_multiple_of(4);
        }
        if at != raw.len() {
            return None;
        }
        Some(Message { method, class, transaction, attributes, raw, integrity_at })
    }

    /// The first value of attribute `kind`.
    pub fn get(&self, kind: u16) -> Option<&'a [u8]> {
        self.attributes.iter().find(|(k, _)| *k == kind).map(|(_, v)| *v)
    }

    /// Every value of attribute `kind` (CreatePermission may name several peers).
    pub fn all(&self, kind: u16) -> impl Iterator<Item = &'a [u8]> + '_ {
        self.attributes.iter().filter(move |(k, _)| *k == kind).map(|(_, v)| *v)
    }

    /// An attribute holding text (USERNAME, REALM, NONCE), if it is UTF-8.
    pub fn text(&self, kind: u16) -> Option<&'a str> {
        std::str::from_utf8(self.get(kind)?).ok()
    }

    /// An XOR'd address attribute (XOR-PEER-ADDRESS and the like), decoded.
    pub fn address(&self, kind: u16) -> Option<SocketAddr> {
        decode_xor_address(self.get(kind)?, &self.transaction)
    }

    /// One XOR'd address value of this message (from [`Message::all`]), decoded.
    pub fn decode_address(&self, value: &[u8]) -> Option<SocketAddr> {
        decode_xor_address(value, &self.transaction)
    }

    /// LIFETIME, in seconds.
    pub fn lifetime(&self) -> Option<u32> {
        Some(u32::from_be_bytes(self.get(LIFETIME)?.try_into().ok()?))
    }

    /// CHANNEL-NUMBER.
    pub fn channel(&self) -> Option<u16> {
        let value = self.get(CHANNEL_NUMBER)?;
        (value.len() == 4).then(|| u16::from_be_bytes([value[0], value[1]]))
    }

    /// Whether MESSAGE-INTEGRITY is there and was made with `key` (RFC 8489 §14.5: the HMAC
    /// covers the message up to the attribute, with the length as if it ended after it).
    pub fn integrity_matches(&self, key: &[u8]) -> bool {
        let Some(at) = self.integrity_at else { return false };
        let Some(given) = self.get(MESSAGE_INTEGRITY) else { return false };
        if given.len() != INTEGRITY_LEN {
            return false;
        }
        let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(key) else { return false };
        let length = (at - HEADER_LEN + 4 + INTEGRITY_LEN) as u16;
        mac.update(&self.raw[..2]);
        mac.update(&length.to_be_bytes());
        mac.update(&self.raw[4..at]);
        mac.verify_slice(given).is_ok()
    }
}

/// The long-term credential key: MD5(username ":" realm ":" password) (RFC 8489 §9.2.2).
pub(crate) fn long_term_key(username: &str, realm: &str, password: &str) -> [u8; 16] {
    let mut md5 = Md5::new();
    md5.update(username.as_bytes());
    md5.update(b":");
    md5.update(realm.as_bytes());
    md5.update(b":");
    md5.update(password.as_bytes());
    md5.finalize().into()
}

fn decode_xor_address(value: &[u8], transaction: &[u8; 12]) -> Option<SocketAddr> {
    let cookie = MAGIC_COOKIE.to_be_bytes();
    let port = u16::from_be_bytes([*value.get(2)?, *value.get(3)?]) ^ (MAGIC_COOKIE >> 16) as u16;
    let ip = match (value[1], value.len()) {
        (0x01, 8) => {
            let mut octets = [0u8; 4];
            for (i, o) in octets.iter_mut().enumerate() {
                *o = value[4 + i] ^ cookie[i];
            }
            IpAddr::V4(Ipv4Addr::from(octets))
        }
        (0x02, 20) => {
            let mut key = [0u8; 16];
            key[..4].copy_from_slice(&cookie);
            key[4..].copy_from_slice(transaction);
            let mut octets = [0u8; 16];
            for (i, o) in octets.iter_mut().enumerate() {
                *o = value[4 + i] ^ key[i];
            }
            IpAddr::V6(Ipv6Addr::from(octets))
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

fn encode_xor_address(addr: SocketAddr, transaction: &[u8; 12]) -> Vec<u8> {
    let cookie = MAGIC_COOKIE.to_be_bytes();
    let port = addr.port() ^ (MAGIC_COOKIE >> 16) as u16;
    let mut value = Vec::with_capacity(20);
    match addr.ip() {
        IpAddr::V4(ip) => {
            value.extend_from_slice(&[0, 0x01]);
            value.extend_from_slice(&port.to_be_bytes());
            value.extend(ip.octets().iter().zip(cookie).map(|(b, k)| b ^ k));
        }
        IpAddr::V6(ip) => {
            value.extend_from_slice(&[0, 0x02]);
            value.extend_from_slice(&port.to_be_bytes());
            let key = cookie.iter().chain(transaction.iter());
            value.extend(ip.octets().iter().zip(key).map(|(b, k)| b ^ k));
        }
    }
    value
}

/// The answer to a STUN binding request `request` that came from `from` (a binding success
/// with its XOR-MAPPED-ADDRESS); `None` for anything that is not one. Only the header is
/// checked: a binding request is answered whatever its attributes say.
pub fn binding_response(request: &[u8], from: SocketAddr) -> Option<Vec<u8>> {
    if request.len() < HEADER_LEN || request.len() > MAX_REQUEST {
        return None;
    }
    let kind = u16::from_be_bytes([request[0], request[1]]);
    let length = usize::from(u16::from_be_bytes([request[2], request[3]]));
    let cookie = u32::from_be_bytes([request[4], request[5], request[6], request[7]]);
    if kind != message_type(BINDING, Class::Request)
        || cookie != MAGIC_COOKIE
        || length != request.len() - HEADER_LEN
        || !length.is_multiple_of(4)
    {
        return None;
    }
    let mut transaction = [0u8; 12];
    transaction.copy_from_slice(&request[8..HEADER_LEN]);
    Some(Builder::new(BINDING, Class::Success, transaction).address(XOR_MAPPED_ADDRESS, from).into_bytes())
}

/// Builds one message, attribute by attribute.
pub(crate) struct Builder {
    buf: Vec<u8>,
    transaction: [u8; 12],
}

impl Builder {
    pub fn new(method: u16, class: Class, transaction: [u8; 12]) -> Builder {
        let mut buf = Vec::with_capacity(128);
        buf.extend_from_slice(&message_type(method, class).to_be_bytes());
        buf.extend_from_slice(&[0, 0]);
        buf.extend_from_slice(&MAGIC_COOKIE.to_be_bytes());
        buf.extend_from_slice(&transaction);
        Builder { buf, transaction }
    }

    /// The answer to `request`, of `class`.
    pub fn answer(request: &Message<'_>, class: Class) -> Builder {
        Builder::new(request.method, class, request.transaction)
    }

    pub fn attribute(mut self, kind: u16, value: &[u8]) -> Builder {
        self.buf.extend_from_slice(&kind.to_be_bytes());
        self.buf.extend_from_slice(&(value.len() as u16).to_be_bytes());
        self.buf.extend_from_slice(value);
        self.buf.resize(self.buf.len().next_multiple_of(4), 0);
        self.set_length(self.buf.len() - HEADER_LEN);
        self
    }

    pub fn address(self, kind: u16, addr: SocketAddr) -> Builder {
        let value = encode_xor_address(addr, &self.transaction);
        self.attribute(kind, &value)
    }

    pub fn lifetime(self, seconds: u32) -> Builder {
        self.attribute(LIFETIME, &seconds.to_be_bytes())
    }

    /// ERROR-CODE with its number and words.
    pub fn error(self, code: u16, reason: &str) -> Builder {
        let mut value = vec![0, 0, (code / 100) as u8, (code % 100) as u8];
        value.extend_from_slice(reason.as_bytes());
        self.attribute(ERROR_CODE, &value)
    }

    /// MESSAGE-INTEGRITY over everything so far, with `key`.
    pub fn integrity(mut self, key: &[u8]) -> Builder {
        self.set_length(self.buf.len() - HEADER_LEN + 4 + INTEGRITY_LEN);
        let mut mac = Hmac::<Sha1>::new_from_slice(key).expect("HMAC takes a key of any length");
        mac.update(&self.buf);
        let tag = mac.finalize().into_bytes();
        self.attribute(MESSAGE_INTEGRITY, &tag)
    }

    /// The message as it is, without FINGERPRINT.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// FINGERPRINT, last.
    pub fn finish(mut self) -> Vec<u8> {
        self.set_length(self.buf.len() - HEADER_LEN + 8);
        let crc = crc32fast::hash(&self.buf) ^ FINGERPRINT_XOR;
        self.attribute(FINGERPRINT, &crc.to_be_bytes()).buf
    }

    fn set_length(&mut self, length: usize) {
        self.buf[2..4].copy_from_slice(&(length as u16).to_be_bytes());
    }
}

/// A ChannelData message (RFC 8656 §12.4): its channel and data, if `raw` is one, whole.
/// Over UDP the data may be followed by padding, which is not part of it.
pub(crate) fn channel_data(raw: &[u8]) -> Option<(u16, &[u8])> {
    let header = raw.get(..4)?;
    let channel = u16::from_be_bytes([header[0], header[1]]);
    let len = usize::from(u16::from_be_bytes([header[2], header[3]]));
    if !CHANNELS.contains(&channel) {
        return None;
    }
    Some((channel, raw.get(4..4 + len)?))
}

/// A ChannelData message carrying `data` on `channel`.
pub(crate) fn channel_message(channel: u16, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + data.len());
    out.extend_from_slice(&channel.to_be_bytes());
    out.extend_from_slice(&(data.len() as u16).to_be_bytes());
    out.extend_from_slice(data);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_split_back_into_method_and_class() {
        for method in [BINDING, ALLOCATE, REFRESH, SEND, DATA_INDICATION, CREATE_PERMISSION, CHANNEL_BIND] {
            for class in [Class::Request, Class::Indication, Class::Success, Class::Error] {
                assert_eq!(split_type(message_type(method, class)), (method, class));
            }
        }
        // As RFC 8489 §5 gives them.
        assert_eq!(message_type(BINDING, Class::Request), 0x0001);
        assert_eq!(message_type(BINDING, Class::Success), 0x0101);
        assert_eq!(message_type(ALLOCATE, Class::Error), 0x0113);
        assert_eq!(message_type(DATA_INDICATION, Class::Indication), 0x0017);
    }

    #[test]
    fn a_built_message_reads_back_with_its_integrity() {
        let key = long_term_key("user", "duet", "pass");
        let peer: SocketAddr = "198.51.100.7:40000".parse().unwrap();
        let peer6: SocketAddr = "[2001:db8::7]:40001".parse().unwrap();
        let raw = Builder::new(CREATE_PERMISSION, Class::Request, [7; 12])
            .address(XOR_PEER_ADDRESS, peer)
            .address(XOR_PEER_ADDRESS, peer6)
            .attribute(USERNAME, b"user")
            .lifetime(600)
            .integrity(&key)
            .finish();
        let message = Message::parse(&raw).expect("reads back");
        assert_eq!((message.method, message.class), (CREATE_PERMISSION, Class::Request));
        assert_eq!(message.address(XOR_PEER_ADDRESS), Some(peer));
        let peers: Vec<_> =
            message.all(XOR_PEER_ADDRESS).map(|v| decode_xor_address(v, &message.transaction).unwrap()).collect();
        assert_eq!(peers, [peer, peer6]);
        assert_eq!(message.text(USERNAME), Some("user"));
        assert_eq!(message.lifetime(), Some(600));
        assert!(message.integrity_matches(&key));
        assert!(!message.integrity_matches(&long_term_key("user", "duet", "wrong")));

        // One changed byte anywhere before the integrity breaks it.
        for i in HEADER_LEN..raw.len() - 32 {
            let mut altered = raw.clone();
            altered[i] ^= 1;
            if let Some(m) = Message::parse(&altered) {
                assert!(!m.integrity_matches(&key), "byte {i}");
            }
        }
    }

    #[test]
    fn what_does_not_add_up_is_not_a_message() {
        let raw = Builder::new(ALLOCATE, Class::Request, [1; 12]).attribute(USERNAME, b"abc").finish();
        assert!(Message::parse(&raw).is_some());
        assert!(Message::parse(&raw[..raw.len() - 4]).is_none(), "cut short");
        let mut long = raw.clone();
        long.extend_from_slice(&[0; 4]);
        assert!(Message::parse(&long).is_none(), "longer than it says");
        let mut lying = raw.clone();
        lying[HEADER_LEN + 3] = 200; // USERNAME says 200 bytes
        assert!(Message::parse(&lying).is_none());
        assert!(Message::parse(&[0; 19]).is_none());
        let too_many =
            (0..=MAX_ATTRIBUTES).fold(Builder::new(BINDING, Class::Request, [0; 12]), |b, _| b.attribute(0x8022, b"x"));
        assert!(Message::parse(&too_many.finish()).is_none());
    }

    #[test]
    fn channel_data_frames_and_unframes() {
        let raw = channel_message(0x4001, b"hello");
        assert_eq!(channel_data(&raw), Some((0x4001, &b"hello"[..])));
        let mut padded = raw.clone();
        padded.extend_from_slice(&[0, 0, 0]);
        assert_eq!(channel_data(&padded), Some((0x4001, &b"hello"[..])));
        assert_eq!(channel_data(&raw[..6]), None);
        assert_eq!(channel_data(&channel_message(0x3FFF, b"x")), None);
        assert_eq!(channel_data(&channel_message(0x5000, b"x")), None);
    }
}
