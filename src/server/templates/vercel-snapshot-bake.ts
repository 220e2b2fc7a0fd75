import path from "node:path";
import type { CommandSpec } from "@/server/integrations/sandboxes/port";
import type { ToolchainSpec } from "@/server/toolchains/versions";

// What goes into a template snapshot besides the app's installed dependencies: the pinned agent CLIs. They are
// installed OUTSIDE the working copy (under the sandbox user's home), so nothing of Kiln's can end up in the app's
// git repository; the working copy holds only the template's files and its (git-ignored) node_modules.

export type BakePlan = {
  /** Absolute directory inside the sandbox that holds one `<agent>-<version>/` prefix per CLI. */
  toolchainRoot: string;
  toolchains: readonly ToolchainSpec[];
};

export type BakeStep = {
  /** For progress messages and errors ("installing Codex 0.169.0"). */
  label: string;
  command: CommandSpec;
  /** The step's output (stdout then stderr) must match, e.g. the pinned version printed by `--version`. */
  expectOutput?: RegExp;
};

export function toolchainPrefix(toolchainRoot: string, spec: ToolchainSpec): string {
  return path.posix.join(toolchainRoot, `${spec.agent}-${spec.version}`);
}

/** Where the CLI lives inside any sandbox started from the snapshot. */
export function bakedBinPath(toolchainRoot: string, spec: ToolchainSpec): string {
  return path.posix.join(toolchainPrefix(toolchainRoot, spec), "node_modules", ".bin", spec.bin);
}

function versionPattern(version: string): RegExp {
  const escaped = version.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`(^|[^0-9.])${escaped}([^0-9.]|$)`);
}

/**
 * The real installs, mirroring the local toolchain cache (src/server/toolchains/install.ts): the exact pinned
 * version into a prefix of its own, no dependency install scripts, then the one package script that was read and
 * is needed, then `--version` must print the pinned version. Argument arrays only.
 */
export function defaultBakeSteps(plan: BakePlan): BakeStep[] {
  const checkHome = path.posix.join(plan.toolchainRoot, ".version-check");
  const steps: BakeStep[] = [
    { label: "preparing the toolchain directory", command: { cmd: "mkdir", args: ["-p", "--", checkHome] } },
  ];
  for (const spec of plan.toolchains) {
    const prefix = toolchainPrefix(plan.toolchainRoot, spec);
    steps.push({
      label: `installing ${spec.label} ${spec.version}`,
      command: {
        cmd: "npm",
        args: [
          "install",
          "--prefix",
          prefix,
          "--no-audit",
          "--no-fund",
          "--ignore-scripts",
          "--include=optional",
          "--omit=dev",
          "--save-exact",
          "--no-update-notifier",
          "--loglevel=warn",
          `${spec.package}@${spec.version}`,
        ],
      },
    });
    if (spec.postinstall) {
      steps.push({
        label: `running ${spec.label}'s install script`,
        command: { cmd: "node", args: [path.posix.join(prefix, spec.postinstall)] },
      });
    }
    steps.push({
      label: `checking ${spec.label} ${spec.version}`,
      command: {
        cmd: bakedBinPath(plan.toolchainRoot, spec),
        args: ["--version"],
        // The CLIs may create config dirs on first start: keep that out of the real home, then drop it.
        env: {
          HOME: checkHome,
          CODEX_HOME: path.posix.join(checkHome, ".codex"),
          CLAUDE_CONFIG_DIR: path.posix.join(checkHome, ".claude"),
          CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
        },
      },
      expectOutput: versionPattern(spec.version),
    });
  }
  steps.push({
    label: "cleaning up after the version checks",
    command: { cmd: "rm", args: ["-rf", "--", checkHome] },
  });
  return steps;
}
