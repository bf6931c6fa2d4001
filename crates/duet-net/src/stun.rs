//! STUN for calls (RFC 8489, binding requests only), answered by `duet relay` on its STUN
//! and TURN port (`crate::turn::serve`).
//!
//! Calls are webrtc-rs peer connections, and ICE can only offer the addresses a device sees on
//! its own interfaces. Behind a home router those are private, so two partners at two homes
//! never connect a call (chat still works: libp2p punches through the routers by itself). A
//! STUN server tells each device the address its router gives it outside, and with those
//! ("server reflexive" candidates) ICE's checks punch through both routers. The relay a couple
//! runs is the natural place for it: it is on the internet and already theirs.
//!
//! Binding requests are answered with the sender's address (XOR-MAPPED-ADDRESS); no
//! authentication, nothing kept.

pub use crate::stun_wire::{binding_response, STUN_PORT};

/// The host a relay address names (IPv4, IPv6 in brackets, or DNS), as a STUN or TURN URL
/// wants it; `None` for an address that names no host.
pub fn relay_host(relay: &libp2p::Multiaddr) -> Option<String> {
    use libp2p::multiaddr::Protocol;
    match relay.iter().next()? {
        Protocol::Ip4(ip) => Some(ip.to_string()),
        Protocol::Ip6(ip) => Some(format!("[{ip}]")),
        Protocol::Dns(host) | Protocol::Dns4(host) | Protocol::Dns6(host) => Some(host.to_string()),
        _ => None,
    }
}

/// Where a relay answers STUN: its host, on [`STUN_PORT`] (`stun:198.51.100.1:3478`).
pub fn stun_url(relay: &libp2p::Multiaddr) -> Option<String> {
    Some(format!("stun:{}:{STUN_PORT}", relay_host(relay)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;

    use crate::stun_wire::{HEADER_LEN, MAGIC_COOKIE};

    fn request(transaction: [u8; 12]) -> Vec<u8> {
        let mut r = vec![0x00, 0x01, 0x00, 0x00];
        r.extend_from_slice(&MAGIC_COOKIE.to_be_bytes());
        r.extend_from_slice(&transaction);
        r
    }

    #[test]
    fn a_binding_request_is_answered_with_the_senders_address() {
        let t = [7u8; 12];
        let from: SocketAddr = "198.51.100.2:40001".parse().unwrap();
        let answer = binding_response(&request(t), from).expect("an answer");
        assert_eq!(&answer[..2], &[0x01, 0x01], "binding success");
        assert_eq!(u16::from_be_bytes([answer[2], answer[3]]) as usize, answer.len() - HEADER_LEN);
        assert_eq!(&answer[8..20], &t, "the request's transaction");
        assert_eq!(&answer[20..24], &[0x00, 0x20, 0x00, 0x08], "XOR-MAPPED-ADDRESS, 8 bytes");
        let port = u16::from_be_bytes([answer[26], answer[27]]) ^ 0x2112;
        let ip: Vec<u8> = answer[28..32].iter().zip(MAGIC_COOKIE.to_be_bytes()).map(|(b, k)| b ^ k).collect();
        assert_eq!((port, ip), (40001, vec![198, 51, 100, 2]));
    }

    #[test]
    fn ipv6_senders_get_their_address_xored_with_the_transaction_too() {
        let t = [3u8; 12];
        let from: SocketAddr = "[2001:db8::7]:5000".parse().unwrap();
        let answer = binding_response(&request(t), from).unwrap();
        assert_eq!(&answer[20..24], &[0x00, 0x20, 0x00, 20]);
        let mut key = MAGIC_COOKIE.to_be_bytes().to_vec();
        key.extend_from_slice(&t);
        let ip: Vec<u8> = answer[28..44].iter().zip(&key).map(|(b, k)| b ^ k).collect();
        assert_eq!(ip, "2001:db8::7".parse::<std::net::Ipv6Addr>().unwrap().octets());
    }

    #[test]
    fn a_relay_answers_stun_on_its_host() {
        let url = |a: &str| stun_url(&a.parse().unwrap());
        assert_eq!(
            url("/ip4/198.51.100.1/tcp/4001/p2p/12D3KooWGScw98DMNxshDumQoMhFL5rbdjk7qDfwe3Ksdp3t66n9").as_deref(),
            Some("stun:198.51.100.1:3478")
        );
        assert_eq!(url("/ip6/2001:db8::1/udp/4001/quic-v1").as_deref(), Some("stun:[2001:db8::1]:3478"));
        assert_eq!(url("/dns4/relay.example.org/tcp/4001").as_deref(), Some("stun:relay.example.org:3478"));
        assert_eq!(url("/p2p/12D3KooWGScw98DMNxshDumQoMhFL5rbdjk7qDfwe3Ksdp3t66n9"), None);
    }

    #[test]
    fn anything_else_is_ignored() {
        let from: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let good = request([1; 12]);
        assert!(binding_response(&good[..19], from).is_none(), "short");
        let mut response = good.clone();
        response[1] = 0x01;
        response[0] = 0x01;
        assert!(binding_response(&response, from).is_none(), "not a request");
        let mut no_cookie = good.clone();
        no_cookie[4] = 0;
        assert!(binding_response(&no_cookie, from).is_none(), "no magic cookie");
        let mut lying = good.clone();
        lying[3] = 8;
        assert!(binding_response(&lying, from).is_none(), "length does not match");
        assert!(binding_response(&vec![0; 4096], from).is_none(), "too long");
    }
}
