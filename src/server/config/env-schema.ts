import path from "node:path";
import { z } from "zod";
import { isProxyEntry } from "../http/client-address";

const optionalSecret = z
  .string()
  .trim()
  .optional()
  .transform((value) => (value ? value : undefined));

const optionalUrl = z
  .string()
  .trim()
  .optional()
  .transform((value) => (value ? value.replace(/\/+$/, "") : undefined))
  .pipe(z.url({ protocol: /^https?$/ }).optional());

const urlWithDefault = (fallback: string) =>
  z
    .string()
    .trim()
    .optional()
    .transform((value) => (value ? value.replace(/\/+$/, "") : fallback))
    .pipe(z.url({ protocol: /^https?$/ }));

const flag = z
  .enum(["1", "0", "true", "false", "yes", "no", ""])
  .optional()
  .transform((value) => value === "1" || value === "true" || value === "yes");

/** A comma-separated list (entries trimmed, empty ones dropped); unset is empty. */
const commaList = z
  .string()
  .optional()
  .transform((value) =>
    (value ?? "")
      .split(",")
      .map((entry) => entry.trim())
      .filter(Boolean),
  );

/** A switch that is on unless set to 0/false/no. */
const flagDefaultOn = z
  .enum(["1", "0", "true", "false", "yes", "no", ""])
  .optional()
  .transform((value) => !(value === "0" || value === "false" || value === "no"));

/** A platform quota (KILN_QUOTA_*): unset, empty or 0 = no limit. */
const quotaLimit = z
  .string()
  .trim()
  .optional()
  .transform((value, ctx) => {
    if (!value) return undefined;
    const limit = Number(value);
    if (!Number.isFinite(limit) || limit < 0) {
      ctx.addIssue({ code: "custom", message: "A quota is a number, 0 or more (empty or 0: no limit)" });
      return z.NEVER;
    }
    return limit === 0 ? undefined : limit;
  });
const wholeQuotaLimit = quotaLimit.refine(
  (value) => value === undefined || Number.isInteger(value),
  "This quota is a whole number",
);

/**
 * Every variable Kiln reads, validated once. Keep in sync with `.env.example` (a unit test compares them).
 * Per-operator secrets never pass through here: they are stored encrypted and handed to functions as arguments.
 */
