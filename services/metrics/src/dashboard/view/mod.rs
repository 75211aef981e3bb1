//! What the retention page shows, computed from the RPC's answer: the
//! numbers of each matrix (`matrix`), drawn as a heatmap table with its
//! weighted mean row (`heatmap`) and as curves (`curves`). Pure.

pub mod curves;
pub mod heatmap;
pub mod matrix;
