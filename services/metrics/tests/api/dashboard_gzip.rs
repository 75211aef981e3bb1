//! The dashboard's answers are gzipped for browsers that accept it, with
//! the same page inside, and sent plain to clients that do not.

use std::io::Read as _;

use reqwest::StatusCode;
use reqwest::header;
use sqlx::PgPool;

use crate::dashboard::{DASHBOARD_TOKEN, app, http, seed, sign_in, url};

#[sqlx::test(migrations = false)]
async fn pages_are_gzipped_when_asked_and_the_same_inside(pool: PgPool) {
    let mut app = app(pool).await;
    seed(&mut app).await;
    let addr = app.server.http_addr;
    let cookie = sign_in(addr, DASHBOARD_TOKEN).await;
    let mut gzipped = 0;
    for path in [
        "/dashboard/retention?period=week",
        "/dashboard/retention?period=week&format=json",
        "/dashboard/retention?period=week&format=csv",
        "/dashboard/static/dashboard.css",
    ] {
        let fetch = async |encoding: &str| {
            let r = http()
                .get(url(addr, path))
                .header(header::COOKIE, &cookie)
                .header(header::ACCEPT_ENCODING, encoding)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK, "{path}");
            let headers = r.headers().clone();
            (headers, r.bytes().await.unwrap())
        };
        let (plain_headers, plain) = fetch("identity").await;
        assert!(
            plain_headers.get(header::CONTENT_ENCODING).is_none(),
            "{path}"
        );
        let (headers, zipped) = fetch("gzip, deflate, br, zstd").await;
        if plain.len() < 1024 {
            // Too small to be worth it: sent as it is.
            assert!(headers.get(header::CONTENT_ENCODING).is_none(), "{path}");
            assert_eq!(zipped, plain, "{path}");
            continue;
        }
        assert_eq!(headers[header::CONTENT_ENCODING], "gzip", "{path}");
        assert_eq!(headers[header::VARY], "accept-encoding", "{path}");
        assert!(headers.contains_key("server-timing"), "{path}");
        assert!(
            zipped.len() < plain.len() / 2,
            "{path}: {} of {}",
            zipped.len(),
            plain.len()
        );
        let mut inside = Vec::new();
        flate2::read::GzDecoder::new(&zipped[..])
            .read_to_end(&mut inside)
            .unwrap();
        assert_eq!(inside, plain, "{path}: the same answer inside");
        gzipped += 1;
    }
    assert!(gzipped >= 2, "the page and the stylesheet are big enough");
}
