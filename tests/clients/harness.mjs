// What the node tests of a running omniflow share: a checker that counts failures, and starting
// the binary on a free port (its "listening on" line gives the address) with its stderr kept.
import { spawn } from "node:child_process";

// check(ok, what) records a failure; finish(message) exits 1 when any check failed, else prints
// `message`.
export function checker() {
  let failures = 0;
  return {
    check(ok, what) {
      if (ok) return;
      failures++;
      console.error("FAIL: " + what);
    },
    fail(e) {
      failures++;
      console.error("FAIL: " + (e.stack ?? e));
    },
    finish(message) {
      if (failures > 0) {
        console.error(failures + " check(s) failed");
        process.exit(1);
      }
      console.log(message);
    },
  };
}

// The binary named on the command line, or exit 2 with the usage.
export function binaryArgument(script) {
  const binary = process.argv[2];
  if (!binary) {
    console.error("usage: node " + script + " OMNIFLOW_BINARY");
    process.exit(2);
  }
  return binary;
}

// Runs `omniflow serve --port 0 ...args` with `env`; resolves to {server, base, log()} once it
// listens.
export async function startOmniflow(binary, args, env) {
  const server = spawn(binary, ["serve", "--port", "0", ...args],
                       { env, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  server.stderr.on("data", (c) => (log += c));
  const base = await new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error("server did not start: " + log)), 60000);
    server.stdout.on("data", (c) => {
      out += c;
      const m = out.match(/listening on (http:\/\/[\d.]+:\d+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    server.on("error", reject);
    server.on("exit", (code) => reject(new Error("server exited " + code + ": " + log)));
  });
  return { server, base, log: () => log };
}
