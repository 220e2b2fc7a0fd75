import { dispatch, type FakeServer, type FakeVendorOptions, json, route, startFakeHttpServer } from "./http";

/**
 * Vercel REST API as documented: Bearer tokens, errors `{error: {code, message}}`, 403 `forbidden` for a bad
 * token, 404 `not_found` for unknown ids. Projects are looked up in the account named by `?teamId=` (or the
 * user's personal account without it), by id or by name.
 */

export type FakeVercelUser = { id: string; username: string; email: string; name: string | null };
export type FakeVercelTeam = { id: string; slug: string; name: string };
export type FakeVercelProject = { id: string; name: string; accountId: string };

export type FakeVercelOptions = FakeVendorOptions & {
  token: string;
  user?: Partial<FakeVercelUser>;
  teams?: FakeVercelTeam[];
  projects?: FakeVercelProject[];
};

function vercelError(status: number, code: string, message: string, extra: Record<string, unknown> = {}) {
  return json(status, { error: { code, message, ...extra } });
}

export function startFakeVercel(options: FakeVercelOptions): Promise<FakeServer> {
  const user: FakeVercelUser = {
    id: "usr_fake0000000000000001",
    username: "vercel-user",
    email: "user@example.com",
    name: "Vercel User",
    ...options.user,
  };
  const teams = options.teams ?? [];
  const projects = options.projects ?? [];
  const routes = [
    ...(options.routes ?? []),
    route("GET", "/v2/user", () =>
      json(200, {
        user: {
          id: user.id,
          username: user.username,
          email: user.email,
          name: user.name,
          defaultTeamId: null,
        },
      }),
    ),
    route("GET", "/v2/teams/:teamId", ({ params }) => {
      const team = teams.find((candidate) => candidate.id === params.teamId);
      if (!team) return vercelError(404, "not_found", "Team not found");
      return json(200, { id: team.id, slug: team.slug, name: team.name, createdAt: 1700000000000 });
    }),
    route("GET", "/v9/projects/:idOrName", ({ params, url }) => {
      const teamId = url.searchParams.get("teamId");
      if (teamId && !teams.some((team) => team.id === teamId)) {
        return vercelError(403, "forbidden", "Not authorized");
      }
      const accountId = teamId ?? user.id;
      const project = projects.find(
        (candidate) =>
          candidate.accountId === accountId &&
          (candidate.id === params.idOrName || candidate.name === params.idOrName),
      );
      if (!project) return vercelError(404, "not_found", "Project not found");
      return json(200, {
        id: project.id,
        name: project.name,
        accountId: project.accountId,
        framework: "nextjs",
      });
    }),
  ];

  return startFakeHttpServer(async (request) => {
    const intercepted = await options.intercept?.(request);
    if (intercepted) return intercepted;
    const authorization = request.header("authorization");
    if (!authorization) {
      return vercelError(403, "forbidden", "The request is missing an authentication token", {
        missingToken: true,
      });
    }
    const match = /^Bearer\s+(\S+)$/i.exec(authorization);
    if (match?.[1] !== options.token) {
      return vercelError(403, "forbidden", "Not authorized", { invalidToken: true });
    }
    return (
      (await dispatch(routes, request)) ?? vercelError(404, "not_found", "The requested path was not found")
    );
  });
}
