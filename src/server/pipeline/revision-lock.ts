// Work for one revision runs one piece at a time, in arrival order, even when requests overlap: a later webhook batch
// (the runner's "finished") must not overtake an earlier one still committing or checking the preview.
const queues = new Map<string, Promise<void>>();

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
