//! Is the new container serving? An HTTP `GET` on the deployment's health path through the
//! published port (2xx or 3xx passes), or, without a path, a TCP connect to the container
//! itself: the engine's port proxy accepts connections on the published port even when
//! nothing listens inside, so only the container's own address tells.

use std::time::Duration;

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);

pub enum Target<'a> {
    Http { host_port: u16, path: &'a str },
    Tcp { addr: String },
}

/// `Ok` when healthy, else what was seen (for the log).
pub async fn probe(target: &Target<'_>) -> Result<(), String> {
    match tokio::time::timeout(ATTEMPT_TIMEOUT, attempt(target)).await {
        Ok(result) => result,
        Err(_) => Err(format!("no answer within {}s", ATTEMPT_TIMEOUT.as_secs())),
    }
}

async fn attempt(target: &Target<'_>) -> Result<(), String> {
    match target {
        Target::Tcp { addr } => TcpStream::connect(addr)
            .await
            .map(drop)
            .map_err(|e| format!("connecting to {addr}: {e}")),
        Target::Http { host_port, path } => {
            let mut stream = TcpStream::connect(("127.0.0.1", *host_port))
                .await
                .map_err(|e| format!("connecting: {e}"))?;
            let request = format!(
                "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{host_port}\r\nUser-Agent: slipway-health\r\nAccept: */*\r\nConnection: close\r\n\r\n"
            );
            stream
                .write_all(request.as_bytes())
                .await
                .map_err(|e| format!("sending: {e}"))?;
            let mut head = Vec::with_capacity(64);
            let mut buf = [0u8; 256];
            while !head.contains(&b'\n') && head.len() < 4096 {
                let n = stream
                    .read(&mut buf)
                    .await
                    .map_err(|e| format!("reading: {e}"))?;
                if n == 0 {
                    break;
                }
                head.extend_from_slice(&buf[..n]);
            }
            let line = String::from_utf8_lossy(&head);
            let status = line
                .lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|code| code.parse::<u16>().ok());
            match status {
                Some(code @ 200..=399) => {
                    let _ = code;
                    Ok(())
                }
                Some(code) => Err(format!("GET {path} answered {code}")),
                None if head.is_empty() => Err("the connection closed without an answer".into()),
                None => Err("the answer was not HTTP".into()),
            }
        }
    }
}
