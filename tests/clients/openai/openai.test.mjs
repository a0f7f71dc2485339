// The official `openai` npm client (OpenAI and AzureOpenAI) against omniflow's capture proxy,
// with a scripted OpenAI-compatible provider on loopback behind it: a plain answer, a stream
// (that starts before the provider has finished), a two-round tool loop whose results are
// attached to the logged calls, an Azure OpenAI deployment, and provider errors passed through
// and logged as failures. Every interaction is read back from omniflow's history.
// Usage: node openai.test.mjs OMNIFLOW_BINARY. With OMNIFLOW_TEST_STORE=file:PATH (a file
// holding a PostgreSQL superuser URL, as the ctest fixture makes) the server stores in a fresh
// database of that PostgreSQL instead of SQLite.
import { spawnSync } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI, { AzureOpenAI } from "openai";
import { binaryArgument, checker, startOmniflow } from "../harness.mjs";

const binary = binaryArgument("openai.test.mjs");
const { check, fail, finish } = checker();

const CAPTURE_KEY = "node-capture-key-0123456789";
const ADMIN_KEY = "node-admin-key-0123456789";
const JWT_SECRET = "node-jwt-secret-0123456789abcdef";
const PROVIDER_KEY = "sk-node-provider-key-42";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A user's HS256 token, as omniflow verifies them.
function token(sub) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const body = b64({ alg: "HS256", typ: "JWT" }) + "." +
               b64({ sub, exp: Math.floor(Date.now() / 1000) + 600 });
  return body + "." + createHmac("sha256", JWT_SECRET).update(body).digest("base64url");
}

// ---- The scripted provider ----------------------------------------------------------------
// Answers each request with the next scripted reply: {status, json} or {events, gapMs}.
const script = [];
const received = [];  // {url, headers, body}
const provider = createServer((req, res) => {
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", async () => {
    received.push({ url: req.url, headers: req.headers, body: JSON.parse(body || "{}") });
    const reply = script.shift() ?? { status: 500, json: { error: { message: "script empty" } } };
    if (reply.events) {
      res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
      for (let i = 0; i < reply.events.length; i++) {
        if (i > 0 && reply.gapMs) await sleep(reply.gapMs);
        res.write("data: " + (typeof reply.events[i] === "string" ? reply.events[i]
                                                                  : JSON.stringify(reply.events[i])) + "\n\n");
      }
      res.end();
      return;
    }
    res.writeHead(reply.status ?? 200, { "Content-Type": "application/json", ...(reply.headers ?? {}) });
    res.end(JSON.stringify(reply.json));
  });
});
await new Promise((r) => provider.listen(0, "127.0.0.1", r));
const providerOrigin = "http://127.0.0.1:" + provider.address().port;

function completion(content, { model = "scripted-model", toolCalls, usage } = {}) {
  return {
    id: "chatcmpl-" + randomBytes(4).toString("hex"), object: "chat.completion", created: 1, model,
    choices: [{ index: 0, finish_reason: toolCalls ? "tool_calls" : "stop",
                message: { role: "assistant", content, ...(toolCalls ? { tool_calls: toolCalls } : {}) } }],
    usage: usage ?? { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17,
                      prompt_tokens_details: { cached_tokens: 4 },
                      completion_tokens_details: { reasoning_tokens: 2 } },
  };
}
function chunk(delta, finish = null, extra = {}) {
  return { id: "chatcmpl-s", object: "chat.completion.chunk", created: 1, model: "scripted-model",
           choices: [{ index: 0, delta, finish_reason: finish }], ...extra };
}

// ---- omniflow -----------------------------------------------------------------------------
const dataDir = mkdtempSync(join(tmpdir(), "omniflow-openai-"));
let storeArgs = [];
let dropDatabase = () => {};
const testStore = process.env.OMNIFLOW_TEST_STORE;
if (testStore) {
  const admin = (testStore.startsWith("file:") ? readFileSync(testStore.slice(5), "utf8") : testStore).trim();
  const db = "omniflow_openai_" + randomBytes(6).toString("hex");
  const made = spawnSync("psql", [admin, "-qc", "CREATE DATABASE " + db], { encoding: "utf8" });
  if (made.status !== 0) throw new Error("cannot create " + db + ": " + made.stderr);
  const url = new URL(admin);
  url.pathname = "/" + db;
  storeArgs = ["--store", url.toString()];
  dropDatabase = () => spawnSync("psql", [admin, "-qc", "DROP DATABASE IF EXISTS " + db + " WITH (FORCE)"]);
}

