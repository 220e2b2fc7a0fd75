// MySQL/TiDB abort one of two transactions that wait for each other's row locks (a deadlock) or that wait too long,
// and expect the application to run it again. Event writers, usage recording and rate limits lock rows of the same
// revisions and tasks from different requests, so such aborts are a normal event under load, not a failure: the
// statement or transaction that lost is run again (transaction.ts, retrying-mysql.ts).
const retryable = new Set(["ER_LOCK_DEADLOCK", "ER_LOCK_WAIT_TIMEOUT"]);
const retryableErrno = new Set([1213, 1205]);

export function isRetryableLockError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = "code" in error ? String(error.code) : "";
  const errno = "errno" in error ? Number(error.errno) : Number.NaN;
  return retryable.has(code) || retryableErrno.has(errno);
}
