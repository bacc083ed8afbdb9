//! Pieces the deployments pages share.

mod delete_dialog;
mod log_view;
mod state_badge;

pub use delete_dialog::DeleteDialog;
pub use log_view::{LogLineView, LogView, MAX_LINES};
pub use state_badge::{label, StateBadge};

/// "3 min ago" for an RFC 3339 time, against `now` (seconds since the epoch).
pub fn age(rfc3339: &str, now: f64) -> String {
    let Some(then) = parse_epoch(rfc3339) else {
        return String::new();
    };
    let seconds = (now - then).max(0.0) as u64;
    match seconds {
        0..=59 => "just now".into(),
        60..=3599 => format!("{} min ago", seconds / 60),
        3600..=86_399 => format!("{} h ago", seconds / 3600),
        _ => format!("{} d ago", seconds / 86_400),
    }
}

/// Seconds since the epoch of an RFC 3339 time such as `2026-11-22T06:38:34.954027+00:00`.
pub fn parse_epoch(rfc3339: &str) -> Option<f64> {
    let (date, rest) = rfc3339.split_once('T')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let time_end = rest.find(['+', '-', 'Z']).unwrap_or(rest.len());
    let (time, zone) = rest.split_at(time_end);
    let mut t = time.split(':');
    let (h, min) = (
        t.next()?.parse::<i64>().ok()?,
        t.next()?.parse::<i64>().ok()?,
    );
    let sec: f64 = t.next().unwrap_or("0").parse().ok()?;
    let offset = match zone {
        "" | "Z" => 0,
        z => {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let mut parts = z[1..].split(':');
            let oh: i64 = parts.next()?.parse().ok()?;
            let om: i64 = parts.next().unwrap_or("0").parse().ok()?;
            sign * (oh * 3600 + om * 60)
        }
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + h * 3600 + min * 60 - offset) as f64 + sec)
}

/// The time now, in seconds since the epoch, wherever the code runs.
pub fn now_epoch() -> f64 {
    #[cfg(feature = "hydrate")]
    {
        js_sys_now() / 1000.0
    }
    #[cfg(not(feature = "hydrate"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64())
    }
}

#[cfg(feature = "hydrate")]
fn js_sys_now() -> f64 {
    #[wasm_bindgen::prelude::wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(js_namespace = Date, js_name = now)]
        fn date_now() -> f64;
    }
    date_now()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_with_offsets_and_ages_read_naturally() {
        assert_eq!(parse_epoch("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(parse_epoch("1970-01-02T01:00:00+01:00"), Some(86_400.0));
        let t = parse_epoch("2026-11-22T06:38:34.5+00:00").unwrap();
        assert_eq!(t, 1_795_329_514.5);
        assert_eq!(age("2026-11-22T06:38:34+00:00", t + 30.0), "just now");
        assert_eq!(age("2026-11-22T06:38:34+00:00", t + 600.0), "10 min ago");
        assert_eq!(age("2026-11-22T06:38:34+00:00", t + 7300.0), "2 h ago");
        assert_eq!(age("garbage", t), "");
    }
}
