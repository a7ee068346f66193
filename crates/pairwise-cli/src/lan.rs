//! This machine's addresses as other devices on the network see them: the LAN addresses
//! `pairwise serve --lan` prints (and puts in its certificate), and the host name.
//!
//! Addresses come from the interface list (getifaddrs); nothing is sent anywhere. Loopback,
//! link-local, multicast and unspecified addresses are left out, as are interfaces that are
//! down. The most likely Wi-Fi/Ethernet address comes first: private IPv4 ranges before
//! others, and addresses of virtual interfaces (containers, VMs, VPNs) last.

use std::net::{IpAddr, SocketAddr};

/// One address of one network interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IfAddr {
    /// Interface name (`wlan0`, `en0`, `docker0`).
    pub(crate) name: String,
    /// The address.
    pub(crate) ip: IpAddr,
    /// Whether the interface is up (or its state is unknown).
    pub(crate) up: bool,
}

/// Every address of every interface (empty if the list cannot be read).
pub(crate) fn interface_addresses() -> Vec<IfAddr> {
    match if_addrs::get_if_addrs() {
        Ok(list) => list
            .into_iter()
            .map(|i| IfAddr {
                ip: i.ip(),
                up: !matches!(
                    i.oper_status,
                    if_addrs::IfOperStatus::Down
                        | if_addrs::IfOperStatus::LowerLayerDown
                        | if_addrs::IfOperStatus::NotPresent
                ),
                name: i.name,
            })
            .collect(),
        Err(e) => {
            tracing::debug!(error = %e, "cannot list the network interfaces");
            Vec::new()
        }
    }
}

/// The addresses other devices on the network can reach this machine at, best first, without
/// duplicates.
pub(crate) fn lan_ips(all: &[IfAddr]) -> Vec<IpAddr> {
    let mut found: Vec<(u8, usize, IpAddr)> = all
        .iter()
        .enumerate()
        .filter(|(_, a)| a.up && is_lan(a.ip))
        .map(|(i, a)| (rank(a), i, a.ip))
        .collect();
    found.sort_by_key(|&(rank, i, _)| (rank, i));
    let mut ips: Vec<IpAddr> = Vec::with_capacity(found.len());
    for (_, _, ip) in found {
        if !ips.contains(&ip) {
            ips.push(ip);
        }
    }
    ips
}

/// The addresses a browser can use to reach a server bound to `bind`: every LAN address of the
/// bound family plus loopback for a wildcard bind, else exactly the bound address.
pub(crate) fn served_ips(bind: IpAddr, lan: &[IpAddr]) -> Vec<IpAddr> {
    if !bind.is_unspecified() {
        return vec![bind];
    }
    let mut ips: Vec<IpAddr> = lan
        .iter()
        .copied()
        .filter(|ip| ip.is_ipv4() == bind.is_ipv4())
        .collect();
    ips.push(if bind.is_ipv4() {
        IpAddr::from([127, 0, 0, 1])
    } else {
        IpAddr::from(std::net::Ipv6Addr::LOCALHOST)
    });
    ips
}

/// `scheme://ip:port/` for each address (IPv6 in brackets).
pub(crate) fn urls(scheme: &str, ips: &[IpAddr], port: u16) -> Vec<String> {
    ips.iter()
        .map(|&ip| format!("{scheme}://{}/", SocketAddr::new(ip, port)))
        .collect()
}

/// This machine's host name, if it is usable as a DNS name in a certificate.
pub(crate) fn hostname() -> Option<String> {
    let name = gethostname::gethostname().into_string().ok()?;
    valid_dns_name(&name).then_some(name)
}

/// Letters, digits and hyphens in dot-separated labels of 1-63 characters, none starting or
/// ending with a hyphen (RFC 1123), at most 253 in all.
pub(crate) fn valid_dns_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// Whether another device on the network could use `ip` to reach this one.
fn is_lan(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            !(v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast())
        }
        IpAddr::V6(v6) => {
            let link_local = v6.segments()[0] & 0xffc0 == 0xfe80;
            !(v6.is_loopback() || link_local || v6.is_unspecified() || v6.is_multicast())
        }
    }
}

