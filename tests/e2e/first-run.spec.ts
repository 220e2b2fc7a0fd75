import { randomBytes } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { type Browser, expect, test } from "@playwright/test";
import { E2E_LEG } from "./env";
import { fetchPreview, KilnApi, KilnServer, ScriptedModel } from "./kiln-cluster";
import { createToken } from "./operators";

// A newcomer's first run (issue 15): `npm run dev -- -p N` on a port other than 3000 with KILN_PUBLIC_URL unset,
// opened at http://127.0.0.1:N as well as http://localhost:N: signing in works and the pages come alive on both (under
// `next dev`, a page at 127.0.0.1 never hydrated), and the first app builds with its preview answering. Then
// `PORT=N npm start`. Servers, data dirs and a scripted model of the spec's own, on ports no other spec uses
// (playwright.config.ts's server 3210-3212, durability 3220-3223).

const DEV_PORT = Number(process.env.KILN_E2E_FIRST_RUN_PORT ?? 3240);
/** The scripted model's API; its control port is the next one. */
const MODEL_PORT = DEV_PORT + 2;
const START_PORT = DEV_PORT + 4;
const BUILD_MS = 300_000;
/** `next dev` compiles a page on its first visit: on a busy 2-core box, well beyond the usual 10 s. */
const COMPILE_MS = 120_000;
const ADMIN = { email: "newcomer@kiln.test", password: "first-run-password-1234" };
const root = path.join(os.tmpdir(), "kiln-e2e");

/**
 * A fresh data dir and what a newcomer sets: the first operator, nothing else. KILN_PUBLIC_URL empty is unset (and
 * keeps a value from a .env file out); no PORT, no secret key (the first start generates one), the embedded database.
 */
function firstRunEnv(name: string): { env: NodeJS.ProcessEnv; dataDir: string; logFile: string } {
  const dataDir = path.join(root, name);
  const logFile = path.join(root, `${name}.log`);
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.rmSync(logFile, { force: true });
  fs.mkdirSync(dataDir, { recursive: true });
  const { PORT: _port, KILN_SECRET_KEY: _key, ...inherited } = process.env;
  const env = {
    ...inherited,
    KILN_PUBLIC_URL: "",
    DATABASE_URL: "",
    KILN_DATA_DIR: dataDir,
    KILN_ADMIN_EMAIL: ADMIN.email,
    KILN_ADMIN_PASSWORD: ADMIN.password,
    // As the other e2e servers: builds install what they use on demand; no production build per checkpoint.
    KILN_PREPARE_AT_BOOT: "0",
    KILN_AUTO_DEPLOY: "0",
    // The operator's model is the scripted one on 127.0.0.1, like a self-hoster's Ollama.
    KILN_ALLOW_PRIVATE_MODEL_URLS: "1",
    NEXT_TELEMETRY_DISABLED: "1",
  };
  return { env, dataDir, logFile };
}

/** What the server printed, polled until `expected` shows (the KILN_PUBLIC_URL check ends after it listens). */
async function expectLogged(logFile: string, expected: string): Promise<void> {
  await expect
    .poll(() => fs.readFileSync(logFile, "utf8"), {
      message: `the server log says "${expected}"`,
      timeout: 30_000,
    })
    .toContain(expected);
}

/**
 * Opens /login at `origin` in a fresh browser; proves the form is driven by React (a wrong password leaves the page
 * where it is, with what was typed and the error, as only the hydrated form does: the browser's own submit would
 * POST the page and reload it empty), then signs in and lands on the dashboard.
 */
async function signInAt(browser: Browser, origin: string): Promise<void> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const documentPosts: string[] = [];
    const consoleErrors: string[] = [];
    page.on("request", (request) => {
      if (request.isNavigationRequest() && request.method() === "POST") documentPosts.push(request.url());
    });
    page.on("console", (message) => {
      if (message.type() === "error") consoleErrors.push(message.text());
    });
    await page.goto(`${origin}/projects`);
    await expect(page).toHaveURL(`${origin}/login?next=%2Fprojects`);

    // Hydration ends with React's handlers on the form: until then a click is the browser's own submit.
    await page
      .waitForFunction(
        () => {
          const form = document.querySelector("form");
          return !!form && Object.keys(form).some((key) => key.startsWith("__reactProps"));
        },
        undefined,
        { timeout: 60_000 },
      )
      .catch((error: unknown) => {
        throw new Error(
          `the login page at ${origin} never hydrated; console errors: ${JSON.stringify([...new Set(consoleErrors)])}`,
          { cause: error },
        );
      });

    await page.getByLabel("Email").fill(ADMIN.email);
    await page.getByLabel("Password").fill("not-the-password-0123");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("alert")).toBeVisible({ timeout: COMPILE_MS });
    await expect(page.getByLabel("Email"), "the hydrated form keeps what was typed").toHaveValue(ADMIN.email);
    expect(documentPosts, "the form signed in from the page, not by the browser posting it").toEqual([]);

    await page.getByLabel("Password").fill(ADMIN.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL(`${origin}/projects`, { timeout: COMPILE_MS });
    await expect(page.getByRole("heading", { name: "What do you want to build?" })).toBeVisible({
      timeout: COMPILE_MS,
    });
    expect(documentPosts, "signed in from the page").toEqual([]);
    expect(consoleErrors, "no errors in the browser console").toEqual([]);
  } finally {
    await context.close();
  }
}

/**
 * A page's handshake for `next dev`'s reload socket, sent with `origin` as a browser on that origin would: "upgraded"
 * (101), or how it was refused (Next.js answers a refused upgrade with a bare "Unauthorized", no HTTP at all).
 */
