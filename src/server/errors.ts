/**
 * One error type for the whole platform. A code names what went wrong; the registry says which HTTP status it
 * maps to and whether its message may be shown to the user or only logged. Entry points catch `AppError`, map it
 * with `toPublicError`, and never leak internal messages for "log" visibility codes.
 */
const registry = {
  "bad_request:input": { status: 400, visibility: "user", message: "The request is not valid." },
  "bad_request:json": { status: 400, visibility: "user", message: "The request body is not valid JSON." },
  "unauthorized:session": { status: 401, visibility: "user", message: "Sign in to continue." },
  "unauthorized:token": {
    status: 401,
    visibility: "user",
    message: "The API token is missing, revoked or wrong.",
  },
  "unauthorized:credentials": { status: 401, visibility: "user", message: "Email or password is incorrect." },
  "forbidden:origin": { status: 403, visibility: "user", message: "This request came from another site." },
  "not_found:project": { status: 404, visibility: "user", message: "Project not found." },
  "not_found:credential": { status: 404, visibility: "user", message: "No credential of that kind is set." },
  "not_found:api_token": { status: 404, visibility: "user", message: "API token not found." },
  "not_found:user": { status: 404, visibility: "user", message: "No operator with that email." },
  "not_found:route": { status: 404, visibility: "user", message: "Not found." },
  "not_found:operator": { status: 404, visibility: "user", message: "Operator not found." },
  "not_found:invite": {
    status: 404,
    visibility: "user",
    message: "This link is not valid: it was already used, it expired, or a newer one replaced it.",
  },
  "conflict:last_admin": {
    status: 409,
    visibility: "user",
    message: "Kiln needs at least one active admin: make another operator an admin first.",
  },
  "conflict:email": {
    status: 409,
    visibility: "user",
    message: "An operator with that email already exists.",
  },
  "conflict:revision_state": {
    status: 409,
    visibility: "user",
    message: "The revision is not in a state that allows this.",
  },
  "conflict:run_closed": {
    status: 409,
    visibility: "user",
    message: "This run has ended: its sandbox can report nothing more.",
  },
  "conflict:branch_pruned": {
    status: 409,
    visibility: "user",
    message: "This checkpoint's database branch was removed by retention.",
  },
  "conflict:revision_not_ready": {
    status: 409,
    visibility: "user",
    message: "This checkpoint is not built far enough for this yet.",
  },
  "conflict:not_deployed": {
    status: 409,
    visibility: "user",
    message: "This checkpoint has no running deployment: redeploy it, then publish.",
  },
  "unavailable:deployer": {
    status: 503,
    visibility: "user",
    message: "The deployer could not be reached. Try again in a moment.",
  },
  "not_found:revision": { status: 404, visibility: "user", message: "Revision not found." },
  "not_found:file": { status: 404, visibility: "user", message: "This checkpoint has no such file." },
  "not_found:task": { status: 404, visibility: "user", message: "Task not found." },
  "not_found:table": { status: 404, visibility: "user", message: "The database has no such table." },
  "not_found:screenshot": { status: 404, visibility: "user", message: "This revision has no screenshot." },
  "not_found:app_env": {
    status: 404,
    visibility: "user",
    message: "The project has no variable of that name.",
  },
  "conflict:app_env_limit": {
    status: 409,
    visibility: "user",
    message: "The project's variables are at their limit.",
  },
  "rate_limited:login": {
    status: 429,
    visibility: "user",
    message: "Too many sign-in attempts. Try again later.",
  },
  // The wire codes of issue 11, as API clients match them (no detail part): the message names the limit or reason.
  quota_exceeded: {
    status: 429,
    visibility: "user",
    message: "An operator quota is used up.",
  },
  paused: {
    status: 503,
    visibility: "user",
    message: "An admin paused all agent work on this Kiln.",
  },
  "rejected:credential": {
    status: 422,
    visibility: "user",
    message: "The service rejected this credential.",
  },
  "rejected:import": {
    status: 422,
    visibility: "user",
    message: "This repository cannot be imported.",
  },
  "unavailable:import": {
    status: 503,
    visibility: "user",
    message: "The repository's host could not be reached. Try again in a moment.",
  },
  "unavailable:database": {
    status: 503,
    visibility: "user",
    message: "The checkpoint's database could not be read right now.",
  },
  "payload_too_large:body": { status: 413, visibility: "user", message: "The request body is too large." },
  "config:secret_key": {
    status: 500,
    visibility: "log",
    message: "KILN_SECRET_KEY is not set and no key file exists in the data dir.",
  },
  "internal:unexpected": { status: 500, visibility: "log", message: "Something went wrong on our side." },
} as const satisfies Record<string, { status: number; visibility: "user" | "log"; message: string }>;

export type ErrorCode = keyof typeof registry;

export type FieldErrors = Record<string, string[]>;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly fields: FieldErrors | undefined;

  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown; fields?: FieldErrors }) {
    super(message ?? registry[code].message, { cause: options?.cause });
    this.name = "AppError";
    this.code = code;
    this.fields = options?.fields;
  }

  get status(): number {
    return registry[this.code].status;
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}

export type PublicError = { code: ErrorCode; message: string; fields?: FieldErrors };

/** What an entry point may send to a client for any thrown value. Unknown errors become a generic 500. */
export function toPublicError(error: unknown): { status: number; body: PublicError } {
  if (!(error instanceof AppError)) {
    return {
      status: 500,
      body: { code: "internal:unexpected", message: registry["internal:unexpected"].message },
    };
  }
  const entry = registry[error.code];
  const message = entry.visibility === "user" ? error.message : entry.message;
  const body: PublicError = { code: error.code, message };
  if (error.fields) body.fields = error.fields;
  return { status: entry.status, body };
}

export function shouldLog(error: unknown): boolean {
  return !(error instanceof AppError) || registry[error.code].visibility === "log";
}
