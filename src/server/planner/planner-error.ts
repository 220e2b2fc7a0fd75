/**
 * The one error `planApp` throws. `kind` says what an operator can do about it; `retryable` is true only where
 * planning again later may succeed (rate limits, outages, timeouts). Messages are written for operators and
 * never contain the API key.
 */
export type PlannerErrorKind =
  | "invalid_plan" // the model answered twice, and neither answer was a usable plan
  | "refused" // the model declined to plan this app
  | "invalid_input" // the caller's prompt, model or key cannot be sent
  | "auth" // the key is wrong or revoked
  | "forbidden" // the key lacks access (to the model, or the API)
  | "not_found" // no such model, or a base URL that is not the API
  | "invalid_request" // the API refused the request (e.g. a model without structured output)
  | "rate_limited"
  | "unavailable" // 5xx, connection refused, DNS
  | "timeout"
  | "internal"; // an answer or failure of a shape we do not know

export type PlannerProvider = "openai" | "anthropic" | "openai-compatible";

const retryableKinds = new Set<PlannerErrorKind>(["rate_limited", "unavailable", "timeout"]);

export class PlannerError extends Error {
  readonly kind: PlannerErrorKind;
  readonly provider: PlannerProvider;
  readonly status: number | undefined;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;

  constructor(
    provider: PlannerProvider,
    kind: PlannerErrorKind,
    message: string,
    options: { status?: number; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "PlannerError";
    this.provider = provider;
    this.kind = kind;
    this.status = options.status;
    this.retryable = retryableKinds.has(kind);
    this.retryAfterMs = options.retryAfterMs;
  }
}
