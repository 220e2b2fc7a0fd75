import { shouldLog } from "@/server/errors";

/**
 * Logs what an operator cannot act on. Only the error's name, code and message are written (never request
 * bodies or headers, which is where secrets travel).
 */
export function logError(where: string, error: unknown): void {
  if (!shouldLog(error)) return;
  const summary =
    error instanceof Error
      ? `${error.name}: ${error.message}${error.stack ? `\n${error.stack}` : ""}`
      : String(error);
  console.error(`[kiln] ${where}: ${summary}`);
}
