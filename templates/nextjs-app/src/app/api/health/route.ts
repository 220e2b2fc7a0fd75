import { NextResponse } from "next/server";
import { getDatabaseHealth } from "@/db";

// A health check must never be served from a cache.
export const dynamic = "force-dynamic";

/**
 * 200 `{ ok: true, db: "up" }` when the database answers within 2 s, otherwise 503
 * `{ ok: false, db: "down", error }` with a short reason that contains no secrets. Kiln's preview check calls this.
 */
export async function GET(): Promise<NextResponse> {
  const health = await getDatabaseHealth(2_000);
  const headers = { "Cache-Control": "no-store" };
  if (health.ok) return NextResponse.json({ ok: true, db: "up" }, { status: 200, headers });
  return NextResponse.json({ ok: false, db: "down", error: health.error }, { status: 503, headers });
}
