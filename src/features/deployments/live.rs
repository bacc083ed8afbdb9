//! Server-Sent Events in the browser. The browser's `EventSource` reconnects by itself and
//! sends `Last-Event-ID`, so a stream resumes where it stopped; the stream is closed when the
//! component goes away or the server sends `end`. Nothing is opened while rendering on the
//! server.

use leptos::prelude::*;

#[derive(Debug, Clone)]
pub struct StreamEvent {
    pub name: &'static str,
    pub data: String,
}

/// Follows `url` while it is `Some` (a new URL closes the old stream), calling `on_event` for
/// each event named in `events`.
pub fn use_event_stream(
    url: Signal<Option<String>>,
    events: &'static [&'static str],
    on_event: impl Fn(StreamEvent) + 'static,
) {
    #[cfg(feature = "hydrate")]
    browser::follow(url, events, on_event);
    #[cfg(not(feature = "hydrate"))]
    let _ = (url, events, on_event);
}

#[cfg(feature = "hydrate")]
mod browser {
    use std::rc::Rc;

    use leptos::prelude::*;
    use wasm_bindgen::{closure::Closure, JsCast};
    use web_sys::{EventSource, MessageEvent};

    use super::StreamEvent;

    struct Open {
        source: EventSource,
        _listeners: Vec<Closure<dyn FnMut(MessageEvent)>>,
    }

    impl Drop for Open {
        fn drop(&mut self) {
            self.source.close();
        }
    }

    pub fn follow(
        url: Signal<Option<String>>,
        events: &'static [&'static str],
        on_event: impl Fn(StreamEvent) + 'static,
    ) {
        let on_event: Rc<dyn Fn(StreamEvent)> = Rc::new(on_event);
        let current = StoredValue::new_local(None::<Open>);
        Effect::new(move |_| {
            let url = url.get();
            let on_event = on_event.clone();
            current.update_value(|open| {
                *open = None;
                *open = url.and_then(|url| start(&url, events, on_event));
            });
        });
        on_cleanup(move || current.update_value(|open| *open = None));
    }

    fn start(
        url: &str,
        events: &'static [&'static str],
        on_event: Rc<dyn Fn(StreamEvent)>,
    ) -> Option<Open> {
        let source = EventSource::new(url).ok()?;
        let mut listeners = Vec::new();
        for &name in events {
            let on_event = on_event.clone();
            let this = source.clone();
            let listener = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                if name == "end" {
                    this.close(); // or the browser would reconnect and replay the end
                }
                on_event(StreamEvent {
                    name,
                    data: event.data().as_string().unwrap_or_default(),
                });
            });
            let _ =
                source.add_event_listener_with_callback(name, listener.as_ref().unchecked_ref());
            listeners.push(listener);
        }
        Some(Open {
            source,
            _listeners: listeners,
        })
    }
}
