import "server-only";
import { type Env, parseEnv } from "@/server/config/env-schema";

export type { Env };

/** The validated environment, parsed once when the server first imports it. */
export const env: Env = parseEnv(process.env);
