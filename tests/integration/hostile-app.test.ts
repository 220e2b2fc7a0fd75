import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import type { SandboxHandle } from "@/server/integrations/sandboxes/port";
import { APP_PORT } from "@/server/templates/dev-server";
import type { TemplateCache } from "@/server/templates/template-cache";
import { createTemplateSandbox } from "@/server/templates/template-sandbox";
import type { ScenarioInput } from "../fakes/model-server";
import { type PipelineHarness, startPipelineHarness } from "../helpers/pipeline-harness";
import { templateCache } from "../helpers/template";

// The hostile-app test (issue 9): a generated app that attacks the machine it runs on, for real, with both agent
// CLIs against the scripted model. The agent writes `probe.mjs` (every attack below, each reported as
// "blocked: …" or "OPEN: …"), runs it from its own shell, and exposes it as a route of the app, which the test then
// calls on the preview's dev server. Attacks: TCP to every local service port (on loopback and the host's own
// addresses, directly and through the sandbox's egress proxy), the host's and the platform's secret files, another
// sandbox's files, appends into node_modules (hard-linked from the template cache; then the cache and a fresh
// sandbox are checked), and other processes' /proc. Control attempts inside the sandbox must succeed, so a probe
// that cannot see success cannot pass. The template cache is a private copy: on code that lets the append through,
// the poison lands there, not in the cache every other test on the machine uses.

const checkout = process.cwd();
const licence = "node_modules/kysely/LICENSE";
const zodLicence = "node_modules/zod/LICENSE";
const targetFiles = [licence, zodLicence];
const servicePorts = [3306, 5432, 6379, 5672, 1883, 4222];

/** What the probe is told to attack; embedded in probe.mjs by the scenario. */
type ProbeTargets = {
  tcp: Array<{ label: string; host: string; port: number }>;
  /** Targets reached through the sandbox's egress proxy, when it has one (CONNECT host:port). */
  viaProxy: Array<{ label: string; host: string; port: number }>;
  /** Platform paths asked of the proxy's door to the platform (Kiln's API, another sandbox's webhook). */
  doorPaths: string[];
  readFiles: string[];
  /** Directories listed, each with an entry the host has there: seeing it means seeing the host's directory. */
  listDirs: Array<{ dir: string; canary: string }>;
  appendFiles: string[];
  platformPid: number;
  /** Text in a host process's cmdline or environ that means the probe sees outside its sandbox. */
  hostMarkers: string[];
};

const probeResultSchema = z.record(z.string(), z.string());

/**
 * probe.mjs: plain ESM so it runs under `node` in the agent's shell and is bundled into the app's route.
 * Every attempt is reported under its own key, never thrown, so one blocked attack cannot hide the next.
 */
