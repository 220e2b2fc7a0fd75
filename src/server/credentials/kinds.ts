import { z } from "zod";

/**
 * The outside services an operator can hold credentials for. Every field is validated here once;
 * the same schemas parse the settings form, the REST API and the decrypted payloads read back from the database.
 */
export const credentialKinds = ["github", "vercel", "tidbcloud", "openai", "anthropic"] as const;
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
]);
export type CredentialInput = z.infer<typeof credentialInputSchema>;

/** The field whose last four characters identify a stored credential in the UI ("set · …abcd"). */
export const primarySecretField: Record<CredentialKind, string> = {
  github: "token",
  vercel: "token",
  tidbcloud: "privateKey",
  openai: "apiKey",
  anthropic: "apiKey",
};

export const credentialLabels: Record<CredentialKind, string> = {
  github: "GitHub",
  vercel: "Vercel",
  tidbcloud: "TiDB Cloud",
  openai: "OpenAI",
  anthropic: "Anthropic",
};
