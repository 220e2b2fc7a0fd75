import { z } from "zod";
import type { Executor } from "@/server/db/connection";
import { renameProjectOfUser } from "@/server/db/queries/projects";
import { AppError } from "@/server/errors";

const nameSchema = z
  .string({ error: "Name the project" })
  // One line: a name is shown in headings and cards, where line breaks and runs of spaces mean nothing.
  .transform((name) => name.replace(/\s+/g, " ").trim())
  .pipe(z.string().min(1, "Name the project").max(120, "Keep the name to 120 characters or fewer"));

export const renameProjectInputSchema = z.object({ name: nameSchema });
export type RenameProjectInput = z.input<typeof renameProjectInputSchema>;

/** Renames the operator's project (its slug, repository and URLs keep their names). Not theirs: NOT_FOUND. */
export async function renameProject(
  db: Executor,
  userId: string,
  projectId: string,
  name: string,
  now = Date.now(),
): Promise<{ id: string; name: string }> {
  const renamed = await renameProjectOfUser(db, userId, projectId, name, now);
  if (!renamed) throw new AppError("not_found:project");
  return { id: projectId, name };
}
