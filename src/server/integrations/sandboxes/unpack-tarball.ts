import { randomBytes } from "node:crypto";
import { ProviderError } from "../provider-error";
import type { SandboxHandle } from "./port";

/**
 * Unpacks a gzipped tar into a sandbox's working directory, inside the sandbox: what a sandbox packed (a verified
 * build) is as untrusted as the rest of its work, so it is never unpacked on the host, where a crafted link or path
 * could reach past the directory meant for it.
 */
export async function unpackTarball(sandbox: SandboxHandle, data: Buffer, what: string): Promise<void> {
  const file = `.kiln-unpack-${randomBytes(6).toString("hex")}.tar.gz`;
  await sandbox.writeFiles([{ path: file, content: data }]);
  const unpacked = await sandbox.run({ cmd: "tar", args: ["-xzf", file, "--no-same-owner"] });
  await sandbox.run({ cmd: "rm", args: ["-f", file] });
  if (unpacked.exitCode !== 0) {
    throw new ProviderError(
      sandbox.kind === "local" ? "local-sandbox" : "vercel",
      "invalid",
      `Unpacking ${what} failed (exit code ${unpacked.exitCode}): ${unpacked.stderr.trim().slice(-500)}`,
    );
  }
}
