import { ProviderError, type ProviderErrorKind } from "../provider-error";

const kindByErrno: Record<string, ProviderErrorKind> = {
  ENOENT: "not_found",
  ENOTDIR: "invalid",
  EISDIR: "invalid",
  ELOOP: "invalid",
  EACCES: "forbidden",
  EPERM: "forbidden",
  EROFS: "forbidden",
  EEXIST: "conflict",
  ENOSPC: "unavailable",
  EDQUOT: "unavailable",
  EMFILE: "unavailable",
  ENFILE: "unavailable",
  EAGAIN: "unavailable",
  ENOMEM: "unavailable",
  EIO: "unavailable",
};

export function errnoOf(error: unknown): string | undefined {
  if (typeof error === "object" && error !== null && "code" in error && typeof error.code === "string")
    return error.code;
  return undefined;
}

/** Wraps a host failure (fs, spawn) of the local sandbox adapter with what failed and what to check. */
export function localSandboxError(action: string, error: unknown): ProviderError {
  if (error instanceof ProviderError) return error;
  const code = errnoOf(error);
  const kind = (code && kindByErrno[code]) || "internal";
  const detail = error instanceof Error ? error.message : String(error);
  const hint =
    kind === "unavailable"
      ? " The host is out of a resource (disk, memory, file handles); free some and retry."
      : kind === "forbidden"
        ? " Check that the platform's user owns the sandboxes directory."
        : "";
  return new ProviderError("local-sandbox", kind, `Local sandbox: ${action} failed: ${detail}.${hint}`, {
    cause: error,
  });
}

export function stoppedError(id: string): ProviderError {
  return new ProviderError(
    "local-sandbox",
    "conflict",
    `Local sandbox ${id} has stopped (stopped or timed out); create a new sandbox.`,
  );
}
