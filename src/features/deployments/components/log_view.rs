use leptos::{html::Div, prelude::*};

use crate::components::ansi;

/// The most lines a log view keeps; older ones are dropped from the page (the download has
/// what is shown).
pub const MAX_LINES: usize = 20_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLineView {
    /// The line's event id (a build log's seq, a runtime log's timestamp): unique per stream.
    pub key: String,
    /// `system`, `stdout` or `stderr`.
    pub stream: String,
    pub text: String,
}

/// A live log: ANSI colours rendered, follows the end until the reader scrolls up, filters,
/// counts and downloads as plain text.
#[component]
pub fn LogView(
    #[prop(into)] lines: Signal<Vec<LogLineView>>,
    /// Shown while nothing arrived yet.
    #[prop(into)]
    empty: Signal<String>,
    /// The download's file name.
    #[prop(into)]
    file_name: Signal<String>,
    #[prop(into)] testid: String,
) -> impl IntoView {
    let filter = RwSignal::new(String::new());
    let follow = RwSignal::new(true);
    let shown = Memo::new(move |_| {
        let needle = filter.get().to_lowercase();
        lines.with(|all| {
            all.iter()
                .filter(|l| {
                    needle.is_empty() || ansi::plain(&l.text).to_lowercase().contains(&needle)
                })
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    let scroller = NodeRef::<Div>::new();
    Effect::new(move |_| {
        shown.track();
        if follow.get_untracked() {
            if let Some(el) = scroller.get() {
                el.set_scroll_top(el.scroll_height());
            }
        }
    });
    let count = move || {
        let total = lines.with(Vec::len);
        let visible = shown.with(Vec::len);
        if visible == total {
            format!("{total} lines")
        } else {
            format!("{visible} of {total} lines")
        }
    };
    let download = move |ev: leptos::ev::MouseEvent| {
        let text: String = shown
            .with_untracked(|lines| lines.iter().map(|l| ansi::plain(&l.text) + "\n").collect());
        let anchor = event_target::<leptos::web_sys::HtmlAnchorElement>(&ev);
        anchor.set_href(&format!(
            "data:text/plain;charset=utf-8,{}",
            percent_encode(&text)
        ));
    };
    view! {
        <div class="overflow-hidden rounded-lg border border-slate-200 bg-slate-950 dark:border-slate-800" data-testid=testid>
            <div class="flex flex-wrap items-center gap-2 border-b border-slate-800 bg-slate-900 px-3 py-2 text-xs text-slate-300">
                <label class="sr-only" for=format!("{testid}-filter")>"Filter lines"</label>
                <input
                    id=format!("{testid}-filter")
                    type="search"
                    placeholder="Filter"
                    class="w-40 rounded border border-slate-700 bg-slate-950 px-2 py-1 text-slate-100 placeholder:text-slate-500"
                    prop:value=move || filter.get()
                    on:input=move |ev| filter.set(event_target_value(&ev))
                />
                <span data-testid="line-count" aria-live="polite">{count}</span>
                <span class="flex-1"></span>
                <Show when=move || !follow.get()>
                    <button type="button" class="rounded px-2 py-1 ring-1 ring-slate-700 hover:bg-slate-800" on:click=move |_| {
                        follow.set(true);
                        if let Some(el) = scroller.get() {
                            el.set_scroll_top(el.scroll_height());
                        }
                    }>"Follow"</button>
                </Show>
                <a href="#" download=move || file_name.get() on:click=download class="rounded px-2 py-1 ring-1 ring-slate-700 hover:bg-slate-800" data-testid="download">
                    "Download"
                </a>
            </div>
            <div
                node_ref=scroller
                class="h-[28rem] overflow-auto p-3 font-mono text-xs leading-5 text-slate-200"
                role="log"
                aria-live="off"
                tabindex="0"
                on:scroll=move |_| {
                    if let Some(el) = scroller.get() {
                        follow.set(el.scroll_top() + el.client_height() >= el.scroll_height() - 8);
                    }
                }
            >
                <Show when=move || lines.with(Vec::is_empty)>
                    <p class="text-slate-500">{move || empty.get()}</p>
                </Show>
                <For each=move || shown.get() key=|line| line.key.clone() let:line>
                    <div
                        class=if line.stream == "stderr" { "whitespace-pre-wrap break-all text-rose-300" } else if line.stream == "system" { "whitespace-pre-wrap break-all text-sky-300" } else { "whitespace-pre-wrap break-all" }
                        data-stream=line.stream.clone()
                    >
                        {ansi::runs(&line.text)
                            .into_iter()
                            .map(|run| view! { <span class=run.class class:font-bold=run.bold>{run.text}</span> })
                            .collect_view()}
                    </div>
                </For>
            </div>
        </div>
    }
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b' ' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}
