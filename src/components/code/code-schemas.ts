import { z } from "zod";
import type { HighlightedCode } from "@/server/highlight/highlight-types";
import type { CheckpointFileContent, CheckpointFiles } from "@/server/revisions/revision-files-types";

// What the Code tab reads (`/api/v1/revisions/:id/files`, `/files/content?path=`), parsed before it is shown.

const tokenSchema = z.tuple([z.string(), z.number().int().nonnegative()]);
const colorsSchema = z.array(z.tuple([z.string(), z.string()]));

export const highlightedCodeSchema = z.object({
  colors: colorsSchema,
  lines: z.array(z.array(tokenSchema)),
}) satisfies z.ZodType<HighlightedCode>;

export const highlightedPatchSchema = z.object({
  colors: colorsSchema,
  lines: z.array(z.array(tokenSchema).nullable()),
});

export const checkpointFilesSchema = z.object({
  headSha: z.string(),
  files: z.array(
    z.object({
      path: z.string(),
      size: z.number(),
      kind: z.enum(["text", "binary", "symlink"]),
      language: z.string().nullable(),
      change: z.enum(["added", "modified", "renamed"]).nullable(),
    }),
  ),
  truncated: z.boolean(),
}) satisfies z.ZodType<CheckpointFiles>;

export const checkpointFileContentSchema = z.discriminatedUnion("kind", [
  z.object({
    path: z.string(),
    size: z.number(),
    kind: z.literal("text"),
    language: z.string().nullable(),
    code: highlightedCodeSchema,
  }),
  z.object({ path: z.string(), size: z.number(), kind: z.literal("binary") }),
  z.object({ path: z.string(), size: z.number(), kind: z.literal("too_large"), limitBytes: z.number() }),
  z.object({ path: z.string(), size: z.number(), kind: z.literal("symlink"), target: z.string() }),
]) satisfies z.ZodType<CheckpointFileContent>;
