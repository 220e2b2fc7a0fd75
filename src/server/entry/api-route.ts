import "server-only";
import { cookies } from "next/headers";
import { z } from "zod";
import { authenticateApiToken } from "@/server/auth/api-tokens";
import { findUserBySessionToken } from "@/server/auth/auth-sessions";
import type { Database } from "@/server/db/connection";
import { assertAdmin, type Operator, toOperator } from "@/server/entry/current-user";
import { AppError, toPublicError } from "@/server/errors";
import { getPlatform } from "@/server/platform/get-platform";
import type { Platform } from "@/server/platform/platform";
import { logError } from "../http/log";
import { parseOrThrow } from "../http/parse-input";

const MAX_BODY_BYTES = 1024 * 1024;

type RouteContext = { params?: Promise<Record<string, string | string[]>> };

export type ApiHandlerArgs<P, B> = {
  operator: Operator;
  params: P;
  body: B;
  request: Request;
  db: Database;
  platform: Platform;
};

export function errorResponse(error: unknown): Response {
  logError("api", error);
  const { status, body } = toPublicError(error);
  return Response.json({ error: body }, { status, headers: { "cache-control": "no-store" } });
}

/**
 * The operator behind an API request: a bearer token (`Authorization: Bearer kiln_…`) or the dashboard's
 * session cookie. Cookie-authenticated writes must come from this origin (CSRF).
 */
async function authenticate(request: Request, platform: Platform): Promise<Operator> {
  const { db } = platform;
  const authorization = request.headers.get("authorization");
  if (authorization !== null) {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization);
    const user = match?.[1] ? await authenticateApiToken(db, match[1]) : undefined;
    if (!user) throw new AppError("unauthorized:token");
    return toOperator(user);
  }
  const token = (await cookies()).get(platform.sessionCookie.name)?.value;
  const user = token ? await findUserBySessionToken(db, token) : undefined;
  if (!user) throw new AppError("unauthorized:token");
  if (!["GET", "HEAD", "OPTIONS"].includes(request.method)) {
    const origin = request.headers.get("origin");
    if (origin !== null && origin !== new URL(request.url).origin) throw new AppError("forbidden:origin");
  }
  return toOperator(user);
}

async function readJsonBody(request: Request): Promise<unknown> {
  const declared = Number(request.headers.get("content-length") ?? 0);
  if (declared > MAX_BODY_BYTES) throw new AppError("payload_too_large:body");
  const text = await request.text();
  if (Buffer.byteLength(text) > MAX_BODY_BYTES) throw new AppError("payload_too_large:body");
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new AppError("bad_request:json", undefined, { cause: error });
  }
}

/**
 * Every `/api/v1` handler goes through here: authenticate, parse params and body with zod, run, and map any
 * error to `{error:{code,message}}` with its status. Handlers only see typed, authorized input.
 */
export const noParams = z.object({});
export const noBody = z.undefined();

export function apiRoute<PS extends z.ZodType, BS extends z.ZodType>(
  schemas: { params: PS; body: BS; admin?: boolean },
  handler: (args: ApiHandlerArgs<z.output<PS>, z.output<BS>>) => Promise<Response>,
): (request: Request, context: RouteContext) => Promise<Response> {
  return async (request, context) => {
    try {
      const platform = await getPlatform();
      const operator = await authenticate(request, platform);
      if (schemas.admin) assertAdmin(operator);
      const params = parseOrThrow(schemas.params, (await context?.params) ?? {});
      const rawBody = (schemas.body as z.ZodType) === noBody ? undefined : await readJsonBody(request);
      const body = parseOrThrow(schemas.body, rawBody);
      return await handler({ operator, params, body, request, db: platform.db, platform });
    } catch (error) {
      return errorResponse(error);
    }
  };
}
