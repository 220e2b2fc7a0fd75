import path from "node:path";
import { z } from "zod";

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

/** A switch that is on unless set to 0/false/no. */
const flagDefaultOn = z
  .enum(["1", "0", "true", "false", "yes", "no", ""])
  .optional()
  .transform((value) => !(value === "0" || value === "false" || value === "no"));

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
  KILN_ADMIN_EMAIL: optionalSecret,
  KILN_ADMIN_PASSWORD: optionalSecret,
  KILN_SESSION_TTL_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 90)
    .default(24 * 7),
  KILN_TRUST_PROXY: flag,
  KILN_LOGIN_MAX_ATTEMPTS_PER_ACCOUNT: z.coerce.number().int().min(1).default(5),
  KILN_LOGIN_MAX_ATTEMPTS_PER_IP: z.coerce.number().int().min(1).default(30),
  KILN_LOGIN_WINDOW_MINUTES: z.coerce.number().int().min(1).default(15),
  KILN_RUN_BUDGET_TOKENS: z.coerce.number().int().min(0).default(2_000_000),
  KILN_RUN_BUDGET_USD: z.coerce.number().min(0).default(5),
  KILN_AUTO_DEPLOY: flagDefaultOn,
  KILN_SANDBOX_IDLE_MINUTES: z.coerce.number().int().min(1).default(30),
  KILN_BRANCH_RETENTION: z.coerce.number().int().min(1).default(20),
  KILN_CHROMIUM_PATH: z.string().trim().optional(),
  OPENAI_API_KEY: optionalSecret,
  OPENAI_BASE_URL: optionalUrl,
  ANTHROPIC_API_KEY: optionalSecret,
  ANTHROPIC_BASE_URL: optionalUrl,
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
  const result = envSchema.safeParse(present);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `  - ${issue.path.join(".")}: ${issue.message}`);
    throw new Error(`Invalid environment configuration:\n${lines.join("\n")}\nSee .env.example.`);
  }
  return { ...result.data, dataDir: path.resolve(result.data.KILN_DATA_DIR) };
}
