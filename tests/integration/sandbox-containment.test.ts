import { execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { isNonPublicAddress } from "@/server/credentials/model-url-policy";
import { createLocalSandboxes, type LocalSandboxesOptions } from "@/server/integrations/sandboxes/local";
import type { Sandboxes, SandboxHandle } from "@/server/integrations/sandboxes/port";
import type { TemplateCache } from "@/server/templates/template-cache";
import { createTemplateSandbox } from "@/server/templates/template-sandbox";
import { templateCache } from "../helpers/template";

// A hostile app in a local sandbox, as an attacker would try it from the agent's shell: host secrets, the
// platform's checkout and data dir, other sandboxes, host processes and sockets, and the shared template cache.
// Every attempt must fail; the allowed paths (its own files, its dependencies, replacing a dependency the way
// npm does) must keep working. Runs the adapter the way the platform wires it (registry.ts: data dir and checkout
// passed as hidden paths).

const checkout = process.cwd();
const cleanup: string[] = [];
const stops: SandboxHandle[] = [];

let dataDir: string;
let sandboxes: Sandboxes;
let adapterOptions: LocalSandboxesOptions;
let attacker: SandboxHandle;
let victim: SandboxHandle;
let cacheDir: string;
/** Stands in for Kiln on the host's loopback: answers every path, so only the door can make a request fail. */
let kiln: http.Server;
/** A package registry the allow-list names; on 127.0.0.2, which only this test's address filter lets through. */
let registry: http.Server;
let attackerDoor: string;
let registryUrl: string;
let kilnUrl: string;

function listen(server: http.Server, host: string): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, host, () => resolve((server.address() as AddressInfo).port)),
  );
}

const licence = "node_modules/kysely/LICENSE";

async function sh(sandbox: SandboxHandle, script: string) {
  return sandbox.run({ cmd: "sh", args: ["-c", script] });
}

/**
 * A private copy of the installed template (sources and one dependency, the one the attack targets), laid out and
 * owned like the real cache: on code that lets a sandbox write through its links, the failing run must poison
 * this copy, not the cache every other test (and engineer) on the machine shares.
 */
function privateCache(shared: TemplateCache, parent: string): TemplateCache {
  const dir = path.join(parent, `${shared.name}-${shared.version}`);
  fs.mkdirSync(path.join(dir, "node_modules"), { recursive: true });
  for (const entry of fs.readdirSync(shared.dir)) {
    if (entry === "node_modules") continue;
    execFileSync("cp", ["-a", "--", path.join(shared.dir, entry), dir]);
  }
  execFileSync("cp", [
    "-a",
    "--",
    path.join(shared.dir, "node_modules", "kysely"),
    path.join(dir, "node_modules"),
  ]);
  return { ...shared, dir };
}

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join("/var/tmp", "kiln-containment-data-"));
  cleanup.push(dataDir);
  const cache = privateCache(await templateCache(), dataDir);
  cacheDir = cache.dir;
  fs.chmodSync(dataDir, 0o755);
  fs.writeFileSync(path.join(dataDir, "secret.key"), "platform-secret-key\n", { mode: 0o644 });
  const root = path.join(dataDir, "sandboxes");
  kiln = http.createServer((req, res) => res.end(`kiln:${req.url}`));
  registry = http.createServer((req, res) => res.end(`registry:${req.headers.host}${req.url}`));
  const kilnPort = await listen(kiln, "127.0.0.1");
  const registryPort = await listen(registry, "127.0.0.2");
  adapterOptions = {
    root,
    hidePaths: [dataDir, checkout],
    network: {
      allowedHosts: [`registry.kiln.test:${registryPort}`, `rebound.kiln.test:${kilnPort}`],
      // The registry resolves to the test's loopback registry; `rebound.kiln.test` (allowed by name) to the host's loopback, refused.
      resolve: async (host) => (host === "registry.kiln.test" ? ["127.0.0.2"] : ["127.0.0.1"]),
      isRefusedAddress: (address) => address !== "127.0.0.2" && isNonPublicAddress(address),
    },
  };
  sandboxes = createLocalSandboxes(adapterOptions);
  registryUrl = `http://registry.kiln.test:${registryPort}`;
  kilnUrl = `http://127.0.0.1:${kilnPort}`;
  const create = (name: string) =>
    createTemplateSandbox(sandboxes, cache, { name, env: {}, timeoutMs: 300_000, app: { name } });
  attacker = await create("attacker");
  victim = await create("victim");
  stops.push(attacker, victim);
  await victim.writeFiles([{ path: "victim-secret.txt", content: "victim's private file\n" }]);
  attackerDoor =
    (await attacker.platformUrl?.({ publicUrl: kilnUrl, webhookId: "sandbox_attacker" })) ?? kilnUrl;
  await victim.platformUrl?.({ publicUrl: kilnUrl, webhookId: "sandbox_victim" });
}, 600_000);

