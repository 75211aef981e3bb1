//! What the AI summary is given: the week's aggregates and nothing else.
//!
//! [`AiInput`] has no field that could hold a person: no email, no user or
//! customer id, no name; only the week, the time zone, KPI values and the
//! rule-based sentences, which cite aggregates. As a second line of defence
//! every free text is [`scrub`]bed before it leaves the process: anything
//! shaped like an email address, a UUID or a Stripe object id becomes
//! `[redacted]`.

use super::super::kpi::{Kpi, Unit};
use super::super::week::Week;

/// One KPI as the model sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct AiKpi {
    /// Machine name ("mrr", "wau").
    pub name: String,
    /// Human name.
    pub label: String,
    /// This week's value (money in minor units of `currency`).
    pub value: f64,
    /// Last week's.
    pub previous: f64,
    /// Relative change week over week; `None` when last week was 0.
    pub change: Option<f64>,
    /// What the numbers are.
    pub unit: Unit,
    /// ISO currency of money KPIs ("usd"); empty otherwise.
    pub currency: String,
}

impl From<&Kpi> for AiKpi {
    fn from(kpi: &Kpi) -> Self {
        Self {
            name: kpi.series.name.clone(),
            label: kpi.series.label.clone(),
            value: kpi.value,
            previous: kpi.previous,
            change: kpi.change,
            unit: kpi.series.unit,
            currency: kpi.series.currency.clone(),
        }
    }
}

/// The week's aggregates handed to the model.
#[derive(Debug, Clone, PartialEq)]
pub struct AiInput {
    /// The report's ISO week.
    pub week: Week,
    /// The reporting time zone the week is cut in.
    pub time_zone: String,
    /// The KPIs.
    pub kpis: Vec<AiKpi>,
    /// The rule-based insights' sentences.
    pub insights: Vec<String>,
    /// The anomalies, one sentence each.
    pub anomalies: Vec<String>,
}

/// What replaces a token that looks personal.
pub const REDACTED: &str = "[redacted]";

/// Prefixes of Stripe object ids (customers, payments, subscriptions…);
/// an id is one of them and 8 or more letters and digits, not all lower
/// case (so that snake_case names such as `sub_renewals` are kept).
const STRIPE_PREFIXES: [&str; 12] = [
    "cus_", "pi_", "ch_", "in_", "sub_", "re_", "dp_", "evt_", "pm_", "src_", "card_", "txn_",
];

/// `text` with every email-, UUID- or Stripe-id-shaped token replaced by
/// [`REDACTED`]; whitespace and everything else kept as it is.
pub fn scrub(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut token = String::new();
    for c in text.chars() {
        if c.is_whitespace() {
            out.push_str(&scrub_token(&token));
            token.clear();
            out.push(c);
        } else {
            token.push(c);
        }
    }
    out.push_str(&scrub_token(&token));
    out
}

/// One whitespace-free token, scrubbed; punctuation around it is kept.
fn scrub_token(token: &str) -> String {
    let edge = |c: char| {
        matches!(
            c,
            '(' | ')' | '[' | ']' | '"' | '\'' | ',' | ';' | ':' | '.'
        )
    };
    let core = token.trim_matches(edge);
    if core.is_empty() || !personal(core) {
        return token.to_owned();
    }
    let start = token.find(core).unwrap_or(0);
    format!(
        "{}{REDACTED}{}",
        &token[..start],
        &token[start + core.len()..]
    )
}

/// Whether `core` looks like an email address (or a handle: any `@`), a
/// UUID or a Stripe id.
fn personal(core: &str) -> bool {
    let uuid = core.len() == 36
        && core.char_indices().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        });
    let stripe = STRIPE_PREFIXES.iter().any(|p| {
        core.strip_prefix(p).is_some_and(|rest| {
            rest.len() >= 8
                && rest.chars().all(|c| c.is_ascii_alphanumeric())
                && rest
                    .chars()
                    .any(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        })
    });
    core.contains('@') || uuid || stripe
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_uuids_and_stripe_ids_are_redacted() {
        assert_eq!(
            scrub(
                "Refund to jane.doe@example.com (cus_NffrFeUfNV2Hib), user 1b4e28ba-2fa1-11d2-883f-0016d3cca427."
            ),
            "Refund to [redacted] ([redacted]), user [redacted]."
        );
        assert_eq!(scrub("write to @someone"), "write to [redacted]");
    }

    #[test]
    fn aggregates_and_their_numbers_are_kept() {
        for text in [
            "MRR grew 12.5% to 1,234.50 USD (new 300.00 USD, churn 20.00 USD).",
            "Weekly actives fell from 1,200 to 950 (-20.8%) in week 2025-W47.",
            "Quick ratio 3.2: (new + expansion) / (contraction + churn).",
            "The sub_renewals and in_trial_users series, 2025-W47.",
            "",
            "  spaced\tout  ",
        ] {
            assert_eq!(scrub(text), text);
        }
    }
}
