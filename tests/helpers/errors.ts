import { AppError } from "../../src/server/errors";

/** The value a promise rejects with; fails the test if it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the promise to reject");
}

/** The AppError a promise rejects with; fails the test on anything else. */
export async function appErrorOf(promise: Promise<unknown>): Promise<AppError> {
  const error = await rejectionOf(promise);
  if (!(error instanceof AppError))
    throw new Error(`expected an AppError, got ${String(error)}`, { cause: error });
  return error;
}
