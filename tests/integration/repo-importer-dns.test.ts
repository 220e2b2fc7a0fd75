import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createRepoImporter, ImportRefusal } from "@/server/integrations/git-host/repo-importer";

// An https import is checked against the addresses its host resolves to, then fetched by git, which resolves the
// host again when it connects. A name that answers a public address to the check and a private one a moment later
// (DNS rebinding) must not lead git into Kiln's network: git is told to connect to the checked addresses only.
// git itself is replaced by a script that records its command line (the wire between Kiln and git) and fails as
// an unreachable host does; nothing here reaches the network.

let dir: string;
let argvLog: string;
let fakeGit: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "kiln-import-dns-"));
  argvLog = path.join(dir, "argv.log");
  fakeGit = path.join(dir, "git");
  await writeFile(
    fakeGit,
    `#!/bin/sh\nprintf '%s\\n' "$@" >> '${argvLog}'\necho "fatal: unable to access: Failed to connect" >&2\nexit 128\n`,
  );
  await chmod(fakeGit, 0o755);
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function importerAnswering(addresses: string[]) {
  const asked: string[] = [];
  const importer = createRepoImporter({
    importRoots: [],
    git: fakeGit,
    lookup: async (hostname) => {
      asked.push(hostname);
      return addresses;
    },
  });
  return { importer, asked };
}

async function gitArguments(): Promise<string[]> {
  return (await readFile(argvLog, "utf8")).trim().split("\n");
}

describe("importing over https", () => {
  it("has git connect to the addresses that were checked, not to whatever the name resolves to later", async () => {
    const { importer, asked } = importerAnswering(["93.184.216.34", "2606:2800:220:1::1"]);
    const fetched = importer.fetch(
      { kind: "git", url: "https://rebind.example:8443/acme/shop.git" },
      path.join(dir, "out"),
    );
    await expect(fetched).rejects.toBeInstanceOf(ImportRefusal);
    expect(asked).toEqual(["rebind.example"]);
    const argv = await gitArguments();
    expect(argv).toContain("http.curloptResolve=rebind.example:8443:93.184.216.34,[2606:2800:220:1::1]");
    expect(argv).toContain("http.followRedirects=false");
    expect(argv.indexOf("clone")).toBeGreaterThan(
      argv.indexOf("http.curloptResolve=rebind.example:8443:93.184.216.34,[2606:2800:220:1::1]"),
    );
  });

  it("pins the default https port when the URL names none", async () => {
    const { importer } = importerAnswering(["93.184.216.34"]);
    await expect(
      importer.fetch({ kind: "git", url: "https://rebind.example/acme/shop" }, path.join(dir, "out")),
    ).rejects.toBeInstanceOf(ImportRefusal);
    expect(await gitArguments()).toContain("http.curloptResolve=rebind.example:443:93.184.216.34");
  });

  it("never runs git for a name that resolves to a private address", async () => {
    const { importer } = importerAnswering(["93.184.216.34", "10.0.0.7"]);
    await expect(
      importer.fetch({ kind: "git", url: "https://rebind.example/acme/shop" }, path.join(dir, "out")),
    ).rejects.toThrow(/loopback, private or link-local/);
    await expect(readFile(argvLog, "utf8")).rejects.toThrow(/ENOENT/);
  });
});
