import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { newId } from "@/server/ids";
import {
  parsePreviewHost,
  previewOrigins,
  publicPreviewUrl,
  publishedAppUrl,
} from "@/server/previews/preview-origin";

const origins = previewOrigins("http://127.0.0.1:3000", "localhost", randomBytes(32));

describe("preview origins", () => {
  it("links a loopback preview on an origin of its own, whose host name does not reveal the revision", () => {
    const revisionId = newId("revision");
    const url = publicPreviewUrl(origins, { kind: "preview", revisionId }, "http://127.0.0.1:41234");
    expect(url).toMatch(/^http:\/\/p-[0-9a-f]{32}\.localhost:3000\/$/);
    expect(url).not.toContain(revisionId.slice(4));
    const host = new URL(url ?? "").host;
    expect(parsePreviewHost(origins, host)).toEqual({ kind: "preview", revisionId });
    const deploy = publicPreviewUrl(origins, { kind: "deploy", revisionId }, "http://localhost:5000/");
    expect(parsePreviewHost(origins, new URL(deploy ?? "").host)).toEqual({ kind: "deploy", revisionId });
  });

  it("gives a project one stable app host, opaque, that names the project and no checkpoint", () => {
    const projectId = newId("project");
    const url = publishedAppUrl(origins, projectId);
    expect(url).toMatch(/^http:\/\/a-[0-9a-f]{32}\.localhost:3000\/$/);
    expect(url).not.toContain(projectId.slice(4));
    expect(publishedAppUrl(origins, projectId)).toBe(url);
    expect(parsePreviewHost(origins, new URL(url ?? "").host)).toEqual({ kind: "app", projectId });
    // Not a project id: no host.
    expect(publishedAppUrl(origins, newId("revision"))).toBeNull();
  });

  it("leaves a cloud preview (its own origin already) as it is, and an absent one absent", () => {
    const revisionId = newId("revision");
    const vercel = "https://kiln-abc.vercel.run";
    expect(publicPreviewUrl(origins, { kind: "preview", revisionId }, vercel)).toBe(vercel);
    expect(publicPreviewUrl(origins, { kind: "preview", revisionId }, null)).toBeNull();
  });

  it("answers null for Kiln's own host and for labels this server did not make", () => {
    expect(parsePreviewHost(origins, "127.0.0.1:3000")).toBeNull();
    expect(parsePreviewHost(origins, "localhost:3000")).toBeNull();
    expect(parsePreviewHost(origins, undefined)).toBeNull();
    const other = previewOrigins("http://127.0.0.1:3000", "localhost", randomBytes(32));
    const foreign = publicPreviewUrl(
      other,
      { kind: "preview", revisionId: newId("revision") },
      "http://127.0.0.1:1",
    );
    expect(parsePreviewHost(origins, new URL(foreign ?? "").host)).toBeNull();
    expect(parsePreviewHost(origins, `p-${"0".repeat(32)}.localhost:3000`)).toBeNull();
    expect(parsePreviewHost(origins, `p-${"0".repeat(32)}.evil.example:3000`)).toBeNull();
  });

  it("follows Kiln's public scheme and port on a configured domain", () => {
    const https = previewOrigins("https://kiln.example.com", "kiln-preview.example.net", randomBytes(32));
    const url = publicPreviewUrl(
      https,
      { kind: "preview", revisionId: newId("revision") },
      "http://127.0.0.1:9",
    );
    expect(url).toMatch(/^https:\/\/p-[0-9a-f]{32}\.kiln-preview\.example\.net\/$/);
  });
});
