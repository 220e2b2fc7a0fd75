/**
 * Waits for something to happen rather than sleeping a fixed time and counting: polls `check` until it holds, and
 * fails naming `what` after `timeoutMs`. The bound is for a broken build (so it hangs no test), not a deadline the
 * behaviour must meet: make it generous enough to hold on a loaded machine.
 */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
