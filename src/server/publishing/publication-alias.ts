import type { Project } from "@/server/db/schema";

/** The project's stable address on a deployer that names one (Vercel): its slug and a piece of its id, one label. */
export function publicationAlias(project: Project): string {
  const slug = project.slug
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40);
  const unique = project.id.slice(project.id.indexOf("_") + 1, project.id.indexOf("_") + 9);
  return `${slug || "app"}-${unique}`.replace(/-{2,}/g, "-");
}
