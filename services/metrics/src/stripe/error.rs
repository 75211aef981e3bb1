//! Why a Stripe call failed. No variant ever carries the secret key.

/// A failed Stripe call.
#[derive(Debug, thiserror::Error)]
pub enum StripeError {
    /// 401: the key was refused.
    #[error("Stripe refused the API key (401): check STRIPE_SECRET_KEY")]
    Unauthorized,
    /// 403: the key lacks a permission.
    #[error("the Stripe key may not read {resource} (403): {message}")]
    Forbidden {
        /// The resource path.
        resource: String,
        /// Stripe's message.
        message: String,
    },
    /// Any other non-retryable answer.
    #[error("Stripe answered {status} for {resource}: {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// The resource path.
        resource: String,
        /// Stripe's message.
        message: String,
    },
    /// Retries exhausted.
    #[error("Stripe still failing after {attempts} attempts for {resource}: {last}")]
    GaveUp {
        /// Attempts made.
        attempts: u32,
        /// The resource path.
        resource: String,
        /// The last failure.
        last: String,
    },
    /// Answered 429 for longer than the budget.
    #[error(
        "Stripe kept answering 429 (rate limited) for {resource} for {seconds} s, though the client slowed down to {rate:.1} requests/s; lower STRIPE_RATE_LIMIT, or run when other Stripe clients of the account are quiet"
    )]
    RateLimited {
        /// The resource path.
        resource: String,
        /// How long it was rate limited.
        seconds: u64,
        /// The client's rate at the end, requests/s.
        rate: f64,
    },
    /// A response that is not the JSON Stripe documents.
    #[error("unexpected response from Stripe for {resource}: {detail}")]
    Decode {
        /// The resource path.
        resource: String,
        /// What did not parse.
        detail: String,
    },
    /// The client could not be built.
    #[error("cannot build the Stripe HTTP client: {0}")]
    Setup(String),
}
