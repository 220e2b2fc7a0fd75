import { dispatch, type FakeServer, type FakeVendorOptions, json, route, startFakeHttpServer } from "./http";

/**
 * Anthropic API as documented: `x-api-key` and `anthropic-version` headers on every request, errors
 * `{type: "error", error: {type, message}}`, cursor pages `{data, has_more, first_id, last_id}`.
 */

export type FakeAnthropicModel = { id: string; display_name: string };
export type FakeAnthropicOptions = FakeVendorOptions & { apiKey: string; models?: FakeAnthropicModel[] };

function anthropicError(status: number, type: string, message: string) {
  return json(
    status,
    { type: "error", error: { type, message }, request_id: "req_fake" },
    { "request-id": "req_fake" },
  );
}

export function startFakeAnthropic(options: FakeAnthropicOptions): Promise<FakeServer> {
  const models = options.models ?? [
    { id: "claude-sonnet-4-5", display_name: "Claude Sonnet 4.5" },
    { id: "claude-haiku-4-5", display_name: "Claude Haiku 4.5" },
  ];
  const routes = [
    ...(options.routes ?? []),
    route("GET", "/v1/models", ({ url }) => {
      const limit = Math.min(1000, Math.max(1, Number(url.searchParams.get("limit") ?? "20") || 20));
      const afterId = url.searchParams.get("after_id");
      const start = afterId ? models.findIndex((model) => model.id === afterId) + 1 : 0;
      const page = models.slice(start, start + limit);
      return json(
        200,
        {
          data: page.map((model) => ({ type: "model", created_at: "2025-09-29T00:00:00Z", ...model })),
          has_more: start + limit < models.length,
          first_id: page[0]?.id ?? null,
          last_id: page.at(-1)?.id ?? null,
        },
        { "request-id": "req_fake" },
      );
    }),
  ];

  return startFakeHttpServer(async (request) => {
    const intercepted = await options.intercept?.(request);
    if (intercepted) return intercepted;
    const key = request.header("x-api-key");
    if (!key) return anthropicError(401, "authentication_error", "x-api-key header is required");
    if (key !== options.apiKey) return anthropicError(401, "authentication_error", "invalid x-api-key");
    if (!request.header("anthropic-version")) {
      return anthropicError(400, "invalid_request_error", "anthropic-version: header is required");
    }
    return (await dispatch(routes, request)) ?? anthropicError(404, "not_found_error", "Not found");
  });
}
