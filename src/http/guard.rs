//! What outbound HTTP may reach: only the hosts of `[http] allow`, over HTTPS unless a host is
//! listed in `plain_http`, and never a private, loopback, link-local or otherwise internal
//! address unless the host is listed in `private`. Addresses are checked after DNS
//! resolution, in the resolver the client connects through, so a name cannot be pointed at
//! an internal service (SSRF); an address given literally is checked before anything is sent.

use super::{HttpConfig, HttpError};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

/// Why `ip` is internal (`"a loopback"`, …), or `None` for a public address.
pub fn internal(ip: IpAddr) -> Option<&'static str> {
    match ip.to_canonical() {
        IpAddr::V4(a) => {
            let [first, second, ..] = a.octets();
            if a.is_loopback() {
                Some("a loopback")
            } else if a.is_private() {
                Some("a private")
            } else if a.is_link_local() {
                Some("a link-local")
            } else if first == 100 && (64..128).contains(&second) {
                Some("a carrier-grade NAT")
            } else if (first == 198 && (18..20).contains(&second))
                || (first == 192 && second == 0 && a.octets()[2] == 0)
                || first >= 240
            {
                Some("a reserved")
            } else if a.is_unspecified() || a.is_broadcast() || a.is_multicast() || first == 0 {
                Some("a non-routable")
            } else {
                None
            }
        }
        IpAddr::V6(a) => {
            let segments = a.segments();
            let first = segments[0];
            // An IPv4 address inside (NAT64 64:ff9b::/96, 6to4 2002::/16, the old
            // IPv4-compatible ::a.b.c.d) reaches that IPv4 address: judge that one.
            let embedded = match segments {
                [0x64, 0xff9b, 0, 0, 0, 0, ..] => Some(Ipv4Addr::from_bits(a.to_bits() as u32)),
                [0x2002, high, low, ..] => Some(Ipv4Addr::from_bits(
                    (u32::from(high) << 16) | u32::from(low),
                )),
                [0, 0, 0, 0, 0, 0, _, _] if !a.is_loopback() && !a.is_unspecified() => a.to_ipv4(),
                _ => None,
            };
            if let Some(v4) = embedded.and_then(|v4| internal(IpAddr::V4(v4))) {
                Some(v4)
            } else if segments[..3] == [0x64, 0xff9b, 1] {
                Some("a local-use NAT64")
            } else if a.is_loopback() {
                Some("a loopback")
            } else if first & 0xfe00 == 0xfc00 {
                Some("a private (unique local)")
            } else if first & 0xffc0 == 0xfe80 {
                Some("a link-local")
            } else if first & 0xffc0 == 0xfec0 {
                Some("a site-local")
            } else if a.is_unspecified() || a.is_multicast() {
                Some("a non-routable")
            } else {
                None
            }
        }
    }
}

/// Whether `host` is one of `list` (exactly, case-insensitive, or under a `*.domain` entry).
pub fn listed(list: &[String], host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    list.iter().any(|entry| {
        let entry = entry.to_ascii_lowercase();
        match entry.strip_prefix("*.") {
            Some(domain) => host.ends_with(&format!(".{domain}")),
            None => entry == host,
        }
    })
}

/// Check `url` against the rules before it is sent: its scheme, its host, and its address
/// when the host is one.
pub fn check_url(config: &HttpConfig, url: &reqwest::Url) -> Result<(), HttpError> {
    let host = url
        .host_str()
        .ok_or_else(|| HttpError::BadUrl("the URL has no host".into()))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    match url.scheme() {
        "https" => {}
        "http" if listed(&config.plain_http, &host) => {}
        "http" => return Err(HttpError::PlainHttp(host)),
        other => return Err(HttpError::BadUrl(format!("{other}: is not http or https"))),
    }
    if !listed(&config.allow, &host) {
        return Err(HttpError::NotAllowed(host));
    }
    if let Ok(ip) = host.parse::<IpAddr>()
        && let Some(kind) = internal(ip)
        && !listed(&config.private, &host)
    {
        return Err(HttpError::Internal {
            host: host.clone(),
            address: ip,
            kind,
        });
    }
    Ok(())
}

/// The system resolver, refusing a name that resolves to an internal address unless the name
/// is listed in `private`.
#[derive(Debug)]
pub struct GuardedResolver {
    /// `[http] private`.
    pub private: Vec<String>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        let may_be_internal = listed(&self.private, &host);
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if !may_be_internal
                && let Some((address, kind)) = addrs
                    .iter()
                    .find_map(|a| internal(a.ip()).map(|kind| (a.ip(), kind)))
            {
                let refused = HttpError::Internal {
                    host,
                    address,
                    kind,
                };
                return Err(Box::new(refused) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// The resolver for `config`, shared by the client.
pub fn resolver(config: &HttpConfig) -> Arc<GuardedResolver> {
    Arc::new(GuardedResolver {
        private: config.private.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_named_and_public_ones_pass() {
        let kind = |s: &str| internal(s.parse().expect("an address"));
        assert_eq!(kind("127.0.0.1"), Some("a loopback"));
        assert_eq!(kind("10.1.2.3"), Some("a private"));
        assert_eq!(kind("192.168.0.1"), Some("a private"));
        assert_eq!(kind("169.254.169.254"), Some("a link-local"));
        assert_eq!(kind("100.100.1.1"), Some("a carrier-grade NAT"));
        assert_eq!(kind("0.0.0.0"), Some("a non-routable"));
        assert_eq!(kind("::1"), Some("a loopback"));
        assert_eq!(kind("::ffff:127.0.0.1"), Some("a loopback"));
        assert_eq!(kind("fd00::1"), Some("a private (unique local)"));
        assert_eq!(kind("fe80::1"), Some("a link-local"));
        assert_eq!(kind("fec0::1"), Some("a site-local"));
        assert_eq!(kind("64:ff9b::10.0.0.1"), Some("a private"));
        assert_eq!(kind("64:ff9b:1::a9fe:a9fe"), Some("a local-use NAT64"));
        assert_eq!(kind("2002:7f00:1::"), Some("a loopback"));
        assert_eq!(kind("::10.1.1.1"), Some("a private"));
        assert_eq!(kind("198.18.0.1"), Some("a reserved"));
        assert_eq!(kind("240.0.0.1"), Some("a reserved"));
        assert_eq!(kind("64:ff9b::149.154.167.220"), None);
        assert_eq!(kind("149.154.167.220"), None);
        assert_eq!(kind("2001:67c:4e8::1"), None);
    }

    #[test]
    fn hosts_are_listed_exactly_or_under_a_wildcard() {
        let list = vec!["api.example.com".to_string(), "*.corp.example".to_string()];
        assert!(listed(&list, "API.example.com"));
        assert!(listed(&list, "api.example.com."));
        assert!(listed(&list, "a.b.corp.example"));
        assert!(!listed(&list, "corp.example"));
        assert!(!listed(&list, "evil-api.example.com"));
        assert!(!listed(&list, "api.example.com.evil"));
    }
}