afterAll(async () => {
  await Promise.allSettled(stops.map((sandbox) => sandbox.stop()));
  kiln?.close();
  registry?.close();
  for (const dir of cleanup) fs.rmSync(dir, { recursive: true, force: true });
});

describe("a local sandbox's processes are contained", { timeout: 120_000 }, () => {
  it("run as an unprivileged uid, not root", async () => {
    const id = await sh(attacker, "id -u");
    expect(id.exitCode).toBe(0);
    expect(id.stdout.trim()).not.toBe("0");
    // Files it creates are not the platform's (root's) on the host either.
    await sh(attacker, "echo mine > made-inside.txt");
    expect(fs.statSync(path.join(attacker.workdir, "made-inside.txt")).uid).not.toBe(0);
  });

  it("cannot read /etc/shadow or the platform user's home", async () => {
    const shadow = await sh(attacker, "cat /etc/shadow");
    expect(shadow.stdout).not.toMatch(/root:/);
    const home = await sh(attacker, `ls -A ${os.userInfo().homedir}`);
    expect(home.stdout).toBe("");
  });

  it("cannot read the platform's checkout (.env files, package.json)", async () => {
    const listing = await sh(attacker, `ls -A ${checkout}`);
    expect(listing.stdout).toBe("");
    const packageJson = await sh(attacker, `cat ${path.join(checkout, "package.json")}`);
    expect(packageJson.exitCode).not.toBe(0);
    expect(packageJson.stdout).toBe("");
    const envFiles = await sh(attacker, `cat ${checkout}/.env* 2>/dev/null; true`);
    expect(envFiles.stdout).toBe("");
  });

  it("cannot read the platform's data dir", async () => {
    const secret = await sh(attacker, `cat ${path.join(dataDir, "secret.key")}`);
    expect(secret.exitCode).not.toBe(0);
    expect(secret.stdout).not.toContain("platform-secret-key");
  });

  it("cannot read or list another sandbox's work dir", async () => {
    const read = await sh(attacker, `cat ${path.join(victim.workdir, "victim-secret.txt")}`);
    expect(read.exitCode).not.toBe(0);
    expect(read.stdout).toBe("");
    const listing = await sh(
      attacker,
      `ls -A ${path.dirname(victim.workdir)} ${path.dirname(path.dirname(victim.workdir))}`,
    );
    expect(listing.stdout).not.toContain(path.basename(path.dirname(victim.workdir)));
  });

  it("sees no host process in /proc, not the platform's environment", async () => {
    const procs = await sh(
      attacker,
      "for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline 2>/dev/null; echo; done",
    );
    expect(procs.stdout).not.toMatch(/vitest|mariadbd|mysqld/);
    const count = procs.stdout.split("\n").filter((line) => line.trim()).length;
    expect(count).toBeLessThan(10);
    const environ = await sh(attacker, `cat /proc/${process.pid}/environ 2>/dev/null | tr '\\0' '\\n'`);
    expect(environ.stdout).not.toMatch(/^PATH=/m);
  });

  it("sees no host Unix socket (a database's socket works through a read-only mount)", async () => {
    const probe = await sh(attacker, "ls -A /run /var/run /var/lib/mysql 2>/dev/null; true");
    expect(probe.stdout).toBe("");
    const socket = await sh(attacker, "test -e /run/mysqld/mysqld.sock");
    expect(socket.exitCode).not.toBe(0);
  });

  it("cannot change a dependency shared with the template cache; the cache and other sandboxes keep it", async () => {
    const before = fs.readFileSync(path.join(cacheDir, licence), "utf8");
    expect(fs.statSync(path.join(attacker.workdir, licence)).ino).toBe(
      fs.statSync(path.join(cacheDir, licence)).ino,
    );
    const append = await sh(attacker, `echo POISONED >> ${licence}`);
    expect(append.exitCode).not.toBe(0);
    const truncate = await sh(attacker, `: > ${licence}`);
    expect(truncate.exitCode).not.toBe(0);
    const chmod = await sh(attacker, `chmod 666 ${licence}`);
    expect(chmod.exitCode).not.toBe(0);
    expect(fs.readFileSync(path.join(cacheDir, licence), "utf8")).toBe(before);
    expect((await sh(victim, `cat ${licence}`)).stdout).toBe(before);
  });

  it("may still replace a dependency in its own tree (as npm does), without touching the cache", async () => {
    const before = fs.readFileSync(path.join(cacheDir, licence), "utf8");
    const replace = await sh(attacker, `rm ${licence} && echo own-copy > ${licence} && cat ${licence}`);
    expect(replace).toMatchObject({ exitCode: 0, stdout: "own-copy\n" });
    expect(fs.readFileSync(path.join(cacheDir, licence), "utf8")).toBe(before);
    expect((await sh(victim, `cat ${licence}`)).stdout).toBe(before);
  });

  it("still edits its own source files and writes its home and tmp", async () => {
    const edit = await sh(
      attacker,
      "echo '// edited' >> app.json.bak; echo x >> package.json && echo ok > $HOME/h && echo ok > /tmp/t && cat $HOME/h /tmp/t",
    );
    expect(edit).toMatchObject({ exitCode: 0, stdout: "ok\nok\n" });
    await attacker.writeFiles([{ path: "src/new/dir/file.ts", content: "export {};\n" }]);
    const own = await sh(attacker, "echo more >> src/new/dir/file.ts && rm -r src/new");
    expect(own.exitCode).toBe(0);
  });
});

