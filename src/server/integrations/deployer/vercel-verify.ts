import { z } from "zod";
import type { CredentialInput } from "@/server/credentials/kinds";
import type { VerifyResult } from "@/server/credentials/verify-result";
import {
  answerOf,
  type CredentialCheck,
  parseBody,
  statusReason,
  unreachable,
  unreachableFrom,
  type VendorAnswer,
  vendorNote,
} from "../credential-check";
import { VercelApi } from "./vercel-api";

const vercelUserSchema = z.object({
  user: z.object({ username: z.string().min(1) }),
});
const vercelTeamSchema = z.object({
  id: z.string(),
  slug: z.string().optional(),
  name: z.string().nullish(),
});
const vercelProjectSchema = z.object({ id: z.string(), name: z.string() });
const vercelErrorSchema = z.object({
  error: z.object({ code: z.string().optional(), message: z.string().optional() }),
});

function vercelErrorNote(answer: VendorAnswer): string {
  const parsed = vercelErrorSchema.safeParse(answer.body);
  return parsed.success ? vendorNote(parsed.data.error.code, parsed.data.error.message) : "";
}

const isOk = (answer: VendorAnswer) => answer.status >= 200 && answer.status < 300;

/**
 * A Vercel token before it is saved, with the team and project it names (the ones the deployer and sandboxes
 * will use): whose token it is, then that the team and the project in it are visible to it. Through the
 * deployer's client, one request at a time, each answer read here.
 */
export async function verifyVercelToken(
  input: Extract<CredentialInput, { kind: "vercel" }>,
  apiUrl: string,
  check: CredentialCheck,
): Promise<VerifyResult> {
  const baseFetch = check.fetch ?? globalThis.fetch;
  const api = new VercelApi({
    token: input.token,
    // Asked explicitly below: `/v2/user` and `/v2/teams/:id` take no team scope.
    teamId: undefined,
    apiUrl,
    // The check's deadline covers all of its requests, not each one.
    fetch: (url, init) =>
      baseFetch(url, {
        ...init,
        signal: init?.signal ? AbortSignal.any([init.signal, check.signal]) : check.signal,
      }),
    timeoutMs: check.timeoutMs,
    // Only `send` is used: one attempt per request, no retries to wait between.
    sleep: () => Promise.resolve(),
  });
  const get = async (
    path: string,
    query?: Record<string, string>,
  ): Promise<{ answer: VendorAnswer } | { failed: VerifyResult }> => {
    try {
      const sent = await api.send({
        method: "GET",
        path,
        action: "checking the token",
        ...(query ? { query } : {}),
      });
      return { answer: answerOf(sent.status, sent.text) };
    } catch (error) {
      return { failed: unreachableFrom(error, check) };
    }
  };
  const tokenRejected = (answer: VendorAnswer): VerifyResult => ({
    status: "rejected",
    message: `Vercel rejected the token${vercelErrorNote(answer)}. Check that it was copied in full and has not expired, or create a new one under Vercel → Account Settings → Tokens.`,
  });

  const user = await get("/v2/user");
  if ("failed" in user) return user.failed;
  if (user.answer.status === 401 || user.answer.status === 403) return tokenRejected(user.answer);
  if (!isOk(user.answer)) return unreachable(check, statusReason(user.answer.status));
  const parsedUser = parseBody(vercelUserSchema, user.answer);
  if (!parsedUser.ok) return unreachable(check, parsedUser.reason);
  const parts = [`Signed in to Vercel as ${parsedUser.data.user.username}`];

  if (input.teamId) {
    const team = await get(`/v2/teams/${encodeURIComponent(input.teamId)}`);
    if ("failed" in team) return team.failed;
    const note = vercelErrorNote(team.answer);
    if (team.answer.status === 401) return tokenRejected(team.answer);
    if (team.answer.status === 404) {
      return {
        status: "rejected",
        message: `Vercel has no team "${input.teamId}" that this token can see${note}. Check the team ID under Team Settings → General, or leave it empty to use your personal account.`,
      };
    }
    if (team.answer.status === 403) {
      return {
        status: "rejected",
        message: `This Vercel token cannot access team "${input.teamId}"${note}. Create a token whose scope includes that team.`,
      };
    }
    if (!isOk(team.answer)) return unreachable(check, statusReason(team.answer.status));
    const parsedTeam = parseBody(vercelTeamSchema, team.answer);
    if (!parsedTeam.ok) return unreachable(check, parsedTeam.reason);
    parts.push(`team ${parsedTeam.data.name || parsedTeam.data.slug || parsedTeam.data.id}`);
  }

  if (input.projectId) {
    const project = await get(
      `/v9/projects/${encodeURIComponent(input.projectId)}`,
      input.teamId ? { teamId: input.teamId } : undefined,
    );
    if ("failed" in project) return project.failed;
    const note = vercelErrorNote(project.answer);
    const owner = input.teamId ? `team "${input.teamId}"` : "your personal account";
    if (project.answer.status === 401) return tokenRejected(project.answer);
    if (project.answer.status === 404) {
      return {
        status: "rejected",
        message: `Vercel has no project "${input.projectId}" in ${owner}${note}. Check the project ID under Project Settings → General${input.teamId ? "" : ", or set the team the project belongs to"}.`,
      };
    }
    if (project.answer.status === 403) {
      return {
        status: "rejected",
        message: `This Vercel token cannot access project "${input.projectId}" in ${owner}${note}. Use a token whose scope includes it.`,
      };
    }
    if (!isOk(project.answer)) return unreachable(check, statusReason(project.answer.status));
    const parsedProject = parseBody(vercelProjectSchema, project.answer);
    if (!parsedProject.ok) return unreachable(check, parsedProject.reason);
    parts.push(`project ${parsedProject.data.name}`);
  }

  return { status: "verified", detail: parts.join(" · ") };
}
