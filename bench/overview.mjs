// Times the dashboard's Overview as a user sees it: headless Chromium (Debian's) driven by the
// web UI's playwright-core, from navigation until the KPIs and both charts are drawn. Prints one
// JSON line: {"runs_ms": [...]}. Used by bench/bench.py's analytics section.
//   node bench/overview.mjs BASE_URL RUNS
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "..", "web", "package.json"));
const { chromium } = require("playwright-core");

const [base, runsText] = process.argv.slice(2);
const runs = Number(runsText ?? 5);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--lang=en-US"] });
try {
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 }, locale: "en-US" });
  context.setDefaultTimeout(120000);
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  // One untimed load: the browser's own start and the static files' first fetch.
  await page.goto(base + "/#/?range=30d");
  await page.locator(".kpi-value").first().waitFor();
  const times = [];
  for (let i = 0; i < runs; ++i) {
    await page.goto("about:blank");
    const t0 = performance.now();
    await page.goto(base + "/#/?range=30d");
    await page.locator(".kpi-value").first().waitFor();
    await page.locator(".chart canvas").first().waitFor();
    await page.locator(".usage-chart canvas").first().waitFor();
    times.push(performance.now() - t0);
  }
  const kpi = await page.locator(".kpi-value").first().textContent();
  if (errors.length) throw new Error("page errors: " + errors.join("; "));
  console.log(JSON.stringify({ runs_ms: times, interactions_30d: kpi }));
} finally {
  await browser.close();
}
