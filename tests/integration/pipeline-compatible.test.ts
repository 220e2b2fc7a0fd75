import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFollowUp } from "@/server/revisions/create-revision";
import { toRevisionDto } from "@/server/revisions/revision-dto";
import { type PipelineHarness, startPipelineHarness } from "../helpers/pipeline-harness";
import { testPreviewOrigins } from "../helpers/public-site";

// Both REAL agent CLIs on a model server that speaks ONLY OpenAI Chat Completions (404 on /responses and
// /messages) and has no json_schema support, as a self-hoster's Ollama or vLLM may: the planner falls back to a
// forced tool call, Codex's Responses and Claude Code's Messages are translated by Kiln's gateway, tool calls
// included; the app is built, followed up, and every model call is metered at the server's configured price.

const MODEL = "kiln-coder";
const agents = [
  { agent: "codex", build: "codex-todo-app", followUp: "codex-add-username" },
  { agent: "claude-code", build: "claude-todo-app", followUp: "claude-add-username" },
] as const;

describe.each(agents)(
  "$agent on an OpenAI-compatible server",
  { timeout: 900_000 },
  ({ agent, build, followUp }) => {
    let h: PipelineHarness;

    beforeAll(async () => {
      h = await startPipelineHarness({
        scenarios: ["plan-todo", build],
        compatible: { apis: ["chat"], chat: { jsonSchema: false }, models: [MODEL], price: "0.5,1.5" },
      });
    });

    afterAll(async () => {
      await h?.close();
    });

    it("builds the app and follows it up, every call over Chat Completions and metered", async () => {
      const created = await h.createProject("build a todo app", {
        agent,
        provider: "openai-compatible",
        model: MODEL,
      });
      await h.run(created.revision.id);
      const revision = await h.waitForEnd(created.revision.id);
      expect(h.platform.errors).toEqual([]);
      expect({ status: revision.status, error: revision.error_message }).toEqual({
        status: "finished",
        error: null,
      });

      const requests = h.models.modelRequests();
      expect(requests.every((request) => request.path === "/v1/chat/completions")).toBe(true);
      expect(requests.every((request) => request.conversation?.model === MODEL)).toBe(true);
      // The planner: json_schema refused (400), then a forced tool call.
      expect(
        (requests[0]?.body as { response_format?: { type: string } } | undefined)?.response_format?.type,
      ).toBe("json_schema");
      expect((requests[1]?.body as { tool_choice?: unknown } | undefined)?.tool_choice).toBeDefined();
      // The agent called tools: their results came back to the server as tool messages.
      const toolResults = requests.filter((request) =>
        (request.body as { messages?: Array<{ role: string }> }).messages?.some((m) => m.role === "tool"),
      );
      expect(toolResults.length).toBeGreaterThan(3);

      const events = await h.events(revision.id);
      const types = events.map((event) => event.type);
      for (const type of ["plan", "agent.command", "runner.committed", "runner.preview", "runner.finished"]) {
        expect(types, type).toContain(type);
      }
      const page = await fetch(revision.preview_url ?? "http://127.0.0.1:1");
      expect((await page.text()).toLowerCase()).toContain("todo");

      // One usage row per answered call (the planner's refused json_schema attempt is not one), all at the
      // server's price: $0.50 / $1.50 per 1M tokens.
      const usage = await h.db
        .selectFrom("usage")
        .selectAll()
        .where("revision_id", "=", revision.id)
        .execute();
      expect(usage.length).toBe(requests.length - 1);
      expect(usage.every((row) => row.provider === "openai-compatible" && Number(row.estimated) === 0)).toBe(
        true,
      );
      const expectedCost = usage.reduce(
        (sum, row) =>
          sum +
          Math.round((Number(row.input_tokens) * 500_000 + Number(row.output_tokens) * 1_500_000) / 1e6),
        0,
      );
      expect(Number(revision.cost_usd_micros)).toBe(expectedCost);
      expect(Number(revision.cost_usd_micros)).toBeGreaterThan(0);
      // The checkpoint shows the model it ran on.
      expect(toRevisionDto(revision, testPreviewOrigins)).toMatchObject({
        model: MODEL,
        modelProvider: "openai-compatible",
      });

      // A follow-up resumes the agent's session on the same server.
      h.switchScenarios([followUp]);
      const before = h.models.modelRequests().length;
      const next = await createFollowUp(h.db, testPreviewOrigins, h.userId, {
        projectId: created.project.id,
        taskId: created.task.id,
        prompt: "add a username field",
      });
      expect(next).toMatchObject({ model: MODEL, modelProvider: "openai-compatible" });
      await h.run(next.id);
      const second = await h.waitForEnd(next.id);
      expect({ status: second.status, error: second.error_message }).toEqual({
        status: "finished",
        error: null,
      });
      const later = h.models.modelRequests().slice(before);
      expect(later.length).toBeGreaterThan(0);
      expect(later.every((request) => request.path === "/v1/chat/completions")).toBe(true);
      // Resumed: the follow-up's first call carries checkpoint 1's conversation.
      expect(later[0]?.rawBody).toContain("TodoForm");
      const columns = await h.onBranch(second.id, async (client) =>
        (await client.execute("PRAGMA table_info(todos)")).rows.map((row) => String(row.name)),
      );
      expect(columns).toContain("username");
      expect(Number(second.output_tokens)).toBeGreaterThan(0);
    });
  },
);
