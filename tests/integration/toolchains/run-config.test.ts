import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { AgentConfigError } from "../../../src/agents/agent-config-error";
import { claudeRunEnv } from "../../../src/agents/claude-code/run-env";
import { codexRunConfig } from "../../../src/agents/codex/run-config";
import { tomlKey, tomlString } from "../../../src/agents/codex/toml";
import { agentDefinition } from "../../../src/agents/registry";
import { ToolchainError } from "../../../src/server/toolchains/errors";
import { writeHomeFilesCommand } from "../../../src/server/toolchains/home-files";

// Pure builders of the per-run agent configuration and command lines. What the real CLIs make of them is proven
// in toolchains.test.ts; here, the exact shapes and every refusal.

const roots: string[] = [];
afterAll(() => {
  for (const root of roots) fs.rmSync(root, { recursive: true, force: true });
});

const codex = agentDefinition("codex");
const claude = agentDefinition("claude-code");

const base = {
  gatewayBaseUrl: "https://kiln.example.com/gateway/",
  model: "gpt-5.1-codex",
  runToken: "rt_abc123",
  home: "/sandbox/home",
};

describe("TOML escaping", () => {
  it("escapes quotes, backslashes and control characters, and keeps other text", () => {
    expect(tomlString('a"b\\c\nd\te\u0001f\u007fg é ✓')).toBe('"a\\"b\\\\c\\nd\\te\\u0001f\\u007Fg é ✓"');
    expect(tomlString('"\n[model_providers.evil]\nbase_url = "http://evil"')).toBe(
      '"\\"\\n[model_providers.evil]\\nbase_url = \\"http://evil\\""',
    );
  });

  it("refuses text that is not valid Unicode", () => {
    expect(() => tomlString("bad \ud800 surrogate")).toThrow(AgentConfigError);
  });

  it("quotes keys only when TOML needs it", () => {
    expect(tomlKey("model_providers")).toBe("model_providers");
    expect(tomlKey("a.b")).toBe('"a.b"');
  });
});

