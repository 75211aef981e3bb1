use std::time::Duration;

use growth_proto::metrics::v1 as pb;
use sqlx::PgPool;
use tokio_stream::StreamExt;

use crate::helpers::*;

async fn collect(app: &mut TestApp, after: i64, batch: u32) -> Vec<pb::FeedEvent> {
    let mut stream = app
        .client
        .watch_events(pb::WatchEventsRequest {
            after_sequence: after,
            stop_at_end: true,
            max_batch_size: batch,
        })
        .await
        .expect("watch starts")
        .into_inner();
    let mut all = Vec::new();
    while let Some(message) = stream.next().await {
        let message = message.expect("stream message");
        assert_eq!(
            message.cursor,
            message.events.last().expect("non-empty").sequence
        );
        all.extend(message.events);
    }
    all
}

fn ids(events: &[pb::FeedEvent]) -> Vec<String> {
    events
        .iter()
        .map(|e| e.event.as_ref().expect("event").event_id.clone())
        .collect()
}

#[sqlx::test(migrations = false)]
async fn the_feed_replays_stored_events_in_order_from_a_cursor(pool: PgPool) {
    let mut app = spawn_app(pool).await;
    upsert(&mut app, vec![user("u1")]).await;
    track(&mut app, events("a", 30)).await;
    track(&mut app, events("b", 30)).await;

    let all = collect(&mut app, 0, 7).await;
    assert_eq!(all.len(), 60);
    assert!(
        all.windows(2).all(|w| w[0].sequence < w[1].sequence),
        "ascending"
    );
    let expected: Vec<String> = (0..30)
        .map(|i| format!("a{i}"))
        .chain((0..30).map(|i| format!("b{i}")))
        .collect();
    assert_eq!(ids(&all), expected);

    // Resuming from the 25th event's position returns exactly the rest.
    let rest = collect(&mut app, all[24].sequence, 0).await;
    assert_eq!(ids(&rest), expected[25..]);
}

#[sqlx::test(migrations = false)]
async fn a_follower_sees_new_events_live_and_resumes_exactly_after_a_disconnect(pool: PgPool) {
    let mut app = spawn_app(pool).await;
    upsert(&mut app, vec![user("u1")]).await;
    track(&mut app, events("a", 3)).await;

    let mut stream = app
        .client
        .watch_events(pb::WatchEventsRequest::default())
        .await
        .expect("watch starts")
        .into_inner();
    let first = stream.next().await.expect("message").expect("ok");
    assert_eq!(ids(&first.events), ["a0", "a1", "a2"]);

    track(&mut app, events("b", 2)).await;
    let live = tokio::time::timeout(Duration::from_millis(900), stream.next())
        .await
        .expect("live event arrives within the poll interval: NOTIFY woke the stream")
        .expect("message")
        .expect("ok");
    assert_eq!(ids(&live.events), ["b0", "b1"]);
    let cursor = live.cursor;
    drop(stream); // disconnect

    track(&mut app, events("c", 2)).await;
    let mut resumed = app
        .client
        .watch_events(pb::WatchEventsRequest {
            after_sequence: cursor,
            ..Default::default()
        })
        .await
        .expect("watch resumes")
        .into_inner();
    let next = resumed.next().await.expect("message").expect("ok");
    assert_eq!(ids(&next.events), ["c0", "c1"]);
}

#[sqlx::test(migrations = false)]
async fn concurrent_writers_never_make_a_follower_skip_an_event(pool: PgPool) {
    let mut app = spawn_app(pool).await;
    upsert(&mut app, vec![user("u1")]).await;
    let mut stream = app
        .client
        .watch_events(pb::WatchEventsRequest::default())
        .await
        .expect("watch starts")
        .into_inner();

    let writers: Vec<_> = (0..4)
        .map(|w| {
            let mut client = app.client.clone();
            tokio::spawn(async move {
                for b in 0..10 {
                    let batch = events(&format!("w{w}b{b}e"), 50);
                    client
                        .track_events(pb::TrackEventsRequest { events: batch })
                        .await
                        .expect("track");
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.expect("writer finishes");
    }

    let mut seen = Vec::new();
    while seen.len() < 2000 {
        let message = tokio::time::timeout(Duration::from_secs(5), stream.next())
            .await
            .expect("events keep coming")
            .expect("message")
            .expect("ok");
        seen.extend(message.events);
    }
    assert_eq!(seen.len(), 2000, "no event twice");
    assert!(seen.windows(2).all(|w| w[0].sequence < w[1].sequence));
    let mut unique = ids(&seen);
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 2000, "every event exactly once");
}
