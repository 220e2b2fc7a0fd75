import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  checkImports,
  clientImportsOfServer,
  describeViolation,
  folderCycles,
  readImportGraph,
} from "../../scripts/lib/import-graph";

// The layering rules docs/architecture.md states, checked over the real tree (this is the CI check) and over small
// trees written here, which show the check does fail on what it forbids.

const trees: string[] = [];

function tree(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-imports-"));
  trees.push(root);
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text);
  }
  return root;
}

afterEach(() => {
  for (const root of trees.splice(0)) fs.rmSync(root, { recursive: true, force: true });
});

describe("the import check", () => {
  it("passes on this repository: no folder cycle under src/server, no component reaching server code", () => {
    const violations = checkImports(process.cwd());
    expect(violations.map(describeViolation).join("\n\n")).toBe("");
  }, 60_000);

  it("fails on two folders that import each other, naming the files that tie them", () => {
    const root = tree({
      "src/server/pipeline/run.ts":
        'import { project } from "../projects/project";\nexport const run = project;\n',
      "src/server/projects/project.ts":
        'import type { Step } from "../pipeline/step";\nexport const project: Step = 1;\n',
      "src/server/pipeline/step.ts": "export type Step = number;\n",
      "src/server/errors.ts": "export const x = 1;\n",
    });
    const violations = folderCycles(readImportGraph(root, ["src"]));
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatchObject({
      kind: "cycle",
      folders: ["src/server/pipeline", "src/server/projects"],
    });
    expect(describeViolation(violations[0] as (typeof violations)[number])).toContain(
      "src/server/projects/project.ts → src/server/pipeline/step.ts",
    );
  });

  it("counts a file at the top of src/server as a folder of its own", () => {
    const root = tree({
      "src/server/context.ts": 'import { login } from "./auth/login";\nexport const c = login;\n',
      "src/server/auth/login.ts": 'import { c } from "../context";\nexport const login = () => c;\n',
    });
    expect(folderCycles(readImportGraph(root, ["src"]))).toMatchObject([
      { folders: ["src/server/auth", "src/server/context.ts"] },
    ]);
  });

  it("fails on a component that reaches the database or Node through a type import, and not through an action", () => {
    const root = tree({
      "src/components/card.tsx":
        'import type { Row } from "../server/rows";\nexport const card = (r: Row) => r;\n',
      "src/server/rows.ts":
        'import { readFileSync } from "node:fs";\nexport type Row = { id: string };\nexport const read = readFileSync;\n',
      "src/components/form.tsx": 'import { save } from "../actions/save";\nexport const form = save;\n',
      "src/actions/save.ts":
        '"use server";\nimport { read } from "../server/rows";\nexport async function save() { return read; }\n',
      "src/components/plain.tsx":
        'import type { Safe } from "../server/safe-types";\nexport const p = (s: Safe) => s;\n',
      "src/server/safe-types.ts": "export type Safe = { id: string };\n",
    });
    const violations = clientImportsOfServer(readImportGraph(root, ["src"]));
    expect(violations).toEqual([
      {
        kind: "client-imports-server",
        chain: ["src/components/card.tsx", "src/server/rows.ts"],
        reason: "imports the Node built-in node:fs",
      },
    ]);
  });
});