function probeSource(targets: ProbeTargets): string {
  return [
    'import fs from "node:fs";',
    'import http from "node:http";',
    'import net from "node:net";',
    'import path from "node:path";',
    "",
    "// Attacks the machine this app runs on; each attempt reports blocked or OPEN.",
    `const targets = ${JSON.stringify(targets)};`,
    "",
    "const reason = (error) => (error && error.code) || String(error && error.message ? error.message : error);",
    "",
    "function connect(host, port) {",
    "  return new Promise((resolve) => {",
    "    const socket = net.connect({ host, port });",
    "    const done = (result) => {",
    "      socket.destroy();",
    "      resolve(result);",
    "    };",
    '    socket.setTimeout(1500, () => done("blocked: timeout"));',
    '    socket.once("connect", () => done("OPEN: connected"));',
    '    socket.once("error", (error) => done("blocked: " + reason(error)));',
    "  });",
    "}",
    "",
    "function proxyConnect(proxyUrl, host, port) {",
    "  return new Promise((resolve) => {",
    "    const proxy = new URL(proxyUrl);",
    "    const authority = host.includes(':') ? '[' + host + ']:' + port : host + ':' + port;",
    "    const request = http.request({",
    "      host: proxy.hostname,",
    "      port: Number(proxy.port || 80),",
    '      method: "CONNECT",',
    "      path: authority,",
    "      timeout: 3000,",
    "    });",
    '    request.once("connect", (response, socket) => {',
    "      socket.destroy();",
    '      resolve(response.statusCode === 200 ? "OPEN: proxy connected" : "blocked: proxy " + response.statusCode);',
    "    });",
    '    request.once("timeout", () => {',
    "      request.destroy();",
    '      resolve("blocked: proxy timeout");',
    "    });",
    '    request.once("error", (error) => resolve("blocked: proxy " + reason(error)));',
    "    request.end();",
    "  });",
    "}",
    "",
    "// The proxy's door to the platform: only the gateway and the sandbox's own webhook may pass.",
    "function proxyDoor(proxyUrl, pathname) {",
    "  return new Promise((resolve) => {",
    "    const proxy = new URL(proxyUrl);",
    "    const request = http.get({ host: proxy.hostname, port: Number(proxy.port || 80), path: pathname, timeout: 3000 });",
    '    request.once("response", (response) => {',
    "      response.resume();",
    '      resolve(response.statusCode === 403 ? "blocked: proxy 403" : "OPEN: platform answered " + response.statusCode);',
    "    });",
    '    request.once("timeout", () => {',
    "      request.destroy();",
    '      resolve("blocked: proxy timeout");',
    "    });",
    '    request.once("error", (error) => resolve("blocked: proxy " + reason(error)));',
    "  });",
    "}",
    "",
    "function read(file) {",
    "  try {",
    "    const data = fs.readFileSync(file);",
    '    return data.length > 0 ? "OPEN: read " + data.length + " bytes" : "blocked: empty";',
    "  } catch (error) {",
    '    return "blocked: " + reason(error);',
    "  }",
    "}",
    "",
    "// A sandbox may see the path leading to its own mounts; seeing the host's entry there is the breach.",
    "function list(dir, canary) {",
    "  try {",
    "    const entries = fs.readdirSync(dir);",
    "    return entries.includes(canary)",
    '      ? "OPEN: sees " + canary + " among " + entries.length + " entries"',
    '      : "blocked: no " + canary + " among " + entries.length + " entries (" + entries.slice(0, 6).join(", ") + ")";',
    "  } catch (error) {",
    '    return "blocked: " + reason(error);',
    "  }",
    "}",
    "",
    "function append(file) {",
    "  try {",
    '    fs.appendFileSync(file, "POISONED by the hostile-app probe\\n");',
    '    return "OPEN: appended";',
    "  } catch (error) {",
    '    return "blocked: " + reason(error);',
    "  }",
    "}",
    "",
    "function text(file) {",
    "  try {",
    '    return fs.readFileSync(file).toString("utf8").split("\\0").join(" ");',
    "  } catch {",
    '    return "";',
    "  }",
    "}",
    "",
    "const marked = (value) => targets.hostMarkers.some((marker) => value.includes(marker));",
    "",
    "function hostProcesses() {",
    "  let pids;",
    "  try {",
    '    pids = fs.readdirSync("/proc").filter((entry) => /^[0-9]+$/.test(entry) && Number(entry) !== process.pid);',
    "  } catch (error) {",
    '    return { "proc: host processes": "blocked: " + reason(error), "proc: host environ": "blocked: " + reason(error) };',
    "  }",
    "  const seen = [];",
    "  const environs = [];",
    "  for (const pid of pids) {",
    '    const cmdline = text("/proc/" + pid + "/cmdline");',
    '    if (marked(cmdline)) seen.push(pid + ": " + cmdline.slice(0, 120));',
    '    if (marked(text("/proc/" + pid + "/environ"))) environs.push(pid);',
    "  }",
    "  return {",
    '    "proc: host processes": seen.length > 0 ? "OPEN: " + seen.join(" | ") : "blocked: none of " + pids.length + " visible processes is the host\'s",',
    '    "proc: host environ": environs.length > 0 ? "OPEN: environ of " + environs.join(", ") : "blocked: no host environ readable",',
    "  };",
    "}",
    "",
    "function platformProcess() {",
    "  const pid = targets.platformPid;",
    '  const cmdline = text("/proc/" + pid + "/cmdline");',
    "  const isPlatform = marked(cmdline);",
    "  const result = {};",
    '  result["proc: platform pid " + pid + " cmdline"] = isPlatform ? "OPEN: " + cmdline.slice(0, 120) : "blocked: " + (cmdline ? "another process" : "not visible");',
    '  const environ = text("/proc/" + pid + "/environ");',
    '  result["proc: platform pid " + pid + " environ"] = isPlatform && environ ? "OPEN: read " + environ.length + " bytes" : "blocked: " + (environ ? "another process" : "not readable");',
    "  try {",
    '    const fd = fs.openSync("/proc/" + pid + "/mem", "r");',
    "    fs.closeSync(fd);",
    '    result["proc: platform pid " + pid + " mem"] = isPlatform ? "OPEN: opened" : "blocked: another process";',
    "  } catch (error) {",
    '    result["proc: platform pid " + pid + " mem"] = "blocked: " + reason(error);',
    "  }",
    "  return result;",
    "}",
    "",
    "async function controls() {",
    "  const server = net.createServer((socket) => socket.end());",
    '  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));',
    '  const own = await connect("127.0.0.1", server.address().port);',
    "  server.close();",
    '  const mine = path.join(process.cwd(), ".probe-control");',
    "  let write;",
    "  try {",
    '    fs.writeFileSync(mine, "mine\\n");',
    '    write = "OPEN: wrote";',
    "  } catch (error) {",
    '    write = "blocked: " + reason(error);',
    "  }",
    "  return {",
    '    "control: connect to its own listener on 127.0.0.1": own,',
    '    "control: read its own package.json": read(path.join(process.cwd(), "package.json")),',
    '    "control: write in its own work dir": write,',
    '    "control: read /proc/self/cmdline": read("/proc/self/cmdline"),',
    "  };",
    "}",
    "",
    "export async function probe() {",
    "  const result = await controls();",
    "  const connects = targets.tcp.map(async (target) => {",
    '    result["tcp " + target.label] = await connect(target.host, target.port);',
    "  });",
    "  const proxyUrl = process.env.HTTP_PROXY || process.env.http_proxy;",
    "  const proxied = targets.viaProxy.map(async (target) => {",
    '    const key = "proxy CONNECT " + target.label;',
    '    result[key] = proxyUrl ? await proxyConnect(proxyUrl, target.host, target.port) : "blocked: no proxy in this sandbox";',
    "  });",
    "  const doors = targets.doorPaths.map(async (pathname) => {",
    '    result["proxy door GET " + pathname] = proxyUrl ? await proxyDoor(proxyUrl, pathname) : "blocked: no proxy in this sandbox";',
    "  });",
    "  await Promise.all([...connects, ...proxied, ...doors]);",
    '  for (const file of targets.readFiles) result["read " + file] = read(file);',
    '  for (const { dir, canary } of targets.listDirs) result["list " + dir] = list(dir, canary);',
    "  for (const file of targets.appendFiles) {",
    '    result["append " + file] = append(path.join(process.cwd(), file));',
    "  }",
    "  Object.assign(result, hostProcesses(), platformProcess());",
    "  return result;",
    "}",
    "",
    'if (process.argv[1] && process.argv[1].endsWith("probe.mjs")) {',
    "  console.log(JSON.stringify(await probe(), null, 2));",
    "}",
  ].join("\n");
}

