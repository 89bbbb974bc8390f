/**
 * Rows of the reliability results table. Each test appends one row per area to
 * the JSON-lines file named by `RELIABILITY_RESULTS` (run.ts sets it); without
 * it, rows are only kept in memory.
 *
 * @module
 */

/** One area's numbers. Findings (duplicates, leaks, lost) must be 0. */
export interface ResultRow {
  readonly area: string;
  readonly rounds: number;
  readonly operations: number;
  readonly faults: number;
  readonly duplicates: number;
  readonly leaks: number;
  readonly lost: number;
  readonly fuzzCases: number;
  /** What the faults were, in a few words. */
  readonly notes: string;
}

/** Fields a test may leave out (zero, or empty notes). */
export type ResultInput = Pick<ResultRow, "area"> & Partial<Omit<ResultRow, "area">>;

/** Fills in zeros and appends the row to the results file, if there is one. */
export async function recordResult(input: ResultInput): Promise<ResultRow> {
  const row: ResultRow = {
    rounds: 0,
    operations: 0,
    faults: 0,
    duplicates: 0,
    leaks: 0,
    lost: 0,
    fuzzCases: 0,
    notes: "",
    ...input,
  };
  const path = Deno.env.get("RELIABILITY_RESULTS");
  if (path !== undefined && path !== "") {
    await Deno.writeTextFile(path, JSON.stringify(row) + "\n", { append: true, create: true });
  }
  return row;
}

/** Reads the rows a run wrote. */
export async function readResults(path: string): Promise<ResultRow[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  return text.split("\n").filter((line) => line.trim() !== "").map((line) => JSON.parse(line) as ResultRow);
}

const COLUMNS: readonly [string, (row: ResultRow) => string][] = [
  ["Area", (r) => r.area],
  ["Rounds", (r) => String(r.rounds)],
  ["Operations", (r) => r.operations.toLocaleString("en-US")],
  ["Faults injected", (r) => r.faults.toLocaleString("en-US")],
  ["Duplicates", (r) => String(r.duplicates)],
  ["Leaks", (r) => String(r.leaks)],
  ["Lost allocations", (r) => String(r.lost)],
  ["Fuzz cases", (r) => r.fuzzCases.toLocaleString("en-US")],
  ["Faults", (r) => r.notes],
];

/** A Markdown table of `rows` with a totals line. */
export function formatResults(rows: readonly ResultRow[]): string {
  const sum = (pick: (row: ResultRow) => number) => rows.reduce((total, row) => total + pick(row), 0);
  const total: ResultRow = {
    area: "**Total**",
    rounds: sum((r) => r.rounds),
    operations: sum((r) => r.operations),
    faults: sum((r) => r.faults),
    duplicates: sum((r) => r.duplicates),
    leaks: sum((r) => r.leaks),
    lost: sum((r) => r.lost),
    fuzzCases: sum((r) => r.fuzzCases),
    notes: "",
  };
  const cells = [...rows, total].map((row) => COLUMNS.map(([, cell]) => cell(row)));
  const header = COLUMNS.map(([name]) => name);
  const widths = header.map((name, i) => Math.max(name.length, ...cells.map((row) => row[i]!.length)));
  const line = (row: readonly string[]) => `| ${row.map((cell, i) => cell.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n");
}
