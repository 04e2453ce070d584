/**
 * One big call spread over an instance's workers (issue 17 item 3): ONE call of one speaker and
 * N listeners on the real host app (socket.io signaling, SfuService, WebRTC transports with ICE,
 * DTLS, SRTP, SCTP), with 1 media worker and with 2 workers and
 * `RUSTCHAT_CALLS_ROUTER_MAX_SESSIONS` = ceil((N + 1) / 2), so that the call's sessions split
 * over both workers and the speaker's voice is piped from the primary router to the second one
 * (`pipeToRouter`). Both run at every step, alternating, each on a fresh host app.
 *
 * Participants are werift peers in load processes (bench/lib/load.child.ts) that join like a
 * Mattermost client: the speaker (data channel + sendonly audio, pre-encoded Opus 20 ms packets)
 * in a process of its own, so that its timer keeps time while the listeners' process is busy;
 * the listeners (data channel only) in batches in the other. Listeners run ICE, DTLS and SRTCP like a browser
 * but do not decrypt the SRTP they receive (bench/lib/clear-rtp.ts): they count packets from
 * the clear RTP header, so the load process does not saturate long before the server; the
 * server still encrypts once per listener. `BIGCALL_DECRYPT=1` makes them decrypt.
 *
 * Per step and worker count: sessions per worker, streams seen, loss (sequence numbers), worker
 * CPU from the workers' own accounting (`SfuService.workerUsage()`, per worker and summed), CPU
 * per listener stream, the same with the speaker muted (no media forwarded: what a listener
 * costs without streams: ICE consent, RTCP, SCTP), host process CPU, load process CPU, kernel
 * drops, and RSS (VmRSS) of the host process and the workers before and after the join, per
 * participant. Then, on bare mediasoup, what a pipe between two workers costs per piped stream
 * (bench/lib/pipe-cost.ts), plain as between a call's routers and SRTP + RTX as between
 * instances.
 *
 * Env: BIGCALL_LISTENERS (100,200,300), BIGCALL_BATCH (listeners joining at once, 25),
 * BIGCALL_SETTLE_S (3), BIGCALL_WINDOW_S (5), BIGCALL_WINDOWS (3; the median window by CPU per
 * stream is reported), BIGCALL_DECRYPT (0), BIGCALL_PIPE_STREAMS (200; 0: no pipe measure),
 * BIGCALL_GEN_CPU_LIMIT (0.9: no larger step once the load process reaches it), BIGCALL_WARMUP
 * (listeners of a first call that is not reported, 10).
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { SfuService } from '../libs/calls/src/sfu/sfu.service';
import { envNumber, envNumbers } from './lib/env';
import { LoadProcess } from './lib/load-process';
import { loginMany, startMediaHost } from './lib/media-host';
import { printTable, type Row } from './lib/measure';
import { measurePipeCost, type PipeCost, STREAM_PPS } from './lib/pipe-cost';
import { rssMiB } from './lib/proc-status';
import { dropsOf } from './lib/udp-drops';

/**
 * The load processes: the speaker in its own (a light process whose 20 ms timer keeps time even
 * when the listeners' process is busy), the listeners in the other.
 */
interface Loads {
  readonly speaker: LoadProcess;
  readonly listeners: LoadProcess;
}

/** One measured window. */
interface Window {
  seconds: number;
  /** CPU fraction of each worker, by pid. */
  workerCpu: Map<number, number>;
  hostCpu: number;
  generatorCpu: number;
  streamsSeen: number;
  /** Packets per second the speaker sent (below 50 when the load process was starved). */
  sentPps: number;
  receivedPps: number;
  loss: number;
  drops: { workers: number; generator: number };
}

