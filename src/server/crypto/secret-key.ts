import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { AppError } from "@/server/errors";

export const SECRET_KEY_FILE = "secret.key";

/** Accepts 32 bytes as base64 (44 chars) or hex (64 chars). */
export function decodeSecretKey(text: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-f]{64}$/i.test(trimmed) ? Buffer.from(trimmed, "hex") : Buffer.from(trimmed, "base64");
  if (key.length !== 32) {
    throw new AppError(
      "config:secret_key",
      "KILN_SECRET_KEY must be 32 bytes, base64 or hex encoded (generate one with `openssl rand -base64 32`).",
    );
  }
  return key;
}

/** The key that encrypts stored credentials: `KILN_SECRET_KEY`, or the key file `npm run dev` wrote. */
export function loadSecretKey(fromEnv: string | undefined, dataDir: string): Buffer {
  if (fromEnv) return decodeSecretKey(fromEnv);
  const file = path.join(dataDir, SECRET_KEY_FILE);
  if (!fs.existsSync(file)) throw new AppError("config:secret_key");
  return decodeSecretKey(fs.readFileSync(file, "utf8"));
}

/** Creates the key file when neither it nor `KILN_SECRET_KEY` exists. Returns the file path when it created one. */
export function ensureSecretKeyFile(fromEnv: string | undefined, dataDir: string): string | null {
  if (fromEnv) {
    decodeSecretKey(fromEnv);
    return null;
  }
  const file = path.join(dataDir, SECRET_KEY_FILE);
  if (fs.existsSync(file)) return null;
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(file, `${randomBytes(32).toString("base64")}\n`, { mode: 0o600, flag: "wx" });
  return file;
}
