//! A release's build log: Slipway's own step messages and the build's output, redacted, in
//! order, in PostgreSQL. Writing the log never fails a build: a lost line is logged instead.

use std::sync::Arc;

use sqlx::PgPool;
use uuid::Uuid;

use super::redact::Redactor;
use crate::{
    features::deployments::types::LogLine,
    server::{
        db::deployments as db,
        live::{build_log, hub::Hub},
        AppState,
    },
};

/// Longer lines are cut: a minified bundle echoed by a build must not fill the database.
const MAX_LINE: usize = 8 * 1024;

pub struct BuildLog {
    db: PgPool,
    /// Viewers following the log live hear of each line once it is stored.
    hub: Arc<Hub>,
    release: Uuid,
    seq: i32,
    redactor: Redactor,
}

impl BuildLog {
    /// Continues after the last stored line, so a retried step appends instead of clashing.
    pub async fn open(state: &AppState, release: Uuid, redactor: Redactor) -> Self {
        let db = state.db.clone();
        let seq = db::last_log_seq(&db, release).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, %release, "reading the build log position");
            0
        });
        Self {
            db,
            hub: state.live.clone(),
            release,
            seq,
            redactor,
        }
    }

    /// The text with every secret masked, for messages stored outside the log.
    pub fn redact(&self, text: &str) -> String {
        self.redactor.redact(text)
    }

    pub async fn system(&mut self, line: &str) {
        self.write(&[("system", line)]).await;
    }

    pub async fn line(&mut self, stream: &str, line: &str) {
        self.write(&[(stream, line)]).await;
    }

    pub async fn write(&mut self, lines: &[(&str, &str)]) {
        if lines.is_empty() {
            return;
        }
        let mut seqs = Vec::with_capacity(lines.len());
        let mut streams = Vec::with_capacity(lines.len());
        let mut texts = Vec::with_capacity(lines.len());
        for (stream, line) in lines {
            self.seq += 1;
            seqs.push(self.seq);
            streams.push((*stream).to_owned());
            let mut text = self.redactor.redact(line);
            if text.len() > MAX_LINE {
                let mut cut = MAX_LINE;
                while !text.is_char_boundary(cut) {
                    cut -= 1;
                }
                text.truncate(cut);
                text.push_str(" …");
            }
            texts.push(text);
        }
        match db::append_log(&self.db, self.release, &seqs, &streams, &texts).await {
            Ok(ts) => {
                let ts = ts.to_rfc3339();
                let lines = seqs
                    .into_iter()
                    .zip(streams)
                    .zip(texts)
                    .map(|((seq, stream), line)| LogLine {
                        seq,
                        ts: ts.clone(),
                        stream,
                        line,
                    })
                    .collect();
                build_log::published(&self.hub, self.release, lines).await;
            }
            Err(e) => tracing::warn!(error = %e, release = %self.release, "writing the build log"),
        }
    }

    /// Tells live viewers the log is complete: the release left the pipeline.
    pub async fn end(&self) {
        if let Err(e) = db::end_log(&self.db, self.release).await {
            tracing::warn!(error = %e, release = %self.release, "marking the build log complete");
        }
        build_log::ended(&self.hub, self.release).await;
    }
}
