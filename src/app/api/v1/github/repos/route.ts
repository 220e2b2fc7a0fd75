import { apiRoute, noBody, noParams } from "@/server/entry/api-route";
import { listGitHubRepos } from "@/server/operations/list-github-repos";

/** The operator's GitHub repositories (their token's, else the platform's), for importing one as a project. */
export const GET = apiRoute({ params: noParams, body: noBody }, async ({ operator, platform }) =>
  Response.json(await listGitHubRepos(platform, operator.id)),
);
