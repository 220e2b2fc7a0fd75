import { z } from "zod";

// Roles (issue 11): an admin manages operators and reads the audit log; an operator builds. Stored as text in
// user.role; anything unknown reads as the lesser role, so a bad row never grants admin.

export const operatorRoles = ["admin", "operator"] as const;
export type OperatorRole = (typeof operatorRoles)[number];
export const operatorRoleSchema = z.enum(operatorRoles);

export function toOperatorRole(value: string): OperatorRole {
  return value === "admin" ? "admin" : "operator";
}
