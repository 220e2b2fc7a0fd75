import { expect, test } from "@playwright/test";
import { exportedActionNames, listPages, listRouteHandlers, listServerActions } from "./app-surface";
import { E2E_BASE_URL } from "./env";

// Anonymous visitors, and visitors with a forged session cookie (which gets past the proxy), must be turned away
// by every page, route handler and server action itself.

// A share link's replay is public by design (the slug is the proof); an unknown slug is a plain 404. So is a
// one-time link that sets a password (the link is the proof); an unknown one says it no longer works.
const PUBLIC_PAGES = new Set(["/login", "/s/prj_e2e_missing", "/invite/prj_e2e_missing"]);
const PUBLIC_ACTIONS = new Set(["signIn", "signInWithForm", "setPasswordFromLink"]);
const FORGED_COOKIE = "kiln_session=forged-session-token-that-matches-nothing";
/**
 * Route handlers deliberately outside session/API-token auth, each with what a caller without the right proof must
 * get. Keyed by method and URL: a new route is never covered by these, so one that forgets auth still fails below.
 */
const NOT_TOKEN_AUTHENTICATED: Record<string, { status: number; code: string; message?: RegExp }> = {
  // Public by design (a share link's events, read-only): an unknown slug is a 404 that reveals nothing.
  "GET /api/v1/sessions/prj_e2e_missing/events": { status: 404, code: "not_found:route" },
  "GET /s/prj_e2e_missing/checkpoints/prj_e2e_missing/diff": { status: 404, code: "not_found:route" },
  "GET /s/prj_e2e_missing/checkpoints/prj_e2e_missing/screenshot": { status: 404, code: "not_found:route" },
  // Authenticated by the sandbox's HMAC signature, which these requests lack.
  "POST /hooks/v1/sandboxes/prj_e2e_missing": {
    status: 401,
    code: "unauthorized:token",
    message: /x-kiln-signature/,
  },
};

test.describe("auth boundary", () => {
  const pages = listPages();
  const routes = listRouteHandlers();

  test("the app surface is what we think it is", () => {
    expect(pages.map((p) => p.url)).toEqual(expect.arrayContaining(["/login", "/projects", "/settings"]));
    expect(routes.flatMap((r) => r.methods.map((m) => `${m} ${r.url}`))).toEqual(
      expect.arrayContaining([
        "GET /api/v1/me",
        "POST /api/v1/projects",
        "DELETE /api/v1/projects/prj_e2e_missing",
        ...Object.keys(NOT_TOKEN_AUTHENTICATED),
      ]),
    );
  });

  for (const page of pages.filter((p) => !PUBLIC_PAGES.has(p.url))) {
    for (const cookie of [undefined, FORGED_COOKIE]) {
      test(`page ${page.url} sends ${cookie ? "a forged session" : "anonymous visitors"} to /login`, async ({
        request,
      }) => {
        const response = await request.get(page.url, {
          maxRedirects: 0,
          headers: cookie ? { cookie } : {},
        });
        expect(response.status(), page.file).toBeGreaterThanOrEqual(300);
        expect(response.status(), page.file).toBeLessThan(400);
        const location = response.headers().location ?? "";
        // "/" redirects to /projects first, which then redirects to /login.
        expect(location, page.file).toMatch(page.url === "/" ? /\/projects$|\/login/ : /\/login\?next=/);
      });
    }
  }

  for (const route of routes) {
    for (const method of route.methods) {
      for (const auth of ["none", "forged-cookie", "forged-bearer"] as const) {
        test(`${method} ${route.url} with ${auth} credentials is refused`, async ({ request }) => {
          const headers: Record<string, string> = { "content-type": "application/json" };
          if (auth === "forged-cookie") headers.cookie = FORGED_COOKIE;
          if (auth === "forged-bearer") headers.authorization = "Bearer kiln_forged_token_value";
          const response = await request.fetch(route.url, {
            method,
            headers,
            data: method === "GET" ? undefined : "{}",
          });
          const body = await response.json();
          if (route.url.startsWith("/api/v1/some/path")) {
            // The catch-all answers unknown API paths with 404 and reveals nothing else.
            expect(response.status()).toBe(404);
            expect(body.error.code).toBe("not_found:route");
            return;
          }
          const exception = NOT_TOKEN_AUTHENTICATED[`${method} ${route.url}`];
          if (exception) {
            expect(response.status(), route.file).toBe(exception.status);
            expect(body.error.code).toBe(exception.code);
            if (exception.message) expect(body.error.message).toMatch(exception.message);
            return;
          }
          expect(response.status(), route.file).toBe(401);
          expect(body.error.code).toBe("unauthorized:token");
        });
      }
    }
  }

  test("every exported server action is registered in the build", () => {
    const registered = listServerActions()
      .map((a) => a.name)
      .sort();
    expect(registered).toEqual(exportedActionNames().sort());
    expect(registered.length).toBeGreaterThanOrEqual(8);
  });

  for (const action of listServerActions().filter((a) => !PUBLIC_ACTIONS.has(a.name))) {
    test(`server action ${action.name} refuses a caller without a session`, async ({ request }) => {
      const response = await request.post(action.pagePath, {
        maxRedirects: 0,
        headers: {
          "next-action": action.id,
          "content-type": "text/plain;charset=UTF-8",
          accept: "text/x-component",
          origin: E2E_BASE_URL,
          cookie: FORGED_COOKIE,
        },
        data: JSON.stringify([{}]),
      });
      const text = await response.text();
      expect(response.status(), `${action.name}: ${text.slice(0, 200)}`).toBe(200);
      expect(text).toContain('"code":"unauthorized:session"');
    });
  }
});
