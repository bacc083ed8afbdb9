//! ANSI SGR colour codes in log lines, turned into styled runs of text. Only what build and
//! app output actually uses: reset, bold, dim, the 8 + 8 bright foreground colours. Other
//! escape sequences are dropped so they never show up as garbage.

/// A run of text, its colour class and whether it is bold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub text: String,
    pub class: &'static str,
    pub bold: bool,
}

#[derive(Clone, Copy, Default, PartialEq, Eq)]
struct Style {
    colour: Option<u8>,
    bold: bool,
    dim: bool,
}

impl Style {
    fn class(self) -> &'static str {
        match self.colour {
            None if self.dim => "opacity-70",
            None => "",
            Some(0 | 8) => "text-slate-400",
            Some(1 | 9) => "text-rose-400",
            Some(2 | 10) => "text-emerald-400",
            Some(3 | 11) => "text-amber-300",
            Some(4 | 12) => "text-sky-400",
            Some(5 | 13) => "text-fuchsia-400",
            Some(6 | 14) => "text-cyan-300",
            Some(_) => "text-slate-100",
        }
    }

    fn run(self, text: String) -> Run {
        Run {
            text,
            class: self.class(),
            bold: self.bold,
        }
    }
}

/// Splits `line` at its escape sequences.
pub fn runs(line: &str) -> Vec<Run> {
    let mut out = Vec::new();
    let mut style = Style::default();
    let mut text = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            text.push(c);
            continue;
        }
        if chars.peek() != Some(&'[') {
            continue; // a lone escape: dropped
        }
        chars.next();
        let mut params = String::new();
        let mut end = None;
        for c in chars.by_ref() {
            if c.is_ascii_digit() || c == ';' {
                params.push(c);
            } else {
                end = Some(c);
                break;
            }
        }
        if end != Some('m') {
            continue; // cursor movement and the like
        }
        if !text.is_empty() {
            out.push(style.run(std::mem::take(&mut text)));
        }
        for code in params.split(';') {
            match code.parse::<u8>().unwrap_or(0) {
                0 => style = Style::default(),
                1 => style.bold = true,
                2 => style.dim = true,
                22 => {
                    style.bold = false;
                    style.dim = false;
                }
                n @ 30..=37 => style.colour = Some(n - 30),
                39 => style.colour = None,
                n @ 90..=97 => style.colour = Some(n - 90 + 8),
                _ => {}
            }
        }
    }
    if !text.is_empty() {
        out.push(style.run(text));
    }
    out
}

/// The line without escape sequences: what a filter matches and a download contains.
pub fn plain(line: &str) -> String {
    runs(line).into_iter().map(|r| r.text).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str, class: &'static str, bold: bool) -> Run {
        Run {
            text: text.into(),
            class,
            bold,
        }
    }

    #[test]
    fn colours_become_classes_and_other_escapes_vanish() {
        assert_eq!(
            runs("tick 1 \u{1b}[32mgreen\u{1b}[0m done"),
            vec![
                run("tick 1 ", "", false),
                run("green", "text-emerald-400", false),
                run(" done", "", false),
            ]
        );
        assert_eq!(
            runs("\u{1b}[1;31mError\u{1b}[0m plain"),
            vec![
                run("Error", "text-rose-400", true),
                run(" plain", "", false)
            ]
        );
        assert_eq!(plain("a\u{1b}[2Kb\u{1b}[1Ac\u{1b}"), "abc");
        assert!(runs("").is_empty());
    }
}
