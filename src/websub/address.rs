//! Which addresses a callback may reach with `websub.callbacks = "public"`: none that is
//! loopback, private, link-local, shared (CGNAT), multicast, unspecified, reserved or
//! documentation-only, in IPv4 or IPv6 (IPv4-mapped, NAT64 and 6to4 addresses are judged by
//! the IPv4 address inside). The check is made on the addresses a name resolves to, by the
//! resolver the callbacks' HTTP client connects through ([`PublicOnly`]), so a name that
//! resolves elsewhere at delivery than at subscription (DNS rebinding) still cannot reach
//! inside.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// The longest a name's resolution may take.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// Whether `ip` is an address of the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let inside = ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240; // reserved
    !inside
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = embedded_v4(ip) {
        return is_public_v4(v4);
    }
    let segments = ip.segments();
    let inside = ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (segments[0] & 0xfe00) == 0xfc00 // unique local
        || (segments[0] & 0xffc0) == 0xfe80 // link-local
        || (segments[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (segments[0] == 0x2001 && segments[1] == 0x0db8) // documentation
        || (segments[0] == 0x2001 && segments[1] == 0) // Teredo
        || (segments[0] == 0x0100 && segments[1..4] == [0, 0, 0]) // discard
        || segments[..6] == [0, 0, 0, 0, 0, 0]; // IPv4-compatible (deprecated)
    !inside
}

/// The IPv4 address an IPv6 one stands for: IPv4-mapped (`::ffff:a.b.c.d`), NAT64
/// (`64:ff9b::a.b.c.d`) and 6to4 (`2002:aabb:ccdd::`).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let [_, _, _, _, _, _, high, low] = s;
    let low_v4 = Ipv4Addr::new((high >> 8) as u8, high as u8, (low >> 8) as u8, low as u8);
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some(low_v4);
    }
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::new(
            (s[1] >> 8) as u8,
            s[1] as u8,
            (s[2] >> 8) as u8,
            s[2] as u8,
        ));
    }
    None
}

/// Why a callback's host cannot be reached under `"public"`.
pub fn refused_host(host: &str) -> String {
    format!(
        "the callback's host {host} resolves only to loopback, private or otherwise non-public \
         addresses (websub.callbacks = \"public\")"
    )
}

/// Checks at subscription that the callback's host has a public address: an IP literal is
/// judged as it is, a name by what it resolves to now.
pub async fn check_public(callback: &Url) -> Result<(), String> {
    let host = callback.host_str().unwrap_or_default().to_owned();
    match callback.host() {
        Some(Host::Ipv4(ip)) => public_or_refused(IpAddr::V4(ip), &host),
        Some(Host::Ipv6(ip)) => public_or_refused(IpAddr::V6(ip), &host),
        Some(Host::Domain(name)) => {
            let addresses = resolve(name)
                .await
                .map_err(|e| format!("the callback's host {host} could not be resolved ({e})"))?;
            if addresses.iter().any(|a| is_public(a.ip())) {
                Ok(())
            } else {
                Err(refused_host(&host))
            }
        }
        None => Err("the callback has no host".to_owned()),
    }
}

fn public_or_refused(ip: IpAddr, host: &str) -> Result<(), String> {
    if is_public(ip) {
        Ok(())
    } else {
        Err(refused_host(host))
    }
}

/// The addresses of `name`, within [`RESOLVE_TIMEOUT`].
async fn resolve(name: &str) -> std::io::Result<Vec<SocketAddr>> {
    match tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((name, 0))).await {
        Ok(found) => Ok(found?.collect()),
        Err(_) => Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "no answer within 5 s",
        )),
    }
}

/// The resolver of the callbacks' client under `"public"`: a name's non-public addresses are
/// dropped before the client connects, and a name with none left fails to resolve.
#[derive(Debug, Clone, Copy)]
pub struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let public: Vec<SocketAddr> = resolve(&host)
                .await?
                .into_iter()
                .filter(|a| is_public(a.ip()))
                .collect();
            if public.is_empty() {
                return Err(refused_host(&host).into());
            }
            let addrs: Addrs = Box::new(public.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(text: &str) -> bool {
        is_public(text.parse().unwrap())
    }

    #[test]
    fn non_public_ranges_are_refused() {
        for inside in [
            "127.0.0.1",
            "127.255.0.9",
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.254",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "224.0.0.1",
            "239.255.255.250",
            "255.255.255.255",
            "240.0.0.1",
            "192.0.0.8",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::10.0.0.1",
            "2002:c0a8:0101::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "2001:db8::1",
            "2001:0:4136:e378::1",
            "100::1",
        ] {
            assert!(!public(inside), "{inside} must be refused");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for outside in [
            "1.1.1.1",
            "8.8.8.8",
            "100.63.255.255",
            "100.128.0.1",
            "172.15.255.255",
            "172.32.0.1",
            "192.169.0.1",
            "223.255.255.255",
            "2606:4700:4700::1111",
            "2a00:1450:4001::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:0808:0808::1",
        ] {
            assert!(public(outside), "{outside} must pass");
        }
    }

    #[tokio::test]
    async fn literal_hosts_are_judged_without_resolving() {
        async fn check(url: &str) -> Result<(), String> {
            check_public(&Url::parse(url).unwrap()).await
        }
        assert!(check("http://127.0.0.1:9/cb").await.is_err());
        assert!(check("http://[::1]:9/cb").await.is_err());
        assert!(check("http://[::ffff:7f00:1]/cb").await.is_err());
        assert!(check("http://10.0.0.5/cb").await.is_err());
        assert!(check("http://8.8.8.8/cb").await.is_ok());
        // `localhost` resolves here, without the network, to loopback only.
        let error = check("http://localhost:9/cb").await.unwrap_err();
        assert!(error.contains("non-public"), "{error}");
    }

    #[tokio::test]
    async fn the_resolver_keeps_no_inside_address() {
        let name: Name = "localhost".parse().unwrap();
        let error = match PublicOnly.resolve(name).await {
            Ok(_) => panic!("localhost resolved to a public address"),
            Err(e) => e.to_string(),
        };
        assert!(error.contains("non-public"), "{error}");
    }
}
