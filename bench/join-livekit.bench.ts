/**
 * Join over LiveKit's client protocol beside the same join over the v1 (Mattermost, socket.io)
 * protocol, in one run on one host app: per size N, several rounds; in each round N v1
 * participants join one call at once and N LiveKit participants another (the order alternates
 * between rounds so neither always goes first; each group leaves, and the server is idle again,
 * before the next joins). Both protocols' participants are werift peers in the same load process
 * (the same ICE, DTLS and SRTP code), so what differs is the signaling and the server's path.
 *
 * From the join request (v1: `join` sent on the open socket, as a Mattermost client's socket is
 * open before it joins a call; LiveKit: the signal WebSocket opened with the token, which is the
 * join): connected (v1: its connection; LiveKit: the publisher connection, which livekit-client
 * waits for) and first audio (the first RTP from another participant; LiveKit: on the
 * subscriber connection). CPU per participant over the whole join, from the processes' own
 * accounting: the server process (`process.cpuUsage()`) and its media worker (`getrusage`).
 *
 * Senders (`JOIN_SENDERS`, 2) send pre-encoded Opus once connected: v1 ones offer a sendonly
 * audio transceiver and unmute after their offer; LiveKit ones announce the microphone
 * (`add_track`, unmuted) and offer it after `track_published`. The others offer data channels
 * only (`JOIN_LISTENER_AUDIO=idle`: a sendonly transceiver too, announced muted over LiveKit).
 *
 * Env: LKJOIN_SIZES (10,50,200), LKJOIN_ROUNDS (4: two with each protocol first), JOIN_SENDERS,
 * JOIN_LISTENER_AUDIO, JOIN_TIMEOUT_MS (60000), LKJOIN_CPU_PROFILE (a directory: a CPU profile of
 * the server process per measured join goes there; the profiler's cost is in that run's CPU).
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { mintLiveKitToken } from '../libs/calls/src/protocol/livekit/livekit-tokens';
import { SfuService } from '../libs/calls/src/sfu/sfu.service';
import type { TestHostApp } from '../test/support/host-app';
import type { AudioRole, StageTimes } from './lib/bench-participant';
import { profiled } from './lib/cpu-profile';
import { envNumber, envNumbers } from './lib/env';
import { LoadProcess } from './lib/load-process';
import { loginUsers, startMediaHost } from './lib/media-host';
import { percentile, printTable, type Row } from './lib/measure';

type Protocol = 'v1' | 'livekit';
const PROTOCOLS: readonly Protocol[] = ['v1', 'livekit'];

const KEY = { apiKey: 'bench', apiSecret: randomBytes(24).toString('hex') };
const LIVEKIT_PATH = '/livekit';

/** Client stages shown, and the protocols that have them. */
const STAGES: [keyof StageTimes, string, readonly Protocol[]][] = [
  ['connected', 'join → connected', PROTOCOLS],
  ['firstMedia', 'join → first audio from another', PROTOCOLS],
  ['ack', '    v1: join → join ack', ['v1']],
  ['wsOpen', '    LiveKit: join → signal WebSocket open (token admitted)', ['livekit']],
  ['joinResponse', '    LiveKit: join → join response', ['livekit']],
  ['trackPublished', '    LiveKit (senders): join → track_published', ['livekit']],
  ['offerSent', '    join → (publisher) offer sent', PROTOCOLS],
  ['answer', '    join → (publisher) answer', PROTOCOLS],
  ['subscriberOffer', '    LiveKit: join → first subscriber offer', ['livekit']],
  ['subscriberConnected', '    LiveKit: join → subscriber connected', ['livekit']],
];

/** What the server saw of a media session (epoch ms). */
interface ServerSeen {
  /** `openSession` done (its transport exists). */
  opened?: number;
  /** The client's first offer reached the SFU (`handleDescription`). */
  offerIn?: number;
  answer?: number;
  connected?: number;
}

/** Server-side stages, from the join request: [name, media session of a participant, what]. */
const SERVER_STAGES: [
  string,
  (sessionId: string) => string,
  keyof ServerSeen,
  readonly Protocol[],
][] = [
  ['    server: join → (publisher) media session open', (id) => id, 'opened', PROTOCOLS],
  ['    server: join → (publisher) offer reaches the SFU', (id) => id, 'offerIn', PROTOCOLS],
  ['    server: join → (publisher) answer emitted', (id) => id, 'answer', PROTOCOLS],
  ['    server: join → (publisher) DTLS connected', (id) => id, 'connected', PROTOCOLS],
  [
    '    server: join → LiveKit subscriber DTLS connected',
    (id) => `${id}:sub`,
    'connected',
    ['livekit'],
  ],
];

