/** Small measuring helpers shared by the benchmarks. */

/** Latency samples in milliseconds, and the wall time of the run. */
export interface Samples {
  readonly latenciesMs: number[];
  readonly wallMs: number;
}

/** The p-th percentile (0–100) of samples. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

/**
 * Runs `op` from `concurrency` loops until `total` operations are done; records each latency.
 * `op` gets the operation's number and its loop's (the client's) number.
 */
export async function runLoad(
  total: number,
  concurrency: number,
  op: (i: number, client: number) => Promise<unknown>,
): Promise<Samples> {
  const latenciesMs: number[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, client) => {
      for (let i = next++; i < total; i = next++) {
        const t0 = performance.now();
        await op(i, client);
        latenciesMs.push(performance.now() - t0);
      }
    }),
  );
  return { latenciesMs, wallMs: performance.now() - start };
}

/** One row of a result table. */
export type Row = Record<string, string | number>;

/** Prints rows as a Markdown table (what bench/RESULTS.md holds). */
export function printTable(title: string, rows: Row[]): void {
  if (rows.length === 0) return;
  const headers = Object.keys(rows[0]);
  const cell = (v: string | number | undefined) =>
    typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(3)) : (v ?? '');
  console.log(`\n### ${title}\n`);
  console.log(`| ${headers.join(' | ')} |`);
  console.log(`| ${headers.map(() => '---').join(' | ')} |`);
  for (const row of rows) console.log(`| ${headers.map((h) => cell(row[h])).join(' | ')} |`);
}

/** Summarises samples as a table row. */
export function summarize(name: string, s: Samples, extra: Row = {}): Row {
  return {
    case: name,
    'ops/s': Math.round((s.latenciesMs.length / s.wallMs) * 1000),
    'p50 ms': percentile(s.latenciesMs, 50),
    'p99 ms': percentile(s.latenciesMs, 99),
    ...extra,
  };
}
