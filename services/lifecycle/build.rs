//! `sqlx::migrate!` embeds `migrations/lifecycle` at compile time; a migration
//! added without a change to this crate's code must still rebuild it (sqlx's
//! documented build script).

fn main() {
    println!("cargo:rerun-if-changed=../../migrations/lifecycle");
}
