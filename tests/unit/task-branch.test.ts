import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { taskBranchName } from "@/server/operations/create-task";

describe("taskBranchName", () => {
  it("names a task's branch after its title and its place among the project's tasks", () => {
    expect(taskBranchName("Add a dark mode", 2, ["main"])).toBe("task/add-a-dark-mode-2");
    expect(taskBranchName("Café crème", 5, ["main"])).toBe("task/cafe-creme-5");
  });

  it("takes the next free number when the name is taken", () => {
    const taken = ["main", "task/dark-mode-2", "task/dark-mode-3"];
    expect(taskBranchName("Dark mode", 2, taken)).toBe("task/dark-mode-4");
    expect(taskBranchName("Dark mode", 3, ["main", "task/dark-mode-2"])).toBe("task/dark-mode-3");
  });

  it("cuts a long title at a word boundary", () => {
    expect(taskBranchName("Try a dark theme with a high-contrast palette", 2, [])).toBe(
      "task/try-a-dark-theme-with-a-high-contrast-2",
    );
  });

  it("keeps long titles short and never ends the slug on a dash", () => {
    const name = taskBranchName(`${"word ".repeat(30)}end`, 2, []);
    expect(name.length).toBeLessThanOrEqual("task/".length + 40 + "-2".length);
    expect(name).toMatch(/^task\/[a-z0-9]+(-[a-z0-9]+)*-2$/);
  });

  it.each(["!!!", "日本語", "..lock", "a/b c", "HEAD", "-x-"])(
    "makes a valid git branch name of %j",
    (title) => {
      const name = taskBranchName(title, 2, []);
      // git's own rules: exit 0 when the name is a valid branch name.
      expect(() => execFileSync("git", ["check-ref-format", "--branch", name])).not.toThrow();
    },
  );
});
