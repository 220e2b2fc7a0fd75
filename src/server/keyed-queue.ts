/**
 * Runs work one piece at a time per key, in arrival order, even when callers overlap; work under other keys runs
 * alongside. A failed piece does not stop the next: the queue only orders callers, each sees its own failure.
 *
 * Per process, not per module copy: Next.js bundles a module into each route that imports it (the webhook, the
 * route that started a build, the maintenance timer), so a queue held in a module variable would be one per copy
 * and order nothing across them. The queues live on globalThis, named, like the database pool.
 */
const holder = globalThis as typeof globalThis & {
  __kilnKeyedQueues?: Map<string, Map<string, Promise<void>>>;
};
holder.__kilnKeyedQueues ??= new Map();
const queuesByName = holder.__kilnKeyedQueues;

export function keyedQueue(name: string): <T>(key: string, work: () => Promise<T>) => Promise<T> {
  const queues = queuesByName.get(name) ?? new Map<string, Promise<void>>();
  queuesByName.set(name, queues);
  return <T>(key: string, work: () => Promise<T>): Promise<T> => {
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
  };
}
