//! Who the client is: the TCP peer, unless the peer is a proxy we trust, in which case
//! the last hop of `X-Forwarded-For` that is not itself a trusted proxy.
//!
//! Right to left, because each proxy appends the address it saw to whatever the client
//! sent: everything left of the first untrusted hop could have been written by the
//! client, everything right of it by proxies we trust. Taking the leftmost entry (as
//! many frameworks do) would let any client pick its own bucket. A hop that is garbage
//! where we must read it (not an address) makes the whole header unbelievable: the
//! peer is the client then, never a guess.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use ipnet::IpNet;

/// The client's address: `peer` unless it is in `trusted`, else read from the
/// `X-Forwarded-For` values (in the order the headers came).
pub(crate) fn resolve<'a>(
    peer: IpAddr,
    forwarded_for: impl Iterator<Item = &'a [u8]>,
    trusted: &[IpNet],
) -> IpAddr {
    let peer = canonical(peer);
    if !is_in(peer, trusted) {
        return peer;
    }
    let Some(hops) = hops(forwarded_for) else {
        return peer;
    };
    let mut client = peer;
    for hop in hops.iter().rev() {
        match parse_hop(hop) {
            Some(hop) if is_in(hop, trusted) => client = hop,
            Some(hop) => return hop,
            None => return peer,
        }
    }
    // Every hop is a trusted address: the leftmost one is as far as we can see.
    client
}

/// The comma-separated hops of every `X-Forwarded-For` header, in order; `None` when a
/// header is not text.
fn hops<'a>(values: impl Iterator<Item = &'a [u8]>) -> Option<Vec<&'a str>> {
    let mut hops = Vec::new();
    for value in values {
        let value = std::str::from_utf8(value).ok()?;
        hops.extend(value.split(',').map(str::trim));
    }
    Some(hops)
}

/// One hop: an address, or an address with a port (`1.2.3.4:80`, `[::1]:80`), as some
/// proxies write them.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(canonical)
}

/// An IPv4 client seen through an IPv6 socket (`::ffff:1.2.3.4`) is the IPv4 address.
pub(crate) fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// Whether `address` is inside one of `nets`.
pub(crate) fn is_in(address: IpAddr, nets: &[IpNet]) -> bool {
    nets.iter().any(|net| net.contains(&address))
}

/// The key an address is counted under: an IPv4 address as it is, an IPv6 address by
/// its /64, since one host is routinely given a whole /64 and could otherwise take a
/// fresh bucket for every request.
pub(crate) fn bucket(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !(u128::from(u64::MAX));
            IpAddr::V6(Ipv6Addr::from(prefix))
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    #[test]
    fn the_client_is_the_peer_or_the_last_untrusted_hop() {
        let proxies = nets(&["10.0.0.0/8", "fd00::/8"]);
        // (peer, X-Forwarded-For headers, trusted, client)
        let cases: &[(&str, &[&str], &[IpNet], &str)] = &[
            ("203.0.113.7", &[], &[], "203.0.113.7"),
            ("2001:db8::1", &[], &[], "2001:db8::1"),
            ("::ffff:203.0.113.7", &[], &[], "203.0.113.7"),
            // An untrusted peer's header is ignored, however it is spoofed.
            ("203.0.113.7", &["198.51.100.1"], &[], "203.0.113.7"),
            ("203.0.113.7", &["198.51.100.1"], &proxies, "203.0.113.7"),
            // A trusted proxy's appended hop is the client.
            ("10.0.0.2", &["198.51.100.1"], &proxies, "198.51.100.1"),
            ("10.0.0.2", &["2001:db8::5"], &proxies, "2001:db8::5"),
            ("fd00::2", &["198.51.100.1"], &proxies, "198.51.100.1"),
            // What the client wrote left of it is not believed.
            (
                "10.0.0.2",
                &["1.1.1.1, 198.51.100.1"],
                &proxies,
                "198.51.100.1",
            ),
            (
                "10.0.0.2",
                &["garbage, 198.51.100.1"],
                &proxies,
                "198.51.100.1",
            ),
            // A chain of trusted proxies is walked through, over several headers.
            (
                "10.0.0.2",
                &["198.51.100.1, 10.0.0.9"],
                &proxies,
                "198.51.100.1",
            ),
            (
                "10.0.0.2",
                &["1.1.1.1, 198.51.100.1", "10.0.0.9"],
                &proxies,
                "198.51.100.1",
            ),
            (
                "10.0.0.2",
                &["198.51.100.1:4711, 10.0.0.9"],
                &proxies,
                "198.51.100.1",
            ),
            ("10.0.0.2", &["[2001:db8::5]:443"], &proxies, "2001:db8::5"),
            // Every hop trusted: the leftmost is as far as can be seen.
            ("10.0.0.2", &["10.0.0.8, 10.0.0.9"], &proxies, "10.0.0.8"),
            // No header, an empty one, or garbage where it must be read: the peer.
            ("10.0.0.2", &[], &proxies, "10.0.0.2"),
            ("10.0.0.2", &[""], &proxies, "10.0.0.2"),
            (
                "10.0.0.2",
                &["198.51.100.1, not-an-ip"],
                &proxies,
                "10.0.0.2",
            ),
            (
                "10.0.0.2",
                &["198.51.100.1,,10.0.0.9"],
                &proxies,
                "10.0.0.2",
            ),
            ("10.0.0.2", &["unknown"], &proxies, "10.0.0.2"),
        ];
        for (peer, headers, trusted, client) in cases {
            let got = resolve(
                peer.parse().unwrap(),
                headers.iter().map(|h| h.as_bytes()),
                trusted,
            );
            assert_eq!(got, client.parse::<IpAddr>().unwrap(), "{peer} {headers:?}");
        }
    }

    #[test]
    fn a_header_that_is_not_text_is_not_believed() {
        let proxies = nets(&["10.0.0.0/8"]);
        let got = resolve(
            "10.0.0.2".parse().unwrap(),
            [b"198.51.100.1\xff".as_slice()].into_iter(),
            &proxies,
        );
        assert_eq!(got, "10.0.0.2".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn an_ipv6_host_is_counted_by_its_slash_64() {
        let a = bucket("2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = bucket("2001:db8:1:2:bbbb::9".parse().unwrap());
        let other = bucket("2001:db8:1:3::1".parse().unwrap());
        assert_eq!(a, b);
        assert_ne!(a, other);
        assert_eq!(
            bucket("192.0.2.1".parse().unwrap()),
            "192.0.2.1".parse::<IpAddr>().unwrap()
        );
    }
}
