import {
  type PlatformProviderSettings,
  type ProviderCredentials,
  type Providers,
  providersFor,
} from "../../src/server/integrations/registry";

/** Every port on its local adapter: what a one-box Kiln uses, and what the tests exercise for real. */
export const localProviderChoices = {
  git: "local",
  database: "libsql",
  sandbox: "local",
  blob: "local",
  deploy: "local",
} as const;

/**
 * The local adapters over one data dir, no cloud endpoints or credentials (platformRoot: hidden from sandboxes;
 * warmDependencies: the template cache local deployments link from).
 */
export function localProvidersAt(
  dataDir: string,
  platformRoot: string = process.cwd(),
  extra: Pick<PlatformProviderSettings, "warmDependencies" | "importRoots"> & { githubApiUrl?: string } = {},
  credentials: ProviderCredentials = {},
): Providers {
  return providersFor(
    localProviderChoices,
    {
      dataDir,
      platformRoot,
      githubApiUrl: "",
      vercelApiUrl: "",
      tidbCloudApiUrl: "",
      branchesMysqlUrl: undefined,
      blobToken: undefined,
      ...extra,
    },
    credentials,
  );
}
