import "server-only";
import { env } from "@/env";
import { type Platform, platformFor } from "./platform";

/** The platform for entry points (pages, routes, actions): built once from the validated environment. */
export function getPlatform(): Promise<Platform> {
  return platformFor(env);
}
