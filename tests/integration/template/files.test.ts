import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { TEMPLATE_DIR, templateFiles } from "../../helpers/template";

// What the template promises before anything is installed: the agent's instructions, reproducible dependencies,
// nothing that needs the network at build time, and migrations the runner can find.

const read = (relative: string) => fs.readFileSync(path.join(TEMPLATE_DIR, relative), "utf8");

type PackageJson = {
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

function readPackageJson(): PackageJson {
  return JSON.parse(read("package.json"));
}

describe("template files", () => {
  it("give Claude Code and Codex the same instructions (CLAUDE.md is byte-identical to AGENTS.md)", () => {
    const agents = fs.readFileSync(path.join(TEMPLATE_DIR, "AGENTS.md"));
    const claude = fs.readFileSync(path.join(TEMPLATE_DIR, "CLAUDE.md"));
    expect(agents.length).toBeGreaterThan(1000);
    expect(claude.equals(agents)).toBe(true);
  });

  it("tell the agent the rules that keep the app healthy", () => {
    const agents = read("AGENTS.md");
    for (const rule of [
      "npm run migrate",
      "npm run build",
      "new migration",
      "src/db/schema.ts",
      '"use server"',
      "zod",
      ".env",
      "DATABASE_URL",
      "src/components/ui",
    ]) {
      expect(agents, rule).toContain(rule);
    }
  });

  it("pin every dependency to an exact version, with a lockfile that matches", () => {
    const pkg = readPackageJson();
    const all = { ...pkg.dependencies, ...pkg.devDependencies };
    for (const [name, version] of Object.entries(all)) expect(version, name).toMatch(/^\d+\.\d+\.\d+$/);
    expect(all.next).toMatch(/^16\./);
    expect(all.react).toMatch(/^19\./);
    expect(all.kysely).toMatch(/^0\.28\./);
    expect(all.typescript).toMatch(/^5\.9\./);
    expect(all.tailwindcss).toMatch(/^4\./);
    expect(Object.keys(all).filter((name) => /biome|eslint|prettier/.test(name))).toEqual([]);

    const lock = JSON.parse(read("package-lock.json"));
    expect(lock.lockfileVersion).toBe(3);
    expect(lock.packages[""].dependencies).toEqual(pkg.dependencies);
    expect(lock.packages[""].devDependencies).toEqual(pkg.devDependencies);
    // npm ci refuses a lockfile that lacks an optional (platform) package another entry names; the npm mirror here
    // misses some platforms of the newest releases, and `npm install` then silently writes such a lockfile.
    type LockEntry = { optionalDependencies?: Record<string, string> };
    const packages: Record<string, LockEntry> = lock.packages;
    const missing = Object.values(packages).flatMap((entry) =>
      Object.keys(entry.optionalDependencies ?? {}).filter((name) => !packages[`node_modules/${name}`]),
    );
    expect(missing).toEqual([]);
    // kysely-libsql must share the app's libSQL client (npm overrides), or two native clients get installed.
    expect(lock.packages["node_modules/@libsql/kysely-libsql/node_modules/@libsql/client"]).toBeUndefined();
  });

  it("offer the scripts the platform runs, with telemetry off", () => {
    const { scripts } = readPackageJson();
    expect(scripts.build).toBe("NEXT_TELEMETRY_DISABLED=1 next build");
    expect(scripts.start).toBe("NEXT_TELEMETRY_DISABLED=1 next start");
    expect(scripts.dev).toContain("next dev");
    expect(scripts.migrate).toBe("tsx scripts/migrate.ts");
    expect(scripts.typecheck).toContain("tsc --noEmit");
  });

  it("keep dependencies, build output, databases and secrets out of git", async () => {
    const ignored = read(".gitignore")
      .split("\n")
      .map((line) => line.trim());
    for (const entry of ["node_modules/", ".next/", "*.tsbuildinfo", ".env*", "*.db", "*.db-*"]) {
      expect(ignored, entry).toContain(entry);
    }
    expect(
      (await templateFiles()).filter((file) => file.includes("node_modules") || file.startsWith(".env")),
    ).toEqual([]);
  });

  it("name the app in app.json", async () => {
    const app = JSON.parse(read("app.json"));
    expect(typeof app.name).toBe("string");
    expect(app.name.length).toBeGreaterThan(0);
    expect(typeof app.description).toBe("string");
  });

  it("load no fonts or scripts from the network", async () => {
    const sources = (await templateFiles()).filter((file) => /\.(tsx?|css|mjs)$/.test(file));
    expect(sources.length).toBeGreaterThan(10);
    for (const file of sources) {
      const text = read(file);
      expect(text, file).not.toContain("next/font/google");
      expect(text, file).not.toMatch(/fonts\.(googleapis|gstatic)\.com/);
    }
  });

  it("ship the shadcn-style component kit", () => {
    const ui = fs.readdirSync(path.join(TEMPLATE_DIR, "src/components/ui")).sort();
    expect(ui).toEqual(
      ["badge", "button", "card", "checkbox", "input", "label", "table", "textarea"].map(
        (name) => `${name}.tsx`,
      ),
    );
  });

  it("name migrations by timestamp, each exporting up and down", async () => {
    const files = fs.readdirSync(path.join(TEMPLATE_DIR, "migrations"));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      expect(file).toMatch(/^\d{14}_[a-z0-9_]+\.ts$/);
      const migration: Record<string, unknown> = await import(path.join(TEMPLATE_DIR, "migrations", file));
      expect(typeof migration.up, `${file} up`).toBe("function");
      expect(typeof migration.down, `${file} down`).toBe("function");
    }
  });

  it("hide Next's dev badge: the preview frame shows the app, not the dev server's tools (issue 12)", async () => {
    const loaded: { default: { devIndicators?: unknown } } = await import(
      path.join(TEMPLATE_DIR, "next.config.ts")
    );
    expect(loaded.default.devIndicators).toBe(false);
  });
});