/** One step: N listeners with a given number of workers. */
interface Step {
  listeners: number;
  workers: number;
  maxPerRouter: number;
  routers: number;
  /** Consumers the server holds (one per listener when every listener receives the speaker). */
  consumers: number;
  /** Sessions the SFU closed by itself, by reason, and ICE restarts, over the whole call. */
  closed: Map<string, number>;
  /** Sessions on each worker, by pid (in the order of the pool). */
  sessions: Map<number, number>;
  joinS: number;
  active: Window;
  idle: Window;
  rss0: { host: number; workers: number[] };
  rss1: { host: number; workers: number[] };
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const describe = (counts: Map<string, number>) =>
  [...counts].map(([what, n]) => `${n} ${what}`).join(', ');
const sum = (values: Iterable<number>) => [...values].reduce((a, b) => a + b, 0);
const pct = (v: number) => Number((v * 100).toFixed(2));
/** CPU microseconds per second and stream. */
const perStreamUs = (cpu: number, streams: number) => (streams > 0 ? (cpu / streams) * 1e6 : NaN);
const effectiveStreams = (w: Window) => w.receivedPps / STREAM_PPS;
const totalCpu = (w: Window) => sum(w.workerCpu.values());

async function measureWindow(sfu: SfuService, loads: Loads, seconds: number): Promise<Window> {
  const pids = [...sfu.workerPids(), loads.listeners.pid ?? 0];
  const drops0 = dropsOf(pids);
  await Promise.all([
    loads.speaker.call('windowStart', undefined),
    loads.listeners.call('windowStart', undefined),
  ]);
  const u0 = await sfu.workerUsage();
  const host0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const u1 = await sfu.workerUsage();
  const host = process.cpuUsage(host0);
  const elapsed = (performance.now() - t0) / 1000;
  const [sent, w] = await Promise.all([
    loads.speaker.call('windowEnd', undefined),
    loads.listeners.call('windowEnd', undefined),
  ]);
  const drops1 = dropsOf(pids);
  if (w.errors.length > 0) console.warn(`[bigcall] client errors: ${w.errors.join(' | ')}`);
  const workerCpu = new Map<number, number>();
  for (const { pid, cpuSeconds } of u1) {
    const before = u0.find((u) => u.pid === pid);
    if (before) workerCpu.set(pid, (cpuSeconds - before.cpuSeconds) / elapsed);
  }
  const dropDelta = drops1.map((d, i) => d - drops0[i]);
  return {
    seconds: elapsed,
    workerCpu,
    hostCpu: (host.user + host.system) / 1e6 / elapsed,
    generatorCpu: w.generatorCpu,
    streamsSeen: w.streams,
    sentPps: sent.sent / sent.seconds,
    receivedPps: w.received / w.seconds,
    loss: w.expected > 0 ? 1 - w.received / w.expected : 1,
    drops: { workers: sum(dropDelta.slice(0, -1)), generator: dropDelta[dropDelta.length - 1] },
  };
}

/** Measures `windows` windows back to back; returns the median by CPU per flowing stream. */
async function medianWindow(
  sfu: SfuService,
  loads: Loads,
  windows: number,
  seconds: number,
): Promise<Window> {
  const measured: Window[] = [];
  for (let i = 0; i < windows; i++) measured.push(await measureWindow(sfu, loads, seconds));
  const key = (w: Window) => totalCpu(w) / Math.max(1, effectiveStreams(w));
  measured.sort((a, b) => key(a) - key(b));
  return measured[measured.length >> 1];
}

/**
 * Waits (up to BIGCALL_MEDIA_WAIT_S, 30 s) until every listener receives the speaker, in 1 s
 * windows; warns with the server's consumer count when some do not.
 */
async function untilEveryoneHears(sfu: SfuService, loads: Loads, listeners: number): Promise<void> {
  const deadline = Date.now() + envNumber('BIGCALL_MEDIA_WAIT_S', 30) * 1000;
  for (;;) {
    await loads.listeners.call('windowStart', undefined);
    await sleep(1000);
    const { streams } = await loads.listeners.call('windowEnd', undefined);
    if (streams >= listeners) return;
    if (Date.now() > deadline) {
      console.warn(
        `[bigcall] ${listeners - streams} of ${listeners} listeners receive nothing; the server holds ${sfu.stats().consumers} consumers`,
      );
      return;
    }
  }
}

/** Runs one call of 1 speaker + `listeners` on a fresh host app with `workers` workers. */
async function runCall(loads: Loads, listeners: number, workers: number): Promise<Step> {
  const batch = Math.max(1, envNumber('BIGCALL_BATCH', 25));
  const windows = Math.max(1, envNumber('BIGCALL_WINDOWS', 3));
  const windowS = envNumber('BIGCALL_WINDOW_S', 5);
  const maxPerRouter = workers === 1 ? 0 : Math.ceil((listeners + 1) / workers);
  const host = await startMediaHost({
    RUSTCHAT_CALLS_WORKERS: String(workers),
    RUSTCHAT_CALLS_ROUTER_MAX_SESSIONS: String(maxPerRouter),
  });
  const tag = randomBytes(4).toString('hex');
  const groups: { load: LoadProcess; group: string }[] = [];
  try {
    const sfu = host.app.get(SfuService);
    const closed = new Map<string, number>();
    const count = (what: string) => closed.set(what, (closed.get(what) ?? 0) + 1);
    sfu.subscribe({
      signal: () => undefined,
      voice: () => undefined,
      sessionClosed: (_ref, reason) => count(reason),
      iceRestart: (_ref, initiator) => count(`ice restart (${initiator})`),
    });
    const pids = sfu.workerPids();
    gc();
    const rss0 = { host: rssMiB(process.pid), workers: pids.map(rssMiB) };
    const tokens = await loginMany(host, listeners + 1, `big-${tag}-`);
    const channel = `big-${tag}`;
    const t0 = performance.now();
    const speakerGroup = `${tag}-speaker`;
    groups.push({ load: loads.speaker, group: speakerGroup });
    await loads.speaker.call('weriftAdd', {
      group: speakerGroup,
      url: host.url,
      tokens: tokens.slice(0, 1),
      roles: ['speaker'],
    });
    const speaker = await loads.speaker.call('weriftJoin', {
      group: speakerGroup,
      channel,
      unmuteSpeakers: true,
      timeoutMs: 60_000,
    });
    const sessionIds = [...speaker.sessionIds];
    const decrypt = envNumber('BIGCALL_DECRYPT', 0) > 0;
    for (let first = 1; first <= listeners; first += batch) {
      const group = `${tag}-listeners-${first}`;
      groups.push({ load: loads.listeners, group });
      const part = tokens.slice(first, Math.min(listeners + 1, first + batch));
      await loads.listeners.call('weriftAdd', {
        group,
        url: host.url,
        tokens: part,
        roles: part.map(() => 'none' as const),
        decrypt,
      });
      const joined = await loads.listeners.call('weriftJoin', {
        group,
        channel,
        unmuteSpeakers: false,
        timeoutMs: 60_000,
      });
      sessionIds.push(...joined.sessionIds);
      const unconnected = joined.times.filter((t) => t.connected === undefined).length;
      if (unconnected > 0 || joined.failures.length > 0) {
        console.warn(
          `[bigcall] ${group}: ${unconnected} not connected; ${[...joined.failures, ...joined.errors].slice(0, 3).join(' | ')}`,
        );
      }
    }
    const joinS = (performance.now() - t0) / 1000;
    await sleep(envNumber('BIGCALL_SETTLE_S', 3) * 1000);
    await untilEveryoneHears(sfu, loads, listeners);

    const sessions = new Map<number, number>(pids.map((pid) => [pid, 0]));
    for (const id of sessionIds) {
      const pid = sfu.sessionWorkerPid(id);
      if (pid !== undefined) sessions.set(pid, (sessions.get(pid) ?? 0) + 1);
    }
    const { routers, consumers } = sfu.stats();
    const active = await medianWindow(sfu, loads, windows, windowS);
    // The speaker muted: no media forwarded, what the listeners cost by themselves.
    await sfu.setAudioMuted(sessionIds[0], true);
    await sleep(1000);
    const idle = await measureWindow(sfu, loads, windowS);
    await sfu.setAudioMuted(sessionIds[0], false);
    gc();
    const rss1 = { host: rssMiB(process.pid), workers: pids.map(rssMiB) };
    const step: Step = {
      listeners,
      workers,
      maxPerRouter,
      routers,
      consumers,
      closed,
      sessions,
      joinS,
      active,
      idle,
      rss0,
      rss1,
    };
    if (closed.size > 0) console.warn(`[bigcall] closed by the SFU: ${describe(closed)}`);
    console.log(
      `[bigcall] listeners=${listeners} workers=${workers} routers=${routers} sessions=${[...sessions.values()].join('/')} seen=${active.streamsSeen} sent=${active.sentPps.toFixed(1)}pps fwd=${Math.round(active.receivedPps)}pps loss=${(active.loss * 100).toFixed(2)}% worker=${[...active.workerCpu.values()].map((c) => (c * 100).toFixed(1)).join('+')}% idle=${(totalCpu(idle) * 100).toFixed(1)}% host=${(active.hostCpu * 100).toFixed(1)}% gen=${(active.generatorCpu * 100).toFixed(1)}% join=${joinS.toFixed(1)}s load=${loadavg()[0].toFixed(2)}`,
    );
    return step;
  } finally {
    for (const { load, group } of groups) await load.call('weriftClose', { group });
    await host.close();
  }
}

function stepRow(s: Step): Row {
  const participants = s.listeners + 1;
  const a = s.active;
  const streams = effectiveStreams(a);
  const workerRssDelta = sum(s.rss1.workers) - sum(s.rss0.workers);
  return {
    listeners: s.listeners,
    workers: s.workers,
    'max / router': s.maxPerRouter,
    routers: s.routers,
    'consumers (server)': s.consumers,
    'closed by the SFU': describe(s.closed),
    'sessions per worker': [...s.sessions.values()].join(' / '),
    'streams seen': a.streamsSeen,
    'speaker pps': Number(a.sentPps.toFixed(1)),
    'forwarded pps': Math.round(a.receivedPps),
    'loss %': pct(a.loss),
    'worker CPU % (per worker)': `${pct(totalCpu(a))} (${[...a.workerCpu.values()].map(pct).join(' / ')})`,
    'CPU µs/s per listener stream': Math.round(perStreamUs(totalCpu(a), streams)),
    'of which forwarding (idle subtracted)': Math.round(
      perStreamUs(totalCpu(a) - totalCpu(s.idle), streams),
    ),
    'streams per core': Math.round(streams / totalCpu(a)),
    'idle CPU µs/s per listener': Math.round(perStreamUs(totalCpu(s.idle), s.listeners)),
    'host CPU %': pct(a.hostCpu),
    'load gen CPU %': pct(a.generatorCpu),
    'kernel drops workers / load gen': `${a.drops.workers} / ${a.drops.generator}`,
    'host RSS MiB (KiB per participant)': `${s.rss1.host.toFixed(0)} (${Math.round(((s.rss1.host - s.rss0.host) * 1024) / participants)})`,
    'worker RSS MiB (KiB per participant)': `${s.rss1.workers.map((r) => r.toFixed(0)).join(' / ')} (${Math.round((workerRssDelta * 1024) / participants)})`,
    'join s': Number(s.joinS.toFixed(1)),
  };
}

/** The 2-worker CPU against the 1-worker CPU at the same number of listeners. */
function spreadRows(steps: Step[]): Row[] {
  return steps
    .filter((s) => s.workers > 1)
    .flatMap((two) => {
      const one = steps.find((s) => s.workers === 1 && s.listeners === two.listeners);
      if (!one) return [];
      const c1 = totalCpu(one.active);
      const c2 = totalCpu(two.active);
      const i1 = totalCpu(one.idle);
      const i2 = totalCpu(two.idle);
      return [
        {
          listeners: two.listeners,
          'worker CPU % 1 worker': pct(c1),
          [`worker CPU % ${two.workers} workers`]: pct(c2),
          'difference (% of a core)': pct(c2 - c1),
          ratio: Number((c2 / c1).toFixed(3)),
          'idle CPU % 1 / 2 workers': `${pct(i1)} / ${pct(i2)}`,
          'busiest worker % of 1-worker CPU': pct(Math.max(...two.active.workerCpu.values()) / c1),
        },
      ];
    });
}

function pipeRow(p: PipeCost, listenerStreamUs: number): Row {
  const cost = p.cpuA1 - p.cpuA0 + (p.cpuB1 - p.cpuB0);
  const flowing = p.pipedPps / STREAM_PPS;
  const us = perStreamUs(cost, flowing);
  return {
    pipe:
      p.variant === 'plain' ? 'plain RTP (routers of one call)' : 'SRTP + RTX (between instances)',
    'piped streams': p.streams,
    'piped pps (received)': Math.round(p.pipedPps),
    'worker A CPU % alone / piping': `${pct(p.cpuA0)} / ${pct(p.cpuA1)}`,
    'worker B CPU % idle / receiving': `${pct(p.cpuB0)} / ${pct(p.cpuB1)}`,
    'CPU µs/s per piped stream (A + B)': Math.round(us),
    'in listener streams': Number.isFinite(listenerStreamUs)
      ? Number((us / listenerStreamUs).toFixed(2))
      : '',
  };
}

export async function bigCallBench(): Promise<void> {
  const steps = envNumbers('BIGCALL_LISTENERS', [100, 200, 300]);
  const generatorLimit = envNumber('BIGCALL_GEN_CPU_LIMIT', 0.9);
  const windowS = envNumber('BIGCALL_WINDOW_S', 5);
  const windows = Math.max(1, envNumber('BIGCALL_WINDOWS', 3));
  const pipeStreams = envNumber('BIGCALL_PIPE_STREAMS', 200);
  const results: Step[] = [];
  const pipes: PipeCost[] = [];
  const loads: Loads = { speaker: LoadProcess.start(), listeners: LoadProcess.start() };
  try {
    // Not reported: the first host app of the process loads and compiles what the others reuse.
    const warmup = envNumber('BIGCALL_WARMUP', 10);
    if (warmup > 0) await runCall(loads, warmup, 1);
    for (const [i, listeners] of steps.entries()) {
      // Alternating which goes first, so that a drift of the shared machine hits both.
      const order = i % 2 === 0 ? [1, 2] : [2, 1];
      const here: Step[] = [];
      for (const workers of order) here.push(await runCall(loads, listeners, workers));
      results.push(...here.sort((a, b) => a.workers - b.workers));
      if (here.some((s) => s.active.generatorCpu >= generatorLimit)) {
        console.warn(`[bigcall] load process at its limit with ${listeners} listeners: stopping`);
        break;
      }
    }
    if (pipeStreams > 0) {
      for (const variant of ['plain', 'srtp'] as const) {
        pipes.push(await measurePipeCost(loads.speaker, variant, pipeStreams, windowS, windows));
      }
    }
  } finally {
    await Promise.all([loads.speaker.close(), loads.listeners.close()]);
  }

  printTable(
    'One call, 1 speaker + N listeners (werift, SRTP counted from clear headers), 1 worker vs 2 workers (ROUTER_MAX_SESSIONS = ceil((N+1)/2)); worker CPU from the workers’ own accounting, median of the windows by CPU per stream; idle = the speaker muted (nothing forwarded)',
    results.map(stepRow),
  );
  printTable(
    'Spreading: the same call on 2 workers against 1 (the difference includes the pipe between the routers)',
    spreadRows(results),
  );
  const oneWorker = results.filter((s) => s.workers === 1);
  const last = oneWorker[oneWorker.length - 1];
  const listenerUs = last ? perStreamUs(totalCpu(last.active), effectiveStreams(last.active)) : NaN;
  printTable(
    `Pipe cost on loopback, bare mediasoup: ${pipeStreams} Opus streams piped from worker A to worker B; "in listener streams" = against the 1-worker CPU per listener stream at the largest step`,
    pipes.map((p) => pipeRow(p, listenerUs)),
  );
}
