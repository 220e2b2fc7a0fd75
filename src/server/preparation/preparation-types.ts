// What the dashboard shows of the caches Kiln prepares at boot (client-safe: types only, nothing imported).

export type PreparationItem = {
  /** "template", or the agent whose CLI it is. */
  thing: string;
  /** "the Codex CLI", "the app template's dependencies". */
  label: string;
  /**
   * waiting: queued behind another install; preparing: a live process (a boot preparation, a build) installs it
   * now; failed: the last preparation failed (the next build that needs it tries again); missing: not installed and
   * nobody on it (the first build that needs it installs it).
   */
  state: "ready" | "waiting" | "preparing" | "failed" | "missing";
  /** Why the last try failed (failed only). */
  error?: string;
  /** When the state began (ms since the epoch). */
  since?: number;
};

export type PreparationStatus = {
  /** The template first, then every agent's CLI. */
  items: PreparationItem[];
};
