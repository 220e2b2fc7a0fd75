import { toOperatorRole } from "@/server/auth/roles";
import type { Executor } from "@/server/db/connection";
import { listUsersWithActivity, type UserWithActivity } from "@/server/db/queries/users";
import type { OperatorSummary } from "./admin-types";

export function toOperatorSummary(user: UserWithActivity): OperatorSummary {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    role: toOperatorRole(user.role),
    disabled: user.disabled_at !== null,
    disabledAt: user.disabled_at,
    createdAt: user.created_at,
    lastActivityAt: user.last_activity_at,
    projectCount: user.project_count,
  };
}

/** Every operator, oldest first, for admins. */
export async function listOperators(db: Executor): Promise<OperatorSummary[]> {
  return (await listUsersWithActivity(db)).map(toOperatorSummary);
}

export async function getOperatorSummary(db: Executor, userId: string): Promise<OperatorSummary | undefined> {
  return (await listOperators(db)).find((operator) => operator.id === userId);
}
