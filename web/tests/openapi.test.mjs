// GET /openapi.json checked by a real OpenAPI 3.1 validator from npm
// (@seriousme/openapi-schema-validator), on a server with credentials configured (the document
// is public), and compared with the route table the binary prints: every route and its
// proxy_router form is described with its method. Usage: node openapi.test.mjs OMNIFLOW_BINARY
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Validator } from "@seriousme/openapi-schema-validator";

import { binaryArgument, checker, startOmniflow } from "../../tests/clients/harness.mjs";

const binary = binaryArgument("openapi.test.mjs");
const { check, fail, finish } = checker();

const dataDir = mkdtempSync(join(tmpdir(), "omniflow-openapi-"));
let server;
try {
  let base;
  ({ server, base } = await startOmniflow(
      binary, ["--data-dir", dataDir],
      { ...process.env, OMNIFLOW_ADMIN_KEY: "openapi-admin-key-0123456789" }));

  // Public: no credentials needed even though the admin key is configured.
  const res = await fetch(base + "/openapi.json");
  check(res.status === 200, "GET /openapi.json without credentials answers 200, got " + res.status);
  check((res.headers.get("content-type") ?? "").startsWith("application/json"),
        "it is application/json");
  const doc = await res.json();

  const validator = new Validator();
  const result = await validator.validate(doc);
  check(result.valid, "the validator accepts it: " + JSON.stringify(result.errors, null, 1));
  check(validator.version === "3.1", "it is OpenAPI 3.1, the validator says " + validator.version);

  // Every row of the route table (`omniflow routes`) is a path with its method.
  const routes = spawnSync(binary, ["routes"], { encoding: "utf8" }).stdout;
  let rows = 0;
  for (const line of routes.split("\n")) {
    // | method | path | key | who may call | body | through proxy_router | audited |
    const cells = line.split("|").map((c) => c.trim());
    if (cells.length < 8 || !/^(GET|POST|PUT|DELETE|PATCH)$/.test(cells[1])) continue;
    const proxied = cells[6].match(/^`([^`]+)`$/);
    const m = [line, cells[1], cells[2].replace(/^`|`$/g, ""), cells[6], proxied ? proxied[1] : undefined];
    rows++;
    const method = m[1].toLowerCase();
    for (const pattern of [m[2], m[4]]) {
      if (!pattern) continue;
      const path = pattern.replace(/\/\*$/, "/{path}");
      const op = doc.paths?.[path]?.[method];
      check(op !== undefined, `${m[1]} ${path} is described`);
      if (!op) continue;
      check(typeof op.summary === "string" && op.summary.length > 0, `${m[1]} ${path} has a summary`);
      for (const name of [...path.matchAll(/\{([a-z_]+)\}/g)].map((x) => x[1])) {
        check(op.parameters.some((p) => p.in === "path" && p.name === name && p.required),
              `${m[1]} ${path} declares its path parameter ${name}`);
      }
    }
  }
  check(rows >= 30, "the route table has its rows, got " + rows);
  const save = doc.paths["/api/save_interaction"]?.post;
  check(save?.requestBody?.content?.["application/json"] !== undefined,
        "save_interaction's body is application/json");
  check(JSON.stringify(doc.paths["/metrics"]?.get?.security) ===
        JSON.stringify([{ adminKey: [] }, { adminKeyBearer: [] }, { metricsToken: [] }]),
        "/metrics needs the admin key or the metrics token");
  check(Array.isArray(doc.paths["/healthz"]?.get?.security) &&
        doc.paths["/healthz"].get.security.length === 0, "/healthz needs no credentials");
  const schemes = Object.keys(doc.components?.securitySchemes ?? {}).sort().join(",");
  check(schemes === "adminKey,adminKeyBearer,azureApiKey,functionKey,functionKeyBearer," +
                    "functionKeyQuery,metricsToken,userToken",
        "security schemes: " + schemes);
  check(doc.paths["/v1/chat/completions"]?.post?.security?.some((s) => "functionKeyBearer" in s),
        "the capture proxy takes its key as a bearer token, as OpenAI clients send it");
} catch (e) {
  fail(e);
} finally {
  if (server) server.kill("SIGTERM");
  rmSync(dataDir, { recursive: true, force: true });
}
finish("openapi.json: valid OpenAPI 3.1, every route described");
