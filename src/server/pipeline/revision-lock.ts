// Work for one revision runs one piece at a time, in arrival order, even when requests overlap: a later webhook batch
// (the runner's "finished") must not overtake an earlier one still committing or checking the preview.
//
// Per process, not per module copy: Next.js bundles this module into several routes (the webhook, the one that
// started the build, the maintenance timer), and the revision lease lets the same server in twice, so a queue per
// copy would let two copies carry the same revision on at once (seen: the commit step ran twice and failed the
// revision). The queues live on globalThis, like the database pool.
const holder = globalThis as typeof globalThis & { __kilnRevisionQueues?: Map<string, Promise<void>> };
holder.__kilnRevisionQueues ??= new Map<string, Promise<void>>();
const queues = holder.__kilnRevisionQueues;

export function withRevisionLock(key: string, work: () => Promise<void>): Promise<void> {
  const previous = queues.get(key) ?? Promise.resolve();
  const next = previous.then(work, work);
  const settled = next.then(
    () => undefined,
    () => undefined,
  );
  queues.set(key, settled);
  void settled.then(() => {
    if (queues.get(key) === settled) queues.delete(key);
  });
  return next;
}
