// In-process wake-ups for live event streams: a writer that committed events for a task calls `notifyTask`, and
// every stream of that task in this process re-reads the database at once. The notification carries no data (the
// rows are the truth), so a lost or spurious wake-up costs at most one query; streams also poll the database for
// writes made by other app instances.

type Listener = () => void;

// Kept on globalThis: Next.js bundles each route separately, and the webhook route and the events route must
// share one registry (dev reloads too).
const holder = globalThis as typeof globalThis & { __kilnEventBus?: Map<string, Set<Listener>> };

function listeners(): Map<string, Set<Listener>> {
  holder.__kilnEventBus ??= new Map();
  return holder.__kilnEventBus;
}

/** Calls `listener` on every notification for `taskId` until the returned function is called. */
export function subscribeToTask(taskId: string, listener: Listener): () => void {
  const registry = listeners();
  let set = registry.get(taskId);
  if (!set) {
    set = new Set();
    registry.set(taskId, set);
  }
  set.add(listener);
  return () => {
    const current = registry.get(taskId);
    if (!current) return;
    current.delete(listener);
    if (current.size === 0) registry.delete(taskId);
  };
}

export function notifyTask(taskId: string): void {
  const set = listeners().get(taskId);
  if (!set) return;
  for (const listener of [...set]) listener();
}

/** How many streams listen to a task in this process (for tests and diagnostics). */
export function subscriberCount(taskId: string): number {
  return listeners().get(taskId)?.size ?? 0;
}
