import { z } from "zod";
import type { CredentialInput } from "@/server/credentials/kinds";
import type { VerifyResult } from "@/server/credentials/verify-result";
import {
  type CredentialCheck,
  describeError,
  parseBody,
  readAnswer,
  statusReason,
  unreachable,
  type VendorAnswer,
  vendorNote,
} from "../credential-check";
import { createDigestFetch } from "./digest-auth";

const tidbClustersSchema = z.object({
  clusters: z.array(z.object({ clusterId: z.string().optional() })),
  totalSize: z.union([z.number(), z.string()]).optional(),
});
const tidbErrorSchema = z.object({
  code: z.union([z.number(), z.string()]).optional(),
  message: z.string().optional(),
});

/**
 * A TiDB Cloud API key pair before it is saved: one cluster listing over the adapter's Digest auth. Not through
 * the adapter's client, whose policy is the opposite of a check's: it waits out rate limits and retries outages.
 */
export async function verifyTiDBCloudKey(
  input: Extract<CredentialInput, { kind: "tidbcloud" }>,
  apiUrl: string,
  check: CredentialCheck,
): Promise<VerifyResult> {
  const digestFetch = createDigestFetch({
    username: input.publicKey,
    password: input.privateKey,
    ...(check.fetch ? { fetch: check.fetch } : {}),
  });
  let answer: VendorAnswer;
  try {
    const response = await digestFetch(`${apiUrl}/clusters?pageSize=1`, {
      headers: { accept: "application/json" },
      signal: check.signal,
    });
    answer = await readAnswer(response);
  } catch (error) {
    return unreachable(check, describeError(error, check));
  }
  if (answer.status === 401 || answer.status === 403) {
    const vendor = tidbErrorSchema.safeParse(answer.body);
    const note = vendorNote(vendor.success ? vendor.data.message : undefined);
    return {
      status: "rejected",
      message:
        answer.status === 401
          ? `TiDB Cloud rejected the API key${note}. Check the public and private key (Organization Settings → API Keys in the TiDB Cloud console) and that the key has not been deleted.`
          : `TiDB Cloud refused the API key${note}. Give the key a role that can read clusters, or create a new key.`,
    };
  }
  if (answer.status === 429)
    return unreachable(check, "rate limited by TiDB Cloud, 100 requests/min per key");
  if (answer.status < 200 || answer.status >= 300) return unreachable(check, statusReason(answer.status));
  const parsed = parseBody(tidbClustersSchema, answer);
  if (!parsed.ok) return unreachable(check, parsed.reason);
  // totalSize is an int64, which the gateway may serialize as a string.
  const total = parsed.data.totalSize === undefined ? Number.NaN : Number(parsed.data.totalSize);
  const count = Number.isInteger(total) ? ` (${total} cluster${total === 1 ? "" : "s"} visible)` : "";
  return { status: "verified", detail: `Signed in to TiDB Cloud; the API key can list clusters${count}` };
}
