//! A Server-Sent Events client as browsers implement one: events are blocks of `field:
//! value` lines ended by a blank line; `Last-Event-ID` is sent on reconnect.

use std::time::Duration;

use futures_util::StreamExt;

use super::app::Browser;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    pub id: Option<String>,
    /// `message` unless the server named it.
    pub event: String,
    pub data: String,
}

pub struct SseStream {
    body: futures_util::stream::BoxStream<'static, reqwest::Result<Vec<u8>>>,
    buffer: String,
}

impl SseStream {
    /// Opens `path`; panics unless the server answers 200 with `text/event-stream`.
    pub async fn open(browser: &Browser, path: &str, last_event_id: Option<&str>) -> Self {
        let (status, stream) = Self::try_open(browser, path, last_event_id).await;
        let stream = stream.unwrap_or_else(|body| panic!("GET {path}: {status} {body}"));
        assert_eq!(status, 200);
        stream
    }

    /// The status and the stream, or the body of a refusal.
    pub async fn try_open(
        browser: &Browser,
        path: &str,
        last_event_id: Option<&str>,
    ) -> (u16, Result<Self, String>) {
        let mut request = browser
            .client
            .get(browser.url(path))
            .header("accept", "text/event-stream");
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        let response = request.send().await.expect("GET an event stream");
        let status = response.status().as_u16();
        if status != 200 {
            return (status, Err(response.text().await.unwrap_or_default()));
        }
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(
            content_type.starts_with("text/event-stream"),
            "{content_type}"
        );
        (
            status,
            Ok(Self {
                body: response
                    .bytes_stream()
                    .map(|c| c.map(|b| b.to_vec()))
                    .boxed(),
                buffer: String::new(),
            }),
        )
    }

    /// The next event (comments skipped), or `None` when the server closed the stream.
    /// Panics when none comes within `deadline`.
    pub async fn next(&mut self, deadline: Duration) -> Option<SseEvent> {
        tokio::time::timeout(deadline, self.next_event())
            .await
            .unwrap_or_else(|_| panic!("no event within {deadline:?}"))
    }

    async fn next_event(&mut self) -> Option<SseEvent> {
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = SseEvent {
                    id: None,
                    event: "message".into(),
                    data: String::new(),
                };
                let mut fields = false;
                for line in block.lines() {
                    let (field, value) = line.split_once(':').unwrap_or((line, ""));
                    let value = value.strip_prefix(' ').unwrap_or(value);
                    match field {
                        "id" => event.id = Some(value.to_owned()),
                        "event" => event.event = value.to_owned(),
                        "data" => {
                            if fields && !event.data.is_empty() {
                                event.data.push('\n');
                            }
                            event.data.push_str(value);
                        }
                        _ => continue, // a comment (keep-alive) or an unknown field
                    }
                    fields = true;
                }
                if fields {
                    return Some(event);
                }
            }
            match self.body.next().await {
                Some(Ok(chunk)) => self
                    .buffer
                    .push_str(&String::from_utf8_lossy(&chunk).replace("\r\n", "\n")),
                _ => return None,
            }
        }
    }
}
