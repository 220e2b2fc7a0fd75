import { describe, expect, it } from "vitest";
import { safeReturnPath } from "@/lib/safe-return-path";

const origin = "https://kiln.example";

/** Where a browser would actually go if Kiln navigated to the returned value. */
function destination(candidate: string | undefined): URL {
  return new URL(safeReturnPath(candidate), origin);
}

describe("safeReturnPath", () => {
  it.each(["/projects/prj_123", "/settings?tab=tokens#api", "/", "/projects/%2F%2Fevil.com"])(
    "keeps the same-site path %j",
    (candidate) => {
      expect(safeReturnPath(candidate)).toBe(candidate);
    },
  );

  it.each([
    undefined,
    "",
    "projects",
    "//evil.com",
    "//evil.com/projects",
    "https://evil.com",
    "http://evil.com/projects",
    "javascript:alert(1)",
    "/\\evil.com",
    "\\\\evil.com",
    "/projects\\..\\..\\evil",
  ])("falls back to /projects for %j", (candidate) => {
    expect(safeReturnPath(candidate)).toBe("/projects");
  });

  it("uses the caller's fallback", () => {
    expect(safeReturnPath("//evil.com", "/settings")).toBe("/settings");
  });

  // Browsers strip ASCII tab and newline from URLs before resolving them (WHATWG URL), so "/\t/evil.com"
  // becomes "//evil.com": another site.
  it.each(["//evil.com", "/\\evil.com", "/\t/evil.com", "/\n/evil.com", "/\r\n/evil.com", "/\t\\evil.com"])(
    "never sends the browser off-site for %j",
    (candidate) => {
      expect(destination(candidate).origin).toBe(origin);
    },
  );
});
