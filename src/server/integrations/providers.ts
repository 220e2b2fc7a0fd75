import { z } from "zod";
import { AppError, type FieldErrors } from "@/server/errors";

// Which adapter each port uses for a project. Recorded per project at creation so local and cloud projects live
// side by side on one platform.
export const providerChoicesSchema = z.object({
  git: z.enum(["github", "local"]),
  database: z.enum(["tidbcloud", "mysql", "libsql"]),
  sandbox: z.enum(["vercel", "local"]),
  blob: z.enum(["vercel", "local"]),
  deploy: z.enum(["vercel", "local"]),
});
export type ProviderChoices = z.infer<typeof providerChoicesSchema>;

/** What this operator on this platform can use: their credentials (or the platform's) and platform settings. */
export type ProviderAvailability = {
  github: boolean;
  vercel: boolean;
  tidbcloud: boolean;
  /** KILN_BRANCHES_MYSQL_URL is set. */
  mysqlBranches: boolean;
  /** BLOB_READ_WRITE_TOKEN is set. */
  vercelBlob: boolean;
};

/** Cloud where the credential exists, else local. Vercel deploys build from GitHub, so they need both. */
export function defaultProviders(a: ProviderAvailability): ProviderChoices {
  return {
    git: a.github ? "github" : "local",
    database: a.tidbcloud ? "tidbcloud" : a.mysqlBranches ? "mysql" : "libsql",
    sandbox: a.vercel ? "vercel" : "local",
    blob: a.vercelBlob ? "vercel" : "local",
    deploy: a.vercel && a.github ? "vercel" : "local",
  };
}

/** Reasons a combination cannot work, keyed by the field to fix. Empty when it can. */
export function providerProblems(choices: ProviderChoices, a: ProviderAvailability): FieldErrors {
  const problems: FieldErrors = {};
  const add = (field: keyof ProviderChoices, message: string) => {
    problems[`providers.${field}`] = [...(problems[`providers.${field}`] ?? []), message];
  };
  if (choices.git === "github" && !a.github) add("git", "GitHub needs a GitHub token: add one in Settings.");
  if (choices.database === "tidbcloud" && !a.tidbcloud) {
    add("database", "TiDB Cloud needs an API key pair: add one in Settings.");
  }
  if (choices.database === "mysql" && !a.mysqlBranches) {
    add("database", "MySQL branches need KILN_BRANCHES_MYSQL_URL set on the server.");
  }
  if (choices.database === "libsql" && choices.sandbox !== "local") {
    add(
      "database",
      "Embedded libSQL branches live on this server: use a local sandbox, or TiDB Cloud / MySQL.",
    );
  }
  if (choices.sandbox === "vercel" && !a.vercel)
    add("sandbox", "Vercel sandboxes need a Vercel token: add one in Settings.");
  if (choices.blob === "vercel" && !a.vercelBlob)
    add("blob", "Vercel Blob needs BLOB_READ_WRITE_TOKEN set on the server.");
  if (choices.deploy === "vercel") {
    if (!a.vercel) add("deploy", "Vercel deployments need a Vercel token: add one in Settings.");
    if (choices.git !== "github")
      add("deploy", "Vercel deploys from GitHub: choose the GitHub git host too.");
  }
  return problems;
}

/** The defaults with the operator's overrides applied, or a 400 that says which choice cannot work and why. */
export function resolveProviderChoices(
  requested: Partial<ProviderChoices> | undefined,
  availability: ProviderAvailability,
): ProviderChoices {
  const choices = { ...defaultProviders(availability), ...requested };
  const problems = providerProblems(choices, availability);
  const fields = Object.keys(problems);
  if (fields.length > 0) {
    const first = fields[0] ?? "providers";
    throw new AppError("bad_request:input", `${first}: ${problems[first]?.[0] ?? "not available"}`, {
      fields: problems,
    });
  }
  return choices;
}
