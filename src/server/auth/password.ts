import bcrypt from "bcryptjs";
import { z } from "zod";

/** bcrypt cost: each hash gets its own salt; 12 rounds ≈ 0.2 s here, a fair price for a sign-in. */
export const BCRYPT_COST = 12;

export const passwordSchema = z
  .string()
  .min(10, "Use at least 10 characters")
  .max(72, "bcrypt reads at most 72 bytes: use 72 characters or fewer")
  .refine((value) => Buffer.byteLength(value, "utf8") <= 72, "Use at most 72 bytes");

export function hashPassword(password: string, cost = BCRYPT_COST): Promise<string> {
  return bcrypt.hash(password, cost);
}

export function verifyPassword(password: string, hash: string): Promise<boolean> {
  return bcrypt.compare(password, hash);
}

// Compared against when the email is unknown, so a miss costs as long as a hit and timing reveals nothing.
const DUMMY_HASH = "$2b$12$C6UzMDM.H6dfI/f/IKxGhuS9Ag5xQp9rY3e3JQxw4sVQGJ2m4y3Xe";

export async function verifyAgainstNothing(password: string): Promise<false> {
  await bcrypt.compare(password, DUMMY_HASH);
  return false;
}
