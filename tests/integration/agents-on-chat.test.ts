import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import { createServer, type IncomingMessage } from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentDefinition } from "@/agents/registry";
import { createOperator } from "@/server/auth/operators";
import { type CredentialContext, saveCredential } from "@/server/credentials/credential-store";
import { handleGatewayRequest } from "@/server/gateway/proxy";
import { issueRunToken } from "@/server/gateway/run-token";
import { credentialUpstreamResolver } from "@/server/gateway/upstream";
import { verifyCredential } from "@/server/integrations/verify-credential";
import { createProject } from "@/server/operations/create-project";
import { listenOnLoopback } from "../fakes/http";
import { type ModelServer, type ScenarioInput, startModelServer } from "../fakes/model-server";
import { type TestDatabase, testDatabases } from "../helpers/databases";
import { toolchainCacheRoot } from "../helpers/toolchains";

// The REAL Codex and Claude Code CLIs, on the host (no sandbox, no app build: the whole pipeline is
// pipeline-compatible.test.ts), through Kiln's gateway to a server that speaks ONLY Chat Completions: one turn that
// writes a file with a tool call, runs a command, and finishes, each CLI in its own protocol.

const secretKey = randomBytes(32);
const SANDBOX = "sbx_agentsonchat";
const MODEL = "kiln-coder";

const scenario: ScenarioInput = {
  name: "agents-on-chat",
  usage: { input: 1500, output: 80, cached: 0 },
  turns: [
    {
      when: { step: 0 },
      reasoning: "Write the note first.",
      reply: {
        kind: "write",
        path: "note.txt",
        content: "written through chat completions\n",
        say: "Writing",
      },
    },
    { when: { step: 1 }, reply: { kind: "shell", command: "cat note.txt" } },
    {
      when: { minStep: 2, lastToolResultContains: "written through chat completions" },
      reply: { kind: "text", text: "All done: the note is written." },
    },
    { when: { minStep: 2 }, reply: { kind: "text", text: "The note was not there." } },
  ],
};

function binPath(kind: "codex" | "claude-code"): string {
  const toolchain = agentDefinition(kind).toolchain;
  return path.join(
    toolchainCacheRoot(),
    `${kind}-${toolchain.version}`,
    "node_modules",
    ".bin",
    toolchain.bin,
  );
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of req) parts.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(parts);
}

const installed = fs.existsSync(binPath("codex")) && fs.existsSync(binPath("claude-code"));