function startServer(env) {
  return startOmniflow(binary, ["--data-dir", mkdtempSync(join(dataDir, "s-")), ...storeArgs],
                       { PATH: process.env.PATH, OMNIFLOW_ADMIN_KEY: ADMIN_KEY,
                         OMNIFLOW_JWT_SECRET: JWT_SECRET, FUNCTION_CODE_CAPTURE: CAPTURE_KEY,
                         OMNIFLOW_LLM_API_KEY: PROVIDER_KEY, ...env });
}

// The user's interactions, newest first, once at least `n` are logged (logging is asynchronous;
// on two busy cores, next to the sanitizer builds, it has taken over 5 s).
async function history(base, user, n) {
  for (const deadline = Date.now() + 30000; Date.now() < deadline;) {
    const r = await fetch(base + "/api/get_interaction_history?limit=50",
                          { headers: { "x-functions-key": ADMIN_KEY, "X-User-Id": user } });
    const j = await r.json();
    if (r.status === 200 && j.total >= n) return j.interactions;
    await sleep(50);
  }
  throw new Error("history of " + user + " never reached " + n);
}

const servers = [];
try {
  const openaiSide = await startServer({ OMNIFLOW_LLM_BASE_URL: providerOrigin + "/v1",
                                         OMNIFLOW_LLM_MODEL: "scripted-model" });
  servers.push(openaiSide);
  const base = openaiSide.base;

  // 1. Plain: the OpenAI client with a function key as its API key and the user in `user`.
  const client = new OpenAI({ baseURL: base + "/v1", apiKey: CAPTURE_KEY, maxRetries: 0,
                              defaultHeaders: { "X-Thread-Id": "node-thread-1" } });
  script.push({ json: completion("Paris.") });
  const plain = await client.chat.completions.create({
    model: "gpt-4o-mini", user: "node_ada",
    messages: [{ role: "user", content: "Capital of France?" }] });
  check(plain.choices[0].message.content === "Paris.", "plain answer: " + JSON.stringify(plain));
  check(plain.usage?.prompt_tokens_details?.cached_tokens === 4, "the provider's usage comes back unchanged");
  const sent = received.at(-1);
  check(sent.url === "/v1/chat/completions", "provider path " + sent.url);
  check(sent.headers.authorization === "Bearer " + PROVIDER_KEY, "the provider gets the server's key");
  check(!JSON.stringify(sent.headers).includes(CAPTURE_KEY), "the client's omniflow key is not forwarded");
  let logged = (await history(base, "node_ada", 1))[0];
  check(logged.user_message === "Capital of France?" && logged.assistant_response === "Paris.",
        "plain logged: " + JSON.stringify(logged));
  check(logged.thread_id === "node-thread-1", "X-Thread-Id is the thread");
  check(logged.metadata.source === "proxy" && logged.metadata.model === "scripted-model",
        "metadata: " + JSON.stringify(logged.metadata));
  check(logged.metadata.usage?.completion_tokens_details?.reasoning_tokens === 2,
        "usage logged verbatim: " + JSON.stringify(logged.metadata.usage));

  // 2. Streaming, with a user's token as the API key: chunks arrive as the provider sends them.
  const userClient = new OpenAI({ baseURL: base + "/v1", apiKey: token("node_bo"), maxRetries: 0 });
  script.push({ gapMs: 250, events: [
    chunk({ role: "assistant", content: "Forty" }), chunk({ content: "-two" }), chunk({ content: "." }),
    chunk({}, "stop"),
    { id: "chatcmpl-s", object: "chat.completion.chunk", created: 1, model: "scripted-model", choices: [],
      usage: { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 } },
    "[DONE]"] });
  const started = Date.now();
  const stream = await userClient.chat.completions.create({
    model: "gpt-4o-mini", stream: true, stream_options: { include_usage: true },
    messages: [{ role: "user", content: "The answer?" }], metadata: { thread_id: "node-stream" } });
  let text = "", firstAt = -1, usage;
  for await (const c of stream) {
    if (firstAt < 0) firstAt = Date.now() - started;
    text += c.choices[0]?.delta?.content ?? "";
    if (c.usage) usage = c.usage;
  }
  const endAt = Date.now() - started;
  check(text === "Forty-two.", "streamed text: " + text);
  check(usage?.total_tokens === 12, "the final chunk's usage arrives");
  check(firstAt < 200 && endAt >= 1000, `the stream is not buffered: first chunk at ${firstAt} ms, end at ${endAt} ms`);
  logged = (await history(base, "node_bo", 1))[0];
  check(logged.assistant_response === "Forty-two." && logged.thread_id === "node-stream",
        "stream logged: " + JSON.stringify(logged));
  check(logged.metadata.usage?.total_tokens === 12 && logged.metadata.stream === true,
        "stream metadata: " + JSON.stringify(logged.metadata));

  // 3. A two-round tool loop, as an application runs it with the client.
  const tools = [{ type: "function", function: { name: "get_weather", parameters: {
    type: "object", properties: { city: { type: "string" } } } } }];
  const loopClient = new OpenAI({ baseURL: base + "/v1", apiKey: token("node_cy"), maxRetries: 0,
                                  defaultHeaders: { "X-Thread-Id": "node-loop" } });
  script.push({ json: completion(null, { toolCalls: [
    { id: "call_oslo", type: "function", function: { name: "get_weather", arguments: '{"city":"Oslo"}' } },
    { id: "call_bad", type: "function", function: { name: "get_weather", arguments: '{"city":"Atlantis"}' } }] }) });
  script.push({ json: completion("Oslo: 3 °C; Atlantis is not a city.") });
  const messages = [{ role: "user", content: "Weather in Oslo and Atlantis?" }];
  const first = await loopClient.chat.completions.create({ model: "gpt-4o-mini", messages, tools });
  const asked = first.choices[0].message;
  check(asked.tool_calls?.length === 2, "round one asks for two calls");
  messages.push(asked);
  for (const call of asked.tool_calls ?? []) {
    const { city } = JSON.parse(call.function.arguments);
    messages.push({ role: "tool", tool_call_id: call.id,
                    content: city === "Oslo" ? JSON.stringify({ temp_c: 3 })
                                             : JSON.stringify({ error: "unknown city" }) });
  }
  const second = await loopClient.chat.completions.create({ model: "gpt-4o-mini", messages, tools });
  check(second.choices[0].message.content.startsWith("Oslo: 3"), "round two answers");
  const loop = await history(base, "node_cy", 2);
  const calls = loop[0].tool_calls;
  check(calls.length === 2, "the second interaction holds both calls: " + JSON.stringify(loop[0]));
  check(calls[0]?.tool_name === "get_weather" && calls[0]?.arguments?.city === "Oslo" &&
        calls[0]?.result?.temp_c === 3 && calls[0]?.status === "success" &&
        calls[0]?.tool_call_id === "call_oslo", "the Oslo call with its result: " + JSON.stringify(calls[0]));
  check(calls[1]?.status === "error" && calls[1]?.result?.error === "unknown city",
        "the failed call: " + JSON.stringify(calls[1]));
  check(calls.every((c) => c.requested_in === loop[1].interaction_id),
        "each result links the interaction that asked for it");
  check(loop[1].metadata.tool_calls_requested?.map((c) => c.tool_call_id).join() === "call_oslo,call_bad",
        "the first interaction lists the calls asked for: " + JSON.stringify(loop[1].metadata));

  // 5. Provider errors: passed through with their status (the client's error class), logged.
  script.push({ status: 429, headers: { "Retry-After": "3" },
                json: { error: { message: "Rate limit reached", type: "requests", code: "rate_limit_exceeded" } } });
  let caught;
  try {
    await client.chat.completions.create({ model: "m", user: "node_ed", messages: [{ role: "user", content: "again?" }] });
  } catch (e) { caught = e; }
  check(caught instanceof OpenAI.RateLimitError && caught.status === 429 &&
        caught.error?.message === "Rate limit reached", "a 429 reaches the client as RateLimitError: " + caught);
  script.push({ status: 400, json: { error: { message: "Unknown parameter: 'foo'", type: "invalid_request_error" } } });
  caught = undefined;
  try {
    const s = await client.chat.completions.create({ model: "m", user: "node_ed", stream: true,
                                                     messages: [{ role: "user", content: "foo?" }] });
    for await (const _ of s) { /* drain */ }
  } catch (e) { caught = e; }
  check(caught instanceof OpenAI.BadRequestError && caught.status === 400, "a streamed 400 reaches the client: " + caught);
  const failed = await history(base, "node_ed", 2);
  check(failed.every((i) => i.metadata.outcome === "provider_error"), "both logged as failures: " +
        JSON.stringify(failed.map((i) => i.metadata)));
  check(failed.map((i) => i.metadata.provider_status).join() === "400,429", "with the provider's status");

  // Credentials: no key, a wrong key, another user's name with a user's token.
  for (const [what, c, user, status] of [
    ["a wrong key", new OpenAI({ baseURL: base + "/v1", apiKey: "sk-guess", maxRetries: 0 }), "node_ada", 401],
    ["a user's token naming another user", userClient, "node_ada", 403]]) {
    caught = undefined;
    try {
      await c.chat.completions.create({ model: "m", user, messages: [{ role: "user", content: "x" }] });
    } catch (e) { caught = e; }
    check(caught?.status === status, what + " is " + status + ", got " + caught);
  }
  const none = await fetch(base + "/v1/chat/completions", { method: "POST",
    headers: { "Content-Type": "application/json" }, body: JSON.stringify({ model: "m", user: "node_ada", messages: [] }) });
  check(none.status === 401, "no key is 401, got " + none.status);
  check(!openaiSide.log().includes("Capital of France") && !openaiSide.log().includes(PROVIDER_KEY),
        "neither messages nor keys in the server's log");

  // 4. Azure OpenAI: omniflow in front of an Azure-style deployment, called with AzureOpenAI.
  const azureSide = await startServer({ OMNIFLOW_LLM_BASE_URL: providerOrigin + "/openai/deployments/prod-gpt4o",
                                        OMNIFLOW_LLM_API_VERSION: "2024-10-21" });
  servers.push(azureSide);
  const azure = new AzureOpenAI({ endpoint: azureSide.base, apiKey: CAPTURE_KEY, deployment: "gpt-4o",
                                  apiVersion: "2024-10-21", maxRetries: 0 });
  script.push({ json: completion("Hallo from Azure.") });
  const az = await azure.chat.completions.create({ model: "gpt-4o", user: "node_di",
    messages: [{ role: "user", content: "Hallo?" }] });
  check(az.choices[0].message.content === "Hallo from Azure.", "Azure answer");
  const azSent = received.at(-1);
  check(azSent.url === "/openai/deployments/prod-gpt4o/chat/completions?api-version=2024-10-21",
        "the provider's Azure deployment path: " + azSent.url);
  check(azSent.headers["api-key"] === PROVIDER_KEY && !azSent.headers.authorization,
        "Azure gets the server's key as api-key");
  logged = (await history(azureSide.base, "node_di", 1))[0];
  check(logged.user_message === "Hallo?" && logged.assistant_response === "Hallo from Azure.",
        "Azure logged: " + JSON.stringify(logged));
} catch (e) {
  fail(e);
} finally {
  for (const s of servers) s.server.kill("SIGTERM");
  provider.close();
  await sleep(300);
  dropDatabase();
  rmSync(dataDir, { recursive: true, force: true });
}
finish("openai client: plain, streaming, tool loop, Azure and provider errors through the capture proxy");
