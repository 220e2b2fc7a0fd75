import { describe, expect, it } from "vitest";
import { AppError } from "@/server/errors";
import {
  defaultProviders,
  type ProviderAvailability,
  resolveProviderChoices,
} from "@/server/integrations/providers";

const nothing: ProviderAvailability = {
  github: false,
  vercel: false,
  tidbcloud: false,
  mysqlBranches: false,
  vercelBlob: false,
};
const everything: ProviderAvailability = {
  github: true,
  vercel: true,
  tidbcloud: true,
  mysqlBranches: true,
  vercelBlob: true,
};

function refusal(run: () => unknown): AppError {
  try {
    run();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error("expected a refusal");
}

describe("provider choices", () => {
  it("default to local everything on a bare platform", () => {
    expect(defaultProviders(nothing)).toEqual({
      git: "local",
      database: "libsql",
      sandbox: "local",
      blob: "local",
      deploy: "local",
    });
  });

  it("default to the cloud where credentials exist", () => {
    expect(defaultProviders(everything)).toEqual({
      git: "github",
      database: "tidbcloud",
      sandbox: "vercel",
      blob: "vercel",
      deploy: "vercel",
    });
  });

  it("prefer a configured MySQL server over libSQL when TiDB Cloud is absent", () => {
    expect(defaultProviders({ ...nothing, mysqlBranches: true }).database).toBe("mysql");
  });

  it("deploy locally when the code is not on GitHub, even with a Vercel token", () => {
    expect(defaultProviders({ ...nothing, vercel: true }).deploy).toBe("local");
  });

  it("accept an override the operator can use", () => {
    expect(resolveProviderChoices({ database: "libsql", sandbox: "local" }, everything)).toMatchObject({
      git: "github",
      database: "libsql",
      sandbox: "local",
    });
  });

  it("refuse a cloud provider without its credential, naming the field and the fix", () => {
    const error = refusal(() => resolveProviderChoices({ git: "github" }, nothing));
    expect(error.code).toBe("bad_request:input");
    expect(error.fields?.["providers.git"]?.[0]).toMatch(/GitHub token.*Settings/);
  });

  it("refuse combinations that cannot work together", () => {
    const libsqlInCloud = refusal(() =>
      resolveProviderChoices({ database: "libsql", sandbox: "vercel" }, everything),
    );
    expect(libsqlInCloud.fields?.["providers.database"]?.[0]).toMatch(/local sandbox/);
    const vercelFromLocalGit = refusal(() =>
      resolveProviderChoices({ git: "local", deploy: "vercel" }, everything),
    );
    expect(vercelFromLocalGit.fields?.["providers.deploy"]?.[0]).toMatch(/GitHub/);
    const mysqlUnset = refusal(() => resolveProviderChoices({ database: "mysql" }, nothing));
    expect(mysqlUnset.message).toMatch(/KILN_BRANCHES_MYSQL_URL/);
  });
});
