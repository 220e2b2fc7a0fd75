import { z } from "zod";

/**
 * A plan: what the planner hands to the rest of the pipeline. `planSchema` validates a model's answer (after
 * the slug is normalised) and any stored plan read back; `planAnswerJsonSchema` is what the model is asked to
 * produce. Length limits live only in the zod schema and the field descriptions: OpenAI's strict structured
 * output refuses schemas with length keywords, so the model is told the limits and the answer is checked here.
 */

/** `agentPrompt` holds the model's instructions (at most `answerPrompt`) plus the template conventions. */
export const planLimits = {
  title: 80,
  slug: 48,
  steps: 12,
  step: 200,
  answerPrompt: 8_000,
  agentPrompt: 12_000,
} as const;

/** Field messages read after the field's name: "title is missing", "steps.2 must be text". */
const text = (what = "must be text") =>
  z.string({ error: (issue) => (issue.input === undefined ? "is missing" : what) });

export const planSchema = z.object(
  {
    title: text()
      .trim()
      .min(1, "is empty")
      .max(planLimits.title, `is longer than ${planLimits.title} characters`),
    slug: text()
      .max(planLimits.slug, `is longer than ${planLimits.slug} characters`)
      .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, "is not kebab-case"),
    steps: z
      .array(
        text().trim().min(1, "is empty").max(planLimits.step, `is longer than ${planLimits.step} characters`),
        { error: (issue) => (issue.input === undefined ? "is missing" : "must be a list of strings") },
      )
      .min(1, "is empty")
      .max(planLimits.steps, `has more than ${planLimits.steps} steps`),
    agentPrompt: text()
      .trim()
      .min(1, "is empty")
      .max(planLimits.agentPrompt, `is longer than ${planLimits.agentPrompt} characters`),
  },
  { error: "is not a JSON object" },
);

export type Plan = z.output<typeof planSchema>;

const answerSchema = z.strictObject({
  title: z.string().describe(`The app's name, in title case, at most ${planLimits.title} characters.`),
  slug: z
    .string()
    .describe(
      `A URL slug for the app: lowercase kebab-case (a-z, 0-9, hyphens), at most ${planLimits.slug} characters.`,
    ),
  steps: z
    .array(z.string().describe(`One short step, at most ${planLimits.step} characters.`))
    .min(1)
    .max(planLimits.steps)
    .describe(`The build steps, in order: 1 to ${planLimits.steps} short sentences.`),
  agentPrompt: z
    .string()
    .describe(
      "The instructions for the coding agent: the user's request made precise, at most 4000 characters.",
    ),
});

/** The JSON schema the model answers in (OpenAI `text.format.schema`, Anthropic tool `input_schema`). */
export function planAnswerJsonSchema(): { type: "object"; [key: string]: unknown } {
  const { $schema: _ignored, ...schema } = z.toJSONSchema(answerSchema);
  return { ...schema, type: "object" };
}

/**
 * A kebab-case slug of at most 48 characters from whatever the model wrote ("Todo List!" → "todo-list"),
 * "" when nothing is left.
 */
export function normalizeSlug(value: string): string {
  return value
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, planLimits.slug)
    .replace(/-+$/g, "");
}

const answerRecord = z.record(z.string(), z.unknown());

/** The model's slug, normalised; from the title when the slug normalises to nothing; "app" as a last resort. */
function withNormalizedSlug(value: unknown): unknown {
  const fields = answerRecord.safeParse(value);
  if (!fields.success || typeof fields.data.slug !== "string") return value;
  const fromTitle = typeof fields.data.title === "string" ? normalizeSlug(fields.data.title) : "";
  return { ...fields.data, slug: normalizeSlug(fields.data.slug) || fromTitle || "app" };
}

/** The first problem with an answer, as a short phrase: "title is missing", "steps has more than 12 steps". */
function describeIssues(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "it does not match the schema";
  const where = issue.path.map(String).join(".");
  return where ? `${where} ${issue.message}` : `the answer ${issue.message}`;
}

const answerCheckSchema = planSchema.extend({
  agentPrompt: text()
    .trim()
    .min(1, "is empty")
    .max(planLimits.answerPrompt, `is longer than ${planLimits.answerPrompt} characters`),
});

export type PlanCheck = { ok: true; plan: Plan } | { ok: false; problem: string };

/** Validates a model's answer (already parsed from JSON) and normalises its slug. */
export function checkPlan(value: unknown): PlanCheck {
  const parsed = answerCheckSchema.safeParse(withNormalizedSlug(value));
  return parsed.success
    ? { ok: true, plan: parsed.data }
    : { ok: false, problem: describeIssues(parsed.error) };
}
