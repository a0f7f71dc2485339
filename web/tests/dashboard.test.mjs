// Browser tests of the embedded dashboard: Debian's headless chromium driven by playwright-core.
// Seeds a fresh store with `omniflow demo-data`, starts `omniflow serve` on a free port with an
// admin key, then uses the dashboard as a person would and checks what the page shows against
// the API, down to exporting a user's data, erasing the user with a signed receipt, and finding
// that erasure in the audit log.
// Screenshots go to SCREENSHOT_DIR. The page's Content-Security-Policy forbids eval, so
// waits use locators and URLs, never page.waitForFunction.
//
// usage: node dashboard.test.mjs <omniflow binary> <screenshot dir>
import { spawn, spawnSync } from "node:child_process";
import { createServer } from "node:http";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [binary, shotDir] = process.argv.slice(2);
if (!binary || !shotDir) {
  console.error("usage: node dashboard.test.mjs <omniflow binary> <screenshot dir>");
  process.exit(2);
}
mkdirSync(shotDir, { recursive: true });
const ADMIN_KEY = "dashboard-test-admin-key";
const browserPath = process.env.CHROMIUM ?? "/usr/bin/chromium";

// A full-page screenshot taken from the top, so the sticky header sits where it belongs.
async function shot(page, path) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path, fullPage: true });
}

let failures = 0;
let checks = 0;
function check(ok, what) {
  checks++;
  if (ok) {
    console.log(`ok   ${what}`);
  } else {
    failures++;
    console.log(`FAIL ${what}`);
  }
}

