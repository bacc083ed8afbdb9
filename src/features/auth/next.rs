//! Where to go after signing in. `next` comes from the URL, so anyone can write it: only a
//! path on this site is followed, never another host.

/// `raw` when it is a local path, else `/`.
pub fn safe_next(raw: &str) -> &str {
    if is_local_path(raw) {
        raw
    } else {
        "/"
    }
}

fn is_local_path(raw: &str) -> bool {
    // Judge the decoded form: browsers decode `%2F`, `%5C` and `%09` before they act on them.
    let decoded = percent_decode(raw);
    let mut chars = decoded.chars();
    chars.next() == Some('/')
        // `//host` and `/\host` are protocol-relative URLs to another site.
        && !matches!(chars.next(), Some('/' | '\\'))
        // Browsers drop tabs and newlines inside URLs, turning `/%09/host` into `//host`.
        && !decoded.chars().any(|c| c.is_control() || c == '\\')
}

fn percent_decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(byte) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn local_paths_are_kept() {
        for path in [
            "/",
            "/deployments/new",
            "/account?tab=sessions",
            "/a/b#frag",
            "/caf%C3%A9",
        ] {
            assert_eq!(safe_next(path), path);
        }
    }

    #[test]
    fn anything_that_leaves_the_site_falls_back_to_the_root() {
        for evil in [
            "//evil.com",
            "/\\evil.com",
            "/%09/evil.com",
            "https://evil.com",
            "http:evil.com",
            "%2F%2Fevil.com",
            "/%2F/evil.com",
            "/%5Cevil.com",
            "evil.com",
            "",
            "javascript:alert(1)",
            "/\n/evil.com",
        ] {
            assert_eq!(safe_next(evil), "/", "{evil:?}");
        }
    }
}
