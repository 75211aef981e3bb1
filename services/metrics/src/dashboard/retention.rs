//! `GET /dashboard/retention`: the query string parsed into a
//! `GetRetentionMatrixRequest`, answered by the RPC's own function
//! (`api::cohorts::matrix`), and shown as heatmaps, curves and a
//! comparison, or exported (`format=csv|json`) by the writers growthctl
//! prints with.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use growth_proto::export::matrix as export;
use growth_proto::metrics::v1 as pb;

use super::auth::SignedIn;
use super::params::{self, BadParam, Format, RetentionQuery};
use super::view::curves::{self, Chart};
use super::view::heatmap::{self, HeatRow, Heatmap};
use super::view::matrix;
use super::{Dashboard, pages};
use crate::api;

/// A choice of a select: its value, and whether it is the current one.
pub struct Choice {
    /// The value sent.
    pub value: &'static str,
    /// Whether it is selected.
    pub selected: bool,
}

fn choices<T>(values: &[(&'static str, T)], current: &str) -> Vec<Choice> {
    values
        .iter()
        .map(|(v, _)| Choice {
            value: v,
            selected: *v == current,
        })
        .collect()
}

/// One matrix of the page: heatmap, curves, and the compared rows.
pub struct Section {
    /// The table.
    pub heatmap: Heatmap,
    /// The curves.
    pub chart: Chart,
    /// The rows of the compared cohorts.
    pub compared: Vec<HeatRow>,
}

#[derive(Template)]
#[template(path = "dashboard/retention.html")]
struct RetentionPage<'a> {
    q: &'a RetentionQuery,
    periods: Vec<Choice>,
    metrics: Vec<Choice>,
    modes: Vec<Choice>,
    shows: Vec<Choice>,
    sections: Vec<Section>,
    empty: String,
    time_zone: &'a str,
    refreshed_at: String,
    csv_link: String,
    json_link: String,
}

/// The page, or the matrix as a file.
pub async fn page(State(d): State<Dashboard>, _: SignedIn, RawQuery(query): RawQuery) -> Response {
    let q = match params::retention(query.as_deref().unwrap_or_default()) {
        Ok(q) => q,
        Err(bad) => return pages::bad_request(&bad),
    };
    let r = match api::cohorts::matrix(&d.state, q.request()).await {
        Ok(r) => r,
        Err(e) => return pages::failure(e),
    };
    if let Some(c) = q
        .compare
        .iter()
        .find(|c| !r.rows.iter().any(|row| &row.cohort == *c))
    {
        let reason = format!("{c:?} is not a cohort of the matrix shown");
        return pages::bad_request(&[BadParam::new("compare", reason)]);
    }
    match q.format {
        Format::Csv => file(&q, "text/csv; charset=utf-8", "csv", export::csv_text(&r)),
        Format::Json => file(&q, "application/json", "json", export::json_text(&r)),
        Format::Html => pages::html(StatusCode::OK, &view(&q, &r)),
    }
}

/// An export: what growthctl prints for the same request, as a download.
fn file(q: &RetentionQuery, content_type: &'static str, ext: &str, body: String) -> Response {
    let name = format!("retention-{}-{}-{}.{ext}", q.period, q.metric, q.mode);
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

fn view<'a>(q: &'a RetentionQuery, r: &'a pb::GetRetentionMatrixResponse) -> RetentionPage<'a> {
    let sections = matrix::matrices(r)
        .iter()
        .filter(|m| !m.rows.is_empty())
        .map(|m| {
            let heatmap = heatmap::heatmap(m, q.show(), &q.compare);
            Section {
                compared: heatmap::comparison(&heatmap, &q.compare),
                chart: curves::chart(m, &q.compare),
                heatmap,
            }
        })
        .collect::<Vec<_>>();
    let refreshed_at = growth_proto::timestamp::rfc3339(r.refreshed_at.as_ref());
    let empty = match (&refreshed_at, sections.is_empty()) {
        (_, false) => String::new(),
        (None, true) => "No cohorts have been computed yet. Send users and events to the metrics service (growthctl users upsert and growthctl events track, or growthctl seed for demo data), then run growthctl cohorts refresh.".to_owned(),
        (Some(_), true) if q.metric == "revenue" => "No revenue from the cohorts in this range. Payments come from the Stripe webhook or growthctl payments import; run growthctl cohorts refresh after importing.".to_owned(),
        (Some(_), true) => format!("No {} cohorts in this range. Widen the dates, or run growthctl cohorts refresh if users signed up since the last refresh.", q.period),
    };
    RetentionPage {
        periods: choices(params::PERIODS, q.period),
        metrics: choices(params::METRICS, q.metric),
        modes: choices(params::MODES, q.mode),
        shows: choices(params::SHOWS, q.show),
        sections,
        empty,
        time_zone: &r.time_zone,
        refreshed_at: refreshed_at.unwrap_or_else(|| "never".to_owned()),
        csv_link: format!("/dashboard/retention?{}", q.link(Format::Csv, false)),
        json_link: format!("/dashboard/retention?{}", q.link(Format::Json, false)),
        q,
    }
}
