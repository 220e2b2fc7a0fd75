import fs from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import type { CreateSandboxInput, Sandboxes, SandboxHandle } from "@/server/integrations/sandboxes/port";
import { APP_PORT } from "./dev-server";
import type { TemplateCache } from "./template-cache";

const appJsonSchema = z.looseObject({ name: z.string(), description: z.string().optional() });

export class TemplateSandboxError extends Error {
  override readonly name = "TemplateSandboxError";
}

/** A template's `app.json` (its current text) with this project's name (and description) in it. */
export function withAppIdentity(current: string, app: { name: string; description?: string }): string {
  let parsed: z.infer<typeof appJsonSchema>;
  try {
    parsed = appJsonSchema.parse(JSON.parse(current));
  } catch (error) {
    if (!(error instanceof SyntaxError || error instanceof z.ZodError)) throw error;
    throw new TemplateSandboxError(
      "The template's app.json is not a JSON object with a string `name`; fix templates/nextjs-app/app.json.",
      { cause: error },
    );
  }
  return `${JSON.stringify({ ...parsed, name: app.name, ...(app.description ? { description: app.description } : {}) }, null, 2)}\n`;
}

/** The template's `app.json` with this project's name (and description) in it. */
export async function appJsonFor(
  cache: TemplateCache,
  app: { name: string; description?: string },
): Promise<string> {
  return withAppIdentity(await fs.readFile(path.join(cache.dir, "app.json"), "utf8"), app);
}

export type TemplateSandboxInput = Pick<
  CreateSandboxInput,
  "name" | "env" | "timeoutMs" | "hostPaths" | "readOnlyPaths" | "tcpEndpoints"
> & {
  app: { name: string; description?: string };
};

/**
 * A sandbox whose working copy is the installed template, named for the app: from the local template cache
 * (sources copied, node_modules hard-linked).
 */
export async function createTemplateSandbox(
  sandboxes: Sandboxes,
  cache: TemplateCache,
  input: TemplateSandboxInput,
): Promise<SandboxHandle> {
  const sandbox = await sandboxes.create({
    name: input.name,
    source: { kind: "directory", path: cache.dir },
    ports: [APP_PORT],
    env: input.env,
    timeoutMs: input.timeoutMs,
    hostPaths: input.hostPaths,
    tcpEndpoints: input.tcpEndpoints,
    readOnlyPaths: input.readOnlyPaths,
  });
  try {
    await sandbox.writeFiles([{ path: "app.json", content: await appJsonFor(cache, input.app) }]);
  } catch (error) {
    await sandbox.stop();
    throw error;
  }
  return sandbox;
}
