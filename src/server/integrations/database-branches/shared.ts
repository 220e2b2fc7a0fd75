import { randomInt } from "node:crypto";
import { ProviderError, type Vendor } from "../provider-error";

/**
 * Helpers every DatabaseBranches adapter shares: the one name rule (it ends up in file names, database names and
 * SQL identifiers, so it is strict), passwords, and the errors for the things an adapter refuses.
 */

/** Root and branch names: lower-case letters, digits and hyphens, starting with a letter or digit. */
export const namePattern = /^[a-z0-9][a-z0-9-]{0,62}$/;

export const mainBranchName = "main";

export function assertName(vendor: Vendor, what: "root" | "branch", value: string): string {
  if (!namePattern.test(value)) {
    throw new ProviderError(
      vendor,
      "invalid",
      `The ${what} name ${JSON.stringify(value.slice(0, 80))} is not allowed: use 1–63 lower-case letters, digits and hyphens, starting with a letter or digit.`,
    );
  }
  return value;
}

const passwordAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

/**
 * A random password of letters and digits only: it travels inside a URL (DATABASE_URL) and through SQL, where
 * punctuation would need escaping that some drivers get wrong. 32 characters of a 57-letter alphabet ≈ 186 bits.
 */
export function generatePassword(length = 32): string {
  let out = "";
  for (let i = 0; i < length; i++) out += passwordAlphabet.charAt(randomInt(passwordAlphabet.length));
  return out;
}

export function pointInTimeUnsupported(vendor: Vendor): ProviderError {
  return new ProviderError(
    vendor,
    "unsupported",
    `Point-in-time branches are not available with the ${vendor} database adapter: branch from the parent's current state (omit atTime), or use TiDB Cloud for point-in-time branches.`,
  );
}

export function mainBranchRefused(vendor: Vendor, action: "delete" | "reset"): ProviderError {
  return new ProviderError(
    vendor,
    "invalid",
    action === "delete"
      ? "The main branch cannot be deleted on its own: delete the whole database root instead."
      : "The main branch has no parent to reset to: reset a branch, or recreate the root.",
  );
}
