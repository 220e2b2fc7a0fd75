import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { newId } from "@/server/ids";
import { isPreviewCaller } from "@/server/previews/preview-caller";
import { previewOrigins, publicPreviewUrl, publishedAppUrl } from "@/server/previews/preview-origin";

const origins = previewOrigins("http://localhost:3000", "localhost", randomBytes(32));

function originOf(kind: "preview" | "deploy"): string {
  return new URL(
    publicPreviewUrl(origins, { kind, revisionId: newId("revision") }, "http://127.0.0.1:1") ?? "",
  ).origin;
}

describe("requests to Kiln from a preview's page", () => {
  it("are recognised by their Origin: a preview's, a deployment's or a published app's", () => {
    expect(isPreviewCaller(origins, originOf("preview"))).toBe(true);
    expect(isPreviewCaller(origins, originOf("deploy"))).toBe(true);
    const app = new URL(publishedAppUrl(origins, newId("project")) ?? "").origin;
    expect(isPreviewCaller(origins, app)).toBe(true);
  });

  it("leave Kiln's own pages, requests without an Origin and unparseable ones alone", () => {
    expect(isPreviewCaller(origins, "http://localhost:3000")).toBe(false);
    expect(isPreviewCaller(origins, "http://127.0.0.1:3000")).toBe(false);
    expect(isPreviewCaller(origins, undefined)).toBe(false);
    expect(isPreviewCaller(origins, "null")).toBe(false);
    expect(isPreviewCaller(origins, ["http://a", "http://b"])).toBe(false);
    // A subdomain that names no checkpoint serves nothing, so no generated page can run there.
    expect(isPreviewCaller(origins, "http://kiln.localhost:3000")).toBe(false);
  });
});
