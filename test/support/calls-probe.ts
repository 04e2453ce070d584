import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestHostApp } from './host-app';

/** Mattermost's REST prefix of the calls plugin. */
export const CALLS_PATH = '/plugins/com.mattermost.calls';

/** `GET /{channel}` as a member sees it, without the fields that say nothing about state. */
export async function channelState(
  host: TestHostApp,
  token: string,
  channel: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await host.http
    .get(`${CALLS_PATH}/${channel}`)
    .set('Authorization', `Bearer ${token}`);
  return { status: res.status, body: res.body as Record<string, unknown> };
}

/** Samples of a Prometheus text exposition, keyed `name{labels}` (labels as rendered). */
export function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

/**
 * What must be back to zero once every call is over: `activeCalls`, `localSessions` and every
 * kind of live mediasoup object (`sfu.routers`, `sfu.transports`, `sfu.producers`, …).
 */
export type ReleaseCounts = Record<string, number>;

/** Reads the release counts from `GET /metrics` (the gauges an operator would watch). */
export async function releaseCounts(host: TestHostApp): Promise<ReleaseCounts> {
  const res = await host.http.get('/metrics').expect(200);
  const counts: ReleaseCounts = {};
  for (const [key, value] of parsePrometheus(res.text)) {
    if (key === 'calls_active_calls') counts.activeCalls = value;
    else if (key === 'calls_local_sessions') counts.localSessions = value;
    const kind = /^calls_sfu_objects\{kind="(\w+)"\}$/.exec(key)?.[1];
    if (kind && kind !== 'workers') counts[`sfu.${kind}`] = value;
  }
  return counts;
}

/** The counts that are not zero (empty when everything is released). */
export function unreleased(counts: ReleaseCounts): ReleaseCounts {
  return Object.fromEntries(Object.entries(counts).filter(([, n]) => n !== 0));
}

/** Polls until `condition` holds. @throws after `timeoutMs`, naming `what` */
export async function until(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
  intervalMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

let gcFn: (() => void) | null = null;

/** V8's `gc()` (exposed at runtime, so jest needs no `--expose-gc`). */
export function collectGarbage(): void {
  if (!gcFn) {
    setFlagsFromString('--expose-gc');
    gcFn = runInNewContext('gc') as () => void;
  }
  gcFn();
}

/** Heap and RSS in MiB after two full collections. */
export async function memoryAfterGc(): Promise<{ heapMiB: number; rssMiB: number }> {
  for (let i = 0; i < 2; i++) {
    collectGarbage();
    await sleep(50);
  }
  const m = process.memoryUsage();
  return { heapMiB: m.heapUsed / 2 ** 20, rssMiB: m.rss / 2 ** 20 };
}

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** `n` rounded to one decimal, for log lines. */
export const r1 = (n: number): number => Math.round(n * 10) / 10;
