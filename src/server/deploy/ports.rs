//! The host-port registry: the lowest port in `PORT_RANGE` that no deployment holds and
//! nothing on the host listens on. The table's primary key settles races between concurrent
//! creates (and between Slipway processes).

use std::{
    net::{Ipv4Addr, TcpListener},
    ops::RangeInclusive,
};

use sqlx::PgConnection;
use uuid::Uuid;

use crate::{
    error::AppError,
    server::{db::deployments as db, error::internal},
};

/// Whether nothing listens on `port`, on loopback or any address.
pub fn host_port_free(port: u16) -> bool {
    [Ipv4Addr::LOCALHOST, Ipv4Addr::UNSPECIFIED]
        .into_iter()
        .all(|ip| TcpListener::bind((ip, port)).is_ok())
}

/// Takes a port for `deployment` (and `release`, when it is a release's own) inside the
/// caller's transaction.
pub async fn allocate(
    tx: &mut PgConnection,
    range: RangeInclusive<u16>,
    deployment: Uuid,
    release: Option<Uuid>,
) -> Result<u16, AppError> {
    let (low, high) = (*range.start(), *range.end());
    let held = db::ports_in_range(&mut *tx, i32::from(low), i32::from(high))
        .await
        .map_err(|e| internal("list ports", e))?;
    for port in range {
        if held.binary_search(&i32::from(port)).is_ok() || !host_port_free(port) {
            continue;
        }
        if db::try_take_port(&mut *tx, i32::from(port), deployment, release)
            .await
            .map_err(|e| internal("take port", e))?
        {
            return Ok(port);
        }
    }
    Err(AppError::Unavailable {
        message: format!(
            "Every port in PORT_RANGE ({low}-{high}) is taken: delete a deployment or widen the range."
        ),
    })
}
