import { createElement } from "react";
import { renderToString } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { PreviewPane } from "@/components/workspace/preview-pane";
import type { RevisionDto } from "@/server/revisions/revision-types";

// The workspace's preview while a checkpoint is previewed but not finished (issue 13): the app shows at once, with a
// small notice of what is still going on behind it.

function revision(status: string, previewUrl: string | null): RevisionDto {
  return {
    id: "rev_1",
    taskId: "task_1",
    ordinal: 1,
    kind: "prompt",
    prompt: "build a todo app",
    agent: "codex",
    model: "gpt-5.5",
    modelProvider: "openai",
    agentVendor: "openai",
    status,
    step: null,
    error: null,
    commitSha: null,
    dbBranchId: null,
    previewUrl,
    previewAsleep: false,
    deployUrl: null,
    screenshotUrl: null,
    restoredFromRevisionId: null,
    usage: { inputTokens: 0, outputTokens: 0, cachedTokens: 0, costUsd: 0, estimated: false },
    createdAt: 0,
    startedAt: 0,
    finishedAt: null,
  };
}

const render = (dto: RevisionDto) => renderToString(createElement(PreviewPane, { revision: dto }));
const url = "http://r-1.localhost:3000";

describe("the preview pane", () => {
  it.each([
    ["previewing", "Preview ready, verifying…"],
    ["verifying", "Preview ready, verifying…"],
    ["committing", "Preview ready, committing…"],
    ["deploying", "Preview ready, deploying…"],
  ])("shows the app while the checkpoint is %s, saying so", (status, notice) => {
    const html = render(revision(status, url));
    expect(html).toContain(`<iframe src="${url}"`);
    expect(html).toContain(notice);
  });

  it("shows a finished checkpoint's app with no notice", () => {
    const html = render(revision("finished", url));
    expect(html).toContain(`<iframe src="${url}"`);
    expect(html).not.toContain("Preview ready");
  });

  it("before the preview is up, says when it comes", () => {
    expect(render(revision("generating", null))).toContain(
      "The preview appears here once the agent is done.",
    );
    expect(render(revision("failed", null))).toContain("No preview for this checkpoint.");
  });
});
