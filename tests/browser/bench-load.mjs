// Chromium's `load` event on one dashboard page, for `growth-dev bench
// dashboard`: signs in through the form, loads PAGE_URL once untimed (the
// stylesheet then comes from the cache, as for a person who has the
// dashboard open), then RUNS times, each a fresh navigation, and prints
// {"chromium", "loads_ms", "median_ms", "encoded_bytes", "decoded_bytes"} as
// JSON on stdout. The time of a load is the navigation's loadEventEnd (ms
// from the start of the navigation); the bytes are the last load's body as
// received (gzip) and as decoded.
//
// Environment: BASE_URL, PAGE_URL, DASHBOARD_TOKEN, CHROMIUM (default
// /usr/bin/chromium), RUNS (default 10).

import { chromium } from 'playwright-core';

const { BASE_URL, PAGE_URL, DASHBOARD_TOKEN } = process.env;
if (!BASE_URL || !PAGE_URL || !DASHBOARD_TOKEN) {
  console.error('BASE_URL, PAGE_URL and DASHBOARD_TOKEN must be set');
  process.exit(2);
}
const runs = Number(process.env.RUNS || 10);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await (await browser.newContext()).newPage();
  // Asking for the page without a session leads to the sign-in form, which
  // goes back to it.
  await page.goto(PAGE_URL);
  await page.getByLabel('Dashboard token').fill(DASHBOARD_TOKEN);
  await Promise.all([page.waitForURL(PAGE_URL), page.getByRole('button', { name: 'Sign in' }).click()]);
  await page.goto(PAGE_URL, { waitUntil: 'load' });
  const loads = [];
  let sizes = {};
  for (let i = 0; i < runs; i++) {
    const response = await page.goto(PAGE_URL, { waitUntil: 'load' });
    if (response.status() !== 200) throw new Error(`${PAGE_URL} answered ${response.status()}`);
    const nav = await page.evaluate(() => {
      const n = performance.getEntriesByType('navigation')[0];
      return { load: n.loadEventEnd, encoded: n.encodedBodySize, decoded: n.decodedBodySize };
    });
    loads.push(nav.load);
    sizes = { encoded_bytes: nav.encoded, decoded_bytes: nav.decoded };
  }
  const sorted = [...loads].sort((a, b) => a - b);
  const round = (n) => Math.round(n * 10) / 10;
  console.log(JSON.stringify({ chromium: browser.version(), loads_ms: loads.map(round), median_ms: round(sorted[Math.floor(sorted.length / 2)]), ...sizes }));
} finally {
  await browser.close();
}
