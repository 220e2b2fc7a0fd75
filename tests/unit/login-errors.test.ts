import { describe, expect, it } from "vitest";
import { loginErrors } from "@/components/auth/login-errors";

// Issue 12: an empty sign-in showed the raw "email: Enter your email", and only the first error.

describe("a failed sign-in's errors", () => {
  it("put each field's problem under its field, all of them, without the raw field path", () => {
    expect(
      loginErrors({
        message: "email: Enter your email",
        fields: { email: ["Enter your email"], password: ["Enter your password"] },
      }),
    ).toEqual({ form: null, email: "Enter your email", password: "Enter your password" });
  });

  it("show what belongs to no field above the form", () => {
    expect(loginErrors({ message: "Wrong email or password." })).toEqual({
      form: "Wrong email or password.",
      email: null,
      password: null,
    });
    expect(loginErrors(null)).toEqual({ form: null, email: null, password: null });
  });
});
