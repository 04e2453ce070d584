/**
 * Join latency: N participants (werift peers in a separate load process) join one call at once
 * over socket.io against the real host app. Per participant, from sending `join`: the SDP answer
 * to its first offer, DTLS connected, the first RTP packet from another participant. Baselines
 * from the same run: the round trip of an acknowledged no-op action with the same N sockets at
 * once, and N concurrent raw mediasoup WebRTC transport creations.
 *
 * Senders offer the data channel and a sendonly audio transceiver, unmute right after their offer
 * (sessions join muted; a muted session's voice is not forwarded) and send pre-encoded Opus
 * (20 ms packets, the answer's payload type) once connected. The others offer the data channel
 * only, like a Mattermost client before its first unmute (JOIN_LISTENER_AUDIO=idle gives them a
 * sendonly transceiver too, sending nothing: N × (N − 1) consumers). Every participant sending
 * is only feasible at small N on one worker: 200 senders would be 39,800 forwarded streams.
 *
 * Env: JOIN_SIZES (10,50,200), JOIN_SENDERS (2; `0` = all), JOIN_LISTENER_AUDIO (none | idle),
 * JOIN_TIMEOUT_MS (60000), JOIN_ACK_ROUNDS (3), JOIN_CPU_PROFILE (a directory: the server
 * process is profiled over each measured join, `join-<n>.cpuprofile`, and its top frames printed).
 */
import { randomBytes } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { ROUTER_MEDIA_CODECS } from '../libs/calls/src/sfu/workers/media-codecs';
import { SfuService } from '../libs/calls/src/sfu/sfu.service';
import { envNumber, envNumbers } from './lib/env';
import { CpuProfiler, summarizeProfile } from './lib/cpu-profile';
import { LoadProcess } from './lib/load-process';
import { loginMany, rawWorker, startMediaHost } from './lib/media-host';
import { percentile, printTable, type Row } from './lib/measure';
import type { AudioRole, StageTimes } from './lib/bench-participant';
import { probeModule } from './lib/server-probe';

/**
 * The storm targets of issue 7, retired by issue 17 (a storm of 200 joins on the machine that also
 * runs the load generator measures that machine; see bench/RESULTS.md): shown for comparison only.
 * The targets now are ratios against the bare baseline (joincost) and Poisson arrivals (arrivals).
 */
const RETIRED_TARGETS_AT_200: Partial<Record<keyof StageTimes, string>> = {
  answer: 'p50 ≤ 15, p99 ≤ 100',
  firstMedia: 'p50 ≤ 500',
};

const STAGES: [keyof StageTimes | 'offerToAnswer', string][] = [
  ['ack', 'join ack'],
  ['answer', '(a) join → SDP answer'],
  ['offerToAnswer', '    offer sent → answer (server SDP work)'],
  ['connected', '(b) join → DTLS connected'],
  ['firstMedia', '(c) join → first RTP from another'],
];

/** N concurrent `createWebRtcTransport` on a bare worker and router (module's options). */
async function rawTransportTimes(n: number): Promise<number[]> {
  const worker = await rawWorker();
  try {
    const router = await worker.createRouter({ mediaCodecs: ROUTER_MEDIA_CODECS });
    return await Promise.all(
      Array.from({ length: n }, async () => {
        const t0 = performance.now();
        await router.createWebRtcTransport({
          listenInfos: [
            { protocol: 'udp', ip: '127.0.0.1', portRange: { min: 40000, max: 49999 } },
          ],
          enableUdp: true,
          enableTcp: false,
          enableSctp: true,
          numSctpStreams: { OS: 1024, MIS: 1024 },
        });
        return performance.now() - t0;
      }),
    );
  } finally {
    worker.close();
  }
}

function stageValues(times: StageTimes[], stage: keyof StageTimes | 'offerToAnswer'): number[] {
  if (stage === 'offerToAnswer') {
    return times
      .filter((t) => t.answer !== undefined && t.offerSent !== undefined)
      .map((t) => t.answer! - t.offerSent!);
  }
  return times.map((t) => t[stage]).filter((v): v is number => v !== undefined);
}

