//! A dashboard page timed as a browser asks for it: its server time (the
//! page's own `Server-Timing`, or else the loopback round trip), its bytes
//! as sent, and its reads' `Server-Timing` (`bench dashboard`).

use std::time::{Duration, Instant};

/// One page's timings.
pub struct Timed {
    /// Median of the server times (header or round trip).
    pub median: Duration,
    /// Fastest.
    pub best: Duration,
    /// Slowest.
    pub worst: Duration,
    /// Body bytes of the last answer, as sent.
    pub bytes: usize,
    /// Median of the round trips.
    pub round_trip: Duration,
    /// Whether the times are the page's own `Server-Timing`.
    pub from_header: bool,
    /// The last answer's `Server-Timing`, as sent (the page's reads).
    pub timing: String,
}

/// `Server-Timing`'s total `dur` (milliseconds), if the answer has one.
fn server_timing(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let mut total = None;
    for value in headers.get_all("server-timing") {
        for metric in value.to_str().ok()?.split(',') {
            for param in metric.split(';').skip(1) {
                if let Some(dur) = param.trim().strip_prefix("dur=") {
                    let dur: f64 = dur.trim().parse().ok()?;
                    // The whole answer if the page names it (`app`, or
                    // `total`), else the sum.
                    let name = metric.split(';').next().unwrap_or_default().trim();
                    let this = Duration::from_secs_f64(dur / 1000.0);
                    if name == "app" || name == "total" {
                        return Some(this);
                    }
                    total = Some(total.unwrap_or_default() + this);
                }
            }
        }
    }
    total
}

/// What a browser sends.
pub const BROWSER_ENCODINGS: &str = "gzip, deflate, br, zstd";

/// Requests `url` `runs` times after two untimed ones, with
/// `accept_encoding`; `None` when it answers 404.
pub async fn time_page(
    client: &reqwest::Client,
    url: &str,
    cookie: &str,
    runs: u32,
    accept_encoding: &str,
) -> anyhow::Result<Option<Timed>> {
    let mut times = Vec::new();
    let mut bytes = 0;
    let mut timing = String::new();
    let mut from_header = true;
    for i in 0..runs + 2 {
        let sent = Instant::now();
        let response = client
            .get(url)
            .header(reqwest::header::COOKIE, cookie)
            .header(reqwest::header::ACCEPT_ENCODING, accept_encoding)
            .send()
            .await?;
        let status = response.status();
        let header = server_timing(response.headers());
        timing = response
            .headers()
            .get("server-timing")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = response.bytes().await?;
        let round_trip = sent.elapsed();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        anyhow::ensure!(
            status.is_success(),
            "{url} answered {status}: {}",
            String::from_utf8_lossy(&body[..body.len().min(300)])
        );
        bytes = body.len();
        if i >= 2 {
            from_header &= header.is_some();
            times.push((header, round_trip));
        }
    }
    let mut round_trips: Vec<Duration> = times.iter().map(|(_, r)| *r).collect();
    round_trips.sort_unstable();
    let mut times: Vec<Duration> = times
        .into_iter()
        .map(|(header, round_trip)| match header {
            Some(h) if from_header => h,
            _ => round_trip,
        })
        .collect();
    times.sort_unstable();
    Ok(Some(Timed {
        median: times[times.len() / 2],
        best: times[0],
        worst: times[times.len() - 1],
        bytes,
        round_trip: round_trips[round_trips.len() / 2],
        from_header,
        timing,
    }))
}
