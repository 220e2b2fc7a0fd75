// Vitest runs server modules outside React's server environment; `server-only` is a build-time guard there.
export {};
