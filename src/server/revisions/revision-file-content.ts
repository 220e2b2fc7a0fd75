import { z } from "zod";
import type { Executor } from "@/server/db/connection";
import { AppError } from "@/server/errors";
import { highlightCode } from "@/server/highlight/highlight";
import { languageOf } from "@/server/highlight/languages";
import { loadCheckpointCode, maxShownFileBytes } from "./checkpoint-code";
import type { ProvidersFor } from "./committed-checkpoint";
import { getCommittedCheckpoint } from "./committed-checkpoint";
import type { CheckpointFileContent } from "./revision-files-types";

/**
 * A path as the Code tab asks for it: relative, "/"-separated, no "." or ".." segment, no empty segment. The file is
 * then looked up in the checkpoint's listing, never on a disk, so this is a first gate, not the only one.
 */
export const checkpointPathSchema = z
  .string()
  .min(1)
  .max(1024)
  .refine((value) => !/[\0\\]/.test(value), "Use a relative path with / between folders.")
  .refine(
    (value) => value.split("/").every((segment) => segment !== "" && segment !== "." && segment !== ".."),
    "Use a path inside the checkpoint (no leading /, no . or .. parts).",
  );

/**
 * File `filePath` of checkpoint `revisionId`'s commit for its owner, highlighted. A path the commit does not hold
 * (a folder, a skipped one like node_modules) is not_found:file; binary, too large and symlinks are answered by
 * kind, with no content.
 */
export async function getRevisionFileContent(
  db: Executor,
  userId: string,
  revisionId: string,
  filePath: string,
  providersFor: ProvidersFor,
): Promise<CheckpointFileContent> {
  const checkpoint = await getCommittedCheckpoint(db, userId, revisionId, providersFor);
  const snapshot = await loadCheckpointCode(
    checkpoint.providers,
    checkpoint.project,
    checkpoint.revisionId,
    checkpoint.headSha,
  );
  const file = snapshot.files.find((entry) => entry.path === filePath);
  if (!file) throw new AppError("not_found:file");
  const { path, size } = file;
  if (file.kind === "symlink") return { path, size, kind: "symlink", target: file.target ?? "" };
  if (file.kind === "binary") return { path, size, kind: "binary" };
  const text = Object.hasOwn(snapshot.texts, path) ? snapshot.texts[path] : undefined;
  if (text === undefined) return { path, size, kind: "too_large", limitBytes: maxShownFileBytes };
  const language = languageOf(path);
  return { path, size, kind: "text", language, code: await highlightCode(text, language) };
}
