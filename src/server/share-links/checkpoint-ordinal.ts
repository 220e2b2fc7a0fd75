import { AppError } from "@/server/errors";

const ORDINAL = /^[1-9][0-9]{0,8}$/;

/** A share link's checkpoint number from the URL; anything else is the same 404 as an unknown link. */
export function parseCheckpointOrdinal(raw: string): number {
  if (!ORDINAL.test(raw)) throw new AppError("not_found:route");
  return Number(raw);
}
