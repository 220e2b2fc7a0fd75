import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DevServer, PreviewError } from "../../src/sandboxes/runner/preview";

// The runner's dev server (src/sandboxes/runner/preview.ts) against a real `npm run dev` whose server is a few lines
// of node: what it is asked for while nobody waits, how long a page that answers wrongly is waited for, and how a
// dead server is started again once.

const servers: DevServer[] = [];
const dirs: string[] = [];

afterEach(() => {
  for (const server of servers.splice(0)) server.stop();
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const address = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  if (!address || typeof address === "string") throw new Error("no port");
  return address.port;
}

/** An app whose dev server logs each request (to requests.log) and answers `status` (read per request). */
function appWith(status: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-dev-server-"));
  dirs.push(dir);
  fs.writeFileSync(
    path.join(dir, "package.json"),
    JSON.stringify({ name: "dev-server-test", private: true, scripts: { dev: "node dev.cjs" } }),
  );
  fs.writeFileSync(path.join(dir, "status.txt"), String(status));
  fs.writeFileSync(
    path.join(dir, "dev.cjs"),
    `const http = require("node:http");
const fs = require("node:fs");
const arg = (name) => process.argv[process.argv.indexOf(name) + 1];
fs.appendFileSync("starts.log", "start\\n");
http
  .createServer((req, res) => {
    fs.appendFileSync("requests.log", req.url + "\\n");
    if (fs.existsSync("exit-now")) process.exit(7);
    res.statusCode = Number(fs.readFileSync("status.txt", "utf8"));
    res.end("page");
  })
  .listen(Number(arg("--port")), arg("--hostname"));
`,
  );
  return dir;
}

async function devServerIn(dir: string, settleMs?: number, rewarmMs = 200): Promise<DevServer> {
  const server = new DevServer({
    rewarmMs,
    workdir: dir,
    env: { PATH: process.env.PATH ?? "", HOME: os.tmpdir() },
    port: await freePort(),
    host: "127.0.0.1",
    // What it prints is the runner's to post; these tests look at what the server was asked instead.
    onOutput: () => undefined,
    ...(settleMs ? { settleMs } : {}),
  });
  servers.push(server);
  return server;
}

const lines = (file: string) =>
  fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim().split("\n").filter(Boolean) : [];

async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("the runner's dev server", () => {
  it("asks for the first page and the health check as soon as it listens, before anyone waits for it", async () => {
    const dir = appWith(404);
    const server = await devServerIn(dir);
    server.start(30_000);
    await until(() => lines(path.join(dir, "requests.log")).length >= 2);
    expect(lines(path.join(dir, "requests.log"))).toEqual(["/", "/api/health"]);
    // Ready only once the page answers 200: the edit that makes it so is picked up without a restart.
    fs.writeFileSync(path.join(dir, "status.txt"), "200");
    await server.ready(20_000);
    expect(lines(path.join(dir, "starts.log"))).toHaveLength(1);
  }, 40_000);

  it("asks again after each change under src/ while the agent works, and stops once the preview is waited for", async () => {
    const dir = appWith(200);
    const requests = path.join(dir, "requests.log");
    const server = await devServerIn(dir);
    server.start(30_000);
    await until(() => lines(requests).length >= 2);
    await new Promise((resolve) => setTimeout(resolve, 600));
    // Nothing changed: nothing more is asked.
    expect(lines(requests)).toEqual(["/", "/api/health"]);
    fs.mkdirSync(path.join(dir, "src", "app"), { recursive: true });
    fs.writeFileSync(path.join(dir, "src", "app", "page.tsx"), "export default function Page() {}\n");
    await until(() => lines(requests).length >= 4);
    expect(lines(requests).slice(2)).toEqual(["/", "/api/health"]);
    await server.ready(20_000);
    // ready() asks for the page and, beside it, the health check; then nothing more, whatever changes.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const asked = lines(requests).length;
    fs.writeFileSync(
      path.join(dir, "src", "app", "page.tsx"),
      "export default function Page() { return 1; }\n",
    );
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(lines(requests)).toHaveLength(asked);
  }, 40_000);

  it("looks at the sources at once when told the agent's turn ended, not at its next look", async () => {
    const dir = appWith(200);
    const requests = path.join(dir, "requests.log");
    // Looks a minute apart: only being told makes it look within the test's time.
    const server = await devServerIn(dir, undefined, 60_000);
    server.start(120_000);
    await until(() => lines(requests).length >= 2);
    // Past the first look's own wait: the loop is between looks now.
    await new Promise((resolve) => setTimeout(resolve, 300));
    fs.mkdirSync(path.join(dir, "src", "app"), { recursive: true });
    fs.writeFileSync(path.join(dir, "src", "app", "page.tsx"), "export default function Page() {}\n");
    server.lookNow();
    await until(() => lines(requests).length >= 4, 5_000);
    expect(lines(requests)).toEqual(["/", "/api/health", "/", "/api/health"]);
  }, 40_000);

  it("gives up on a page that keeps answering something else after the settle time, not the whole bound", async () => {
    const server = await devServerIn(appWith(500), 1_500);
    server.start(30_000);
    const started = Date.now();
    await expect(server.ready(120_000)).rejects.toThrow(
      new PreviewError("the preview answered 500 on / instead of 200"),
    );
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 40_000);

  it("starts a dead server again once; a second death is the failure, with its exit code", async () => {
    const dir = appWith(200);
    const server = await devServerIn(dir);
    server.start(30_000);
    await server.ready(20_000);
    const first = server.preview?.child;
    // The whole group, as `kill` of the agent or an out-of-memory kill would leave it: nothing listens any more.
    if (first?.pid) process.kill(-first.pid, "SIGKILL");
    await server.preview?.exited;
    await server.ready(20_000);
    expect(server.preview?.child).not.toBe(first);
    expect(lines(path.join(dir, "starts.log"))).toHaveLength(2);

    fs.writeFileSync(path.join(dir, "exit-now"), "");
    await expect(server.ready(20_000)).rejects.toThrow(/^npm run dev exited with code 7, after one restart$/);
    expect(lines(path.join(dir, "starts.log"))).toHaveLength(2);
  }, 60_000);
});
