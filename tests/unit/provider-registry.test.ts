import { describe, expect, it } from "vitest";
import { ProviderError } from "@/server/integrations/provider-error";
import { type PlatformProviderSettings, providersFor } from "@/server/integrations/registry";

const settings: PlatformProviderSettings = {
  dataDir: "/tmp/kiln-registry-test",
  platformRoot: "/tmp/kiln-registry-platform",
  githubApiUrl: "https://api.github.com",
  vercelApiUrl: "https://api.vercel.com",
  tidbCloudApiUrl: "https://serverless.tidbapi.com/v1beta1",
  branchesMysqlUrl: undefined,
  blobToken: undefined,
};

const local = { git: "local", database: "libsql", sandbox: "local", blob: "local", deploy: "local" } as const;
const cloud = {
  git: "github",
  database: "tidbcloud",
  sandbox: "vercel",
  blob: "vercel",
  deploy: "vercel",
} as const;

function refusal(read: () => unknown): ProviderError {
  try {
    read();
  } catch (error) {
    if (error instanceof ProviderError) return error;
    throw error;
  }
  throw new Error("expected a ProviderError");
}

describe("provider registry", () => {
  it("builds the local adapter of every port with no credentials at all", () => {
    const providers = providersFor(local, settings, {});
    expect([
      providers.git.kind,
      providers.database.kind,
      providers.sandboxes.kind,
      providers.blob.kind,
      providers.deployer.kind,
    ]).toEqual(["local", "libsql", "local", "local", "local"]);
  });

  it("builds the cloud adapters from the operator's credentials", () => {
    const providers = providersFor(
      cloud,
      { ...settings, blobToken: "vercel_blob_rw_store_secret" },
      {
        github: { token: "ghp_1234567890" },
        vercel: { token: "vercel-token-123", teamId: "team_1", projectId: "prj_1" },
        tidbcloud: {
          publicKey: "PUBLICKEY",
          privateKey: "private-key-1",
          projectId: undefined,
          region: "aws-us-east-1",
        },
      },
    );
    expect([
      providers.git.kind,
      providers.database.kind,
      providers.sandboxes.kind,
      providers.blob.kind,
      providers.deployer.kind,
    ]).toEqual(["github", "tidbcloud", "vercel", "vercel", "vercel"]);
  });

  it("only needs credentials for the ports a caller touches, and says what is missing", () => {
    const providers = providersFor(cloud, settings, {});
    const error = refusal(() => providers.git);
    expect(error).toMatchObject({ vendor: "github", kind: "auth" });
    expect(error.message).toMatch(/GitHub token.*Settings/);
    expect(refusal(() => providers.database).message).toMatch(/TiDB Cloud/);
    expect(refusal(() => providers.blob).message).toMatch(/BLOB_READ_WRITE_TOKEN/);
  });

  it("asks for the TiDB Cloud region and the Vercel project id when they are missing", () => {
    const providers = providersFor(cloud, settings, {
      vercel: { token: "vercel-token-123", teamId: "team_1", projectId: undefined },
      tidbcloud: {
        publicKey: "PUBLICKEY",
        privateKey: "private-key-1",
        projectId: undefined,
        region: undefined,
      },
    });
    expect(refusal(() => providers.database).message).toMatch(/region/);
    expect(refusal(() => providers.deployer).message).toMatch(/project id/);
  });

  it("needs the server's admin URL for MySQL branches", () => {
    const providers = providersFor({ ...local, database: "mysql" }, settings, {});
    expect(refusal(() => providers.database).message).toMatch(/KILN_BRANCHES_MYSQL_URL/);
    const configured = providersFor(
      { ...local, database: "mysql" },
      { ...settings, branchesMysqlUrl: "mysql://root@127.0.0.1:3306/" },
      {},
    );
    expect(configured.database.kind).toBe("mysql");
  });
});
