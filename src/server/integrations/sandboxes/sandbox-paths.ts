import path from "node:path";
import { ProviderError, type Vendor } from "../provider-error";
import type { CreateSandboxInput } from "./port";

/**
 * Normalizes a path a caller gave relative to a sandbox's working directory and refuses anything that could
 * leave it: absolute paths, `..` segments that climb out, NUL bytes. Both adapters apply the same rule so a
 * caller cannot write code that only works on one of them. Symlinks are checked separately by the local
 * adapter, which is the only one where they could reach the host.
 */
export function toSandboxRelativePath(vendor: Vendor, input: string, what = "path"): string {
  if (input.includes("\0")) throw escapeError(vendor, what, input);
  if (path.posix.isAbsolute(input) || /^[A-Za-z]:[\\/]/.test(input)) throw escapeError(vendor, what, input);
  const normalized = path.posix.normalize(input.replaceAll("\\", "/"));
  if (normalized === ".." || normalized.startsWith("../")) throw escapeError(vendor, what, input);
  // "." and "" mean the working directory itself, which is only a valid command cwd, never a file.
  return normalized === "." || normalized === "./" ? "" : normalized.replace(/\/+$/, "");
}

/** A file path: like `toSandboxRelativePath` but the working directory itself is not a file. */
export function toSandboxFilePath(vendor: Vendor, input: string): string {
  const relative = toSandboxRelativePath(vendor, input);
  if (relative === "") {
    throw new ProviderError(vendor, "invalid", `Sandbox file path ${JSON.stringify(input)} names no file.`);
  }
  return relative;
}

export function escapeError(vendor: Vendor, what: string, input: string): ProviderError {
  return new ProviderError(
    vendor,
    "invalid",
    `Sandbox ${what} ${JSON.stringify(input.slice(0, 200))} is outside the sandbox's working directory; ` +
      "use a path relative to it without '..'.",
  );
}

/** Environment variable names a POSIX process can carry; refuses `=`/NUL that would corrupt the block. */
export function assertValidEnv(vendor: Vendor, env: Record<string, string> | undefined): void {
  for (const [key, value] of Object.entries(env ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      throw new ProviderError(
        vendor,
        "invalid",
        `Sandbox environment variable name ${JSON.stringify(key.slice(0, 100))} is not valid; use letters, digits and underscores.`,
      );
    }
    if (value.includes("\0")) {
      throw new ProviderError(vendor, "invalid", `Sandbox environment variable ${key} contains a NUL byte.`);
    }
  }
}

/** Checks what both adapters need of a create request before touching anything. */
export function assertValidCreateInput(vendor: Vendor, input: CreateSandboxInput): void {
  const invalid = (message: string) => new ProviderError(vendor, "invalid", `Sandbox: ${message}`);
  if (!input.name || input.name.length > 200) throw invalid("name must be 1-200 characters.");
  if (!Number.isFinite(input.timeoutMs) || input.timeoutMs <= 0) throw invalid("timeoutMs must be positive.");
  if (input.vcpus !== undefined && (!Number.isInteger(input.vcpus) || input.vcpus < 1))
    throw invalid("vcpus must be a positive integer.");
  const ports = new Set<number>();
  for (const port of input.ports) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalid(`port ${port} is not 1-65535.`);
    if (ports.has(port)) throw invalid(`port ${port} is declared twice.`);
    ports.add(port);
  }
  assertValidEnv(vendor, input.env);
}
