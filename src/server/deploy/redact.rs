//! Keeps environment values out of every log Slipway stores or shows.
//!
//! A value is replaced wherever it appears, and so is its base64 form at each of the three
//! byte alignments it can have inside a longer base64 string (as in an `Authorization:
//! Basic` header or a Kubernetes-style secret dump). Values shorter than [`MIN_LEN`] are left
//! alone: masking every `1` or `on` would make logs unreadable and such values hide nothing.

use base64::{
    engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD},
    Engine as _,
};

pub const MASK: &str = "••••";
pub const MIN_LEN: usize = 4;

#[derive(Clone, Default)]
pub struct Redactor {
    /// Longest first, so a value containing another is masked whole.
    patterns: Vec<String>,
}

impl Redactor {
    pub fn new<'a>(values: impl IntoIterator<Item = &'a str>) -> Self {
        let mut patterns = Vec::new();
        for value in values {
            if value.len() < MIN_LEN {
                continue;
            }
            patterns.push(value.to_owned());
            // Logs are stored line by line: each line of a multi-line value (a PEM key, say)
            // must be caught on its own.
            if value.contains('\n') {
                patterns.extend(
                    value
                        .lines()
                        .map(str::trim)
                        .filter(|l| l.len() >= MIN_LEN)
                        .map(str::to_owned),
                );
            }
            for form in base64_forms(value.as_bytes()) {
                if form.len() >= MIN_LEN {
                    patterns.push(form);
                }
            }
        }
        patterns.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        patterns.dedup();
        Self { patterns }
    }

    pub fn redact(&self, line: &str) -> String {
        let mut out = line.to_owned();
        for pattern in &self.patterns {
            if out.contains(pattern.as_str()) {
                out = out.replace(pattern.as_str(), MASK);
            }
        }
        out
    }
}

/// The base64 characters fixed by `value` alone at each alignment, standard and URL-safe.
fn base64_forms(value: &[u8]) -> Vec<String> {
    let mut forms = Vec::new();
    for offset in 0..3usize {
        let mut padded = vec![0u8; offset];
        padded.extend_from_slice(value);
        let bits_before = 8 * offset;
        let bits_end = 8 * padded.len();
        let first = bits_before.div_ceil(6);
        let last = bits_end / 6;
        if last <= first {
            continue;
        }
        for engine in [STANDARD_NO_PAD, URL_SAFE_NO_PAD] {
            let encoded = engine.encode(&padded);
            forms.push(encoded[first..last].to_owned());
        }
    }
    forms
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::STANDARD;

    use super::*;

    #[test]
    fn masks_values_and_their_base64_anywhere_in_a_line() {
        let r = Redactor::new(["s3cr3t-value", "on"]);
        assert_eq!(r.redact("token=s3cr3t-value;"), format!("token={MASK};"));
        assert_eq!(r.redact("turn it on"), "turn it on");
        for prefix in ["", "a", "ab", "user:"] {
            let encoded = STANDARD.encode(format!("{prefix}s3cr3t-value and more"));
            let masked = r.redact(&format!("Authorization: Basic {encoded}"));
            assert!(masked.contains(MASK), "{prefix:?}: {masked}");
            let whole = STANDARD.encode("s3cr3t-value");
            assert!(!masked.contains(&whole[..8]), "{prefix:?}: {masked}");
        }
    }

    #[test]
    fn each_line_of_a_multi_line_value_is_masked() {
        let r = Redactor::new(["-----BEGIN KEY-----\nMIIEabcdef\n-----END KEY-----"]);
        assert_eq!(r.redact("  MIIEabcdef"), format!("  {MASK}"));
        assert_eq!(r.redact("-----END KEY-----"), MASK);
    }

    #[test]
    fn longer_values_win_over_values_they_contain() {
        let r = Redactor::new(["abcd", "abcdefgh"]);
        assert_eq!(r.redact("x abcdefgh y abcd"), format!("x {MASK} y {MASK}"));
    }
}