describe("codexRunConfig", () => {
  it("writes one config.toml under <home>/.codex that names the gateway as the only provider", () => {
    const config = codexRunConfig(base);
    expect(config.env).toEqual({
      HOME: "/sandbox/home",
      CODEX_HOME: "/sandbox/home/.codex",
      KILN_RUN_TOKEN: "rt_abc123",
    });
    expect(config.files).toEqual([
      {
        path: "/sandbox/home/.codex/config.toml",
        content: `model = "gpt-5.1-codex"
model_provider = "kiln"
check_for_update_on_startup = false
web_search = "disabled"

[model_providers.kiln]
name = "Kiln model gateway"
base_url = "https://kiln.example.com/gateway/v1"
env_key = "KILN_RUN_TOKEN"
wire_api = "responses"
request_max_retries = 2
stream_max_retries = 2

[features]
plugins = false
unbounded_connection_retries = false

[shell_environment_policy]
exclude = ["KILN_RUN_TOKEN"]

[analytics]
enabled = false

[feedback]
enabled = false

[otel]
exporter = "none"
`,
      },
    ]);
  });

  it("uses the run token variable it is given, in the config and the environment", () => {
    const config = codexRunConfig({ ...base, runTokenEnvVar: "GATEWAY_TOKEN" });
    expect(config.files[0]?.content).toContain('env_key = "GATEWAY_TOKEN"');
    expect(config.files[0]?.content).toContain('exclude = ["GATEWAY_TOKEN"]');
    expect(config.env.GATEWAY_TOKEN).toBe("rt_abc123");
    expect(() => codexRunConfig({ ...base, runTokenEnvVar: "lower; rm" })).toThrow(/upper-case/);
  });

  it("escapes a model name rather than let it add config", () => {
    const content = codexRunConfig({ ...base, model: 'gpt"] x' }).files[0]?.content ?? "";
    expect(content).toContain('model = "gpt\\"] x"');
  });

  it.each([
    ["not a URL", "gateway", /is not a URL/],
    ["another scheme", "ftp://kiln.example.com", /http:\/\/ or https:\/\//],
    ["credentials", "https://user:pw@kiln.example.com", /credentials/],
    ["a query", "https://kiln.example.com/g?token=x", /query/],
  ])("refuses a gateway URL with %s", (_label, gatewayBaseUrl, message) => {
    expect(() => codexRunConfig({ ...base, gatewayBaseUrl })).toThrow(message);
    expect(() => claudeRunEnv({ ...base, gatewayBaseUrl })).toThrow(message);
  });

  it("refuses a relative home, a model with control characters and a blank token", () => {
    expect(() => codexRunConfig({ ...base, home: "home" })).toThrow(/absolute/);
    expect(() => codexRunConfig({ ...base, model: "gpt\nx" })).toThrow(/model name/);
    expect(() => codexRunConfig({ ...base, runToken: "a b" })).toThrow(/run token/);
  });
});

describe("claudeRunEnv", () => {
  it("points Claude Code at the gateway with the run token and every call-home switch off", () => {
    expect(claudeRunEnv(base)).toEqual({
      HOME: "/sandbox/home",
      CLAUDE_CONFIG_DIR: "/sandbox/home/.claude",
      ANTHROPIC_BASE_URL: "https://kiln.example.com/gateway",
      ANTHROPIC_AUTH_TOKEN: "rt_abc123",
      ANTHROPIC_SMALL_FAST_MODEL: base.model,
      ANTHROPIC_DEFAULT_HAIKU_MODEL: base.model,
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      DISABLE_AUTOUPDATER: "1",
      DISABLE_TELEMETRY: "1",
      DISABLE_ERROR_REPORTING: "1",
      CLAUDE_CODE_MAX_RETRIES: "2",
      IS_SANDBOX: "1",
    });
    expect(claude.runConfig(base)).toEqual({ files: [], env: claudeRunEnv(base) });
    expect(codex.runConfig(base)).toEqual(codexRunConfig(base));
  });
});

describe("the agents' commands", () => {
  const prompt = `--help "quoted" $(touch /tmp/pwned) \`id\` ; rm -rf /\nsecond line`;
  const common = { binPath: "/cache/bin/agent", model: "m-1", workdir: "/sandbox/work", prompt };

  it("builds Codex's headless command with the prompt as the last, single argument after --", () => {
    expect(codex.command(common)).toEqual({
      cmd: "/cache/bin/agent",
      args: [
        "exec",
        "--json",
        "--strict-config",
        "--skip-git-repo-check",
        "-C",
        "/sandbox/work",
        "-m",
        "m-1",
        "--dangerously-bypass-approvals-and-sandbox",
        "--",
        prompt,
      ],
      cwd: "/sandbox/work",
      stdin: "ignore",
    });
    expect(codex.command({ ...common, resumeSessionId: "01a1fb33-9801-7c43" }).args).toEqual([
      "exec",
      "--json",
      "--strict-config",
      "--skip-git-repo-check",
      "-C",
      "/sandbox/work",
      "resume",
      "01a1fb33-9801-7c43",
      "-m",
      "m-1",
      "--dangerously-bypass-approvals-and-sandbox",
      "--",
      prompt,
    ]);
  });

  it("builds Claude Code's headless command, resuming by session id", () => {
    expect(claude.command({ ...common, resumeSessionId: "cb8a3351-4a6d" })).toEqual({
      cmd: "/cache/bin/agent",
      args: [
        "-p",
        "--output-format",
        "stream-json",
        "--verbose",
        "--permission-mode",
        "bypassPermissions",
        "--model",
        "m-1",
        "--resume",
        "cb8a3351-4a6d",
        "--",
        prompt,
      ],
      cwd: "/sandbox/work",
      stdin: "ignore",
    });
  });

  it("refuses what could pose as a flag or break the argument list", () => {
    expect(() => codex.command({ ...common, resumeSessionId: "--last" })).toThrow(/session id/);
    expect(() => codex.command({ ...common, model: "--oss" })).toThrow(/model name/);
    expect(() => claude.command({ ...common, prompt: "  " })).toThrow(/empty/);
    expect(() => claude.command({ ...common, prompt: "a\u0000b" })).toThrow(/NUL/);
    expect(() => codex.command({ ...common, workdir: "work" })).toThrow(/absolute/);
  });
});

describe("writeHomeFilesCommand", () => {
  it("writes each file byte for byte with the shell never interpreting a path or content", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-home-files-"));
    roots.push(dir);
    const nasty = `-n %s \\ "double" 'single' $(touch ${dir}/pwned) \`touch ${dir}/pwned2\`\nline two é\n`;
    const files = [
      { path: path.join(dir, "home", ".codex", "config.toml"), content: nasty },
      { path: path.join(dir, "home", "dir with space", "$(x).txt"), content: "" },
    ];
    const command = writeHomeFilesCommand(files);
    expect(command.cmd).toBe("sh");
    execFileSync(command.cmd, command.args ?? [], { cwd: dir });
    for (const file of files) {
      expect(fs.readFileSync(file.path, "utf8")).toBe(file.content);
      expect(fs.statSync(file.path).mode & 0o777).toBe(0o600);
    }
    expect(fs.existsSync(path.join(dir, "pwned"))).toBe(false);
    expect(fs.existsSync(path.join(dir, "pwned2"))).toBe(false);
  });

  it("refuses relative paths", () => {
    expect(() => writeHomeFilesCommand([{ path: ".codex/config.toml", content: "" }])).toThrow(
      ToolchainError,
    );
  });
});