/**
 * Records, per media session, when the SFU opened it, got the client's first offer, emitted its
 * first answer, and when DTLS connected.
 */
function probeServer(host: TestHostApp): Map<string, ServerSeen> {
  const seen = new Map<string, ServerSeen>();
  const of = (id: string) => seen.get(id) ?? seen.set(id, {}).get(id)!;
  const now = () => performance.timeOrigin + performance.now();
  const sfu = host.app.get(SfuService);
  const open = sfu.openSession.bind(sfu);
  const describe = sfu.handleDescription.bind(sfu);
  sfu.openSession = async (ref, options) => {
    await open(ref, options);
    of(ref.sessionId).opened ??= now();
  };
  sfu.handleDescription = (sessionId, description) => {
    if (description.type === 'offer') of(sessionId).offerIn ??= now();
    return describe(sessionId, description);
  };
  sfu.subscribe({
    signal: (ref, signal) => {
      const s = of(ref.sessionId);
      if (signal.type === 'answer') s.answer ??= now();
      if (signal.type === 'connection-state' && signal.state === 'connected') s.connected ??= now();
    },
    voice: () => undefined,
    sessionClosed: () => undefined,
  });
  return seen;
}

/** One protocol's join of N participants, measured. */
interface RoundResult {
  readonly times: StageTimes[];
  /** Per server stage (as {@link SERVER_STAGES}), ms from each participant's join request. */
  readonly server: number[][];
  readonly mainCpuMs: number;
  readonly workerCpuMs: number;
  readonly wallMs: number;
  readonly generatorCpuMs: number;
  readonly lagP99Ms: number;
  readonly failures: string[];
  /** werift's exceptions on an early DCEP ACK in the load process so far (harmless here). */
  readonly earlyAcks: number;
}

/** What every round of one size shares. */
interface SizeContext {
  readonly host: TestHostApp;
  readonly load: LoadProcess;
  readonly n: number;
  readonly roles: AudioRole[];
  readonly v1Tokens: string[];
  readonly livekitUsers: string[];
  readonly timeoutMs: number;
  readonly probe: Map<string, ServerSeen>;
  /** Where to write a CPU profile of the server process per measured join, if anywhere. */
  readonly profileDir?: string;
}

/** Waits until the server has no media left (every session left), then a moment more. */
async function untilIdle(host: TestHostApp, timeoutMs = 60_000): Promise<void> {
  const sfu = host.app.get(SfuService);
  const deadline = Date.now() + timeoutMs;
  while (sfu.stats().transports > 0 || sfu.stats().routers > 0) {
    if (Date.now() > deadline) throw new Error(`server not idle: ${JSON.stringify(sfu.stats())}`);
    await sleep(50);
  }
  await sleep(500);
}

/** Makes one protocol's group of participants, not joined yet. */
async function addGroup(
  ctx: SizeContext,
  protocol: Protocol,
  group: string,
  channel: string,
): Promise<void> {
  if (protocol === 'v1') {
    await ctx.load.call('weriftAdd', {
      group,
      url: ctx.host.url,
      tokens: ctx.v1Tokens,
      roles: ctx.roles,
    });
    return;
  }
  const sessionIds = ctx.livekitUsers.map(() => randomBytes(13).toString('hex'));
  const tokens = await Promise.all(
    ctx.livekitUsers.map((userId, i) =>
      mintLiveKitToken(KEY, {
        identity: `${userId}___${sessionIds[i]}`,
        room: channel,
        ttlSeconds: 600,
      }),
    ),
  );
  await ctx.load.call('livekitAdd', {
    group,
    url: `${ctx.host.url}${LIVEKIT_PATH}`,
    tokens,
    sessionIds,
    roles: ctx.roles,
  });
}

