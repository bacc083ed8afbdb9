//! A release's build log: Slipway's own step messages and the build's output, redacted, in
//! order, in PostgreSQL. Writing the log never fails a build: a lost line is logged instead.

use sqlx::PgPool;
use uuid::Uuid;

use super::redact::Redactor;
use crate::server::db::deployments as db;

/// Longer lines are cut: a minified bundle echoed by a build must not fill the database.
const MAX_LINE: usize = 8 * 1024;

pub struct BuildLog {
    db: PgPool,
    release: Uuid,
    seq: i32,
    redactor: Redactor,
}

impl BuildLog {
    /// Continues after the last stored line, so a retried step appends instead of clashing.
    pub async fn open(db: PgPool, release: Uuid, redactor: Redactor) -> Self {
        let seq = db::last_log_seq(&db, release).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, %release, "reading the build log position");
            0
        });
        Self {
            db,
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
        if let Err(e) = db::append_log(&self.db, self.release, &seqs, &streams, &texts).await {
            tracing::warn!(error = %e, release = %self.release, "writing the build log");
        }
    }
}
