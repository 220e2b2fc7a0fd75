import { ProviderError, type ProviderErrorKind, scrub, type Vendor } from "../provider-error";
import { BundleRejectedError } from "./bundle";
import { ExportDirError } from "./export-dir";
import { GitCommandError } from "./git-cli";
import { ArchiveRejectedError } from "./tarball";
import { TemplateError } from "./template";

/** Failures of the local side of a git host (git itself, the disk, a refused bundle or archive) as ProviderErrors. */

type GitHostVendor = Extract<Vendor, "github" | "local-git">;

function fsCode(error: unknown): string | undefined {
  return error instanceof Error && "code" in error && typeof error.code === "string" ? error.code : undefined;
}

/** Classifies anything thrown while `action` ran ("creating repository x", …). */
export function toGitHostError(
  error: unknown,
  vendor: GitHostVendor,
  action: string,
  secrets: ReadonlyArray<string> = [],
): ProviderError {
  if (error instanceof ProviderError) return error;
  const make = (kind: ProviderErrorKind, message: string) =>
    new ProviderError(vendor, kind, scrub(message, secrets), { cause: error });
  if (
    error instanceof BundleRejectedError ||
    error instanceof TemplateError ||
    error instanceof ExportDirError ||
    error instanceof ArchiveRejectedError
  ) {
    return make("invalid", error.message);
  }
  if (error instanceof GitCommandError) {
    if (error.timedOut) {
      return make(
        "timeout",
        `${error.command} took too long while ${action}; the disk may be overloaded. Retry, or raise the git timeout.`,
      );
    }
    if (/No space left on device/i.test(error.stderr))
      return make("unavailable", `The disk is full while ${action}: free space on the data volume.`);
    if (error.exitCode === null && /ENOENT/.test(error.stderr))
      return make("unavailable", `git or tar is not installed on this server (needed while ${action}).`);
    return make("internal", `Failed while ${action}: ${error.message}`);
  }
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError"))
    return make("timeout", `The transfer took too long while ${action}; retry later.`);
  const code = fsCode(error);
  if (code === "EACCES" || code === "EPERM" || code === "EROFS") {
    return make(
      "forbidden",
      `Kiln may not write to a directory it needs while ${action} (${code}): check the data directory's owner and permissions.`,
    );
  }
  if (code === "ENOSPC")
    return make("unavailable", `The disk is full while ${action}: free space on the data volume.`);
  const detail = error instanceof Error ? error.message : String(error);
  return make("internal", `Failed while ${action}: ${detail}`);
}
