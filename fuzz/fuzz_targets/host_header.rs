//! The `Host` header as a link base (`http::base::plain_host`): no panic on any string; what
//! it takes is a plain `host[:port]` with nothing a link would need escaped, taken again as
//! itself, and never an unspecified address in any spelling a URL parser accepts.

#![no_main]

use libfuzzer_sys::fuzz_target;
use paperboy::http::base::plain_host;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(host) = plain_host(value) {
        assert!(
            host.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b)),
            "{value:?} -> {host:?}"
        );
        assert_eq!(plain_host(&host).as_deref(), Some(host.as_str()), "{value:?}");
        // What a browser would make of it: an IPv4 or IPv6 address is never the unspecified one.
        let url = url::Url::parse(&format!("http://{host}/"));
        if let Ok(url) = url {
            match url.host() {
                Some(url::Host::Ipv4(ip)) => assert!(!ip.is_unspecified(), "{value:?}"),
                Some(url::Host::Ipv6(ip)) => assert!(!ip.is_unspecified(), "{value:?}"),
                _ => {}
            }
        }
    }
});