/** N participants of one protocol join one new call at once; they leave afterwards. */
async function joinRound(ctx: SizeContext, protocol: Protocol, tag: string): Promise<RoundResult> {
  const channel = `lkbench-${protocol}-${randomBytes(4).toString('hex')}`;
  const group = `${protocol}-${tag}`;
  await addGroup(ctx, protocol, group, channel);
  const sfu = ctx.host.app.get(SfuService);
  const workerCpu = async () => (await sfu.workerUsage()).reduce((s, w) => s + w.cpuSeconds, 0);
  try {
    const lag = monitorEventLoopDelay({ resolution: 10 });
    const [worker0, cpu0, t0] = [await workerCpu(), process.cpuUsage(), performance.now()];
    lag.enable();
    const profile = ctx.profileDir && `${ctx.profileDir}/${group}.cpuprofile`;
    const result = await profiled(profile, () =>
      ctx.load.call('weriftJoin', {
        group,
        channel,
        unmuteSpeakers: true,
        timeoutMs: ctx.timeoutMs,
      }),
    );
    lag.disable();
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const server = SERVER_STAGES.map(([, media, what]) =>
      result.sessionIds.flatMap((id, i) => {
        const at = ctx.probe.get(media(id))?.[what];
        return at === undefined ? [] : [at - result.joinSentAt[i]];
      }),
    );
    return {
      times: result.times,
      server,
      mainCpuMs: (cpu.user + cpu.system) / 1e3,
      workerCpuMs: ((await workerCpu()) - worker0) * 1e3,
      wallMs,
      generatorCpuMs: result.generatorCpu * wallMs,
      lagP99Ms: lag.percentile(99) / 1e6,
      failures: [...result.failures, ...result.errors],
      earlyAcks: result.earlyAcks,
    };
  } finally {
    await ctx.load.call('weriftLeave', { group });
    await untilIdle(ctx.host);
  }
}

const fmt = (v: number, digits = 0) => (Number.isFinite(v) ? v.toFixed(digits) : '–');
const ratio = (a: number, b: number) => (b > 0 ? fmt(a / b, 2) : '–');

/** The rows of one size: each stage and CPU, v1 beside LiveKit, and their ratio. */
function sizeRows(n: number, senders: number, results: Record<Protocol, RoundResult[]>): Row[] {
  const rows: Row[] = [];
  const label = `${n} (${senders} send)`;
  /** Latency samples pooled over the rounds, v1 beside LiveKit (`has`: the protocols with it). */
  const latencyRow = (name: string, has: readonly Protocol[], of: (r: RoundResult) => number[]) => {
    const pooled = (p: Protocol) => results[p].flatMap(of);
    const cell = (p: Protocol) => {
      if (!has.includes(p)) return '';
      const v = pooled(p);
      return `${fmt(percentile(v, 50))} / ${fmt(percentile(v, 95))} (${v.length})`;
    };
    const both = has.length === 2;
    const [a, b] = [pooled('livekit'), pooled('v1')];
    const roundP50s = (p: Protocol) => results[p].map((r) => fmt(percentile(of(r), 50))).join(', ');
    rows.push({
      participants: label,
      measure: `${name}: p50 / p95 ms (samples)`,
      v1: cell('v1'),
      LiveKit: cell('livekit'),
      'LiveKit / v1': both
        ? `${ratio(percentile(a, 50), percentile(b, 50))} / ${ratio(percentile(a, 95), percentile(b, 95))}`
        : '',
      'per round (v1; LiveKit)': both ? `${roundP50s('v1')}; ${roundP50s('livekit')}` : '',
    });
  };
  for (const [stage, name, has] of STAGES) latencyRow(name, has, (r) => stageOf(r, stage));
  SERVER_STAGES.forEach(([name, , , has], i) => latencyRow(name, has, (r) => r.server[i]));
  /** A mean over the rounds of `of` ÷ `per`. */
  const meanRow = (measure: string, of: (r: RoundResult) => number, per = n) => {
    const mean = (p: Protocol) =>
      results[p].reduce((s, r) => s + of(r), 0) / (results[p].length * per);
    const [v1, lk] = [mean('v1'), mean('livekit')];
    const each = (p: Protocol) => results[p].map((r) => fmt(of(r) / per, 2)).join(', ');
    rows.push({
      participants: label,
      measure,
      v1: fmt(v1, 2),
      LiveKit: fmt(lk, 2),
      'LiveKit / v1': ratio(lk, v1),
      'per round (v1; LiveKit)': `${each('v1')}; ${each('livekit')}`,
    });
  };
  meanRow('CPU ms per participant, server process (whole join)', (r) => r.mainCpuMs);
  meanRow('CPU ms per participant, media worker (whole join)', (r) => r.workerCpuMs);
  meanRow('CPU ms per participant, load generator (clients)', (r) => r.generatorCpuMs);
  meanRow('whole join (until all connected and heard), wall ms', (r) => r.wallMs, 1);
  const lag = (p: Protocol) => fmt(Math.max(...results[p].map((r) => r.lagP99Ms)), 1);
  rows.push({
    participants: label,
    measure: 'server event-loop delay p99, worst round (ms)',
    v1: lag('v1'),
    LiveKit: lag('livekit'),
    'LiveKit / v1': '',
    'per round (v1; LiveKit)': '',
  });
  return rows;
}

