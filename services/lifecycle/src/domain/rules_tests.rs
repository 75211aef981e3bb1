//! One test per row of the transition table.

use chrono::{Duration, TimeZone};

use super::*;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap()
}

fn user(signed_up_days_ago: i64) -> Signals {
    let mut s = Signals::quiet("u1", now() - Duration::days(signed_up_days_ago));
    s.last_seen_at = Some(now() - Duration::days(1));
    s
}

fn at(stage: Stage, days_ago: i64, paying: bool) -> Current {
    Current {
        stage,
        since: now() - Duration::days(days_ago),
        paying,
    }
}

fn decide(
    current: Option<Current>,
    s: &Signals,
    score: u8,
) -> Option<(Stage, &'static str, String)> {
    next_stage(current.as_ref(), s, score, now(), &Tuning::default())
        .map(|d| (d.to, d.rule, d.reason))
}

#[test]
fn a_running_trial_puts_the_user_in_trial_and_keeps_them_there() {
    let mut s = user(3);
    s.trial_ends_at = Some(now() + Duration::days(11));
    let (to, rule, reason) = decide(None, &s, 5).unwrap();
    assert_eq!((to, rule), (Stage::Trial, "trial"));
    assert_eq!(reason, "trial running until 2026-12-05");
    assert_eq!(decide(Some(at(Stage::Trial, 3, false)), &s, 5), None);
}

#[test]
fn a_trial_that_ends_with_a_payment_converts_to_active() {
    let mut s = user(20);
    s.trial_ends_at = Some(now() - Duration::days(6));
    s.paying = true;
    let (to, rule, reason) = decide(Some(at(Stage::Trial, 20, false)), &s, 30).unwrap();
    assert_eq!((to, rule), (Stage::Active, "engaged"));
    assert_eq!(reason, "converted: paying after the trial");
}

#[test]
fn a_trial_that_ends_unpaid_is_active_if_engaged_else_at_risk() {
    let mut s = user(20);
    s.trial_ends_at = Some(now() - Duration::days(6));
    let trial = || Some(at(Stage::Trial, 20, false));
    assert_eq!(decide(trial(), &s, 30).unwrap().0, Stage::Active);
    let (to, rule, reason) = decide(trial(), &s, 10).unwrap();
    assert_eq!((to, rule), (Stage::AtRisk, "slipping"));
    assert_eq!(reason, "score 10 is below the at-risk threshold 25");
}

#[test]
fn a_payer_who_stops_paying_churns() {
    let mut s = user(200);
    s.has_paid = true;
    for from in [Stage::Active, Stage::AtRisk, Stage::Reactivated] {
        let (to, rule, _) = decide(Some(at(from, 30, true)), &s, 60).unwrap();
        assert_eq!((to, rule), (Stage::Churned, "payments_stopped"));
    }
}

#[test]
fn inactivity_past_the_churn_window_churns_non_payers_only() {
    let mut s = user(200);
    s.last_seen_at = Some(now() - Duration::days(41));
    let (to, rule, reason) = decide(Some(at(Stage::AtRisk, 10, false)), &s, 3).unwrap();
    assert_eq!((to, rule), (Stage::Churned, "inactive"));
    assert_eq!(reason, "no activity for 41 days (churn after 30)");
    s.paying = true;
    assert_eq!(decide(Some(at(Stage::AtRisk, 10, true)), &s, 3), None);
    let mut never = Signals::quiet("u2", now() - Duration::days(35));
    never.last_seen_at = None;
    let (_, _, reason) = decide(None, &never, 0).unwrap();
    assert_eq!(
        reason,
        "no activity since signup for 35 days (churn after 30)"
    );
}

#[test]
fn churned_users_come_back_by_paying_again_or_by_engaging_if_they_never_paid() {
    let churned = || Some(at(Stage::Churned, 20, false));
    let mut s = user(200);
    assert_eq!(decide(churned(), &s, 45).unwrap().1, "came_back");
    assert_eq!(
        decide(churned(), &s, 39),
        None,
        "below active_from stays churned"
    );
    s.last_seen_at = Some(now() - Duration::days(31));
    assert_eq!(
        decide(churned(), &s, 45),
        None,
        "no event in the churn window"
    );
    // Late events: recorded churned 20 days ago, events that occurred 25
    // days ago (before the churn was recorded) arrive now and bring the
    // score to 57. They fall inside the churn window, so they count.
    s.last_seen_at = Some(now() - Duration::days(25));
    assert_eq!(decide(churned(), &s, 57).unwrap().0, Stage::Reactivated);
    s.last_seen_at = Some(now() - Duration::days(1));
    s.has_paid = true;
    assert_eq!(
        decide(churned(), &s, 45),
        None,
        "a former payer must pay again"
    );
    s.paying = true;
    let (to, _, reason) = decide(churned(), &s, 45).unwrap();
    assert_eq!(to, Stage::Reactivated);
    assert_eq!(reason, "paying again after churning");
}

#[test]
fn reactivated_users_settle_into_active_after_the_settling_period() {
    let s = user(200);
    assert_eq!(decide(Some(at(Stage::Reactivated, 5, false)), &s, 30), None);
    let (to, rule, _) = decide(Some(at(Stage::Reactivated, 14, false)), &s, 30).unwrap();
    assert_eq!((to, rule), (Stage::Active, "settled"));
    let (to, _, _) = decide(Some(at(Stage::Reactivated, 5, false)), &s, 10).unwrap();
    assert_eq!(to, Stage::AtRisk);
}

#[test]
fn new_users_without_a_trial_onboard_until_engaged_or_the_window_ends() {
    let s = user(3);
    let (to, rule, reason) = decide(None, &s, 12).unwrap();
    assert_eq!((to, rule), (Stage::Onboarding, "onboarding"));
    assert!(reason.starts_with("signed up 3 days ago"), "{reason}");
    assert_eq!(decide(Some(at(Stage::Onboarding, 3, false)), &s, 12), None);
    assert_eq!(
        decide(Some(at(Stage::Onboarding, 3, false)), &s, 45)
            .unwrap()
            .0,
        Stage::Active
    );
    let late = user(15);
    assert_eq!(
        decide(Some(at(Stage::Onboarding, 15, false)), &late, 12)
            .unwrap()
            .0,
        Stage::AtRisk
    );
    assert_eq!(
        decide(Some(at(Stage::Onboarding, 15, false)), &late, 30)
            .unwrap()
            .0,
        Stage::Active
    );
}

#[test]
fn at_risk_needs_the_active_threshold_to_recover() {
    let s = user(200);
    assert_eq!(decide(Some(at(Stage::Active, 30, false)), &s, 30), None);
    assert_eq!(
        decide(Some(at(Stage::Active, 30, false)), &s, 24)
            .unwrap()
            .0,
        Stage::AtRisk
    );
    assert_eq!(
        decide(Some(at(Stage::AtRisk, 3, false)), &s, 39),
        None,
        "hysteresis"
    );
    let (to, rule, reason) = decide(Some(at(Stage::AtRisk, 3, false)), &s, 40).unwrap();
    assert_eq!((to, rule), (Stage::Active, "recovered"));
    assert_eq!(reason, "score 40 reached the active threshold 40");
}

#[test]
fn a_first_evaluation_always_gives_a_stage() {
    for days in [0, 5, 20, 100] {
        for score in [0, 24, 25, 39, 40, 100] {
            for paying in [false, true] {
                let mut s = user(days);
                s.paying = paying;
                assert!(decide(None, &s, score).is_some(), "{days} {score} {paying}");
            }
        }
    }
}
