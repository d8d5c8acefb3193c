//! The hub's subscription form (`websub::form::parse`): no panic on any bytes; a request it
//! takes has a mode, a topic without spaces, control characters or a fragment, an http(s)
//! callback with a host and no user info, a lease above zero and a secret under 200 bytes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use paperboy::websub::form::{MAX_CALLBACK, MAX_SECRET, MAX_TOPIC, parse};

fuzz_target!(|data: &[u8]| {
    let Ok(request) = parse(data) else {
        return;
    };
    assert!(!request.topic.is_empty() && request.topic.len() <= MAX_TOPIC);
    assert!(!request.topic.contains('#') && !request.topic.chars().any(char::is_control));
    let callback = &request.callback;
    assert!(matches!(callback.scheme(), "http" | "https"));
    assert!(callback.host().is_some() && callback.username().is_empty());
    assert!(callback.password().is_none() && callback.fragment().is_none());
    assert!(callback.as_str().len() <= MAX_CALLBACK * 3);
    assert!(request.lease_seconds.is_none_or(|s| s > 0));
    assert!(request.secret.as_ref().is_none_or(|s| !s.is_empty() && s.len() < MAX_SECRET));
});