describe.runIf(installed)(
  "the real CLIs through the gateway to a Chat Completions server",
  { timeout: 300_000 },
  () => {
    let t: TestDatabase;
    let ctx: CredentialContext;
    let models: ModelServer;
    let gatewayUrl: string;
    let closeGateway: () => Promise<void>;
    let userId: string;
    const dirs: string[] = [];

    beforeAll(async () => {
      const libsql = testDatabases[0];
      if (!libsql) throw new Error("no test database");
      t = await libsql.open();
      models = await startModelServer({ scenario, apis: ["chat"], models: [MODEL] });
      ctx = {
        key: secretKey,
        endpoints: {
          githubApiUrl: models.url,
          vercelApiUrl: models.url,
          tidbCloudApiUrl: models.url,
          openaiBaseUrl: models.openaiBaseUrl,
          anthropicBaseUrl: models.url,
          allowPrivateModelUrls: true,
        },
        platformDefaults: {},
        verify: (input) => verifyCredential(input, { endpoints: ctx.endpoints }),
      };
      userId = (
        await createOperator(
          t.db,
          { email: "ops@example.com", password: "correct horse battery" },
          { bcryptCost: 4 },
        )
      ).id;
      await saveCredential(t.db, ctx, userId, {
        kind: "openai-compatible",
        baseUrl: models.openaiBaseUrl,
        price: "0,0",
      });
      const server = createServer((req, res) => {
        void (async () => {
          const url = new URL(req.url ?? "/", "http://gateway.local");
          const match = /^\/gateway\/v1\/(responses|messages)$/.exec(url.pathname);
          if (!match || req.method !== "POST") {
            res.writeHead(404).end();
            return;
          }
          const headers = new Headers();
          for (const [name, value] of Object.entries(req.headers))
            if (typeof value === "string") headers.set(name, value);
          const response = await handleGatewayRequest(
            {
              protocol: match[1] === "responses" ? "openai-responses" : "anthropic-messages",
              request: new Request(url, {
                method: "POST",
                headers,
                body: new Uint8Array(await readBody(req)),
              }),
            },
            {
              db: t.db,
              secretKey,
              resolveUpstream: credentialUpstreamResolver(t.db, ctx),
              budget: { tokens: 0, usdMicros: 0 },
            },
          );
          res.writeHead(response.status, Object.fromEntries(response.headers));
          const reader = response.body?.getReader();
          for (;;) {
            const chunk = await reader?.read();
            if (!chunk || chunk.done) break;
            res.write(chunk.value);
          }
          res.end();
        })().catch((error: unknown) => {
          console.error(error);
          res.destroy();
        });
      });
      const listening = await listenOnLoopback(server);
      gatewayUrl = `${listening.url}/gateway`;
      closeGateway = listening.close;
    });

    afterAll(async () => {
      await closeGateway?.();
      await models?.close();
      await t?.drop();
      for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
    });

    async function runAgent(kind: "codex" | "claude-code") {
      const created = await createProject(
        t.db,
        userId,
        { prompt: "write the note", agent: kind, provider: "openai-compatible", model: MODEL },
        { git: "local", database: "libsql", sandbox: "local", blob: "local", deploy: "local" },
      );
      await t.db
        .updateTable("revision")
        .set({ status: "generating", sandbox_id: SANDBOX })
        .where("id", "=", created.revision.id)
        .execute();
      const runToken = issueRunToken(
        { revisionId: created.revision.id, sandboxId: SANDBOX, ttlMs: 600_000 },
        secretKey,
      );
      const root = fs.mkdtempSync(path.join(os.tmpdir(), `kiln-chat-${kind}-`));
      dirs.push(root);
      const home = path.join(root, "home");
      const workdir = path.join(root, "work");
      fs.mkdirSync(home);
      fs.mkdirSync(workdir);
      const definition = agentDefinition(kind);
      const config = definition.runConfig({ gatewayBaseUrl: gatewayUrl, model: MODEL, runToken, home });
      for (const file of config.files) {
        fs.mkdirSync(path.dirname(file.path), { recursive: true });
        fs.writeFileSync(file.path, file.content);
      }
      const command = definition.command({
        binPath: binPath(kind),
        prompt: "write the note",
        model: MODEL,
        workdir,
      });
      const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
        (resolve, reject) => {
          // stdin is /dev/null, as in a sandbox: Codex reads a piped stdin as more prompt.
          const child = spawn(command.cmd, command.args, {
            cwd: command.cwd,
            env: { NODE_ENV: "test", PATH: process.env.PATH ?? "/usr/bin:/bin", ...config.env },
            stdio: ["ignore", "pipe", "pipe"],
            timeout: 120_000,
          });
          let stdout = "";
          let stderr = "";
          child.stdout.on("data", (chunk: Buffer) => {
            stdout += chunk.toString("utf8");
          });
          child.stderr.on("data", (chunk: Buffer) => {
            stderr += chunk.toString("utf8");
          });
          child.on("error", reject);
          child.on("close", (code) => resolve({ code, stdout, stderr }));
        },
      );
      if (result.code !== 0) {
        const seen = models
          .modelRequests()
          .map((request) => `${request.path} step=${request.conversation?.step} turn=${request.turn}`);
        throw new Error(
          `${kind} exited ${result.code}: ${result.stderr.slice(-3000)}\n${result.stdout.slice(-3000)}\nmodel requests: ${seen.join("; ")}`,
        );
      }
      const usage = await t.db
        .selectFrom("usage")
        .selectAll()
        .where("revision_id", "=", created.revision.id)
        .execute();
      return { stdout: result.stdout, workdir, usage };
    }

    it.each(["codex", "claude-code"] as const)(
      "%s writes the file with a tool call, reads it back, and finishes",
      async (kind) => {
        const before = models.modelRequests().length;
        const { stdout, workdir, usage } = await runAgent(kind);
        expect(fs.readFileSync(path.join(workdir, "note.txt"), "utf8")).toBe(
          "written through chat completions\n",
        );
        expect(stdout).toContain("All done: the note is written.");
        const requests = models.modelRequests().slice(before);
        expect(requests.every((request) => request.path === "/v1/chat/completions")).toBe(true);
        expect(requests.length).toBeGreaterThanOrEqual(3);
        expect(usage.length).toBe(requests.length);
        expect(
          usage.every((row) => row.provider === "openai-compatible" && Number(row.input_tokens) === 1500),
        ).toBe(true);
      },
    );
  },
);
