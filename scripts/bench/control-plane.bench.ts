import { randomBytes } from "node:crypto";
import { authenticateApiToken, createApiToken } from "../../src/server/auth/api-tokens";
import { login } from "../../src/server/auth/login";
import { createOperator } from "../../src/server/auth/operators";
import { defaultProviders } from "../../src/server/integrations/providers";
import { createProject } from "../../src/server/operations/create-project";
import { listProjects } from "../../src/server/projects/project-queries";
import { type TestDatabase, testDatabases } from "../../tests/helpers/databases";
import { type BenchRow, measure } from "./stats";

// Control-plane hot paths on every available dialect (libSQL always; MySQL when KILN_TEST_MYSQL_URL is set).

const localProviders = defaultProviders({
  github: false,
  vercel: false,
  tidbcloud: false,
  mysqlBranches: false,
  vercelBlob: false,
});
const policy = {
  maxAttemptsPerAccount: 1_000,
  maxAttemptsPerIp: 1_000,
  maxAttemptsPerAccountTotal: 1_000,
  windowMs: 60_000,
  sessionTtlMs: 3_600_000,
};

async function benchDialect(t: TestDatabase): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const { db } = t;
  const password = `bench-${randomBytes(6).toString("hex")}`;
  const user = await createOperator(db, {
    email: `bench-${randomBytes(4).toString("hex")}@kiln.test`,
    password,
  });

  rows.push(
    await measure(`[${t.name}] sign-in (bcrypt cost 12 + session row)`, 10, () =>
      login(db, { email: user.email, password, ip: "127.0.0.1", userAgent: "bench" }, policy),
    ),
  );
  rows.push(
    await measure(`[${t.name}] create project (4 rows, 1 transaction)`, 100, (i) =>
      createProject(db, user.id, { prompt: `Bench app number ${i} with a list and a form` }, localProviders),
    ),
  );
  rows.push(
    await measure(`[${t.name}] list 100+ projects of an operator`, 50, () => listProjects(db, user.id)),
  );
  const { token } = await createApiToken(db, user.id, "bench");
  rows.push(await measure(`[${t.name}] authenticate API token`, 200, () => authenticateApiToken(db, token)));
  return rows;
}

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const factory of testDatabases) {
    const t = await factory.open();
    try {
      rows.push(
        await measure(
          `[${t.name}] create, migrate and drop a database`,
          1,
          async () => {
            const fresh = await factory.open({ migrate: true });
            await fresh.drop();
          },
          { warmup: 0 },
        ),
      );
      rows.push(...(await benchDialect(t)));
    } finally {
      await t.drop();
    }
  }
  return rows;
}
