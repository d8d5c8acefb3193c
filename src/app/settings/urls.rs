//! The URLs of the settings (`server.public_url`, `upstream.base_url`): what is accepted, and
//! how they are written.

use url::Url;

/// An absolute `http`/`https` URL without user info, query or fragment. A value with user
/// info is never echoed: its password is a secret (errors name the host only). The error is
/// what is wrong, for the caller to name the setting.
pub(super) fn web_base_url(raw: &str) -> Result<Url, String> {
    let url = Url::parse(raw.trim()).map_err(|e| {
        let value = if raw.contains('@') {
            // It may hold a password that did not parse as one.
            "the URL".to_owned()
        } else {
            format!("{raw:?}")
        };
        format!("{value} is not an absolute URL ({e})")
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "the URL for host {} has a user name or password in it; remove the user info \
             (user:password@)",
            url.host_str().unwrap_or("no host")
        ));
    }
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!("{raw:?} must be an http:// or https:// URL"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("{raw:?} must not have a query or fragment"));
    }
    Ok(url)
}

/// The text of a URL setting: a base that paths are appended to, so without a trailing slash.
pub(super) fn without_trailing_slash(url: &Url) -> String {
    url.as_str().trim_end_matches('/').to_owned()
}
