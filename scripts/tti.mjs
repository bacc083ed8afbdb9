// Time to interactive of the dashboard, for `make bench`: from navigation start to the page
// hydrated with every card rendered, in Debian's Chromium, three loads, median printed.
//   node scripts/tti.mjs http://127.0.0.1:8200 "slipway=<cookie>" 100
import { chromium } from "@playwright/test";

const [base, cookie, expected] = process.argv.slice(2);
const [name, value] = cookie.split(/=(.*)/s);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
});
const context = await browser.newContext();
await context.addCookies([{ name, value, url: base }]);
const page = await context.newPage();
const runs = [];
for (let i = 0; i < 4; i++) {
  await page.goto(`${base}/`, { waitUntil: "commit" });
  const ready = await page.waitForFunction(
    (n) =>
      document.documentElement.hasAttribute("data-hydrated") &&
      document.querySelectorAll('[data-testid="deployment-card"]').length >= n
        ? performance.now()
        : false,
    Number(expected),
    { polling: "raf", timeout: 60_000 },
  );
  // The first load warms the browser's cache of the WASM: it is not counted.
  if (i > 0) runs.push(Math.round(await ready.jsonValue()));
}
await browser.close();
runs.sort((a, b) => a - b);
console.log(JSON.stringify({ runs, median_ms: runs[Math.floor(runs.length / 2)] }));
