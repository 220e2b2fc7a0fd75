// Pure: a failed sign-in's error as the form shows it. Every field's problem sits under its field, in words; only
// what belongs to no field (wrong credentials, too many tries) is shown above the form. Unit-tested in
// tests/unit/login-errors.test.ts.

export type LoginErrors = { form: string | null; email: string | null; password: string | null };

export const noLoginErrors: LoginErrors = { form: null, email: null, password: null };

type ActionError = { message: string; fields?: Record<string, string[]> };

export function loginErrors(error: ActionError | null | undefined): LoginErrors {
  if (!error) return noLoginErrors;
  const email = error.fields?.email?.[0] ?? null;
  const password = error.fields?.password?.[0] ?? null;
  // A field error's message is the raw "email: Enter your email": the fields already say it, under each input.
  const form = email || password ? null : error.message;
  return { form, email, password };
}
