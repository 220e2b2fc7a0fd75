/**
 * spawn()'s env type requires NODE_ENV (Next.js augments NodeJS.ProcessEnv); the environments built here are
 * made from scratch on purpose and carry none of the platform's variables.
 */
export function asProcessEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  return { ...env } as NodeJS.ProcessEnv;
}