function stageOf(r: RoundResult, stage: keyof StageTimes): number[] {
  return r.times.map((t) => t[stage]).filter((v): v is number => v !== undefined);
}

export async function joinLiveKitBench(): Promise<void> {
  const sizes = envNumbers('LKJOIN_SIZES', [10, 50, 200]);
  const rounds = envNumber('LKJOIN_ROUNDS', 4);
  const timeoutMs = envNumber('JOIN_TIMEOUT_MS', 60_000);
  const sendersEnv = envNumber('JOIN_SENDERS', 2);
  const listenerRole: AudioRole = process.env.JOIN_LISTENER_AUDIO === 'idle' ? 'idle' : 'none';
  const load = LoadProcess.start();
  const rows: Row[] = [];
  console.log(
    `load average at start: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  try {
    for (const n of sizes) {
      const senders = sendersEnv === 0 ? n : Math.min(n, sendersEnv);
      const host = await startMediaHost({
        RUSTCHAT_CALLS_LIVEKIT_KEYS: `${KEY.apiKey}:${KEY.apiSecret}`,
        RUSTCHAT_CALLS_LIVEKIT_PATH: LIVEKIT_PATH,
      });
      const results: Record<Protocol, RoundResult[]> = { v1: [], livekit: [] };
      try {
        const users = async (prefix: string, count: number) =>
          loginUsers(host, count, `${prefix}-${n}-`);
        const roles = (count: number): AudioRole[] =>
          Array.from({ length: count }, (_, i) => (i < senders ? 'speaker' : listenerRole));
        const probe = probeServer(host);
        const context = async (count: number): Promise<SizeContext> => ({
          host,
          load,
          n: count,
          roles: roles(count),
          v1Tokens: (await users('v1', count)).map((u) => u.token),
          livekitUsers: (await users('lk', count)).map((u) => u.userId),
          timeoutMs,
          probe,
          profileDir: process.env.LKJOIN_CPU_PROFILE,
        });
        // Warm-up (JIT, both paths, the first router): two of each join and leave.
        const warm = await context(2);
        for (const p of PROTOCOLS) await joinRound(warm, p, `warm-${n}`);
        const ctx = await context(n);
        for (let r = 0; r < rounds; r++) {
          const order = r % 2 === 0 ? PROTOCOLS : [...PROTOCOLS].reverse();
          for (const p of order) {
            const result = await joinRound(ctx, p, `${n}-${r}`);
            results[p].push(result);
            if (result.failures.length > 0) {
              console.warn(
                `${p} ${n} round ${r}: ${result.failures.length} failures; first: ${result.failures.slice(0, 3).join(' | ')}`,
              );
            }
            console.log(
              `${p} ${n} round ${r}: connected p50 ${fmt(percentile(stageOf(result, 'connected'), 50))} ms, first audio p50 ${fmt(percentile(stageOf(result, 'firstMedia'), 50))} ms, load ${loadavg()[0].toFixed(2)}, werift early DCEP ACKs so far ${result.earlyAcks}`,
            );
          }
        }
      } finally {
        await host.close();
      }
      rows.push(...sizeRows(n, senders, results));
    }
  } finally {
    await load.close();
  }
  console.log(
    `load average at end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  printTable(
    `Join, LiveKit protocol beside v1, same run (host app, memory state, 1 media worker, loopback; werift clients in one load process; ${rounds} rounds per size, order alternating; non-senders offer ${listenerRole === 'none' ? 'data channels only' : 'an idle sendonly audio transceiver'})`,
    rows,
  );
}
