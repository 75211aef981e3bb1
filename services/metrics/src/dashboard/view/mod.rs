//! What the retention page shows, computed from the RPC's answer: the
//! numbers of each matrix (`matrix`), drawn as a heatmap table with its
//! weighted mean row (`heatmap`) and as curves (`curves`); the overview's
//! panels (`panels`), its charts over time (`trend`) and stored markdown as
//! safe blocks (`markdown`); both kinds of chart draw with `plot`. Pure.

pub mod curves;
pub mod heatmap;
pub mod markdown;
pub mod matrix;
pub mod panels;
pub mod plot;
pub mod trend;
