//! The same ports after a restart.
//!
//! A device listens on ports the OS picks (`/tcp/0`, `/udp/0/quic-v1`), and its partners
//! remember the addresses they learned. If both restart and both get new ports, neither can
//! find the other any more unless something else helps (mDNS on a LAN, a relay, the DHT).
//! So a listen address with port 0 gets the port this device had last time for the same
//! transport and IP version, when that port is free.
//!
//! "Free" is checked by binding it first without `SO_REUSEPORT`: libp2p binds its listeners
//! with `SO_REUSEPORT`, which would let a second process of the same user share a port
//! another Duet already holds (and half of each one's connections would go to the other).
//! A plain bind fails on any port in use, shared or not. Between that check and libp2p's bind
//! another process could take the port; the window is a few microseconds, and the cost would
//! be connections that fail their Noise handshake (the peer id does not match) and are
//! redialled.

use std::net::{IpAddr, SocketAddr, TcpListener, UdpSocket};

use libp2p::multiaddr::Protocol;
use libp2p::Multiaddr;

/// Which transport an address is for, with its IP version.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Tcp { v6: bool },
    Quic { v6: bool },
}

/// The IP, kind and port of a plain TCP or QUIC address (`None` for anything else:
/// relayed, with a peer id, DNS, WebSocket…).
fn parts(addr: &Multiaddr) -> Option<(IpAddr, Kind, u16)> {
    let mut it = addr.iter();
    let ip: IpAddr = match it.next()? {
        Protocol::Ip4(ip) => ip.into(),
        Protocol::Ip6(ip) => ip.into(),
        _ => return None,
    };
    let v6 = ip.is_ipv6();
    let found = match (it.next()?, it.next()) {
        (Protocol::Tcp(port), None) => (ip, Kind::Tcp { v6 }, port),
        (Protocol::Udp(port), Some(Protocol::QuicV1)) => (ip, Kind::Quic { v6 }, port),
        _ => return None,
    };
    it.next().is_none().then_some(found)
}

/// `listen` with each port 0 replaced by the port of the same kind in `last`, when `free`
/// says it can be bound on that address.
pub(crate) fn same_ports(
    listen: &[Multiaddr],
    last: &[Multiaddr],
    free: impl Fn(IpAddr, bool, u16) -> bool,
) -> Vec<Multiaddr> {
    listen
        .iter()
        .map(|addr| {
            let Some((ip, kind, 0)) = parts(addr) else { return addr.clone() };
            let port = last
                .iter()
                .filter_map(parts)
                .find(|(_, k, port)| *k == kind && *port != 0)
                .map(|(_, _, port)| port)
                .filter(|&port| free(ip, matches!(kind, Kind::Tcp { .. }), port));
            let Some(port) = port else { return addr.clone() };
            let ip = match ip {
                IpAddr::V4(ip) => Protocol::Ip4(ip),
                IpAddr::V6(ip) => Protocol::Ip6(ip),
            };
            match kind {
                Kind::Tcp { .. } => Multiaddr::empty().with(ip).with(Protocol::Tcp(port)),
                Kind::Quic { .. } => Multiaddr::empty().with(ip).with(Protocol::Udp(port)).with(Protocol::QuicV1),
            }
        })
        .collect()
}

/// Whether nothing on this machine holds `port` (TCP or UDP) on `ip`.
pub(crate) fn port_is_free(ip: IpAddr, tcp: bool, port: u16) -> bool {
    let at = SocketAddr::new(ip, port);
    match tcp {
        true => TcpListener::bind(at).is_ok(),
        false => UdpSocket::bind(at).is_ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs(list: &[&str]) -> Vec<Multiaddr> {
        list.iter().map(|a| a.parse().unwrap()).collect()
    }

    #[test]
    fn port_zero_takes_last_times_port_of_the_same_kind() {
        let listen = addrs(&["/ip4/0.0.0.0/tcp/0", "/ip4/0.0.0.0/udp/0/quic-v1", "/ip6/::/tcp/0"]);
        let last = addrs(&[
            "/ip4/192.168.1.20/udp/40002/quic-v1",
            "/ip4/127.0.0.1/tcp/40001",
            "/ip4/1.2.3.4/tcp/4001/p2p/12D3KooWGScw98DMNxshDumQoMhFL5rbdjk7qDfwe3Ksdp3t66n9/p2p-circuit",
            "/ip6/::1/tcp/40003",
        ]);
        let got = same_ports(&listen, &last, |_, _, _| true);
        assert_eq!(got, addrs(&["/ip4/0.0.0.0/tcp/40001", "/ip4/0.0.0.0/udp/40002/quic-v1", "/ip6/::/tcp/40003"]));
    }

    #[test]
    fn a_port_in_use_a_fixed_port_or_nothing_remembered_is_left_as_it_is() {
        let listen = addrs(&["/ip4/0.0.0.0/tcp/0", "/ip4/0.0.0.0/tcp/4001", "/ip4/0.0.0.0/udp/0/quic-v1"]);
        let last = addrs(&["/ip4/127.0.0.1/tcp/40001", "/ip4/127.0.0.1/tcp/40005"]);
        let got = same_ports(&listen, &last, |_, tcp, port| !(tcp && port == 40001));
        assert_eq!(got, listen, "40001 is taken, 4001 was asked for, no QUIC port is remembered");
        assert_eq!(same_ports(&listen, &[], |_, _, _| true), listen);
    }

    #[test]
    fn a_port_held_by_another_socket_is_not_free() {
        let held = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = held.local_addr().unwrap().port();
        assert!(!port_is_free("127.0.0.1".parse().unwrap(), true, port));
        drop(held);
        assert!(port_is_free("127.0.0.1".parse().unwrap(), true, port));
    }
}
