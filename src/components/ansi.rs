//! ANSI SGR colour codes in log lines, turned into styled runs of text. Only what build and
//! app output actually uses: reset, bold, dim, the 8 + 8 bright foreground colours. Other
//! escape sequences are dropped so they never show up as garbage.

/// A run of text and the Tailwind classes that style it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub text: String,
    pub class: &'static str,
}

#[derive(Clone, Copy, Default, PartialEq, Eq)]
struct Style {
    colour: Option<u8>,
    bold: bool,
    dim: bool,
}

impl Style {
    fn class(self) -> &'static str {
        match (self.colour, self.bold, self.dim) {
            (None, false, false) => "",
            (None, true, _) => "font-bold",
            (None, false, true) => "opacity-70",
            (Some(c), bold, _) => {
                let colour = match c {
                    0 | 8 => "text-slate-400",
                    1 | 9 => "text-rose-400",
                    2 | 10 => "text-emerald-400",
                    3 | 11 => "text-amber-300",
                    4 | 12 => "text-sky-400",
                    5 | 13 => "text-fuchsia-400",
                    6 | 14 => "text-cyan-300",
                    _ => "text-slate-100",
                };
                if bold {
                    match colour {
                        "text-rose-400" => "text-rose-400 font-bold",
                        "text-emerald-400" => "text-emerald-400 font-bold",
                        "text-amber-300" => "text-amber-300 font-bold",
                        "text-sky-400" => "text-sky-400 font-bold",
                        "text-fuchsia-400" => "text-fuchsia-400 font-bold",
                        "text-cyan-300" => "text-cyan-300 font-bold",
                        "text-slate-400" => "text-slate-400 font-bold",
                        _ => "text-slate-100 font-bold",
                    }
                } else {
                    colour
                }
            }
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
            out.push(Run {
                text: std::mem::take(&mut text),
                class: style.class(),
            });
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
        out.push(Run {
            text,
            class: style.class(),
        });
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

    #[test]
    fn colours_become_classes_and_other_escapes_vanish() {
        assert_eq!(
            runs("tick 1 \u{1b}[32mgreen\u{1b}[0m done"),
            vec![
                Run {
                    text: "tick 1 ".into(),
                    class: ""
                },
                Run {
                    text: "green".into(),
                    class: "text-emerald-400"
                },
                Run {
                    text: " done".into(),
                    class: ""
                },
            ]
        );
        assert_eq!(
            runs("\u{1b}[1;31mError\u{1b}[0m"),
            vec![Run {
                text: "Error".into(),
                class: "text-rose-400 font-bold"
            }]
        );
        assert_eq!(plain("a\u{1b}[2Kb\u{1b}[1Ac\u{1b}"), "abc");
        assert!(runs("").is_empty());
    }
}
