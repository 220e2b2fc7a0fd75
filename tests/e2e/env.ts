import fs from "node:fs";
import path from "node:path";

// Shared by playwright.config.ts and the specs: where the e2e server runs and who its first operator is.
export const E2E_PORT = Number(process.env.KILN_E2E_PORT ?? 3210);
export const E2E_BASE_URL = `http://127.0.0.1:${E2E_PORT}`;
export const E2E_DATA_DIR = path.resolve(".data/e2e");
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
  // The e2e server always uses the embedded database; the MySQL leg is covered by the integration tier.
  DATABASE_URL: "",
  KILN_SECRET_KEY: "",
  // Each checkpoint's production build would double the e2e run's time; the deploy step has its own tests.
  KILN_AUTO_DEPLOY: "0",
};

export function chromiumPath(): string | null {
  const candidates = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"];
  return candidates.find((candidate): candidate is string => !!candidate && fs.existsSync(candidate)) ?? null;
}
