import { z } from "zod";

// What a project's app environment variable may be (docs/security.md "App environment"). Pure, so the Settings form
// checks what the API and the server actions check.

export const MAX_APP_ENV_NAME_LENGTH = 100;
/** One value; an environment is handed to processes whole, and a larger value belongs in a file or a store. */
export const MAX_APP_ENV_VALUE_BYTES = 32 * 1024;
export const MAX_APP_ENV_VARS = 100;
/** All values together: the whole environment must fit an `execve` (about 2 MB on Linux) with room to spare. */
export const MAX_APP_ENV_TOTAL_BYTES = 256 * 1024;

const namePattern = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Names Kiln sets itself for the app's processes or the sandbox (a variable of the project's would be overwritten
 * or would change how Kiln runs them), and names that steer Node, npm or the network for every process.
 * Compared case-insensitively: `Path` or `database_url` would shadow the real one on some systems and confuse readers
 * on all.
 */
const reservedNames = new Set([
  "DATABASE_URL",
  "PORT",
  "HOSTNAME",
  "NODE_ENV",
  "NODE_OPTIONS",
  "NODE_PATH",
  "NODE_EXTRA_CA_CERTS",
  "NEXT_TELEMETRY_DISABLED",
  "PATH",
  "HOME",
  "USER",
  "SHELL",
  "PWD",
  "TMPDIR",
  "TERM",
  "TZ",
  "LANG",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "ALL_PROXY",
  "CI",
]);
const reservedPrefixes = ["KILN_", "NPM_CONFIG_", "VERCEL_", "LC_", "__NEXT_"];

/** Why `name` cannot be a project's variable, or undefined when it can. */
export function appEnvNameProblem(name: string): string | undefined {
  if (name.length === 0) return "Give the variable a name.";
  if (name.length > MAX_APP_ENV_NAME_LENGTH)
    return `A name has at most ${MAX_APP_ENV_NAME_LENGTH} characters.`;
  if (!namePattern.test(name))
    return "A name has letters, digits and underscores only, and does not start with a digit.";
  const upper = name.toUpperCase();
  if (reservedNames.has(upper)) return `${name} is set by Kiln itself; choose another name.`;
  const prefix = reservedPrefixes.find((candidate) => upper.startsWith(candidate));
  if (prefix)
    return `Names starting with ${prefix} are reserved for Kiln and the platform; choose another name.`;
  return undefined;
}

/** `NEXT_PUBLIC_*` values are compiled into the pages every visitor downloads. */
export function isPublicToBrowsers(name: string): boolean {
  return name.startsWith("NEXT_PUBLIC_");
}

/** Bytes of `text` as UTF-8 (here as in the browser, where there is no Buffer). */
export function utf8Bytes(text: string): number {
  return new TextEncoder().encode(text).length;
}

export const appEnvNameSchema = z.string().superRefine((name, ctx) => {
  const problem = appEnvNameProblem(name);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

export const appEnvValueSchema = z
  .string()
  .refine((value) => !value.includes("\u0000"), "A value cannot hold a NUL character.")
  .refine(
    (value) => utf8Bytes(value) <= MAX_APP_ENV_VALUE_BYTES,
    `A value has at most ${MAX_APP_ENV_VALUE_BYTES / 1024} KB.`,
  );

/** The body of `PUT …/env/:name`. */
export const appEnvBodySchema = z.object({
  value: appEnvValueSchema,
  secret: z.boolean().optional(),
});

/**
 * A variable as the API and the Settings tab write it. `secret` left out keeps an existing variable's flag (a new
 * one is not secret), so rewriting a secret's value never shows it by accident.
 */
export const appEnvInputSchema = z
  .object({ name: appEnvNameSchema, value: appEnvValueSchema, secret: z.boolean().optional() })
  .refine((input) => !(input.secret === true && isPublicToBrowsers(input.name)), {
    message:
      "NEXT_PUBLIC_ variables are built into the pages every visitor downloads: they cannot be secret.",
    path: ["secret"],
  });

export type AppEnvInput = z.output<typeof appEnvInputSchema>;
