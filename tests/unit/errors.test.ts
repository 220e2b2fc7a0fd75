import { describe, expect, it } from "vitest";
import { z } from "zod";
import { AppError, shouldLog, toPublicError } from "@/server/errors";
import { parseOrThrow } from "@/server/http/parse-input";

describe("toPublicError", () => {
  it("passes a user-visible message through with its status", () => {
    const error = new AppError("rejected:credential", "GitHub rejected the token (Bad credentials).");
    expect(toPublicError(error)).toEqual({
      status: 422,
      body: { code: "rejected:credential", message: "GitHub rejected the token (Bad credentials)." },
    });
  });

  it("uses the registry message when a user-visible error is thrown without one", () => {
    expect(toPublicError(new AppError("not_found:project"))).toEqual({
      status: 404,
      body: { code: "not_found:project", message: "Project not found." },
    });
  });

  it("hides the message of a log-only error behind the registry text", () => {
    const error = new AppError("config:secret_key", "cannot read /srv/kiln/.data/secret.key: EACCES");
    const { status, body } = toPublicError(error);
    expect(status).toBe(500);
    expect(body.code).toBe("config:secret_key");
    expect(body.message).toBe("KILN_SECRET_KEY is not set and no key file exists in the data dir.");
    expect(JSON.stringify(body)).not.toContain("/srv/kiln");
  });

  it("turns anything that is not an AppError into a generic 500", () => {
    for (const thrown of [
      new Error("connect ECONNREFUSED mysql://root:hunter2@db:3306"),
      "a thrown string with hunter2",
      { message: "hunter2" },
      undefined,
    ]) {
      const { status, body } = toPublicError(thrown);
      expect(status).toBe(500);
      expect(body).toEqual({ code: "internal:unexpected", message: "Something went wrong on our side." });
    }
  });

  it("carries field errors to the client", () => {
    const error = new AppError("bad_request:input", "prompt: Describe the app", {
      fields: { prompt: ["Describe the app"] },
    });
    expect(toPublicError(error).body.fields).toEqual({ prompt: ["Describe the app"] });
  });

  it("asks for logging only for log-visibility and unknown errors", () => {
    expect(shouldLog(new AppError("internal:unexpected"))).toBe(true);
    expect(shouldLog(new Error("boom"))).toBe(true);
    expect(shouldLog(new AppError("unauthorized:credentials"))).toBe(false);
  });
});

describe("parseOrThrow", () => {
  const schema = z.object({
    prompt: z.string().trim().min(3, "Describe the app in a few words"),
    providers: z.object({ git: z.enum(["github", "local"], { error: "Pick github or local" }) }).optional(),
  });

  it("returns the parsed (transformed) value for valid input", () => {
    expect(parseOrThrow(schema, { prompt: "  a todo app  " })).toEqual({ prompt: "a todo app" });
  });

  it("throws bad_request:input with field errors keyed by dotted path", () => {
    let caught: unknown;
    try {
      parseOrThrow(schema, { prompt: "", providers: { git: "gitlab" } });
    } catch (error) {
      caught = error;
    }
    if (!(caught instanceof AppError)) throw new Error(`expected an AppError, got ${String(caught)}`);
    expect(caught.code).toBe("bad_request:input");
    expect(caught.status).toBe(400);
    expect(caught.fields).toEqual({
      prompt: ["Describe the app in a few words"],
      "providers.git": ["Pick github or local"],
    });
    expect(caught.message).toBe("prompt: Describe the app in a few words");
    // The message names the field, and survives toPublicError because the code is user-visible.
    expect(toPublicError(caught).body.message).toBe("prompt: Describe the app in a few words");
  });

  it("files an issue about the whole value under `_`", () => {
    let caught: unknown;
    try {
      parseOrThrow(schema, "not an object");
    } catch (error) {
      caught = error;
    }
    if (!(caught instanceof AppError)) throw new Error(`expected an AppError, got ${String(caught)}`);
    expect(Object.keys(caught.fields ?? {})).toEqual(["_"]);
  });
});
