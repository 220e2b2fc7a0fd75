import { z } from "zod";
import type { VerifyResult } from "@/server/credentials/verify-result";
import {
  type CredentialCheck,
  describeZodError,
  unreachable,
  unreachableFrom,
  vendorNote,
} from "../credential-check";
import { ProviderError } from "../provider-error";
import { type Answer, createGitHubApi } from "./github-api";

const githubUserSchema = z.object({ login: z.string().min(1) });

/** A GitHub token before it is saved: whose it is (GET /user), through the GitHost adapter's client. */
export async function verifyGitHubToken(
  token: string,
  apiUrl: string,
  check: CredentialCheck,
): Promise<VerifyResult> {
  const api = createGitHubApi({ token, apiUrl, fetch: check.fetch, timeoutMs: check.timeoutMs });
  let answer: Answer<unknown>;
  try {
    // Not idempotent for the client's purposes: a check is one request, an outage is reported, not retried.
    answer = await api.attempt("GET /user", {}, z.unknown(), {
      action: "checking the token",
      handled: [401, 403],
      idempotent: false,
    });
  } catch (error) {
    if (error instanceof ProviderError && error.kind === "rate_limited") {
      return unreachable(check, "rate limited by GitHub; try again in a few minutes");
    }
    return unreachableFrom(error, check);
  }
  if (!answer.ok) {
    const note = vendorNote(answer.message);
    return answer.status === 401
      ? {
          status: "rejected",
          message: `GitHub rejected the token${note}. Check that it was copied in full and has not expired or been revoked, or create a new one under GitHub → Settings → Developer settings → Personal access tokens.`,
        }
      : {
          status: "rejected",
          message: `GitHub refused the token${note}. If your organization uses SAML single sign-on, authorize the token for it; otherwise create a new token.`,
        };
  }
  const user = githubUserSchema.safeParse(answer.data);
  if (!user.success) return unreachable(check, describeZodError(user.error));
  return { status: "verified", detail: `Signed in to GitHub as ${user.data.login}` };
}
