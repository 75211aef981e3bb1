//! Money and rates as people read them: major units with thousands
//! separators, the currency's own number of decimals, rates as percentages;
//! shared by growthctl's tables and the services' rendered reports. Pure.

/// Currencies without minor units (Stripe's list of zero-decimal currencies).
const ZERO_DECIMAL: &[&str] = &[
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv",
    "xaf", "xof", "xpf",
];

fn decimals(currency: &str) -> u32 {
    if ZERO_DECIMAL.contains(&currency.to_ascii_lowercase().as_str()) {
        0
    } else {
        2
    }
}

/// `amount_minor` in major units, e.g. `12345` usd → `123.45`; `plain`
/// leaves out the thousands separators (for CSV).
pub fn major(amount_minor: i64, currency: &str, plain: bool) -> String {
    let places = decimals(currency);
    let unit = 10i64.pow(places);
    let sign = if amount_minor < 0 { "-" } else { "" };
    let abs = amount_minor.unsigned_abs();
    let whole = (abs / unit.unsigned_abs()).to_string();
    let whole = if plain { whole } else { thousands(&whole) };
    if places == 0 {
        format!("{sign}{whole}")
    } else {
        let fraction = abs % unit.unsigned_abs();
        format!("{sign}{whole}.{fraction:0width$}", width = places as usize)
    }
}

/// `major` followed by the upper-case currency: `1,234.50 USD`.
pub fn with_currency(amount_minor: i64, currency: &str) -> String {
    format!(
        "{} {}",
        major(amount_minor, currency, false),
        currency.to_ascii_uppercase()
    )
}

fn thousands(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A 0..n ratio as a percentage with one decimal: `0.597` → `59.7%`.
pub fn percent(ratio: f64) -> String {
    format!("{:.1}%", ratio * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_print_in_major_units() {
        assert_eq!(major(123_456_789, "usd", false), "1,234,567.89");
        assert_eq!(major(123_456_789, "usd", true), "1234567.89");
        assert_eq!(major(-2300, "eur", false), "-23.00");
        assert_eq!(major(5, "usd", false), "0.05");
        assert_eq!(major(1500, "JPY", false), "1,500");
        assert_eq!(with_currency(90_000, "eur"), "900.00 EUR");
    }

    #[test]
    fn ratios_print_as_percentages() {
        assert_eq!(percent(0.597_014), "59.7%");
        assert_eq!(percent(1.0), "100.0%");
    }
}