/** `OPEN` when a TCP connection from inside succeeds, else the error code. */
function tcpProbe(host: string, port: number): string {
  return `node -e "require('net').connect(${port},'${host}').on('connect',()=>{console.log('OPEN');process.exit(0)}).on('error',(e)=>{console.log(e.code);process.exit(0)})"`;
}

/** HTTP status and body from inside; curl honours the sandbox's HTTP(S)_PROXY unless told otherwise. */
async function curl(sandbox: SandboxHandle, url: string, extra: string[] = []) {
  const result = await sandbox.run({
    cmd: "curl",
    args: ["-s", "-m", "10", "-o", "-", "-w", "\n%{http_code}", ...extra, url],
  });
  const lines = result.stdout.split("\n");
  return { status: lines.pop() ?? "", body: lines.join("\n") };
}

describe("a local sandbox's network is its own", { timeout: 120_000 }, () => {
  it("cannot reach the host's databases, Redis or Kiln itself over TCP", async () => {
    const kilnPort = Number(new URL(kilnUrl).port);
    for (const port of [3306, 5432, 6379, kilnPort]) {
      const probe = await sh(attacker, tcpProbe("127.0.0.1", port));
      expect(probe.stdout.trim(), `127.0.0.1:${port}`).not.toBe("OPEN");
    }
    // Not by another address of the host either (its own network namespace has only loopback).
    const direct = await curl(attacker, `${kilnUrl}/api/v1/me`, ["--noproxy", "*"]);
    expect(direct.body).not.toContain("kiln:");
  });

  it("reaches an allow-listed registry through the proxy; other hosts and private addresses are refused", async () => {
    const allowed = await curl(attacker, `${registryUrl}/kysely`);
    expect(allowed).toEqual({ status: "200", body: `registry:${new URL(registryUrl).host}/kysely` });
    const unlisted = await curl(attacker, "http://example.com/");
    expect(unlisted.status).toBe("403");
    // On the allow-list by name, but it resolves to the host's loopback: refused.
    const loopback = await curl(attacker, `http://rebound.kiln.test:${new URL(kilnUrl).port}/api/v1/me`);
    expect(loopback.status).toBe("403");
    expect(loopback.body).not.toContain("kiln:");
    const tunnel = await curl(attacker, "https://example.com/");
    expect(tunnel.body).not.toContain("Example Domain");
  });

  it("reaches Kiln only through its door: the gateway and its own webhook", async () => {
    const gateway = await curl(attacker, `${attackerDoor}/gateway/v1/responses`);
    expect(gateway).toEqual({ status: "200", body: "kiln:/gateway/v1/responses" });
    const hook = await curl(attacker, `${attackerDoor}/hooks/v1/sandboxes/sandbox_attacker`, ["-d", "{}"]);
    expect(hook).toEqual({ status: "200", body: "kiln:/hooks/v1/sandboxes/sandbox_attacker" });
    for (const refused of [
      "/api/v1/me",
      "/hooks/v1/sandboxes/sandbox_victim",
      "/gateway/v1/../../api/v1/me",
      "/gateway/v1/%2e%2e/%2e%2e/api/v1/me",
      "/",
    ]) {
      const answer = await curl(attacker, `${attackerDoor}${refused}`, ["--path-as-is"]);
      expect(answer.status, refused).toBe("403");
      expect(answer.body).not.toContain("kiln:");
    }
  });

  it("cannot reach another sandbox's preview; the platform reaches its own through url()", async () => {
    const port = victim.listenPort(3000);
    const server = await victim.runDetached({
      cmd: "node",
      args: [
        "-e",
        `require('http').createServer((q,s)=>s.end('victim-preview')).listen(${port},'127.0.0.1')`,
      ],
    });
    try {
      let body = "";
      for (let attempt = 0; attempt < 50 && body !== "victim-preview"; attempt++) {
        // Bounded: under load a first connection can stall while the server starts; the loop asks again.
        body = await fetch(victim.url(3000), { signal: AbortSignal.timeout(3_000) }).then(
          (res) => res.text(),
          () => "",
        );
        if (body !== "victim-preview") await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(body).toBe("victim-preview");
      // A later command of the same sandbox reaches it too (one namespace per sandbox).
      const own = await curl(victim, `http://127.0.0.1:${port}/`);
      expect(own.body).toBe("victim-preview");
      const probe = await sh(attacker, tcpProbe("127.0.0.1", port));
      expect(probe.stdout.trim()).not.toBe("OPEN");
    } finally {
      await server.kill();
    }
  });

  it("another copy of the adapter in the same server (a second bundle) attaches to its network, not rebuilds it", async () => {
    const port = victim.listenPort(3000);
    const server = await victim.runDetached({
      cmd: "node",
      args: ["-e", `require('http').createServer((q,s)=>s.end('still here')).listen(${port},'127.0.0.1')`],
    });
    const read = (url: string) =>
      fetch(url, { signal: AbortSignal.timeout(3_000) }).then(
        (res) => res.text(),
        () => "",
      );
    try {
      let body = "";
      for (let attempt = 0; attempt < 50 && body !== "still here"; attempt++) {
        body = await read(victim.url(3000));
        if (body !== "still here") await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(body).toBe("still here");
      // Next.js bundles the adapter into each route: the webhook route's copy reattaches to a sandbox that the
      // route which started the build set up.
      vi.resetModules();
      const copy = await import("@/server/integrations/sandboxes/local");
      const again = await copy.createLocalSandboxes(adapterOptions).get(victim.id);
      expect(again).not.toBeNull();
      expect(await read(again?.url(3000) ?? "")).toBe("still here");
      expect(await read(victim.url(3000))).toBe("still here");
    } finally {
      await server.kill();
    }
  });
});