function reloadSocketHandshake(port: number, origin: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = http.request({
      host: "127.0.0.1",
      port,
      path: `/_next/hmr?id=${randomBytes(8).toString("hex")}`,
      headers: {
        connection: "Upgrade",
        upgrade: "websocket",
        origin,
        "sec-websocket-version": "13",
        "sec-websocket-key": randomBytes(16).toString("base64"),
      },
      timeout: 30_000,
    });
    request.on("upgrade", (_response, socket) => {
      socket.destroy();
      resolve("upgraded");
    });
    request.on("response", (response) => {
      response.resume();
      resolve(`HTTP ${response.statusCode}`);
    });
    request.on("timeout", () => request.destroy(new Error(`no answer to the handshake from ${origin}`)));
    request.on("error", (error: NodeJS.ErrnoException) => {
      // HPE_*: llhttp could not parse the answer as HTTP (the bare "Unauthorized"); anything else is a real failure.
      if (error.code?.startsWith("HPE_")) resolve(`no HTTP answer (${error.code})`);
      else reject(error);
    });
    request.end();
  });
}

test.describe("first run: npm run dev -- -p N, KILN_PUBLIC_URL unset", () => {
  test.skip(E2E_LEG !== "libsql", "the libsql leg runs it (it starts servers of its own)");
  test.describe.configure({ timeout: 600_000 });

  const logFile = path.join(root, "first-run-dev.log");
  const model = new ScriptedModel(MODEL_PORT, path.join(root, "first-run-model.log"));
  let server: KilnServer | undefined;
  let dataDir = "";
  let projectId: string | undefined;
  let api: KilnApi | undefined;

  test.beforeAll(async () => {
    test.setTimeout(360_000);
    const fresh = firstRunEnv("first-run-dev");
    dataDir = fresh.dataDir;
    // No -H: it listens on every interface, as a plain `npm run dev` does.
    server = new KilnServer("dev", DEV_PORT, fresh.env, logFile, { script: "dev", hostname: null });
    await model.start();
    await server.start();
  });
  test.afterAll(async () => {
    test.setTimeout(120_000);
    // Deleting the project tears its sandbox and preview down.
    if (api && projectId && server?.running) await api.deleteProject(projectId);
    await server?.stop();
    await model.stop();
  });
  test.afterEach(async () => {
    if (fs.existsSync(logFile))
      await test.info().attach("server log", { body: fs.readFileSync(logFile, "utf8") });
  });

  test("it says where it is, and that address reaches it", async () => {
    await expectLogged(logFile, `Kiln is listening on http://localhost:${DEV_PORT} (dev)`);
    await expectLogged(logFile, `KILN_PUBLIC_URL (http://localhost:${DEV_PORT}) reaches this server`);
  });

  for (const host of ["127.0.0.1", "localhost"]) {
    test(`on http://${host}:${DEV_PORT} the login form hydrates and signing in works`, async ({
      browser,
    }) => {
      await signInAt(browser, `http://${host}:${DEV_PORT}`);
    });
  }

  test("the dev reload socket opens for this machine's addresses, and for no other site", async () => {
    for (const origin of [
      `http://127.0.0.1:${DEV_PORT}`,
      `http://localhost:${DEV_PORT}`,
      `http://[::1]:${DEV_PORT}`,
    ])
      expect(await reloadSocketHandshake(DEV_PORT, origin), origin).toBe("upgraded");
    for (const origin of ["http://attacker.example", `http://192.0.2.7:${DEV_PORT}`, "null"])
      expect(await reloadSocketHandshake(DEV_PORT, origin), origin).not.toBe("upgraded");
  });

  test("the first app builds, and its preview answers on Kiln's port", async () => {
    if (!server) throw new Error("no server");
    api = new KilnApi(
      server,
      createToken(ADMIN.email, "first-run", { KILN_DATA_DIR: dataDir, DATABASE_URL: "" }),
    );
    await api.saveModelKey(model);
    await model.switchScript(["plan-todo", "codex-todo-app"]);
    const created = await api.createProject("build a todo app");
    projectId = created.projectId;
    const done = await api.waitForRevision(
      created.revisionId,
      "finished",
      (revision) => revision.status === "finished",
      BUILD_MS,
      1_000,
    );
    expect(done.previewUrl, "a finished checkpoint links its preview").toMatch(
      new RegExp(`^http://p-[0-9a-f]+\\.localhost:${DEV_PORT}/`),
    );
    const preview = await fetchPreview(done.previewUrl ?? "");
    expect(preview.status, "the preview answers").toBe(200);
    expect(preview.body).toMatch(/todo/i);
  });
});

test.describe("first run: PORT=N npm start, KILN_PUBLIC_URL unset", () => {
  test.skip(E2E_LEG !== "libsql", "the libsql leg runs it (it starts a server of its own)");
  test.describe.configure({ timeout: 300_000 });

  test("it listens on PORT, says so, and that address reaches it; signing in works", async ({ browser }) => {
    if (!fs.existsSync(path.resolve(".next/BUILD_ID")))
      throw new Error("no production build in .next: run `npx next build` first (npm run test:e2e does)");
    const { env, logFile } = firstRunEnv("first-run-start");
    const server = new KilnServer("start", START_PORT, env, logFile, { portFrom: "env", hostname: null });
    try {
      await server.start();
      await expectLogged(logFile, `Kiln is listening on http://localhost:${START_PORT} (start)`);
      await expectLogged(logFile, `KILN_PUBLIC_URL (http://localhost:${START_PORT}) reaches this server`);
      await signInAt(browser, `http://localhost:${START_PORT}`);
    } finally {
      await server.stop();
      if (fs.existsSync(logFile))
        await test.info().attach("server log", { body: fs.readFileSync(logFile, "utf8") });
    }
  });
});
