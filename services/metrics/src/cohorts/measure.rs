//! What a retention matrix counts ([`Metric`]) and how a cell is read
//! ([`Mode`]).

/// What a matrix counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Retained users.
    Users,
    /// Net revenue per currency.
    Revenue,
}

/// How a cell of period N counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Active in period N.
    On,
    /// Active in period N or any later one.
    OnOrAfter,
}

impl Mode {
    /// Both, in stored order.
    pub const ALL: [Mode; 2] = [Mode::On, Mode::OnOrAfter];

    /// Stored name.
    pub fn name(self) -> &'static str {
        match self {
            Mode::On => "on",
            Mode::OnOrAfter => "on_or_after",
        }
    }
}
