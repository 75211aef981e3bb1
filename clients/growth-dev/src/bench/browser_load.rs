//! Chromium's `load` event on a dashboard page, for `growth-dev bench
//! dashboard`: runs `tests/browser/bench-load.mjs` (playwright-core,
//! Debian's chromium) and reads the JSON it prints.

use std::path::{Path, PathBuf};

/// Chromium's load event on `url`: the browser script's median, in ms, or
/// why it was not measured.
pub async fn median(
    browser_script: &str,
    chromium: &Path,
    runs: u32,
    base: &str,
    url: &str,
    token: &str,
) -> Result<f64, String> {
    if browser_script.is_empty() {
        return Err("--browser-script is empty".to_owned());
    }
    let script = PathBuf::from(&browser_script);
    let packages = script
        .parent()
        .unwrap_or(Path::new("."))
        .join("node_modules/playwright-core");
    if !script.is_file() || !packages.is_dir() {
        return Err(format!(
            "{} or its packages are missing (run `bash tests/browser/run.sh` once, or `npm ci` in {})",
            script.display(),
            script
                .parent()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        ));
    }
    let output = tokio::process::Command::new("node")
        .arg(&script)
        .env("BASE_URL", base)
        .env("PAGE_URL", url)
        .env("DASHBOARD_TOKEN", token)
        .env("CHROMIUM", chromium)
        .env("RUNS", runs.clamp(3, 20).to_string())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| format!("node could not be started: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "the browser script failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let answer: serde_json::Value = serde_json::from_str(stdout.trim())
        .map_err(|e| format!("the browser script printed no JSON ({e}): {stdout}"))?;
    eprintln!(
        "bench: Chromium {}: load event over {} loads (ms): {}; the page's body {} bytes received, {} decoded",
        answer["chromium"].as_str().unwrap_or("?"),
        answer["loads_ms"].as_array().map_or(0, Vec::len),
        answer["loads_ms"],
        answer["encoded_bytes"],
        answer["decoded_bytes"]
    );
    answer["median_ms"]
        .as_f64()
        .ok_or_else(|| format!("the browser script printed no median_ms: {stdout}"))
}