const probeTypes = [
  "/** Every attack of probe.mjs and what came of it: `blocked: …` or `OPEN: …`. */",
  "export declare function probe(): Promise<Record<string, string>>;",
];

const probeRoute = [
  'import { probe } from "../../../../probe.mjs";',
  "",
  "// The hostile probe, run inside the app's own server process.",
  'export const runtime = "nodejs";',
  'export const dynamic = "force-dynamic";',
  "",
  "export async function GET() {",
  "  return Response.json(await probe());",
  "}",
];

/** The agent's turns for one vendor's API: write the probe, run it in its shell, expose it as a route. */
function hostileScenario(targets: ProbeTargets): ScenarioInput {
  const turns = (api: "openai" | "anthropic"): ScenarioInput["turns"] => [
    {
      when: { api, step: 0, structured: false },
      reply: { kind: "write", path: "probe.mjs", content: probeSource(targets), say: "Adding a probe." },
    },
    { when: { api, step: 1 }, reply: { kind: "write", path: "probe.d.mts", content: probeTypes } },
    { when: { api, step: 2 }, reply: { kind: "shell", command: "node probe.mjs > probe-agent.json" } },
    {
      when: { api, step: 3 },
      reply: { kind: "write", path: "src/app/api/probe/route.ts", content: probeRoute },
    },
    { when: { api, minStep: 4 }, reply: { kind: "text", text: "The probe is in place." } },
  ];
  return { name: "hostile-app", turns: [...turns("openai"), ...turns("anthropic")] };
}

/**
 * A private template cache: the shared install hard-linked (cheap, read by sandboxes only), except the files the
 * probe appends to, which are copies of their own, so a successful attack poisons only this test's cache.
 */
