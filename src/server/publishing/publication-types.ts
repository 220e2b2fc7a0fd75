import { z } from "zod";

/** `POST /api/v1/projects/:projectId/publish`: which checkpoint; none = the main task's newest finished one. */
export const publishInputSchema = z
  .object({ revisionId: z.string().trim().min(1).max(40).optional() })
  .strict();
export type PublishInput = z.infer<typeof publishInputSchema>;

/** What the project serves at its stable URL. */
export type PublishedDto = {
  url: string;
  revisionId: string;
  /** The published checkpoint's number in its task. */
  ordinal: number;
  publishedAt: number;
};
