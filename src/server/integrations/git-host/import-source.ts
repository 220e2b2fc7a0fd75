import { z } from "zod";

/**
 * Where an imported project's code comes from (docs/import.md): a git URL (https, or a local path under
 * KILN_IMPORT_ROOTS) or one of the operator's GitHub repositories. Pure (zod only): the new-project form shares it.
 */

export const githubFullNameSchema = z
  .string({ error: 'Pick a GitHub repository ("owner/name")' })
  .trim()
  .regex(
    /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/,
    'Name a GitHub repository as "owner/name"',
  );

export const importSourceSchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("git"),
    url: z
      .string({ error: "Give the repository's URL" })
      .trim()
      .min(1, "Give the repository's URL")
      .max(2_000, "Keep the URL under 2,000 characters"),
  }),
  z.object({ kind: z.literal("github"), fullName: githubFullNameSchema }),
]);
export type ImportSource = z.infer<typeof importSourceSchema>;

/** What the project records about its origin (never a credential). */
export type ImportOrigin = { kind: ImportSource["kind"]; location: string; sha: string };

/** One of the operator's GitHub repositories, as the picker lists it. */
export type GitHubRepoSummary = {
  fullName: string;
  private: boolean;
  defaultBranch: string;
  description: string | null;
  url: string;
  updatedAt: string | null;
};

/** Where a project came from, for people: "github.com/acme/shop" or a path. */
export function describeOrigin(kind: string, location: string): string {
  if (kind === "github") return `GitHub ${location}`;
  return location.replace(/^https:\/\//, "").replace(/\.git$/, "");
}