function privateCacheRoot(shared: TemplateCache, parent: string): { root: string; cache: TemplateCache } {
  const root = path.join(parent, "templates");
  fs.mkdirSync(root, { mode: 0o755 });
  const dir = path.join(root, path.basename(shared.dir));
  execFileSync("cp", ["-al", "--", shared.dir, dir]);
  fs.copyFileSync(`${shared.dir}.ready`, `${dir}.ready`);
  for (const file of targetFiles) {
    fs.rmSync(path.join(dir, file));
    fs.copyFileSync(path.join(shared.dir, file), path.join(dir, file));
  }
  return { root, cache: { ...shared, dir } };
}

/** The host's own non-loopback addresses: a sandbox on the host's network would reach services bound there. */
function hostAddresses(): string[] {
  return Object.values(os.networkInterfaces())
    .flatMap((entries) => entries ?? [])
    .filter((entry) => !entry.internal && !entry.address.startsWith("fe80:"))
    .map((entry) => entry.address);
}

function reachableFromHost(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(1500, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** The attempts that succeeded (non-control) and the controls that did not. */
function breaches(result: Record<string, string>): { open: string[]; brokenControls: string[] } {
  const entries = Object.entries(result);
  return {
    open: entries
      .filter(([key, value]) => !key.startsWith("control:") && !value.startsWith("blocked"))
      .map(([key, value]) => `${key} → ${value}`),
    brokenControls: entries
      .filter(([key, value]) => key.startsWith("control:") && !value.startsWith("OPEN"))
      .map(([key, value]) => `${key} → ${value}`),
  };
}

describe("a hostile generated app stays in its box", { timeout: 1_500_000 }, () => {
  let h: PipelineHarness;
  let scratch: string;
  let cache: TemplateCache;
  let victim: SandboxHandle;
  const extraSandboxes: SandboxHandle[] = [];
  let targets: ProbeTargets;
  const cacheBefore = new Map<string, Buffer>();
  const secret = `platform-secret-${randomBytes(8).toString("hex")}`;

  beforeAll(async () => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-hostile-"));
    fs.chmodSync(scratch, 0o755);
    const privateCache = privateCacheRoot(await templateCache(), scratch);
    cache = privateCache.cache;
    for (const file of targetFiles) cacheBefore.set(file, fs.readFileSync(path.join(cache.dir, file)));
    // The probe's targets depend on the platform's ports: the scenario is swapped in once they are known.
    h = await startPipelineHarness({
      scenarios: ["plan-todo"],
      templateCacheRoot: privateCache.root,
    });
    fs.writeFileSync(path.join(h.dataDir, "secret.key"), `${secret}\n`, { mode: 0o644 });

    // Another project's sandbox: a private file and a live preview-like server on its declared port.
    victim = await createTemplateSandbox(h.providers.sandboxes, cache, {
      name: "victim",
      env: {},
      timeoutMs: 1_500_000,
      app: { name: "victim" },
    });
    extraSandboxes.push(victim);
    await victim.writeFiles([{ path: "victim-secret.txt", content: "victim's private file\n" }]);
    const victimPort = victim.listenPort(APP_PORT);
    await victim.runDetached({
      cmd: "node",
      args: [
        "-e",
        `require("node:http").createServer((q, s) => s.end("victim preview")).listen(${victimPort}, "127.0.0.1")`,
      ],
    });
    const victimUrl = new URL(victim.url(APP_PORT));
    // The platform may accept on the host port before the server inside listens: wait for its answer.
    const victimAnswer = async () => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        try {
          return await (await fetch(victimUrl)).text();
        } catch (error) {
          if (Date.now() > deadline) throw error;
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      }
    };
    expect(await victimAnswer()).toBe("victim preview");

    const platformPort = Number(new URL(h.platform.url).port);
    const modelPort = Number(new URL(h.models.url).port);
    const ports = [
      ...servicePorts.map((port) => ({ name: String(port), port })),
      { name: "platform", port: platformPort },
      { name: "model", port: modelPort },
      { name: "victim preview", port: Number(victimUrl.port) },
    ];
    const hosts = ["127.0.0.1", "::1", ...hostAddresses()];
    targets = {
      tcp: hosts.flatMap((host) =>
        ports.map(({ name, port }) => ({ label: `${host} ${port} (${name})`, host, port })),
      ),
      // Through the proxy, the platform's own port is the sandbox's legitimate door (gateway and webhook); the
      // rest of the host's loopback is not.
      viaProxy: ports
        .filter(({ name }) => name !== "platform")
        .map(({ name, port }) => ({ label: `127.0.0.1 ${port} (${name})`, host: "127.0.0.1", port })),
      doorPaths: ["/api/v1/me", "/hooks/v1/sandboxes/another-sandbox", "/gateway/../api/v1/me"],
      readFiles: [
        "/etc/shadow",
        path.join(checkout, "package.json"),
        ...fs
          .readdirSync(checkout)
          .filter((entry) => entry.startsWith(".env"))
          .map((entry) => path.join(checkout, entry)),
        path.join(h.dataDir, "secret.key"),
        path.join(victim.workdir, "victim-secret.txt"),
      ],
      listDirs: [
        ...fs
          .readdirSync(os.userInfo().homedir)
          .slice(0, 1)
          .map((canary) => ({ dir: os.userInfo().homedir, canary })),
        { dir: checkout, canary: "package.json" },
        { dir: h.dataDir, canary: "secret.key" },
        {
          dir: path.dirname(path.dirname(victim.workdir)),
          canary: path.basename(path.dirname(victim.workdir)),
        },
        { dir: path.dirname(cache.dir), canary: path.basename(cache.dir) },
      ],
      appendFiles: targetFiles,
      platformPid: process.pid,
      // Not the data dir's path: a sandbox's own processes may carry it (HOME) on a host that shows it to them.
      hostMarkers: ["vitest", "VITEST", "mariadbd", "mysqld"],
    };
    h.switchScenarios(["plan-todo", hostileScenario(targets)]);

    // The targets are live from the host: "blocked" inside means a boundary, not a dead port.
    expect(await reachableFromHost("127.0.0.1", platformPort)).toBe(true);
    expect(await reachableFromHost("127.0.0.1", modelPort)).toBe(true);
  }, 600_000);

  afterAll(async () => {
    await Promise.allSettled(extraSandboxes.map((sandbox) => sandbox.stop()));
    await h?.close();
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  });

  it.each(["codex", "claude-code"] as const)(
    "%s: the agent's shell and the app's route are blocked at every attempt",
    async (agent) => {
      const created = await h.createProject("build a todo app", { agent });
      await h.run(created.revision.id);
      const revision = await h.waitForEnd(created.revision.id, 900_000);
      expect({ status: revision.status, error: revision.error_message }).toEqual({
        status: "finished",
        error: null,
      });

      const sandbox = await h.sandboxOf(revision);
      if (!sandbox) throw new Error("the revision's sandbox is gone");
      const written = await sandbox.readFile("probe-agent.json");
      const fromShell = probeResultSchema.parse(JSON.parse(written?.toString("utf8") ?? "null"));
      const routeResponse = await fetch(`${revision.preview_url}/api/probe`);
      expect(routeResponse.status).toBe(200);
      const fromRoute = probeResultSchema.parse(await routeResponse.json());

      for (const [where, result] of [
        ["agent shell", fromShell],
        ["preview route", fromRoute],
      ] as const) {
        console.log(`[hostile-app] ${agent} ${where}:\n${JSON.stringify(result, null, 2)}`);
        // Every attack was made (a probe that skipped one cannot pass).
        for (const target of targets.tcp) expect(Object.keys(result)).toContain(`tcp ${target.label}`);
        for (const file of targets.appendFiles) expect(Object.keys(result)).toContain(`append ${file}`);
      }
      // The probe can see success, and nothing else succeeded, from the agent's shell or the app's server.
      // (Soft: the cache checks below still run and report when this fails.)
      const clean = { open: [], brokenControls: [] };
      expect.soft({ shell: breaches(fromShell), route: breaches(fromRoute) }, agent).toEqual({
        shell: clean,
        route: clean,
      });

      // The template cache and a sandbox created after the attack keep the original bytes.
      const fresh = await createTemplateSandbox(h.providers.sandboxes, cache, {
        name: `fresh-after-${agent}`,
        env: {},
        timeoutMs: 300_000,
        app: { name: "fresh" },
      });
      extraSandboxes.push(fresh);
      for (const file of targetFiles) {
        const before = cacheBefore.get(file)?.toString("utf8");
        expect
          .soft(fs.readFileSync(path.join(cache.dir, file), "utf8"), `template cache ${file}`)
          .toBe(before);
        expect.soft((await fresh.readFile(file))?.toString("utf8"), `fresh sandbox ${file}`).toBe(before);
      }
      await fresh.stop();
    },
  );
});
