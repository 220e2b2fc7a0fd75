import { describe, expect, it } from "vitest";
import { AgentConfigError } from "@/agents/agent-config-error";
import {
  agentDefinition,
  agentKindSchema,
  agentKinds,
  defaultAgentKind,
  findAgentDefinition,
  parseAgentKind,
  storedAgentKind,
  UnknownAgentError,
} from "@/agents/registry";

// The registry is the one place that names the agents: every kind must come with a whole definition, and the
// checks that keep model output from posing as flags must hold for every agent, not just the first two.

const home = "/sandbox/home";
const runInput = {
  gatewayBaseUrl: "https://kiln.example.com/gateway/",
  model: "m-1",
  runToken: "rt_abc",
  home,
};
const commandInput = {
  binPath: "/cache/bin/agent",
  prompt: "-build it",
  model: "m-1",
  workdir: "/sandbox/work",
};

describe("the agent registry", () => {
  it("lists each agent once, the default among them", () => {
    expect(agentKinds).toEqual(["codex", "claude-code"]);
    expect(new Set(agentKinds).size).toBe(agentKinds.length);
    expect(agentKinds).toContain(defaultAgentKind);
  });

  describe.each(agentKinds)("%s", (kind) => {
    const agent = agentDefinition(kind);

    it("has a complete definition under its own kind", () => {
      expect(agent.kind).toBe(kind);
      expect(findAgentDefinition(kind)).toBe(agent);
      expect(agent.label.trim()).not.toBe("");
      expect(agent.pickerLabel.trim()).not.toBe("");
      expect(["openai", "anthropic"]).toContain(agent.vendor);
      expect(agent.defaultModel.trim()).not.toBe("");
      expect(agent.plannerModel.trim()).not.toBe("");
      // An exact version: a range would let a run pick up a release nobody read.
      expect(agent.toolchain.version).toMatch(/^\d+\.\d+\.\d+$/);
      expect(agent.toolchain.package).toMatch(/^(@[a-z0-9-]+\/)?[a-z0-9-]+$/);
      expect(agent.toolchain.bin).toMatch(/^[a-z0-9-]+$/);
      expect(agent.versionCheckEnv(home)).toMatchObject({ HOME: home });
      expect(agent.sessions.dir(home).startsWith(`${home}/`)).toBe(true);
    });

    it("runs the CLI headless with the prompt as one argument after --, fresh and resumed", () => {
      const fresh = agent.command(commandInput);
      expect(fresh).toMatchObject({ cmd: commandInput.binPath, cwd: commandInput.workdir, stdin: "ignore" });
      expect(fresh.args.slice(-2)).toEqual(["--", commandInput.prompt]);
      expect(fresh.args).toContain(commandInput.model);
      const resumed = agent.command({ ...commandInput, resumeSessionId: "0199a1b2-c3d4" });
      expect(resumed.args).toContain("0199a1b2-c3d4");
      expect(resumed.args.slice(-2)).toEqual(["--", commandInput.prompt]);
    });

    it("points the CLI at the gateway with the run token, its home under the run's HOME", () => {
      const config = agent.runConfig(runInput);
      expect(config.env.HOME).toBe(home);
      expect(Object.values(config.env)).toContain(runInput.runToken);
      const written = [...Object.values(config.env), ...config.files.map((file) => file.content)].join("\n");
      expect(written).toContain("https://kiln.example.com/gateway");
      for (const file of config.files) expect(file.path.startsWith(`${home}/`)).toBe(true);
    });

    it("refuses what could pose as a flag or reach past the gateway", () => {
      const refusals = [
        () => agent.command({ ...commandInput, model: "--oss" }),
        () => agent.command({ ...commandInput, resumeSessionId: "--last" }),
        () => agent.command({ ...commandInput, workdir: "work" }),
        () => agent.command({ ...commandInput, prompt: " " }),
        () => agent.runConfig({ ...runInput, gatewayBaseUrl: "https://user:pw@kiln.example.com" }),
        () => agent.runConfig({ ...runInput, runToken: "a b" }),
        () => agent.runConfig({ ...runInput, home: "home" }),
      ];
      for (const refusal of refusals) expect(refusal).toThrow(AgentConfigError);
    });

    it("normalises output without throwing on lines it does not know", () => {
      const normalizer = agent.createNormalizer({ workdir: commandInput.workdir });
      expect(normalizer.push("not json")).toEqual([]);
      expect(normalizer.push('{"type":"from-a-newer-cli"}')).toEqual([]);
      expect(normalizer.end()).toEqual([]);
      expect(normalizer.stats).toMatchObject({ lines: 2, skipped: 2, events: 0 });
    });
  });
});

describe("naming an agent", () => {
  it("from outside: none is the default, a known name is itself, anything else a clear error", () => {
    expect(parseAgentKind(undefined)).toBe(defaultAgentKind);
    expect(parseAgentKind("claude-code")).toBe("claude-code");
    expect(() => parseAgentKind("gemini")).toThrow(UnknownAgentError);
    expect(() => parseAgentKind("gemini")).toThrow(
      'Unknown agent "gemini": it must be "codex" or "claude-code".',
    );
    expect(() => parseAgentKind("Codex")).toThrow(UnknownAgentError);
  });

  it("in a request body: the schema names the agents it accepts", () => {
    expect(agentKindSchema.parse("codex")).toBe("codex");
    const refused = agentKindSchema.safeParse("gemini");
    expect(refused.success).toBe(false);
    expect(refused.error?.issues[0]?.message).toBe('Agent must be "codex" or "claude-code"');
  });

  it("on a stored row: an agent this Kiln does not have runs as the default", () => {
    expect(storedAgentKind("claude-code")).toBe("claude-code");
    expect(storedAgentKind("an-agent-from-a-newer-kiln")).toBe(defaultAgentKind);
  });
});
