//! Stages end to end: metrics holds users, events and payments; lifecycle
//! evaluates them over gRPC, explains scores, records transitions.

use growth_proto::common::v1::PageRequest;
use growth_proto::lifecycle::v1::{self as lc, LifecycleStage as S};
use sqlx::PgPool;

use crate::helpers::*;

/// Five users, one per starting stage.
async fn five_users(c: &mut Cluster) {
    c.users(vec![
        user("trial1", 3, Some(days_ago(-11))),
        user("new1", 2, None),
        user("active1", 100, None),
        user("gone1", 100, None),
        user("quiet1", 60, None),
    ])
    .await;
    let mut events = activity("a", "active1", 20, 3, 5);
    events.push(event("g1", "gone1", "login", days_ago(45)));
    events.push(event("q1", "quiet1", "login", days_ago(20)));
    c.events(events).await;
    c.payments(vec![payment("p1", "active1", 5)]).await;
}

fn all() -> lc::EvaluateUsersRequest {
    lc::EvaluateUsersRequest::default()
}

#[sqlx::test(migrations = false)]
async fn evaluation_gives_every_user_a_stage_and_explains_the_score(pool: PgPool) {
    let mut c = spawn_with(pool, |a| a.feed_disabled = true).await;
    five_users(&mut c).await;

    let progress = c.evaluate(all()).await;
    let done = progress.last().unwrap();
    assert!(done.done);
    assert_eq!((done.evaluated, done.total, done.transitions), (5, 5, 5));

    assert_eq!(c.stage_of("trial1").await, Some(S::Trial));
    assert_eq!(c.stage_of("new1").await, Some(S::Onboarding));
    assert_eq!(c.stage_of("active1").await, Some(S::Active));
    assert_eq!(c.stage_of("gone1").await, Some(S::Churned));
    assert_eq!(c.stage_of("quiet1").await, Some(S::AtRisk));

    let active = c
        .lifecycle
        .get_user_lifecycle(lc::GetUserLifecycleRequest {
            user_id: "active1".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let score = active.score.unwrap();
    let names: Vec<&str> = score.components.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["recency", "frequency", "consistency", "breadth", "revenue"]
    );
    assert_eq!(score.components[0].explanation, "last active today");
    assert_eq!(
        score.components[4].explanation,
        "paying customer (plan free)"
    );
    let sum: f64 = score.components.iter().map(|c| c.points).sum();
    assert_eq!(score.total, sum.round() as i32);
    assert!(score.total >= 90, "{score:?}");
    let first = &active.recent_transitions[0];
    assert_eq!(
        (first.from_stage(), first.to_stage()),
        (S::Unspecified, S::Active)
    );
    assert_eq!(first.reason, "paying customer");
    assert_eq!(first.score, score.total);

    // Nothing changed since: evaluating again records nothing new.
    let again = c.evaluate(all()).await;
    assert_eq!(again.last().unwrap().transitions, 0);
    assert_eq!(
        c.count("SELECT count(*) FROM lifecycle.transitions").await,
        5
    );
}

#[sqlx::test(migrations = false)]
async fn a_dry_run_reports_what_would_change_and_writes_nothing(pool: PgPool) {
    let mut c = spawn_with(pool, |a| a.feed_disabled = true).await;
    five_users(&mut c).await;
    let progress = c
        .evaluate(lc::EvaluateUsersRequest {
            dry_run: true,
            ..all()
        })
        .await;
    let samples: Vec<&lc::Transition> = progress.iter().flat_map(|p| &p.sample).collect();
    assert_eq!(samples.len(), 5);
    assert!(samples.iter().all(|t| t.transition_id == 0));
    assert_eq!(progress.last().unwrap().transitions, 5);
    assert_eq!(c.count("SELECT count(*) FROM lifecycle.profiles").await, 0);
    assert_eq!(
        c.count("SELECT count(*) FROM lifecycle.transitions").await,
        0
    );
}

#[sqlx::test(migrations = false)]
async fn transitions_are_listed_newest_first_with_filters_and_paging(pool: PgPool) {
    let mut c = spawn_with(pool, |a| a.feed_disabled = true).await;
    five_users(&mut c).await;
    c.evaluate(all()).await;
    let before_recovery = chrono::Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    // quiet1 comes back strongly: at risk -> active.
    c.events(activity("q", "quiet1", 3, 5, 5)).await;
    let progress = c
        .evaluate(lc::EvaluateUsersRequest {
            user_ids: vec!["quiet1".into()],
            ..all()
        })
        .await;
    assert_eq!(progress.last().unwrap().transitions, 1);
    let recovered = &progress[0].sample[0];
    assert_eq!(
        (recovered.from_stage(), recovered.to_stage()),
        (S::AtRisk, S::Active)
    );
    assert!(
        recovered.reason.starts_with("score "),
        "{}",
        recovered.reason
    );

    let list = |r: lc::ListTransitionsRequest| {
        let mut client = c.lifecycle.clone();
        async move {
            client
                .list_transitions(r)
                .await
                .unwrap()
                .into_inner()
                .transitions
        }
    };
    let into_active = list(lc::ListTransitionsRequest {
        to_stage: S::Active as i32,
        ..Default::default()
    })
    .await;
    let users: Vec<&str> = into_active.iter().map(|t| t.user_id.as_str()).collect();
    assert_eq!(users, ["quiet1", "active1"], "newest first");
    let out_of_risk = list(lc::ListTransitionsRequest {
        from_stage: S::AtRisk as i32,
        ..Default::default()
    })
    .await;
    assert_eq!(out_of_risk.len(), 1);
    let since = list(lc::ListTransitionsRequest {
        since: ts(before_recovery),
        ..Default::default()
    })
    .await;
    assert_eq!(since.len(), 1);
    let of_user = list(lc::ListTransitionsRequest {
        user_id: "quiet1".into(),
        ..Default::default()
    })
    .await;
    assert_eq!(of_user.len(), 2);

    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = c
            .lifecycle
            .list_transitions(lc::ListTransitionsRequest {
                page: Some(PageRequest {
                    page_size: 2,
                    page_token: token,
                }),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        seen.extend(page.transitions.iter().map(|t| t.transition_id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen.len(), 6);
    assert!(seen.windows(2).all(|w| w[0] > w[1]), "{seen:?}");

    // The distribution now, and as it was before the recovery.
    let now = c
        .lifecycle
        .get_stage_distribution(lc::GetStageDistributionRequest::default())
        .await
        .unwrap()
        .into_inner();
    let then = c
        .lifecycle
        .get_stage_distribution(lc::GetStageDistributionRequest {
            as_of: ts(before_recovery),
        })
        .await
        .unwrap()
        .into_inner();
    let count = |d: &lc::GetStageDistributionResponse, s: S| {
        d.stages.iter().find(|c| c.stage() == s).unwrap().users
    };
    assert_eq!((count(&now, S::Active), count(&now, S::AtRisk)), (2, 0));
    assert_eq!((count(&then, S::Active), count(&then, S::AtRisk)), (1, 1));
    assert_eq!((now.total_users, then.total_users), (5, 5));
    assert_eq!(now.stages.len(), 6, "every stage, zeros included");
}

#[sqlx::test(migrations = false)]
async fn an_evaluation_can_be_limited_to_the_users_in_one_stage(pool: PgPool) {
    let mut c = spawn_with(pool, |a| a.feed_disabled = true).await;
    five_users(&mut c).await;
    c.evaluate(all()).await;
    let progress = c
        .evaluate(lc::EvaluateUsersRequest {
            stage: S::Churned as i32,
            ..all()
        })
        .await;
    assert_eq!(progress.last().unwrap().evaluated, 1);
}

#[sqlx::test(migrations = false)]
async fn a_second_evaluation_is_refused_while_one_runs_and_none_duplicates(pool: PgPool) {
    let mut c = spawn_with(pool, |a| a.feed_disabled = true).await;
    five_users(&mut c).await;

    // Someone holds the evaluation lock: a real run is refused, a dry run is not.
    let mut holder = c.pool.acquire().await.unwrap();
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(lifecycle_svc::repo::locks::EVALUATION_LOCK)
        .execute(&mut *holder)
        .await
        .unwrap();
    let refused = evaluate(&mut c.lifecycle, all()).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Aborted);
    assert!(refused.message().contains("another evaluation is running"));
    c.evaluate(lc::EvaluateUsersRequest {
        dry_run: true,
        ..all()
    })
    .await;
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(lifecycle_svc::repo::locks::EVALUATION_LOCK)
        .execute(&mut *holder)
        .await
        .unwrap();
    drop(holder);

    // Two at once: each either runs or is refused, and no user moves twice.
    let (mut a, mut b) = (c.lifecycle.clone(), c.lifecycle.clone());
    let (ra, rb) = tokio::join!(evaluate(&mut a, all()), evaluate(&mut b, all()));
    for r in [&ra, &rb] {
        if let Err(s) = r {
            assert_eq!(s.code(), tonic::Code::Aborted, "{s:?}");
        }
    }
    assert!(ra.is_ok() || rb.is_ok());
    assert_eq!(
        c.count("SELECT count(*) FROM lifecycle.transitions").await,
        5
    );
}

#[sqlx::test(migrations = false)]
async fn bad_input_is_refused_with_the_field_named(pool: PgPool) {
    let mut c = spawn_with(pool, |a| a.feed_disabled = true).await;
    let l = &mut c.lifecycle;
    let s = l
        .get_user_lifecycle(lc::GetUserLifecycleRequest {
            user_id: " ".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        (s.code(), s.message()),
        (
            tonic::Code::InvalidArgument,
            "user_id: must be 1 to 128 characters, each an ASCII letter, digit or one of \
             _-.:@; character 1 is ' '"
        )
    );
    let s = l
        .get_user_lifecycle(lc::GetUserLifecycleRequest {
            user_id: "nobody".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(s.code(), tonic::Code::NotFound);
    let s = l
        .list_transitions(lc::ListTransitionsRequest {
            to_stage: 42,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(s.message(), "to_stage: 42 is not a LifecycleStage");
    let s = l
        .list_transitions(lc::ListTransitionsRequest {
            page: Some(PageRequest {
                page_size: -1,
                page_token: String::new(),
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(s.message().starts_with("page.page_size"), "{}", s.message());
    let s = l
        .list_transitions(lc::ListTransitionsRequest {
            page: Some(PageRequest {
                page_size: 0,
                page_token: "bogus".into(),
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(
        s.message().starts_with("page.page_token"),
        "{}",
        s.message()
    );
    let s = l
        .list_transitions(lc::ListTransitionsRequest {
            since: ts(days_ago(1)),
            until: ts(days_ago(2)),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(
        s.message().starts_with("until: must be after since"),
        "{}",
        s.message()
    );
    let s = l
        .get_stage_distribution(lc::GetStageDistributionRequest {
            as_of: ts(days_ago(-1)),
        })
        .await
        .unwrap_err();
    assert!(
        s.message().starts_with("as_of: is in the future"),
        "{}",
        s.message()
    );
    let s = evaluate(
        l,
        lc::EvaluateUsersRequest {
            user_ids: vec!["u1".into()],
            stage: S::Active as i32,
            dry_run: false,
        },
    )
    .await
    .unwrap_err();
    assert!(
        s.message().starts_with("stage: cannot be combined"),
        "{}",
        s.message()
    );
    let s = evaluate(
        l,
        lc::EvaluateUsersRequest {
            user_ids: vec!["".into()],
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(
        s.message(),
        "user_ids[0]: must be 1 to 128 characters, each an ASCII letter, digit or one of \
         _-.:@; got an empty id"
    );
}

/// An id metrics refuses reaches `EvaluateUsers`' caller as INVALID_ARGUMENT
/// named by its index in the caller's request (past the first chunk of
/// 1,000 ids metrics is asked for too), never as INTERNAL.
#[sqlx::test(migrations = false)]
async fn ids_metrics_refuses_are_invalid_arguments_named_by_their_index(pool: PgPool) {
    let mut c = spawn_with(pool, |a| a.feed_disabled = true).await;
    c.users(vec![user("u1", 10, None)]).await;
    for (ids, field) in [
        (vec!["u1".to_owned(), "ȸ˴".to_owned()], "user_ids[1]"),
        (
            (0..1000)
                .map(|i| format!("u{i}"))
                .chain(["ȸ˴".to_owned()])
                .collect(),
            "user_ids[1000]",
        ),
    ] {
        let status = evaluate(
            &mut c.lifecycle,
            lc::EvaluateUsersRequest {
                user_ids: ids,
                dry_run: true,
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
        assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
        assert!(
            status.message().starts_with(&format!("{field}: ")),
            "{}",
            status.message()
        );
    }
}
