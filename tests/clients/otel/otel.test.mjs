// The real OpenTelemetry JS SDK (npm: @opentelemetry/sdk-trace-base with the OTLP/HTTP
// exporters exporter-trace-otlp-proto and exporter-trace-otlp-http) exports a GenAI agent trace
// (invoke_agent > chat > execute_tool x2) to a running omniflow, each span on its own export as
// it ends (children first); the proto exporter gzips, so its bodies come chunked without
// Content-Length. The test then reads the interaction back through
// /api/get_interaction_history and checks its fields; also for an agent turn longer than the
// server's quiet time (the chat span exported long before the agent span).
// Usage: node otel.test.mjs OMNIFLOW_BINARY
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { context, trace, SpanStatusCode } from "@opentelemetry/api";
import { BasicTracerProvider, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { Resource } from "@opentelemetry/resources";
import { OTLPTraceExporter as ProtoExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { OTLPTraceExporter as JsonExporter } from "@opentelemetry/exporter-trace-otlp-http";

const binary = process.argv[2];
if (!binary) {
  console.error("usage: node otel.test.mjs OMNIFLOW_BINARY");
  process.exit(2);
}
const KEY = "otel-js-otlp-key-0123456789";
const ADMIN = "otel-js-admin-key-0123456789";
let failures = 0;
function check(ok, what) {
  if (ok) return;
  failures++;
  console.error("FAIL: " + what);
}

// One agent turn, its spans ended children first (each one export with SimpleSpanProcessor).
// With `turnMs`, the agent span ends that long after the chat span has been exported: a turn
// longer than the server's quiet time.
async function exportAgentTrace(exporter, user, conversation, turnMs = 0) {
  const provider = new BasicTracerProvider({
    resource: new Resource({ "service.name": "otel-js-test", "user.id": user }),
  });
  provider.addSpanProcessor(new SimpleSpanProcessor(exporter));
  const tracer = provider.getTracer("omniflow-otel-test", "1.0.0");
  const agent = tracer.startSpan("invoke_agent TripPlanner", {
    attributes: {
      "gen_ai.operation.name": "invoke_agent",
      "gen_ai.agent.id": "asst_trip",
      "gen_ai.agent.name": "TripPlanner",
      "gen_ai.conversation.id": conversation,
    },
  });
  const inAgent = trace.setSpan(context.active(), agent);
  const chat = tracer.startSpan("chat gpt-4o-mini", {
    attributes: {
      "gen_ai.operation.name": "chat",
      "gen_ai.request.model": "gpt-4o-mini",
      "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
      "gen_ai.usage.input_tokens": 250,
      "gen_ai.usage.output_tokens": 40,
      "gen_ai.usage.cache_read.input_tokens": 200,
      "gen_ai.usage.reasoning.output_tokens": 8,
      "gen_ai.input.messages": JSON.stringify([
        { role: "system", parts: [{ type: "text", content: "You plan trips." }] },
        { role: "user", parts: [{ type: "text", content: "Book me a weekend in Lisbon" }] },
      ]),
      "gen_ai.output.messages": JSON.stringify([
        { role: "assistant", parts: [{ type: "text", content: "Done: flight LIS-42, Hotel Sol." }],
          finish_reason: "stop" },
      ]),
    },
  }, inAgent);
  const inChat = trace.setSpan(inAgent, chat);
  const flight = tracer.startSpan("execute_tool book_flight", {
    attributes: {
      "gen_ai.operation.name": "execute_tool",
      "gen_ai.tool.name": "book_flight",
      "gen_ai.tool.call.id": "call_flight",
      "gen_ai.tool.call.arguments": JSON.stringify({ to: "LIS" }),
      "gen_ai.tool.call.result": JSON.stringify({ flight: "LIS-42" }),
    },
  }, inChat);
  flight.setStatus({ code: SpanStatusCode.OK });
  flight.end();
  const hotel = tracer.startSpan("execute_tool book_hotel", {
    attributes: {
      "gen_ai.operation.name": "execute_tool",
      "gen_ai.tool.name": "book_hotel",
      "gen_ai.tool.call.id": "call_hotel",
      "gen_ai.tool.call.arguments": JSON.stringify({ city: "Lisbon" }),
    },
  }, inChat);
  hotel.setStatus({ code: SpanStatusCode.ERROR, message: "sold out" });
  hotel.end();
  await provider.forceFlush();
  chat.end();
  await provider.forceFlush();
  if (turnMs > 0) await new Promise((r) => setTimeout(r, turnMs));
  agent.end();
  await provider.forceFlush();
  await provider.shutdown();
  return agent.spanContext();
}

async function history(base, user) {
  const res = await fetch(base + "/api/get_interaction_history", {
    headers: { "x-functions-key": ADMIN, "X-User-Id": user },
  });
  return res.json();
}

async function waitForOne(base, user) {
  for (let i = 0; i < 150; i++) {
    const h = await history(base, user);
    if ((h.interactions ?? []).length > 0) return h;
    await new Promise((r) => setTimeout(r, 100));
  }
  return history(base, user);
}

function checkInteraction(h, spanContext, conversation, label) {
  check(h.interactions?.length === 1, label + ": one interaction, got " + JSON.stringify(h));
  const it = h.interactions?.[0];
  if (!it) return;
  check(it.user_message === "Book me a weekend in Lisbon", label + ": user_message " + it.user_message);
  check(it.assistant_response === "Done: flight LIS-42, Hotel Sol.",
        label + ": assistant_response " + it.assistant_response);
  check(it.thread_id === conversation, label + ": thread_id " + it.thread_id);
  const tools = it.tool_calls ?? [];
  check(tools.length === 2, label + ": two tool calls " + JSON.stringify(tools));
  check(tools[0]?.tool_name === "book_flight" && tools[0]?.status === "success" &&
        tools[0]?.arguments?.to === "LIS" && tools[0]?.result?.flight === "LIS-42" &&
        tools[0]?.tool_call_id === "call_flight", label + ": the flight call " + JSON.stringify(tools[0]));
  check(tools[1]?.tool_name === "book_hotel" && tools[1]?.status === "error",
        label + ": the hotel call failed " + JSON.stringify(tools[1]));
  const m = it.metadata ?? {};
  check(m.source === "otlp", label + ": source " + m.source);
  check(m.trace_id === spanContext.traceId, label + ": trace_id " + m.trace_id);
  check(m.span_id === spanContext.spanId, label + ": span_id " + m.span_id);
  check(m.model === "gpt-4o-mini-2024-07-18", label + ": model " + m.model);
  check(m.assistant_id === "asst_trip", label + ": assistant_id " + m.assistant_id);
  check(JSON.stringify(m.usage) === JSON.stringify({
    input_tokens: 250, output_tokens: 40, cached_input_tokens: 200, reasoning_tokens: 8 }),
        label + ": usage " + JSON.stringify(m.usage));
}

const dataDir = mkdtempSync(join(tmpdir(), "omniflow-otel-"));
let server;
try {
  server = spawn(binary, ["serve", "--port", "0", "--data-dir", dataDir], {
    env: { ...process.env, FUNCTION_CODE_OTLP: KEY, OMNIFLOW_ADMIN_KEY: ADMIN,
           OMNIFLOW_OTLP_QUIET_MS: "500" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const base = await new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error("server did not start: " + out)), 60000);
    server.stdout.on("data", (chunk) => {
      out += chunk;
      const m = out.match(/listening on (http:\/\/[\d.]+:\d+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    server.on("exit", (code) => reject(new Error("server exited " + code)));
  });
  const url = base + "/v1/traces";
  const headers = { "x-functions-key": KEY };

  const proto = new ProtoExporter({ url, headers, compression: "gzip" });
  const protoSpan = await exportAgentTrace(proto, "otel_proto_user", "conv-proto");
  checkInteraction(await waitForOne(base, "otel_proto_user"), protoSpan, "conv-proto", "protobuf+gzip");

  const json = new JsonExporter({ url, headers });
  const jsonSpan = await exportAgentTrace(json, "otel_json_user", "conv-json");
  checkInteraction(await waitForOne(base, "otel_json_user"), jsonSpan, "conv-json", "json");

  // A long agent turn: the chat span exported, then nothing for three times the quiet time,
  // then the agent span. Still one interaction, the agent's, however long we look.
  const longProto = new ProtoExporter({ url, headers, compression: "gzip" });
  const longSpan = await exportAgentTrace(longProto, "otel_long_user", "conv-long", 1500);
  await waitForOne(base, "otel_long_user");
  await new Promise((r) => setTimeout(r, 1500));
  checkInteraction(await history(base, "otel_long_user"), longSpan, "conv-long", "long turn");

  // A wrong key: the exporter's export fails, nothing is stored.
  const wrong = new JsonExporter({ url, headers: { "x-functions-key": "wrong" } });
  await exportAgentTrace(wrong, "otel_wrong_user", "conv-wrong");
  await new Promise((r) => setTimeout(r, 1500));
  check(((await history(base, "otel_wrong_user")).interactions ?? []).length === 0,
        "a wrong key stores nothing");
} catch (e) {
  failures++;
  console.error("FAIL: " + (e?.stack ?? e));
} finally {
  server?.kill("SIGTERM");
  rmSync(dataDir, { recursive: true, force: true });
}
if (failures > 0) {
  console.error(failures + " check(s) failed");
  process.exit(1);
}
console.log("OK: the OpenTelemetry JS exporters' agent traces became interactions");
