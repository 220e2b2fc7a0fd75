import { z } from "zod";
import { decryptSecret, encryptSecret } from "@/server/crypto/encryption";
import type { BranchConnection } from "./port";

// A branch's connection as the control plane stores it (db_branch.connection_ciphertext): encrypted with the platform
// key, bound to its row so a ciphertext copied onto another row does not decrypt.

const connectionSchema = z.object({ databaseUrl: z.string().min(1), hostPaths: z.array(z.string()) });

function connectionContext(branchRowId: string): string {
  return `db_branch:${branchRowId}`;
}

export function encryptBranchConnection(
  key: Buffer,
  branchRowId: string,
  connection: BranchConnection,
): string {
  return encryptSecret(key, JSON.stringify(connection), connectionContext(branchRowId));
}

export function decryptBranchConnection(
  key: Buffer,
  branchRowId: string,
  ciphertext: string,
): BranchConnection {
  return connectionSchema.parse(JSON.parse(decryptSecret(key, ciphertext, connectionContext(branchRowId))));
}

/** The server of a `mysql://` branch URL, which a local sandbox reaches only through a forwarder; a file needs none. */
export function tcpEndpointsOf(databaseUrl: string): Array<{ host: string; port: number }> {
  if (!databaseUrl.startsWith("mysql://")) return [];
  const url = new URL(databaseUrl);
  return [{ host: url.hostname, port: Number(url.port || 3306) }];
}
