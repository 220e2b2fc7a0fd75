import { createOperator } from "../../src/server/auth/operators";
import type { Executor } from "../../src/server/db/connection";

/** An operator for a test, with a known password hashed at bcrypt's lowest cost (tests stay fast). */
export async function testOperator(db: Executor, email: string): Promise<{ id: string; email: string }> {
  return createOperator(db, { email, password: "correct horse battery" }, { bcryptCost: 4 });
}
