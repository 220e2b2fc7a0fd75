import fs from "node:fs";
import os from "node:os";
import path from "node:path";

// Shared by playwright.config.ts and the specs: where the e2e server runs and who its first operator is.
export const E2E_PORT = Number(process.env.KILN_E2E_PORT ?? 3210);
export const E2E_BASE_URL = `http://127.0.0.1:${E2E_PORT}`;

/**
 * Which control plane the e2e server runs on: the embedded libSQL file under a production build (every spec), or
 * MySQL (`KILN_TEST_MYSQL_URL`'s server, a database of its own) under a production build or `next dev`, where the
 * control-plane specs run (scripts/test.ts runs all three legs).
 */
export type E2eLeg = "libsql" | "mysql" | "mysql-dev";
export const E2E_LEG: E2eLeg = parseLeg(process.env.KILN_E2E_LEG);
// Outside the checkout: local sandboxes run as an unprivileged uid that must be able to walk down to the data dir,
// and a checkout may sit under a home directory that uid cannot enter (root's, 0700).
export const E2E_DATA_DIR = path.join(os.tmpdir(), "kiln-e2e", E2E_LEG);
/** Everything the e2e server prints, so a spec can wait for what it logs (the reconciler's first pass). */
export const E2E_SERVER_LOG = `${E2E_DATA_DIR}.log`;

function parseLeg(value: string | undefined): E2eLeg {
  if (value === undefined || value === "" || value === "libsql") return "libsql";
  if (value === "mysql" || value === "mysql-dev") return value;
  throw new Error(`KILN_E2E_LEG must be libsql, mysql or mysql-dev (got "${value}")`);
}

/** The MySQL leg's own database on the test server; scripts/e2e-server.ts drops and recreates it per run. */
function e2eDatabaseUrl(): string {
  if (E2E_LEG === "libsql") return "";
  const server = process.env.KILN_TEST_MYSQL_URL;
  if (!server)
    throw new Error(`The ${E2E_LEG} e2e leg needs KILN_TEST_MYSQL_URL (mysql://root@127.0.0.1:3306/test)`);
  const url = new URL(server);
  url.pathname = `/kiln_e2e_${E2E_LEG.replace("-", "_")}`;
  return url.toString();
}
export const E2E_ADMIN = { email: "operator@kiln.test", password: "e2e-password-1234" };

/** The scripted model (tests/e2e/scripted-model.ts): Responses/Messages on one port, its script switched on another. */
export const E2E_MODEL_PORT = Number(process.env.KILN_E2E_MODEL_PORT ?? 3211);
export const E2E_MODEL_URL = `http://127.0.0.1:${E2E_MODEL_PORT}`;
export const E2E_MODEL_CONTROL_URL = `http://127.0.0.1:${E2E_MODEL_PORT + 1}`;
/** The only key the scripted model accepts; operators save it in their settings like a real one. */
export const E2E_MODEL_KEY = "sk-e2e-scripted-model-key-7f3a";

export const e2eServerEnv: Record<string, string> = {
  KILN_DATA_DIR: E2E_DATA_DIR,
  KILN_PUBLIC_URL: E2E_BASE_URL,
  KILN_ADMIN_EMAIL: E2E_ADMIN.email,
  KILN_ADMIN_PASSWORD: E2E_ADMIN.password,
  DATABASE_URL: e2eDatabaseUrl(),
  KILN_E2E_SERVER_LOG: E2E_SERVER_LOG,
  KILN_SECRET_KEY: "",
  // Each checkpoint's production build would double the e2e run's time; the deploy step has its own tests.
  KILN_AUTO_DEPLOY: "0",
  // Every server start empties the data dir: installing both agents' CLIs at each boot would load the box under the
  // specs' timings. Builds install what they use on demand; tests/integration/boot-preparation.test.ts covers boot.
  KILN_PREPARE_AT_BOOT: "0",
  // Operators save the scripted model's http://127.0.0.1 address as their base URL, like a self-hoster's Ollama.
  KILN_ALLOW_PRIVATE_MODEL_URLS: "1",
  // The mysql-dev leg's `next dev` keeps no persistent compile cache: none is worth keeping between legs, and a cache
  // left by another dev server once made it panic mid-run ("task is missing in memory or persistent storage").
  KILN_DEV_COMPILE_CACHE: "0",
};

export function chromiumPath(): string | null {
  const candidates = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"];
  return candidates.find((candidate): candidate is string => !!candidate && fs.existsSync(candidate)) ?? null;
}
