import type { z } from "zod";
import { AppError, type FieldErrors } from "@/server/errors";

/** zod issues → `{ "providers.git": ["…"] }`, plus a message naming the first wrong field. */
export function toFieldErrors(error: z.ZodError): { message: string; fields: FieldErrors } {
  const fields: FieldErrors = {};
  for (const issue of error.issues) {
    const key = issue.path.length ? issue.path.join(".") : "_";
    fields[key] = [...(fields[key] ?? []), issue.message];
  }
  const first = error.issues[0];
  const where = first?.path.length ? `${first.path.join(".")}: ` : "";
  return { message: `${where}${first?.message ?? "Invalid input"}`, fields };
}

export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) {
    const { message, fields } = toFieldErrors(result.error);
    throw new AppError("bad_request:input", message, { fields });
  }
  return result.data;
}