export const envSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  KILN_DATA_DIR: z.string().trim().min(1).default(".data"),
  DATABASE_URL: z
    .string()
    .trim()
    .optional()
    .transform((value) => (value ? value : undefined))
    .refine((value) => value === undefined || /^(mysql|file|libsql):/.test(value), {
      error: "DATABASE_URL must start with mysql:// (MySQL, MariaDB, TiDB) or file: (embedded libSQL)",
    }),
  KILN_SECRET_KEY: optionalSecret,
  KILN_PUBLIC_URL: urlWithDefault("http://localhost:3000"),
  /**
   * Local previews and deployments are served at `<label>.<this domain>` on Kiln's port, never on Kiln's own host
   * name (so Kiln's cookies never reach generated code). `localhost` works in browsers with no DNS set-up.
   */
  KILN_PREVIEW_DOMAIN: z
    .string()
    .trim()
    .toLowerCase()
    .optional()
    .transform((value) => value || "localhost")
    .pipe(
      z.string().regex(/^(?=.{1,200}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/, {
        error: "KILN_PREVIEW_DOMAIN must be a host name such as localhost or preview.example.net",
      }),
    ),
  KILN_ADMIN_EMAIL: optionalSecret,
  KILN_ADMIN_PASSWORD: optionalSecret,
  KILN_SESSION_TTL_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 90)
    .default(24 * 7),
  // Comma-separated addresses or CIDR ranges of the reverse proxies in front of Kiln; only their
  // X-Forwarded-For is believed. Empty: nobody's (the socket's peer is the client).
  KILN_TRUSTED_PROXIES: commaList.refine((entries) => entries.every(isProxyEntry), {
    error: "KILN_TRUSTED_PROXIES must list IP addresses or CIDR ranges, e.g. 127.0.0.1,10.0.0.0/8",
  }),
  KILN_LOGIN_MAX_ATTEMPTS_PER_ACCOUNT: z.coerce.number().int().min(1).default(5),
  KILN_LOGIN_MAX_ATTEMPTS_PER_IP: z.coerce.number().int().min(1).default(30),
  KILN_LOGIN_MAX_ATTEMPTS_PER_ACCOUNT_TOTAL: z.coerce.number().int().min(1).default(100),
  KILN_LOGIN_WINDOW_MINUTES: z.coerce.number().int().min(1).default(15),
  KILN_RUN_BUDGET_TOKENS: z.coerce.number().int().min(0).default(2_000_000),
  KILN_RUN_BUDGET_USD: z.coerce.number().min(0).default(5),
  // Quotas of every operator without overrides of their own (README "Quotas"): builds per UTC day, builds running
  // at once, tokens and USD per UTC month.
  KILN_QUOTA_BUILDS_PER_DAY: wholeQuotaLimit,
  KILN_QUOTA_CONCURRENT_RUNS: wholeQuotaLimit,
  KILN_QUOTA_TOKENS_PER_MONTH: wholeQuotaLimit,
  KILN_QUOTA_USD_PER_MONTH: quotaLimit,
  // Models any run may use besides its own (comma-separated), and the price of models Kiln has no list price for.
  KILN_GATEWAY_EXTRA_MODELS: commaList,
  KILN_GATEWAY_DEFAULT_PRICE: z
    .string()
    .trim()
    .regex(
      /^\d+(\.\d+)?\s*,\s*\d+(\.\d+)?$/,
      "KILN_GATEWAY_DEFAULT_PRICE is <input>,<output> USD per 1M tokens",
    )
    .optional(),
  // Operators' model base URLs may point at loopback/private hosts (self-hosted Ollama, vLLM on the box).
  KILN_ALLOW_PRIVATE_MODEL_URLS: flag,
  KILN_AUTO_DEPLOY: flagDefaultOn,
  /** Install the template's dependencies and the agents' CLIs in the background at boot (else: on first use). */
  KILN_PREPARE_AT_BOOT: flagDefaultOn,
  /** `next dev` keeps Turbopack's persistent compile cache (`.next/dev`); read by next.config.ts. */
  KILN_DEV_COMPILE_CACHE: flagDefaultOn,
  KILN_SANDBOX_IDLE_MINUTES: z.coerce.number().int().min(1).default(30),
  // Host uid (and gid) local sandboxes run as when Kiln runs as root; used by nothing else on the host.
  KILN_SANDBOX_UID: z.coerce.number().int().min(1).max(4_294_967_294).default(64100),
  // Hosts local sandboxes may reach through their egress proxy besides the npm registry (comma-separated:
  // `host`, `*.domain`, `host:port`); addresses on loopback and private ranges stay refused.
  KILN_SANDBOX_ALLOWED_HOSTS: commaList.refine(
    (entries) => entries.every((entry) => /^(\*\.)?[a-z0-9.-]+(:\d{1,5})?$/i.test(entry)),
    {
      error: "KILN_SANDBOX_ALLOWED_HOSTS must list host names, e.g. github.com,*.githubusercontent.com",
    },
  ),
  // Directories operators may import local git repositories from (docs/import.md); empty: https URLs only.
  KILN_IMPORT_ROOTS: commaList.refine((entries) => entries.every((entry) => entry.startsWith("/")), {
    error: "KILN_IMPORT_ROOTS must list absolute directories, e.g. /srv/git",
  }),
  KILN_BRANCH_RETENTION: z.coerce.number().int().min(1).default(20),
  KILN_CHROMIUM_PATH: z.string().trim().optional(),
  OPENAI_API_KEY: optionalSecret,
  OPENAI_BASE_URL: optionalUrl,
  ANTHROPIC_API_KEY: optionalSecret,
  ANTHROPIC_BASE_URL: optionalUrl,
  // The planner's model on each vendor (default: the agent definition's planner model).
  OPENAI_PLANNER_MODEL: optionalSecret,
  ANTHROPIC_PLANNER_MODEL: optionalSecret,
  // Any OpenAI-compatible server (Ollama, vLLM, LM Studio, OpenRouter, LiteLLM) for operators who set none of
  // their own: its base URL (with /v1), an optional key, and an optional price "<input>,<output>" USD / 1M tokens.
  OPENAI_COMPATIBLE_BASE_URL: optionalUrl,
  OPENAI_COMPATIBLE_API_KEY: optionalSecret,
  OPENAI_COMPATIBLE_PRICE: z
    .string()
    .trim()
    .regex(/^\d+(\.\d+)?\s*,\s*\d+(\.\d+)?$/, "OPENAI_COMPATIBLE_PRICE is <input>,<output> USD per 1M tokens")
    .optional(),
  GITHUB_TOKEN: optionalSecret,
  GITHUB_API_URL: urlWithDefault("https://api.github.com"),
  VERCEL_TOKEN: optionalSecret,
  VERCEL_TEAM_ID: optionalSecret,
  VERCEL_PROJECT_ID: optionalSecret,
  VERCEL_API_URL: urlWithDefault("https://api.vercel.com"),
  TIDB_CLOUD_PUBLIC_KEY: optionalSecret,
  TIDB_CLOUD_PRIVATE_KEY: optionalSecret,
  TIDB_CLOUD_PROJECT_ID: optionalSecret,
  TIDB_CLOUD_REGION: optionalSecret,
  TIDB_CLOUD_API_URL: urlWithDefault("https://serverless.tidbapi.com/v1beta1"),
  KILN_BRANCHES_MYSQL_URL: z
    .string()
    .trim()
    .optional()
    .refine((value) => value === undefined || value.startsWith("mysql://"), {
      error: "KILN_BRANCHES_MYSQL_URL must be a mysql:// admin URL",
    }),
  BLOB_READ_WRITE_TOKEN: optionalSecret,
  VERCEL_BLOB_API_URL: optionalUrl,
});

export type Env = z.infer<typeof envSchema> & { dataDir: string };

export function parseEnv(source: Record<string, string | undefined>): Env {
  // `KEY=` (or an unset compose variable) means "not set": defaults apply, exactly as if the line were absent.
  const present = Object.fromEntries(Object.entries(source).filter(([, value]) => value?.trim()));
  if (flag.safeParse(present.KILN_TRUST_PROXY).data) {
    // Its old meaning (believe any X-Forwarded-For) let clients pick their own address; fail loudly, not open.
    throw new Error(
      "Invalid environment configuration:\n  - KILN_TRUST_PROXY: replaced by KILN_TRUSTED_PROXIES (list your proxies' addresses)\nSee .env.example.",
    );
  }
  const result = envSchema.safeParse(present);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `  - ${issue.path.join(".")}: ${issue.message}`);
    throw new Error(`Invalid environment configuration:\n${lines.join("\n")}\nSee .env.example.`);
  }
  return { ...result.data, dataDir: path.resolve(result.data.KILN_DATA_DIR) };
}