/// Lower is better: the address class, pushed back by 10 on virtual interfaces.
fn rank(a: &IfAddr) -> u8 {
    const VIRTUAL: &[&str] = &[
        "docker",
        "br-",
        "veth",
        "virbr",
        "vmnet",
        "vboxnet",
        "cni",
        "flannel",
        "podman",
        "lxc",
        "lxd",
        "tun",
        "tap",
        "wg",
        "tailscale",
        "utun",
        "zt",
    ];
    let class = match a.ip {
        IpAddr::V4(v4) => match v4.octets() {
            [192, 168, ..] => 0,
            [10, ..] => 1,
            [172, b, ..] if (16..32).contains(&b) => 2,
            _ => 3,
        },
        IpAddr::V6(v6) if v6.segments()[0] & 0xfe00 == 0xfc00 => 4,
        IpAddr::V6(_) => 5,
    };
    let name = a.name.to_ascii_lowercase();
    if VIRTUAL.iter().any(|p| name.starts_with(p)) {
        class + 10
    } else {
        class
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(name: &str, ip: &str) -> IfAddr {
        IfAddr {
            name: name.to_owned(),
            ip: ip.parse().unwrap(),
            up: true,
        }
    }

    #[test]
    fn wifi_address_comes_first_and_loopback_and_link_local_are_left_out() {
        let all = [
            addr("lo", "127.0.0.1"),
            addr("lo", "::1"),
            addr("docker0", "172.17.0.1"),
            addr("eth0", "10.1.2.3"),
            addr("wlan0", "192.168.1.20"),
            addr("wlan0", "fe80::1234"),
            addr("wlan0", "fd00::20"),
            addr("eth1", "169.254.3.4"),
            addr("wlan0", "2001:db8::20"),
            addr("eth0", "10.1.2.3"),
        ];
        let ips: Vec<String> = lan_ips(&all).iter().map(ToString::to_string).collect();
        assert_eq!(
            ips,
            [
                "192.168.1.20",
                "10.1.2.3",
                "fd00::20",
                "2001:db8::20",
                "172.17.0.1"
            ]
        );
    }

    #[test]
    fn interfaces_that_are_down_are_left_out() {
        let mut down = addr("eth0", "192.168.1.5");
        down.up = false;
        assert!(lan_ips(&[down]).is_empty());
    }

    #[test]
    fn wildcard_bind_serves_every_lan_address_of_its_family_and_loopback() {
        let lan: Vec<IpAddr> = ["192.168.1.20", "fd00::20"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        let v4 = served_ips("0.0.0.0".parse().unwrap(), &lan);
        assert_eq!(
            v4,
            [
                "192.168.1.20".parse::<IpAddr>().unwrap(),
                "127.0.0.1".parse().unwrap()
            ]
        );
        let v6 = served_ips("::".parse().unwrap(), &lan);
        assert_eq!(
            v6,
            [
                "fd00::20".parse::<IpAddr>().unwrap(),
                "::1".parse().unwrap()
            ]
        );
        let one = served_ips("10.0.0.2".parse().unwrap(), &lan);
        assert_eq!(one, ["10.0.0.2".parse::<IpAddr>().unwrap()]);
    }

    #[test]
    fn urls_bracket_ipv6() {
        let ips = ["192.168.1.20".parse().unwrap(), "fd00::20".parse().unwrap()];
        assert_eq!(
            urls("https", &ips, 8443),
            ["https://192.168.1.20:8443/", "https://[fd00::20]:8443/"]
        );
    }

    #[test]
    fn host_names_that_cannot_be_dns_names_are_refused() {
        assert!(valid_dns_name("my-laptop"));
        assert!(valid_dns_name("box.lan"));
        for bad in [
            "",
            "Jane's Mac",
            "-x",
            "x-",
            "a..b",
            "under_score",
            &"a".repeat(64),
        ] {
            assert!(!valid_dns_name(bad), "{bad}");
        }
    }
}
