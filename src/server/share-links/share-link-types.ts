// Client-safe: a task's share link as the workspace shows it.

export type ShareLink = { slug: string; url: string; revoked: boolean };
