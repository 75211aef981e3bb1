//! End-to-end: both services side by side on one PostgreSQL database, as in
//! a deployment, discovered through reflection and health like grpcurl or a
//! Python client would.

mod both_services;
mod roles;
