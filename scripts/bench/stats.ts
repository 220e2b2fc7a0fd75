import { performance } from "node:perf_hooks";

export type BenchRow = { name: string; runs: number; p50: number; p95: number; unit: string; goal?: string };

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? Number.NaN;
}

/** Runs `work` `runs` times after `warmup` unmeasured runs and reports p50/p95 in milliseconds. */
export async function measure(
  name: string,
  runs: number,
  work: (i: number) => Promise<unknown>,
  options: { warmup?: number; goal?: string } = {},
): Promise<BenchRow> {
  for (let i = 0; i < (options.warmup ?? 2); i++) await work(-1 - i);
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await work(i);
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return {
    name,
    runs,
    p50: percentile(samples, 50),
    p95: percentile(samples, 95),
    unit: "ms",
    goal: options.goal,
  };
}

export function printTable(rows: BenchRow[]): void {
  const header = ["benchmark", "runs", "p50", "p95", "goal"];
  const lines = rows.map((row) => [
    row.name,
    String(row.runs),
    `${row.p50.toFixed(2)} ${row.unit}`,
    `${row.p95.toFixed(2)} ${row.unit}`,
    row.goal ?? "",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? "").length)));
  const format = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  console.log(format(header));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const line of lines) console.log(format(line));
}