// Starts `omniflow serve` on a free port over `dir` with the admin key (and `env`); resolves
// with the process and its base URL once it says where it listens.
async function startServer(dir, env, what) {
  const proc = spawn(binary, ["serve", "--port", "0", "--data-dir", dir],
                     { env: { ...process.env, OMNIFLOW_ADMIN_KEY: ADMIN_KEY, ...env },
                       stdio: ["ignore", "pipe", "pipe"] });
  const base = await new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`${what} did not start: ` + out)), 60000);
    proc.stdout.on("data", (chunk) => {
      out += chunk;
      const m = out.match(/listening on (http:\/\/[\d.]+:\d+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    proc.on("exit", (code) => reject(new Error(`${what} exited ` + code)));
  });
  return { proc, base };
}

const dataDir = mkdtempSync(join(tmpdir(), "omniflow-dashboard-"));
const filesDir = mkdtempSync(join(tmpdir(), "omniflow-dashboard-files-"));
const bulkDir = mkdtempSync(join(tmpdir(), "omniflow-dashboard-bulk-"));
let server;
let bulkServer;
let browser;
// A scripted OpenAI-compatible provider for the Replays page: every answer is text, no tools.
const llmRequests = [];
const llm = createServer((req, res) => {
  let body = "";
  req.on("data", (chunk) => { body += chunk; });
  req.on("end", () => {
    llmRequests.push(body);
    res.writeHead(200, { "Content-Type": "application/json" });
    // The provider reports a dated snapshot of a model the default price table has: priced as
    // gpt-4o-mini, (10 * 0.15 + 3 * 0.6) / 1e6 = $0.0000033 an item.
    res.end(JSON.stringify({ model: "gpt-4o-mini-2024-07-18", choices: [{ index: 0, finish_reason: "stop",
      message: { role: "assistant", content: "Replayed answer." } }],
      usage: { prompt_tokens: 10, completion_tokens: 3, total_tokens: 13 } }));
  });
});
try {
  await new Promise((resolve) => llm.listen(0, "127.0.0.1", resolve));
  const llmUrl = `http://127.0.0.1:${llm.address().port}/v1`;
  const seeded = spawnSync(binary, ["demo-data", "--data-dir", dataDir, "--count", "1500",
                                    "--users", "12", "--days", "10"], { encoding: "utf8" });
  if (seeded.status !== 0) throw new Error("demo-data failed: " + seeded.stderr);

  const started = await startServer(dataDir, { OMNIFLOW_LLM_BASE_URL: llmUrl,
                                               OMNIFLOW_LLM_MODEL: "server-model" }, "server");
  server = started.proc;
  const base = started.base;
  const admin = async (path, init = {}) => {
    const res = await fetch(base + path, { ...init,
      headers: { "x-functions-key": ADMIN_KEY, ...(init.headers ?? {}) } });
    return res.json();
  };
  const stats = await admin("/api/stats?from=" + new Date(Date.now() - 30 * 86400e3).toISOString());

  browser = await chromium.launch({ executablePath: browserPath, headless: true,
                                    args: ["--no-sandbox", "--disable-gpu", "--lang=en-US"] });
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 }, locale: "en-US" });
  // Generous waits: under the sanitizers, next to other tests on two cores, a step can take
  // many seconds; a real fault still fails (the element never comes).
  context.setDefaultTimeout(60000);
  context.setDefaultNavigationTimeout(60000);
  const page = await context.newPage();
  const dialogs = [];
  page.on("dialog", async (d) => { dialogs.push(d.message()); await d.dismiss(); });
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  const requests = [];
  page.on("request", (r) => requests.push(r.url()));
  // Runs `action`, which changes the URL's hash, and waits until the view on screen before it is
  // gone. The URL changes before the page's hashchange handler replaces the view, so waiting for
  // the URL alone can read the old view's rows (this test once saw 0 search results that way).
  const replacingView = async (action) => {
    const old = await page.locator("main#view > .view").elementHandle();
    await action();
    await old.waitForElementState("hidden");
  };

  // 1. Without credentials the dashboard asks for them.
  await page.goto(base + "/");
  await page.getByText("Credentials needed").waitFor();
  check(true, "overview without credentials asks for them");
  await page.getByRole("button", { name: "Enter credentials" }).click();
  await page.locator("dialog input[name=key]").fill(ADMIN_KEY);
  await page.getByRole("button", { name: "Save" }).click();

  // 2. Overview: the totals match the API, charts and panels are drawn.
  await page.locator(".kpi-value").first().waitFor();
  await page.locator(".chart canvas").first().waitFor();
  const kpi = await page.locator(".kpi-value").first().textContent();
  check(kpi === stats.totals.interactions.toLocaleString("en-US"),
        `overview shows ${stats.totals.interactions} interactions (page: ${kpi})`);
  const tools = await page.locator("table.tools .tool-name").allTextContents();
  check(tools[0] === stats.top_tools[0].tool_name, `top tool is ${stats.top_tools[0].tool_name}`);
  const busiest = await page.locator(".user-link").first().textContent();
  check(busiest === stats.top_users[0].user_id, `busiest user is ${stats.top_users[0].user_id}`);
  check(!page.url().includes(ADMIN_KEY) && requests.every((u) => !u.includes(ADMIN_KEY)),
        "the key never appears in a URL");
  check(await page.evaluate(() => sessionStorage.getItem("omniflow.credentials")?.includes("dashboard-test")),
        "the key is kept in sessionStorage");
  // Tokens and cost: the cards and the by-model table say what the API says, and the chart
  // draws every day's cost.
  const usd = (x) => x === 0 ? "$0" : "$" + x.toLocaleString("en-US",
    { minimumFractionDigits: 2, maximumFractionDigits: x < 1 ? 4 : 2 });
  const t = stats.totals;
  check(t.usage_interactions > 0 && t.cost_usd > 0, `demo data reports usage (${t.usage_interactions}, $${t.cost_usd})`);
  const tokensKpi = await page.locator(".kpi.tokens .kpi-value").textContent();
  check(tokensKpi === (t.tokens.input + t.tokens.output).toLocaleString("en-US"),
        `tokens card shows ${t.tokens.input + t.tokens.output} (page: ${tokensKpi})`);
  const tokensNote = await page.locator(".kpi.tokens .kpi-note").textContent();
  check(tokensNote.includes(`${t.tokens.cached_input.toLocaleString("en-US")} cached`),
        `tokens card names the cached part (page: ${tokensNote})`);
  const costKpi = await page.locator(".kpi.cost .kpi-value").textContent();
  check(costKpi === usd(t.cost_usd), `cost card shows ${usd(t.cost_usd)} (page: ${costKpi})`);
  await page.locator(".usage-chart canvas").first().waitFor();
  const drawnCosts = JSON.parse(await page.locator(".usage-chart").getAttribute("data-costs"));
  const drawnSum = drawnCosts.reduce((a, b) => a + b, 0);
  check(drawnCosts.length === stats.per_day.length && Math.abs(drawnSum - t.cost_usd) < 1e-6,
        `usage chart draws ${stats.per_day.length} days of cost summing to $${t.cost_usd} ` +
        `(page: ${drawnCosts.length} days, $${drawnSum})`);
  const models = await page.locator("table.models .model-name").allTextContents();
  check(models.length === stats.usage_by_model.length && models[0] === stats.usage_by_model[0].model,
        `by-model table lists ${stats.usage_by_model.map((m) => m.model).join(", ")} (page: ${models.join(", ")})`);
  const topCost = await page.locator("table.models .model-cost").first().textContent();
  check(topCost === usd(stats.usage_by_model[0].cost_usd),
        `the costliest model costs ${usd(stats.usage_by_model[0].cost_usd)} (page: ${topCost})`);
  await shot(page, join(shotDir, "01-overview.png"));

  // 3. Interactions: filter by tool and failed status.
  await replacingView(() => page.getByRole("link", { name: "Interactions", exact: true }).click());
  await page.locator("#result-status").filter({ hasText: /shown/ }).waitFor();
  // Cursor paging: "Load more" appends the next 50, newest first, no repeats.
  check(await page.locator("table.interactions tbody tr").count() === 50, "the first page holds 50 rows");
  await page.getByRole("button", { name: "Load more" }).click();
  await page.locator("table.interactions tbody tr").nth(99).waitFor();
  const ids = await page.locator("table.interactions tbody tr").evaluateAll((rows) => rows.map((r) => r.dataset.id));
  check(new Set(ids).size === 100 && ids.every((id, i) => i === 0 || ids[i - 1] > id),
        "Load more appends the next 50, newest first, without repeats");
  await page.locator("form.filters input[name=tool]").fill("get_weather");
  await page.locator("form.filters select[name=status]").selectOption("failed");
  await replacingView(() => page.getByRole("button", { name: "Apply" }).click());
  await page.waitForURL(/status=failed/);
  await page.locator("table.interactions tbody tr").first().waitFor();
  const chips = await page.locator("table.interactions tbody tr").evaluateAll((rows) =>
    rows.map((r) => [...r.querySelectorAll(".chip.bad")].map((c) => c.textContent)));
  check(chips.length > 0 && chips.every((c) => c.includes("get_weather")),
        `tool+status filter: ${chips.length} rows, each with a failed get_weather call`);
  check(await page.getByRole("button", { name: "Load more" }).isHidden(), "no Load more button at the end of results");
  await shot(page, join(shotDir, "02-filter-failed-weather.png"));

  // 4. Search in English and in Japanese.
  const search = async (q) => {
    await replacingView(() => page.goto(base + "/#/interactions"));
    await page.locator("form.filters input[name=q]").fill(q);
    await replacingView(() => page.getByRole("button", { name: "Apply" }).click());
    await page.waitForURL((url) => decodeURIComponent(url.hash).includes(q));
    await page.locator("#result-status").filter({ hasText: /shown|No interactions/ }).waitFor();
    return page.locator("table.interactions tbody tr").evaluateAll((rows) =>
      rows.map((r) => r.querySelector(".msg")?.textContent ?? ""));
  };
  const apiCount = async (q) =>
    (await admin("/api/search?limit=50&q=" + encodeURIComponent(q))).interactions.length;
  let rows = await search("weather");
  let expected = await apiCount("weather");
  check(rows.length === expected && rows.length > 0 && rows.every((t) => /weather/i.test(t)),
        `English search: ${rows.length} rows mention weather (API: ${expected})`);
  rows = await search("東京");
  expected = await apiCount("東京");
  check(rows.length === expected && rows.length > 0 && rows.every((t) => t.includes("東京")),
        `Japanese search: ${rows.length} rows mention 東京 (API: ${expected})`);
  await shot(page, join(shotDir, "03-search-japanese.png"));
  rows = await search("Какие");
  check(rows.length > 0 && rows.every((t) => t.includes("Какие")), `Russian search: ${rows.length} rows`);

  // 5. Script and image payloads stay inert text.
  rows = await search("<script>");
  check(rows.length > 0 && rows.every((t) => t.includes("<script>alert('xss')</script>")),
        "script payloads are shown as text");
  check(await page.locator("main img").count() === 0, "no <img> element was created from message text");
  check(await page.locator("main script").count() === 0, "no <script> element was created from message text");

  // 6. Thread view: open a thread with a failed tool call, expand it.
  await replacingView(() => page.goto(base + "/#/interactions?status=failed"));
  await page.locator("#result-status").filter({ hasText: /shown/ }).waitFor();
  const failedId = await page.locator("table.interactions tbody tr").first().getAttribute("data-id");
  await replacingView(() => page.locator("table.interactions tbody tr a.message-link").first().click());
  await page.locator(".chat .turn").first().waitFor();
  const [, user, thread] = decodeURIComponent(new URL(page.url()).hash).match(/#\/thread\/([^/]+)\/(.+)/);
  const conv = await admin(`/api/threads/${encodeURIComponent(thread)}?user_id=${encodeURIComponent(user)}`);
  check(await page.locator(".chat .turn").count() === conv.interactions.length,
        `thread ${thread} shows its ${conv.interactions.length} interactions as turns`);
  const firstText = await page.locator(".chat .bubble.user .text").first().textContent();
  check(firstText === conv.interactions[0].user_message, "the first bubble is the oldest message");
  const failedTurn = page.locator(`article.turn[id="${failedId}"]`);
  check(await failedTurn.locator("details.tool.failed").count() > 0, "the failed tool call is highlighted");
  await failedTurn.locator("details.tool.failed summary").first().click();
  const pre = failedTurn.locator("details.tool.failed[open] pre.json").first();
  await pre.waitFor();
  const argsText = await pre.textContent();
  check(argsText.includes("\n  \""), "tool arguments are shown as indented JSON");

  // 7. Feedback: thumbs up on that answer, seen by the API and after a reload.
  await failedTurn.getByRole("button", { name: "Good answer" }).click();
  await failedTurn.locator("button.fb.on").waitFor();
  const stored = await admin(`/api/interactions/${failedId}`, { headers: { "X-User-Id": user } });
  check(stored.feedback && stored.feedback.score === 1, "the API has the feedback (score 1)");
  await page.reload();
  await page.locator(`article.turn[id="${failedId}"] button.fb.on`).waitFor();
  check(true, "the feedback is still shown after a reload");
  await page.locator(`article.turn[id="${failedId}"] details.tool summary`).first().click();
  await page.locator(`article.turn[id="${failedId}"]`).scrollIntoViewIfNeeded();
  await shot(page, join(shotDir, "04-thread.png"));

  // 8. A user's page: threads, activity and tools.
  await replacingView(() => page.locator(".crumbs .user-link").click());
  await page.locator("table.threads tbody tr").first().waitFor();
  const userThreads = await admin(`/api/threads?user_id=${encodeURIComponent(user)}`);
  check(await page.locator("table.threads tbody tr").count() === Math.min(100, userThreads.total),
        `user page lists ${userThreads.total} threads`);
  await page.locator(".chart canvas").first().waitFor();
  await shot(page, join(shotDir, "05-user.png"));

  // 9. Hostile ids and content on the thread and user pages. Ids may hold only letters, digits
  // and . _ - @ + (and : in thread ids; src/core/validate.cpp), so theirs are the payloads that
  // grammar allows (a javascript: scheme, e-mail-like text); the content carries markup.
  const xss = {
    user: "xss_user+onerror@evil.example",
    thread: "javascript:alert",
    userMessage: "<script>alert('xss-thread')</script><img src=x onerror=alert('xss-img')>",
    answer: "\"><svg onload=alert('xss-svg')><iframe src=\"javascript:alert('xss-frame')\"></iframe>",
    tool: "<img src=x onerror=alert('xss-tool')>",
    args: "</pre><script>alert('xss-args')</script>",
  };
  const planted = await admin("/api/save_interaction", {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-User-Id": xss.user },
    body: JSON.stringify({ user_message: xss.userMessage, assistant_response: xss.answer,
                           thread_id: xss.thread,
                           tool_calls: [{ tool_name: xss.tool, arguments: { "<b>k</b>": xss.args },
                                          status: "error" }] }),
  });
  check(typeof planted.interaction_id === "string", "the hostile interaction is saved");
  const dialogsBefore = dialogs.length;
  // Nothing in the view became markup: no script, image, frame or SVG with a handler, no
  // on* attribute and no javascript: link anywhere under <main>.
  const inert = () => page.locator("main#view").evaluate((main) =>
    main.querySelectorAll("script, img, iframe, object, embed").length === 0 &&
    [...main.querySelectorAll("*")].every((el) =>
      [...el.attributes].every((a) => !a.name.startsWith("on")) &&
      !(el.getAttribute("href") ?? "").trim().toLowerCase().startsWith("javascript:")));
  const threadHash = `#/thread/${encodeURIComponent(xss.user)}/${encodeURIComponent(xss.thread)}`;
  await replacingView(() => page.goto(base + "/" + threadHash));
  await page.locator(".chat .turn").first().waitFor();
  check(await page.locator(".thread-title").textContent() === xss.thread,
        "thread page: the thread id is shown literally");
  check(await page.locator(".crumbs .user-link").textContent() === xss.user &&
        (await page.locator(".crumbs .user-link").getAttribute("href")).startsWith("#/user/"),
        "thread page: the user id is shown literally, linked to its page");
  check(await page.locator(".chat .bubble.user .text").first().textContent() === xss.userMessage,
        "thread page: the message's markup is shown as text");
  check(await page.locator(".chat .bubble.assistant .text").first().textContent() === xss.answer,
        "thread page: the answer's markup is shown as text");
  const toolSummary = page.locator(".chat details.tool summary").first();
  check(await toolSummary.locator("b").textContent() === xss.tool, "thread page: the tool name is shown as text");
  await toolSummary.click();
  const argsPre = page.locator(".chat details.tool[open] pre.json").first();
  await argsPre.waitFor();
  check((await argsPre.textContent()).includes(xss.args), "thread page: the tool arguments' markup is shown as text");
  check(await inert(), "thread page: no element or handler was created from the payloads");
  await shot(page, join(shotDir, "06-thread-xss.png"));
  await replacingView(() => page.locator(".crumbs .user-link").click());
  await page.locator("table.threads tbody tr").first().waitFor();
  check(await page.locator(".user-title").textContent() === xss.user, "user page: the user id is shown literally");
  const threadLink = page.locator("table.threads .thread-link").first();
  check(await threadLink.textContent() === xss.thread && await threadLink.getAttribute("href") === threadHash,
        "user page: the thread id is shown literally and links to the thread page");
  check(await page.locator("table.threads .msg").first().textContent() === xss.userMessage,
        "user page: the first message's markup is shown as text");
  await page.locator("table.tools .tool-name").first().waitFor();
  check((await page.locator("table.tools .tool-name").allTextContents()).includes(xss.tool),
        "user page: the tool name is shown as text");
  check(await inert(), "user page: no element or handler was created from the payloads");
  check(dialogs.length === dialogsBefore, "no dialog opened on the thread and user pages");
  await shot(page, join(shotDir, "07-user-xss.png"));

  // 9b. Values redacted at ingest (--redact) show as badges in the thread, the text unchanged.
  const piiMessage = "write to [EMAIL:1a2b3c4d] or call [PHONE] today";
  await admin("/api/save_interaction", {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-User-Id": "pii_user" },
    body: JSON.stringify({ user_message: piiMessage, assistant_response: "Noted [EMAIL:1a2b3c4d].",
                           thread_id: "pii-thread" }),
  });
  await replacingView(() => page.goto(base + "/#/thread/pii_user/pii-thread"));
  await page.locator(".chat .turn").first().waitFor();
  const badges = await page.locator(".chat .bubble.user .text .pii").allTextContents();
  check(badges.length === 2 && badges[0] === "[EMAIL:1a2b3c4d]" && badges[1] === "[PHONE]",
        `redacted placeholders render as badges: ${JSON.stringify(badges)}`);
  check(await page.locator(".chat .bubble.user .text").first().textContent() === piiMessage,
        "the message with badges reads as the stored text");
  await shot(page, join(shotDir, "06b-redacted.png"));

  // 10. A user's data lifecycle: export (the file holds exactly the user's interactions),
  // retention override and legal hold set from the page, erasure refused under the hold, then
  // erasure after a typed confirmation, its receipt shown, downloaded and verified, and the user
  // gone from the users list.
  const usersBefore = await admin("/api/users?limit=1000");
  const victim = usersBefore.users.find((u) => u.user_id !== xss.user && u.interactions > 0);
  await replacingView(() => page.goto(base + `/#/user/${encodeURIComponent(victim.user_id)}`));
  await page.locator("#export-panel").waitFor();
  const exportAs = async (format) => {
    await page.locator("#export-form select[name=format]").selectOption(format);
    const [file] = await Promise.all([page.waitForEvent("download"),
                                      page.locator("#export-form").getByRole("button", { name: "Export" }).click()]);
    await page.locator("#export-status").filter({ hasText: file.suggestedFilename() }).waitFor();
    return { name: file.suggestedFilename(), text: readFileSync(await file.path(), "utf8") };
  };
  const jsonl = await exportAs("jsonl");
  const apiJsonl = await (await fetch(`${base}/api/export?format=jsonl&user_id=${encodeURIComponent(victim.user_id)}`,
                                      { headers: { "x-functions-key": ADMIN_KEY } })).text();
  const exported = jsonl.text.split("\n").filter(Boolean).map((line) => JSON.parse(line));
  check(jsonl.name.endsWith(".jsonl") && jsonl.text === apiJsonl && exported.length === victim.interactions &&
        exported.every((i) => i.user_id === victim.user_id),
        `export jsonl downloads the user's ${victim.interactions} interactions, as the API gives them (${jsonl.name})`);
  check((await page.locator("#export-status").textContent()).includes(`${victim.interactions.toLocaleString("en-US")} interactions`),
        "the export status counts the interactions");
  const csv = await exportAs("csv");
  check(csv.name.endsWith(".csv") && csv.text.startsWith("interaction_id,timestamp,user_id,thread_id,") &&
        exported.every((i) => csv.text.includes(i.interaction_id)),
        "export csv downloads the header row and every interaction id");
  await shot(page, join(shotDir, "08-user-lifecycle.png"));

  check((await page.locator("#retention-state").textContent()).includes("server's default"),
        "retention: the server's default is shown");
  await page.locator("#policy-panel input[name=days]").fill("30");
  await page.locator("#policy-panel").getByRole("button", { name: "Set override" }).click();
  await page.locator("#retention-state").filter({ hasText: "kept 30 days" }).waitFor();
  const policy = await admin(`/api/users/${encodeURIComponent(victim.user_id)}/retention`);
  check(policy.days === 30 && policy.source === "user", "retention: the override is set (API: 30 days, user)");
  await page.locator("#policy-panel input[name=reason]").fill("case 42");
  await page.locator("#policy-panel").getByRole("button", { name: "Place hold" }).click();
  await page.locator("#hold-state").filter({ hasText: "Under legal hold" }).waitFor();
  check((await admin("/api/holds")).holds.some((x) => x.user_id === victim.user_id && x.reason === "case 42"),
        "legal hold: placed from the page (API lists it)");

  const eraseDialog = page.locator("dialog#erase-dialog");
  const eraseButton = eraseDialog.getByRole("button", { name: "Erase permanently" });
  const confirmInput = eraseDialog.locator("input[name=confirm]");
  await page.getByRole("button", { name: "Erase user…" }).click();
  await eraseDialog.waitFor();
  check(await eraseButton.isDisabled(), "erase: disabled until the user id is typed");
  await confirmInput.fill(victim.user_id + "x");
  check(await eraseButton.isDisabled(), "erase: disabled while the typed id differs");
  await confirmInput.fill(victim.user_id);
  check(await eraseButton.isEnabled(), "erase: enabled once the user id is typed");
  await eraseButton.click();
  await page.locator("#erase-error").filter({ hasText: "legal hold" }).waitFor();
  const erroredText = await page.locator("#erase-error").textContent();
  check(erroredText.includes("case 42") && erroredText.includes("nothing was erased"),
        `erase under a hold shows the 409's message (${erroredText})`);
  check((await admin(`/api/users?limit=1000`)).users.some((u) => u.user_id === victim.user_id &&
                                                                 u.interactions === victim.interactions),
        "erase under a hold: the user keeps every interaction");
  await shot(page, join(shotDir, "09-erase-held.png"));
  await eraseDialog.getByRole("button", { name: "Cancel" }).click();
  await page.locator("#policy-panel").getByRole("button", { name: "Release hold" }).click();
  await page.locator("#hold-state").filter({ hasText: "No legal hold" }).waitFor();

  await page.getByRole("button", { name: "Erase user…" }).click();
  await eraseDialog.locator("input[name=confirm]").fill(victim.user_id);
  await eraseDialog.getByRole("button", { name: "Erase permanently" }).click();
  await page.locator("#receipt").waitFor();
  const receiptId = await page.locator("#receipt tr", { hasText: "Receipt id" }).locator("td").textContent();
  const shownCount = await page.locator('#receipt td[data-count="interactions"]').textContent();
  const shownDigest = await page.locator("#receipt tr", { hasText: "Digest" }).locator("td").textContent();
  const erasedIds = exported.map((i) => i.interaction_id).sort();
  const digest = "sha256:" + createHash("sha256").update(erasedIds.map((id) => id + "\n").join("")).digest("hex");
  check(/^rcpt_[0-9a-f]{32}$/.test(receiptId), `the receipt is shown (${receiptId})`);
  check(shownCount === victim.interactions.toLocaleString("en-US"),
        `the receipt counts ${victim.interactions} interactions (page: ${shownCount})`);
  check(shownDigest === digest, "the receipt's digest is the SHA-256 of the exported ids");
  const [receiptFile] = await Promise.all([page.waitForEvent("download"),
                                           page.getByRole("button", { name: "Download receipt" }).click()]);
  const receiptPath = join(filesDir, "receipt.json");
  await receiptFile.saveAs(receiptPath);
  const saved = JSON.parse(readFileSync(receiptPath, "utf8"));
  check(saved.receipt?.receipt_id === receiptId && saved.receipt.user_id === victim.user_id,
        `download receipt saves the answer's JSON (${receiptFile.suggestedFilename()})`);
  const keyPath = join(filesDir, "receipt-pub.pem");
  writeFileSync(keyPath, (await (await fetch(base + "/api/receipts/public-key")).json()).public_key_pem);
  const verified = spawnSync(binary, ["verify-receipt", receiptPath, "--public-key", keyPath], { encoding: "utf8" });
  check(verified.status === 0, `omniflow verify-receipt accepts the downloaded receipt (${verified.stdout.trim()}${verified.stderr.trim()})`);
  await shot(page, join(shotDir, "10-erase-receipt.png"));
  await replacingView(() => page.getByRole("link", { name: "All users →" }).click());
  await page.locator("table.users tbody tr").first().waitFor();
  const listed = await page.locator("table.users tbody tr").evaluateAll((rows) => rows.map((r) => r.dataset.user));
  const usersAfter = await admin("/api/users?limit=1000");
  check(!listed.includes(victim.user_id) && listed.length === usersBefore.total - 1 &&
        usersAfter.users.every((u) => u.user_id !== victim.user_id),
        `the users list no longer has ${victim.user_id} (${listed.length} of ${usersBefore.total} before)`);
  check((await admin(`/api/users/${encodeURIComponent(victim.user_id)}/retention`)).source === "default",
        "the erased user's retention override is gone");
  await shot(page, join(shotDir, "11-users-after-erase.png"));

  // 11. The audit log (admin only): the erasure just done is its newest erase_user entry, with
  // the erased user as target and the interactions erased as count; the filters narrow it.
  await replacingView(() => page.getByRole("link", { name: "Audit" }).click());
  await page.locator("table.audit tbody tr").first().waitFor();
  const eraseRow = page.locator('table.audit tbody tr[data-action="erase_user"]').first();
  await eraseRow.waitFor();
  const eraseText = await eraseRow.textContent();
  const auditApi = await admin("/api/audit?action=erase_user&limit=1");
  check(eraseText.includes(victim.user_id) && eraseText.includes("admin") &&
        eraseText.includes(victim.interactions.toLocaleString("en-US")) &&
        eraseText.includes(auditApi.entries[0]?.request_id ?? "<none>"),
        `the audit page shows the erasure of ${victim.user_id} (${eraseText})`);
  await page.locator("#audit-filters select[name=action]").selectOption("hold_set");
  await replacingView(() => page.locator("#audit-filters").getByRole("button", { name: "Apply" }).click());
  await page.locator("#audit-status").filter({ hasText: "shown" }).waitFor();
  const actions = await page.locator("table.audit tbody tr").evaluateAll((rows) => rows.map((r) => r.dataset.action));
  check(actions.length >= 1 && actions.every((a) => a === "hold_set"),
        `the action filter shows hold_set entries only (${actions.join(",")})`);
  const auditBody = JSON.stringify(await admin("/api/audit?limit=1000"));
  check(!auditBody.includes(ADMIN_KEY), "no audit entry holds the admin key");
  await shot(page, join(shotDir, "12-audit.png"));

  // 12. Replays: from the Interactions page's filter (failed tool calls), start a replay with a
  // candidate model that calls no tools; its page shows the progress, the summary the API gives,
  // and each result beside its original with the tool calls diffed (the original's removed).
  await replacingView(() => page.evaluate(() => { location.hash = "#/interactions?status=failed"; }));
  await page.locator("table.interactions tbody tr").first().waitFor();
  await replacingView(() => page.getByRole("link", { name: "Replay these with a candidate…" }).click());
  const filterText = await page.locator("#replay-filter").textContent();
  check(filterText.includes("status=failed"), `the replay starts from the Interactions filter (${filterText})`);
  await page.locator("#replay-start input[name=model]").fill("candidate-model");
  await page.locator("#replay-start input[name=limit]").fill("5");
  await replacingView(() => page.getByRole("button", { name: "Start replay" }).click());
  await page.waitForURL(/#\/replay\/rp_[0-9a-f]{24}$/);
  const replayId = page.url().split("#/replay/")[1];
  await page.locator(".page-head").filter({ hasText: "done ·" }).waitFor();
  await page.locator("article.replay-item").nth(4).waitFor();
  const replayApi = await admin("/api/replays/" + replayId);
  const fixedText = await page.locator("#replay-summary .kpi").filter({ hasText: "Failures fixed" })
    .locator(".kpi-value").textContent();
  check(replayApi.summary.replayed === 5 && fixedText === String(replayApi.summary.failures_fixed) &&
        replayApi.summary.failures_fixed === 5,
        `the replay page's summary matches the API (fixed ${fixedText}: ${JSON.stringify(replayApi.summary)})`);
  const failuresShown = await page.locator("article.replay-item").evaluateAll(
    (items) => items.map((i) => i.dataset.failure));
  check(failuresShown.length === 5 && failuresShown.every((f) => f === "fixed"),
        `every result says its failure was fixed (${failuresShown.join(",")})`);
  const removed = await page.locator("article.replay-item").first().locator('tr.tool-diff[data-diff="removed"]').count();
  check(removed >= 1, `the first result diffs the original's tool calls away (${removed} removed)`);
  check(llmRequests.length === 5 && llmRequests.every((b) => b.includes('"model":"candidate-model"')),
        `the candidate model was called once per item (${llmRequests.length} calls)`);
  // Cost before and after: the card says what the API says, every item of the candidate is
  // priced, and each result shows its own cost beside its original's.
  const replayUsd = (x) => x === 0 || x >= 0.01 ? usd(x)
    : "$" + x.toLocaleString("en-US", { maximumSignificantDigits: 3 });
  const costText = await page.locator("#replay-summary .kpi").filter({ hasText: "Cost" })
    .locator(".kpi-value").textContent();
  const cost = replayApi.summary.cost ?? {};
  check(cost.replay === 0.0000165 && replayApi.summary.usage?.replay?.priced_items === 5 &&
        costText === `${replayUsd(cost.original)} → ${replayUsd(cost.replay)}`,
        `the replay page shows the cost before and after as the API gives it (${costText}: ${JSON.stringify(cost)})`);
  const replayCosts = await page.locator('article.replay-item .usage-line[data-side="replay"]').allTextContents();
  check(replayCosts.length === 5 && replayCosts.every((t) => t === "13 tokens · $0.0000033"),
        `each result shows the replay's tokens and cost (${replayCosts.join(" | ")})`);
  const originalCosts = await page.locator('article.replay-item .usage-line[data-side="original"]').allTextContents();
  // Demo data has originals without usage: they say so instead of showing $0.
  const pricedOriginals = originalCosts.filter((t) => /^[\d,]+ tokens · \$0\.\d+$/.test(t)).length;
  check(originalCosts.length === 5 && pricedOriginals === replayApi.summary.usage?.original?.priced_items &&
        originalCosts.every((t) => t === "no usage reported" || /^[\d,]+ tokens · \$0\.\d+$/.test(t)),
        `each result shows its original's tokens and cost, or that it had none (${originalCosts.join(" | ")})`);
  await shot(page, join(shotDir, "12b-replay.png"));

  // 13. The Volume chart with every interaction inside one hour, more than 10,000 of them: a
  // second server on a store filled by `omniflow import`. Once the time axis spanned years
  // (Jan 2027 - Jul 2029 for data saved today) and "10,000" on the y axis was cut to "0,000".
  {
    const hour = 3600e3;
    const now = Date.now();
    const hourStart = Math.floor(now / hour) * hour;
    // 10,500 saves a millisecond apart, all inside one hour (and one day) that has begun.
    const base = now - hourStart >= 2 * 60e3 ? hourStart + 30e3 : hourStart - 30 * 60e3;
    const lines = [];
    for (let i = 0; i < 10500; i++) {
      lines.push(JSON.stringify({ user_id: `bulk_${i % 7}`, timestamp: new Date(base + i).toISOString(),
                                  user_message: `bulk message ${i}`, assistant_response: "ok" }));
    }
    const bulkFile = join(filesDir, "bulk.jsonl");
    writeFileSync(bulkFile, lines.join("\n") + "\n");
    const imported = spawnSync(binary, ["import", bulkFile, "--data-dir", bulkDir], { encoding: "utf8" });
    check(imported.status === 0, "10,500 interactions of one hour imported: " + imported.stdout.trim());
    const bulk = await startServer(bulkDir, {}, "bulk server");
    bulkServer = bulk.proc;
    const bulkBase = bulk.base;
    const bulkPage = await context.newPage();
    bulkPage.on("pageerror", (e) => pageErrors.push(String(e)));
    await bulkPage.goto(bulkBase + "/");
    await bulkPage.evaluate((key) => sessionStorage.setItem("omniflow.credentials",
                                                             JSON.stringify({ key })), ADMIN_KEY);
    for (const range of ["24h", "30d"]) {
      await bulkPage.goto(bulkBase + "/#/?range=" + range);
      await bulkPage.reload();
      const chart = bulkPage.locator(".chart[data-x-ticks]");
      await chart.waitFor();
      const data = await chart.evaluate((el) => ({ ...el.dataset }));
      const xMin = Number(data.xMin) * 1000, xMax = Number(data.xMax) * 1000;
      const xTicks = JSON.parse(data.xTicks), yTicks = JSON.parse(data.yTicks);
      check(xMax - xMin <= 3 * 86400e3 && xMin >= base - 2 * 86400e3 && xMax <= base + 2 * 86400e3,
            `${range}: the time axis spans the data's day, not years ` +
            `(${new Date(xMin).toISOString()} - ${new Date(xMax).toISOString()})`);
      const year = new Date(base).getFullYear();
      check(xTicks.length > 0 && xTicks.every((t) => !/\b(19|20)\d\d\b/.test(t) || t.includes(String(year))),
            `${range}: every x tick label is of this year: ${xTicks.join(" | ")}`);
      check(yTicks.some((t) => t.replace(/\D/g, "").length >= 5),
            `${range}: the y axis has five-digit labels: ${yTicks.join(" | ")}`);
      check(Number(data.yAxisWidth) >= Number(data.yLabelWidth) + 15,
            `${range}: the y axis (${data.yAxisWidth}px) holds its widest label (${data.yLabelWidth}px) whole`);
      await shot(bulkPage, join(shotDir, `13-volume-one-hour-${range}.png`));
    }
    await bulkPage.close();
  }

  // 14. A store whose interactions are all older than the range: the Overview says where the
  // data is and links to all time, instead of showing zeros without a word.
  {
    const oldDir = mkdtempSync(join(tmpdir(), "omniflow-dashboard-old-"));
    const oldFile = join(filesDir, "old.jsonl");
    writeFileSync(oldFile, ["2024-03-05T10:15:00Z", "2024-03-07T16:45:30Z"].map((timestamp, i) =>
      JSON.stringify({ user_id: "archived_user", timestamp, user_message: `archived question ${i}`,
                       assistant_response: "archived answer" })).join("\n") + "\n");
    const imported = spawnSync(binary, ["import", oldFile, "--data-dir", oldDir], { encoding: "utf8" });
    check(imported.status === 0, "2 interactions of March 2024 imported: " + imported.stdout.trim());
    let oldServer = null;
    try {
      const old = await startServer(oldDir, {}, "old-data server");
      oldServer = old.proc;
      const oldBase = old.base;
      const oldPage = await context.newPage();
      oldPage.on("pageerror", (e) => pageErrors.push(String(e)));
      await oldPage.goto(oldBase + "/");
      await oldPage.evaluate((key) => sessionStorage.setItem("omniflow.credentials",
                                                              JSON.stringify({ key })), ADMIN_KEY);
      await oldPage.reload();
      const notice = oldPage.locator(".notice.empty-range");
      await notice.waitFor();
      const text = await notice.textContent();
      check(text.includes("No interactions in the last 30 days") && text.includes("2024-03-07 16:45 UTC"),
            `the empty 30-day overview names the newest interaction's time: "${text}"`);
      await shot(oldPage, join(shotDir, "14-overview-data-older-than-range.png"));
      await oldPage.getByRole("link", { name: "Show all time" }).click();
      await oldPage.locator(".range a.active", { hasText: "All time" }).waitFor();
      const kpi = await oldPage.locator(".kpi-value").first().textContent();
      check(kpi === "2", `all time shows the 2 interactions (page: ${kpi})`);
      check(await oldPage.locator(".notice.empty-range").count() === 0, "all time has no notice");
      await oldPage.close();
    } finally {
      if (oldServer) {
        oldServer.kill("SIGTERM");
        await new Promise((resolve) => oldServer.exitCode !== null ? resolve() : oldServer.on("exit", resolve));
      }
      rmSync(oldDir, { recursive: true, force: true });
    }
  }

  check(dialogs.length === 0, `no dialog was ever opened by page content (${dialogs.join(", ")})`);
  check(pageErrors.length === 0, `no JavaScript errors (${pageErrors.join("; ")})`);
} catch (e) {
  failures++;
  console.log("FAIL " + (e?.stack ?? e));
  try {
    const pages = browser ? browser.contexts().flatMap((c) => c.pages()) : [];
    if (pages[0]) await pages[0].screenshot({ path: join(shotDir, "failure.png"), fullPage: true });
  } catch { /* best effort */ }
} finally {
  if (browser) await browser.close();
  if (server) server.kill("SIGTERM");
  if (bulkServer) bulkServer.kill("SIGTERM");
  llm.close();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(bulkDir, { recursive: true, force: true });
  rmSync(filesDir, { recursive: true, force: true });
}
console.log(`${checks} checks, ${failures} failed`);
process.exit(failures ? 1 : 0);
