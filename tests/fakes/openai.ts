import { dispatch, type FakeServer, type FakeVendorOptions, json, route, startFakeHttpServer } from "./http";

/**
 * OpenAI API as documented, served under `/v1` (so a client's base URL is `${url}/v1`): Bearer keys, errors
 * `{error: {message, type, param, code}}`. The 401 message masks the key the way OpenAI does.
 */

export type FakeOpenAIOptions = FakeVendorOptions & { apiKey: string; models?: string[] };

function openaiError(status: number, message: string, type: string, code: string | null) {
  return json(status, { error: { message, type, param: null, code } }, { "x-request-id": "req_fake" });
}

function masked(key: string): string {
  return `${key.slice(0, 3)}${"*".repeat(Math.max(0, key.length - 7))}${key.slice(-4)}`;
}

export function startFakeOpenAI(options: FakeOpenAIOptions): Promise<FakeServer> {
  const models = options.models ?? ["gpt-4o", "gpt-4o-mini", "text-embedding-3-small"];
  const routes = [
    ...(options.routes ?? []),
    route("GET", "/v1/models", () =>
      json(
        200,
        {
          object: "list",
          data: models.map((id) => ({ id, object: "model", created: 1715367049, owned_by: "system" })),
        },
        { "x-request-id": "req_fake", "openai-processing-ms": "12" },
      ),
    ),
  ];

  return startFakeHttpServer(async (request) => {
    const intercepted = await options.intercept?.(request);
    if (intercepted) return intercepted;
    const authorization = request.header("authorization");
    const key = authorization && /^Bearer\s+(\S+)$/i.exec(authorization)?.[1];
    if (!key) {
      return openaiError(
        401,
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        "invalid_request_error",
        null,
      );
    }
    if (key !== options.apiKey) {
      return openaiError(
        401,
        `Incorrect API key provided: ${masked(key)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
        "invalid_request_error",
        "invalid_api_key",
      );
    }
    return (
      (await dispatch(routes, request)) ??
      openaiError(
        404,
        `Invalid URL (${request.method} ${request.url.pathname})`,
        "invalid_request_error",
        null,
      )
    );
  });
}
