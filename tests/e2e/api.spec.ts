import { expect, test } from "@playwright/test";
import { createOperator, createToken } from "./operators";

test.describe("REST API v1", () => {
  let alice: { email: string; password: string };
  let aliceToken = "";
  let bobToken = "";
  test.beforeAll(() => {
    alice = createOperator();
    aliceToken = createToken(alice.email);
    bobToken = createToken(createOperator().email);
  });
  const as = (token: string) => ({ authorization: `Bearer ${token}` });

  test("GET /me answers for the token's operator", async ({ request }) => {
    const response = await request.get("/api/v1/me", { headers: as(aliceToken) });
    expect(response.status()).toBe(200);
    expect((await response.json()).user.email).toBe(alice.email);
  });

  test("a project is created, listed, read and deleted by its owner", async ({ request }) => {
    const created = await request.post("/api/v1/projects", {
      headers: as(aliceToken),
      data: { prompt: "Build a reading list with tags", agent: "claude-code" },
    });
    expect(created.status()).toBe(202);
    const body = await created.json();
    expect(body.project).toMatchObject({
      name: "Build a reading list with tags",
      agent: "claude-code",
      status: "queued",
    });
    expect(body.revision).toMatchObject({ ordinal: 1, status: "queued" });
    expect(body.session.url).toMatch(/\/s\/[0-9a-z]{26,}$/);

    const list = await (await request.get("/api/v1/projects", { headers: as(aliceToken) })).json();
    expect(list.projects.map((p: { id: string }) => p.id)).toContain(body.project.id);

    const one = await request.get(`/api/v1/projects/${body.project.id}`, { headers: as(aliceToken) });
    expect(one.status()).toBe(200);
    expect((await one.json()).tasks).toHaveLength(1);

    expect(
      (await request.delete(`/api/v1/projects/${body.project.id}`, { headers: as(aliceToken) })).status(),
    ).toBe(204);
    expect(
      (await request.get(`/api/v1/projects/${body.project.id}`, { headers: as(aliceToken) })).status(),
    ).toBe(404);
  });

  test("another operator's project is 404, never 403, and survives their attempts", async ({ request }) => {
    const created = await (
      await request.post("/api/v1/projects", {
        headers: as(aliceToken),
        data: { prompt: "Private notes app" },
      })
    ).json();
    const url = `/api/v1/projects/${created.project.id}`;

    const read = await request.get(url, { headers: as(bobToken) });
    expect(read.status()).toBe(404);
    expect((await read.json()).error.code).toBe("not_found:project");
    expect((await request.delete(url, { headers: as(bobToken) })).status()).toBe(404);
    const bobsList = await (await request.get("/api/v1/projects", { headers: as(bobToken) })).json();
    expect(bobsList.projects).toEqual([]);

    expect((await request.get(url, { headers: as(aliceToken) })).status()).toBe(200);
  });

  test("a malformed body is a 400 that names the wrong field", async ({ request }) => {
    const badAgent = await request.post("/api/v1/projects", {
      headers: as(aliceToken),
      data: { prompt: "A chess clock", agent: "gpt-pilot" },
    });
    expect(badAgent.status()).toBe(400);
    const body = await badAgent.json();
    expect(body.error.code).toBe("bad_request:input");
    expect(Object.keys(body.error.fields)).toEqual(["agent"]);

    const notJson = await request.post("/api/v1/projects", {
      headers: { ...as(aliceToken), "content-type": "application/json" },
      data: Buffer.from("{prompt:"),
    });
    expect(notJson.status()).toBe(400);
    expect((await notJson.json()).error.code).toBe("bad_request:json");
  });

  test("a provider the operator cannot use is a 400 that says how to fix it", async ({ request }) => {
    const response = await request.post("/api/v1/projects", {
      headers: as(aliceToken),
      data: { prompt: "A wiki", providers: { git: "github" } },
    });
    expect(response.status()).toBe(400);
    const body = await response.json();
    expect(body.error.fields["providers.git"][0]).toMatch(/GitHub token/);

    const local = await request.post("/api/v1/projects", {
      headers: as(aliceToken),
      data: { prompt: "A wiki", providers: { git: "local", database: "libsql", sandbox: "local" } },
    });
    expect(local.status()).toBe(202);
    expect((await local.json()).project.providers).toMatchObject({ git: "local", database: "libsql" });
  });

  test("revisions: listed per task, read, private to their owner; without a model key the plan step fails clearly", async ({
    request,
  }) => {
    const created = await (
      await request.post("/api/v1/projects", { headers: as(aliceToken), data: { prompt: "A recipe box" } })
    ).json();
    const listUrl = `/api/v1/projects/${created.project.id}/tasks/${created.task.id}/revisions`;
    const listed = await (await request.get(listUrl, { headers: as(aliceToken) })).json();
    expect(listed.revisions).toHaveLength(1);
    expect(listed.revisions[0]).toMatchObject({
      id: created.revision.id,
      ordinal: 1,
      prompt: "A recipe box",
    });
    expect((await request.get(listUrl, { headers: as(bobToken) })).status()).toBe(404);

    const revisionUrl = `/api/v1/revisions/${created.revision.id}`;
    expect((await request.get(revisionUrl, { headers: as(bobToken) })).status()).toBe(404);
    expect((await request.post(`${revisionUrl}/cancel`, { headers: as(bobToken) })).status()).toBe(404);

    // The pipeline starts at once; this server has no OpenAI key, so planning fails with the fix in its reason.
    await expect
      .poll(
        async () =>
          (await (await request.get(revisionUrl, { headers: as(aliceToken) })).json()).revision.status,
      )
      .toBe("failed");
    const failed = (await (await request.get(revisionUrl, { headers: as(aliceToken) })).json()).revision;
    expect(failed.error.message).toMatch(/No OpenAI key is set: add one in Settings/);
    const again = await request.post(`${revisionUrl}/cancel`, { headers: as(aliceToken) });
    expect(again.status()).toBe(409);
  });

  test("credentials over the API: kinds and hints only, never values", async ({ request }) => {
    const secret = "sk-e2e-planted-canary-0042";
    const saved = await request.put("/api/v1/credentials/openai", {
      headers: as(aliceToken),
      // Port 9 (discard) refuses connections: the key cannot be verified, so it is saved as unverified.
      data: { apiKey: secret, baseUrl: "http://127.0.0.1:9/v1" },
    });
    expect(saved.status()).toBe(200);
    const savedText = await saved.text();
    expect(savedText).toContain('"status":"unreachable"');
    expect(savedText).not.toContain(secret);

    const listed = await request.get("/api/v1/credentials", { headers: as(aliceToken) });
    const text = await listed.text();
    expect(text).not.toContain(secret);
    const openai = (await listed.json()).credentials.find((c: { kind: string }) => c.kind === "openai");
    expect(openai).toMatchObject({ source: "operator", hint: "0042", verifyStatus: "unverified" });

    expect((await request.delete("/api/v1/credentials/openai", { headers: as(aliceToken) })).status()).toBe(
      204,
    );
    expect((await request.delete("/api/v1/credentials/openai", { headers: as(aliceToken) })).status()).toBe(
      404,
    );
    expect(
      (await request.put("/api/v1/credentials/nonsense", { headers: as(aliceToken), data: {} })).status(),
    ).toBe(400);
  });
});