/** The top frames of a server profile (self and inclusive, % of busy samples) and origins. */
export function printProfile(name: string, profile: Parameters<typeof summarizeProfile>[0]): void {
  const summary = summarizeProfile(profile, 30);
  const rows = (list: { name: string; percent: number }[]): Row[] =>
    list.map((f) => ({ frame: f.name, '% of busy': Number(f.percent.toFixed(1)) }));
  const title = `${name}: ${summary.samples} busy samples, idle ${summary.idlePercent.toFixed(0)} %`;
  printTable(`${title}: self time by origin`, rows(summary.origins));
  printTable(`${title}: self time by function`, rows(summary.functions));
  printTable(`${title}: inclusive time by function`, rows(summary.inclusive));
}

export async function joinBench(): Promise<void> {
  const listenerRole: AudioRole = process.env.JOIN_LISTENER_AUDIO === 'idle' ? 'idle' : 'none';
  const sizes = envNumbers('JOIN_SIZES', [10, 50, 200]);
  const timeoutMs = envNumber('JOIN_TIMEOUT_MS', 60_000);
  const ackRounds = envNumber('JOIN_ACK_ROUNDS', 3);
  const load = LoadProcess.start();
  const rows: Row[] = [];
  try {
    for (const n of sizes) {
      const sendersEnv = envNumber('JOIN_SENDERS', 2);
      const senders = sendersEnv === 0 ? n : Math.min(n, sendersEnv);
      const host = await startMediaHost();
      const group = `join-${n}`;
      let times: StageTimes[] = [];
      let acks: number[] = [];
      let server: number[][] = [[], [], [], [], []];
      let generatorCpu = NaN;
      const serverLoad = {
        mainCpu: NaN,
        workerCpu: NaN,
        mainCpuMs: NaN,
        workerCpuMs: NaN,
        lagP50: NaN,
        lagP99: NaN,
      };
      try {
        const probe = probeModule(host);
        // Warm-up (JIT, first router): two participants join and leave another call.
        const warmTokens = await loginMany(host, 2, `warm-${n}-`);
        await load.call('weriftAdd', {
          group: `${group}-warm`,
          url: host.url,
          tokens: warmTokens,
          roles: ['speaker', 'speaker'],
        });
        await load.call('weriftAcks', { group: `${group}-warm`, rounds: 5 });
        await load.call('weriftJoin', {
          group: `${group}-warm`,
          channel: `join-warm-${randomBytes(4).toString('hex')}`,
          unmuteSpeakers: true,
          timeoutMs,
        });
        await load.call('weriftClose', { group: `${group}-warm` });

        const tokens = await loginMany(host, n, `joiner-${n}-`);
        const roles: AudioRole[] = tokens.map((_, i) => (i < senders ? 'speaker' : listenerRole));
        await load.call('weriftAdd', { group, url: host.url, tokens, roles });
        acks = await load.call('weriftAcks', { group, rounds: ackRounds });
        // What the server spends over the whole join: its event loop and its media worker.
        const sfu = host.app.get(SfuService);
        const workerCpu = async () =>
          (await sfu.workerUsage()).reduce((sum, w) => sum + w.cpuSeconds, 0);
        const lag = monitorEventLoopDelay({ resolution: 10 });
        const [worker0, cpu0, t0] = [await workerCpu(), process.cpuUsage(), performance.now()];
        const profileDir = process.env.JOIN_CPU_PROFILE;
        const profiler = profileDir ? new CpuProfiler() : null;
        await profiler?.start();
        lag.enable();
        const result = await load.call('weriftJoin', {
          group,
          channel: `join-bench-${randomBytes(4).toString('hex')}`,
          unmuteSpeakers: true,
          timeoutMs,
        });
        lag.disable();
        if (profiler) printProfile(`join-${n}`, await profiler.stop(profileDir!, `join-${n}`));
        const wallS = (performance.now() - t0) / 1000;
        const cpu = process.cpuUsage(cpu0);
        serverLoad.mainCpuMs = (cpu.user + cpu.system) / 1e3;
        serverLoad.workerCpuMs = ((await workerCpu()) - worker0) * 1e3;
        serverLoad.mainCpu = serverLoad.mainCpuMs / 1e3 / wallS;
        serverLoad.workerCpu = serverLoad.workerCpuMs / 1e3 / wallS;
        serverLoad.lagP50 = lag.percentile(50) / 1e6;
        serverLoad.lagP99 = lag.percentile(99) / 1e6;
        times = result.times;
        generatorCpu = result.generatorCpu;
        const serverTimes = result.sessionIds.map((id) => probe.of(id));
        const diff = (a?: number, b?: number) =>
          a !== undefined && b !== undefined ? [b - a] : [];
        server = [
          serverTimes.flatMap((t) => diff(t.openStart, t.openEnd)),
          serverTimes.flatMap((t) => diff(t.offerIn, t.answerOut)),
          serverTimes.flatMap((t, i) => diff(result.joinSentAt[i], t.answerOut)),
          serverTimes.flatMap((t, i) => diff(result.joinSentAt[i], t.firstServerOffer)),
          serverTimes.flatMap((t, i) => diff(result.joinSentAt[i], t.dtlsConnected)),
        ];
        if (result.failures.length > 0 || result.errors.length > 0) {
          console.warn(
            `join ${n}: ${result.failures.length} failed joins; first errors: ${[...result.failures, ...result.errors].slice(0, 3).join(' | ')}`,
          );
        }
      } finally {
        await load.call('weriftClose', { group });
        await host.close();
      }
      const raw = await rawTransportTimes(n);

      const label = `${n} (${senders} send)`;
      const row = (
        stage: string,
        p50: string | number,
        p99: string | number = '',
        reached = '',
        target = '',
      ) =>
        rows.push({
          participants: label,
          stage,
          'p50 ms': p50,
          'p99 ms': p99,
          reached,
          'retired target (at 200)': target,
        });
      const sampled = (stage: string, values: number[], of: number, target = '') =>
        row(
          stage,
          percentile(values, 50),
          percentile(values, 99),
          `${values.length}/${of}`,
          target,
        );
      for (const [stage, name] of STAGES) {
        const target =
          n === 200 && stage !== 'offerToAnswer' ? RETIRED_TARGETS_AT_200[stage] : undefined;
        sampled(name, stageValues(times, stage), n, target ?? '');
      }
      sampled('    server: openSession in join (transport)', server[0], n);
      sampled('    server: offer in → answer emitted (SfuService)', server[1], n);
      sampled('    join sent → server emits answer', server[2], n);
      sampled('    join sent → server emits its first offer (consumers)', server[3], n);
      sampled('    join sent → server transport DTLS connected', server[4], n);
      sampled(`baseline: socket.io ack RTT, ${n} at once`, acks, n * ackRounds);
      sampled(`baseline: raw mediasoup createWebRtcTransport, ${n} at once`, raw, n);
      row('server event-loop delay during the join (ms)', serverLoad.lagP50, serverLoad.lagP99);
      row(
        'CPU % over the whole join: server process / media worker',
        `${(serverLoad.mainCpu * 100).toFixed(1)} / ${(serverLoad.workerCpu * 100).toFixed(1)}`,
      );
      row(
        'CPU ms per participant over the whole join: server process / media worker',
        `${(serverLoad.mainCpuMs / n).toFixed(2)} / ${(serverLoad.workerCpuMs / n).toFixed(2)}`,
      );
      row(
        'load generator CPU % (werift process, whole join)',
        Number((generatorCpu * 100).toFixed(1)),
      );
      row(
        'ratio p50: join → answer / ack RTT',
        percentile(stageValues(times, 'answer'), 50) / percentile(acks, 50),
      );
    }
  } finally {
    await load.close();
  }
  printTable(
    `Join latency: N werift peers join one call at once over socket.io (host app, memory state, 1 media worker, loopback; non-senders offer ${listenerRole === 'none' ? 'the data channel only' : 'an idle sendonly audio transceiver'})`,
    rows,
  );
}
