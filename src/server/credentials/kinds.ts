import { z } from "zod";

/**
 * The outside services an operator can hold credentials for. Every field is validated here once;
 * the same schemas parse the settings form, the REST API and the decrypted payloads read back from the database.
 */
export const credentialKinds = [
  "github",
  "vercel",
  "tidbcloud",
  "openai",
  "anthropic",
  "openai-compatible",
] as const;
export type CredentialKind = (typeof credentialKinds)[number];
export const credentialKindSchema = z.enum(credentialKinds);

const secret = (label: string) =>
  z
    .string({ error: `${label} is required` })
    .trim()
    .min(8, `${label} looks too short`)
    .max(4096, `${label} is too long`)
    .refine((value) => !/\s/.test(value), `${label} must not contain spaces`);

const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    .optional()
    .transform((value) => (value ? value : undefined));

const optionalBaseUrl = z
  .string()
  .trim()
  .optional()
  .transform((value) => (value ? value.replace(/\/+$/, "") : undefined))
  .pipe(z.url({ protocol: /^https?$/, error: "Base URL must be an http(s) URL" }).optional());

const requiredBaseUrl = z
  .string({ error: "Base URL is required" })
  .trim()
  .transform((value) => value.replace(/\/+$/, ""))
  .pipe(
    z.url({ protocol: /^https?$/, error: "Base URL must be an http(s) URL, e.g. http://localhost:11434/v1" }),
  );

/** A local server may want no key, or any word ("ollama"): optional, and short ones are fine. */
const optionalKey = z
  .string()
  .trim()
  .max(4096, "API key is too long")
  .refine((value) => !/\s/.test(value), "API key must not contain spaces")
  .optional()
  .transform((value) => (value ? value : undefined));

/**
 * `"<input>,<output>"` USD per million tokens: what this server's models cost, for run budgets and the usage
 * shown (`0,0` for a server on your own GPUs). Without one, models Kiln has no list price for are refused unless
 * the platform sets KILN_GATEWAY_DEFAULT_PRICE: a run is never metered at a silent $0.
 */
export const priceSpecSchema = z
  .string()
  .trim()
  .optional()
  .transform((value) => (value ? value : undefined))
  .pipe(
    z
      .string()
      .regex(
        /^\d+(\.\d+)?\s*,\s*\d+(\.\d+)?$/,
        "Price is <input>,<output> in USD per million tokens, e.g. 0.5,1.5",
      )
      .optional(),
  );

export const credentialPayloadSchemas = {
  github: z.object({ token: secret("GitHub token") }),
  vercel: z.object({
    token: secret("Vercel token"),
    teamId: optionalText(128),
    projectId: optionalText(128),
  }),
  tidbcloud: z.object({
    publicKey: secret("Public key"),
    privateKey: secret("Private key"),
    projectId: optionalText(128),
    region: optionalText(128),
  }),
  openai: z.object({ apiKey: secret("OpenAI API key"), baseUrl: optionalBaseUrl }),
  anthropic: z.object({ apiKey: secret("Anthropic API key"), baseUrl: optionalBaseUrl }),
  "openai-compatible": z.object({
    baseUrl: requiredBaseUrl,
    apiKey: optionalKey.optional(),
    price: priceSpecSchema,
    /** The model that plans apps on this server; default: the project's own model. */
    plannerModel: optionalText(100).optional(),
  }),
} satisfies Record<CredentialKind, z.ZodType>;

export type CredentialPayload<K extends CredentialKind = CredentialKind> = z.infer<
  (typeof credentialPayloadSchemas)[K]
>;

export const credentialInputSchema = z.discriminatedUnion("kind", [
  credentialPayloadSchemas.github.extend({ kind: z.literal("github") }),
  credentialPayloadSchemas.vercel.extend({ kind: z.literal("vercel") }),
  credentialPayloadSchemas.tidbcloud.extend({ kind: z.literal("tidbcloud") }),
  credentialPayloadSchemas.openai.extend({ kind: z.literal("openai") }),
  credentialPayloadSchemas.anthropic.extend({ kind: z.literal("anthropic") }),
  credentialPayloadSchemas["openai-compatible"].extend({ kind: z.literal("openai-compatible") }),
]);
export type CredentialInput = z.infer<typeof credentialInputSchema>;

/** The field whose last four characters identify a stored credential in the UI ("set · …abcd"). */
export const primarySecretField: Record<CredentialKind, string> = {
  github: "token",
  vercel: "token",
  tidbcloud: "privateKey",
  openai: "apiKey",
  anthropic: "apiKey",
  "openai-compatible": "apiKey",
};

export const credentialLabels: Record<CredentialKind, string> = {
  github: "GitHub",
  vercel: "Vercel",
  tidbcloud: "TiDB Cloud",
  openai: "OpenAI",
  anthropic: "Anthropic",
  "openai-compatible": "OpenAI-compatible server",
};
