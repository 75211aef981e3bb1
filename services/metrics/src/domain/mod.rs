//! Validated domain types. Each is parsed once from its protobuf message; a
//! parse failure lists every invalid field, so the RPC can answer
//! `INVALID_ARGUMENT` naming them and write nothing.

pub mod batch;
pub mod event;
pub mod fields;
pub mod history;
pub mod mrr;
pub mod payment;
pub mod subscription;
pub mod user;

pub use batch::MAX_BATCH_ROWS;
pub use event::NewEvent;
pub use payment::NewPayment;
pub use subscription::NewSubscription;
pub use user::NewUser;
