//! Which client addresses count as one for the per-address limits (the connection cap in
//! `conn` and the session rate in `join_rate`): one subscriber usually holds a whole IPv6 /64,
//! so counting single IPv6 addresses would cap nothing.

use std::net::IpAddr;

/// The address `ip` counts as: itself for IPv4, its /64 for IPv6 (an IPv4-mapped IPv6 address
/// as the IPv4 one, so a dual-stack listener counts an IPv4 client once).
pub(crate) fn group(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut o = v6.octets();
                o[8..].fill(0);
                IpAddr::V6(o.into())
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn ipv6_groups_per_64_ipv4_and_mapped_ipv4_per_address() {
        assert_eq!(group(ip("2001:db8::1")), ip("2001:db8::"));
        assert_eq!(group(ip("2001:db8::ffff:ffff:ffff:ffff")), ip("2001:db8::"));
        assert_eq!(group(ip("2001:db8:0:1::1")), ip("2001:db8:0:1::"));
        assert_eq!(group(ip("203.0.113.9")), ip("203.0.113.9"));
        assert_eq!(group(ip("::ffff:203.0.113.9")), ip("203.0.113.9"));
        assert_ne!(group(ip("203.0.113.9")), group(ip("203.0.113.10")));
    }
}
