/**
 * Forwarding capacity: audio calls of 10 participants with 2 speakers each (forwarded streams =
 * speakers × (participants − 1) = 18 per call), added step by step on ONE media worker until
 * packet loss passes 1 %, the worker saturates or the step limit is reached. Speakers send
 * pre-encoded Opus (20 ms packets) from a separate load process; nothing is encoded or decoded.
 *
 * Paths, all in the same run:
 * - `raw`: bare mediasoup, one router per call, one PlainTransport per participant (plain RTP
 *   over loopback UDP), a producer per speaker, consumers for every other speaker; received
 *   RTP counted per SSRC on the participants' sockets.
 * - `raw-srtp`: the same with SRTP (AEAD_AES_128_GCM, what the module negotiates with werift)
 *   on the plain transports: the per-packet crypto of WebRTC without ICE/DTLS/SCTP.
 * - `module`: the real host app (socket.io signaling, SfuService, WebRTC transports with ICE,
 *   DTLS, SRTP, SCTP data channel, audio level observer) with werift peers that join like a
 *   Mattermost client (speakers: data channel + sendonly audio; listeners: data channel only).
 *   werift decrypts every packet in JavaScript, so this path is run at a smaller scale.
 *
 * Loss: from the sequence numbers of every received stream in the window. Worker CPU: the
 * worker's user+system time over the window (mediasoup `getResourceUsage`, via
 * `SfuService.workerUsage()` for the module). "Streams per core" divides the streams actually
 * flowing (forwarded packets per second / 50: a starved load generator sends less than
 * nominal) by that CPU fraction, an extrapolation to a full core: on a shared machine neither
 * the worker nor the generator gets a full core, so saturation is not reached reliably.
 *
 * Each step is measured over FORWARD_WINDOWS windows back to back and reported by its median
 * window (CPU per flowing stream): at a few percent of a core, one 5 s window swings by ±20 %.
 *
 * Env: FORWARD_PATHS (raw,raw-srtp,module), FORWARD_STEP (calls added per step, 5),
 * FORWARD_MAX_CALLS (raw paths, 150), FORWARD_MODULE_MAX_CALLS (20), FORWARD_WINDOW_S (5),
 * FORWARD_WINDOWS (3),
 * FORWARD_SETTLE_S (2), FORWARD_LOSS_LIMIT (0.01), FORWARD_CPU_LIMIT (0.95 core),
 * FORWARD_GEN_CPU_LIMIT (0.9: stop when the load process itself saturates),
 * FORWARD_SRTP_SUITE (AEAD_AES_128_GCM or AES_CM_128_HMAC_SHA1_80, for `raw-srtp`).
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { types as ms } from 'mediasoup';
import { ROUTER_MEDIA_CODECS } from '../libs/calls/src/sfu/workers/media-codecs';
import { SfuService } from '../libs/calls/src/sfu/sfu.service';
import type { TestHostApp } from '../test/support/host-app';
import { envNumber } from './lib/env';
import { LoadProcess } from './lib/load-process';
import { type GeneratorSrtpSuite, PACKET_INTERVAL_MS, SRTP_KEY_BYTES } from './lib/rtp';
import { loginMany, rawWorker, startMediaHost, workerCpuSeconds } from './lib/media-host';
import { printTable, type Row } from './lib/measure';
import { dropsOf } from './lib/udp-drops';
import type { AudioRole } from './lib/bench-participant';

const PARTICIPANTS = 10;
const SPEAKERS = 2;
const STREAMS_PER_CALL = SPEAKERS * (PARTICIPANTS - 1);
const OPUS_PT = 111;
const PACKETS_PER_SECOND = 1000 / PACKET_INTERVAL_MS;

type PathName = 'raw' | 'raw-srtp' | 'module';

/** One way of forwarding, grown call by call. */
interface ForwardingPath {
  readonly name: PathName;
  addCall(index: number): Promise<void>;
  /** CPU seconds the (single) media worker has used so far. */
  workerCpu(): Promise<number>;
  /** PID of the media worker. */
  workerPid(): number;
  close(): Promise<void>;
}

/** One measured step. */
interface Step {
  /** Streams actually flowing: forwarded packets per second / 50. */
  effectiveStreams: number;
  path: PathName;
  calls: number;
  streams: number;
  streamsSeen: number;
  sentPps: number;
  receivedPps: number;
  /** Packets received again (e.g. retransmissions), per second: not counted as forwarded. */
  duplicatePps: number;
  loss: number;
  workerCpu: number;
  generatorCpu: number;
  /** Datagrams the kernel dropped at the worker's / the load generator's sockets. */
  workerDrops: number;
  generatorDrops: number;
}

/** Bare mediasoup with plain transports (optionally SRTP), fed by UDP from the load process. */
async function rawPath(load: LoadProcess, srtp: boolean): Promise<ForwardingPath> {
  const suite = (process.env.FORWARD_SRTP_SUITE ?? 'AEAD_AES_128_GCM') as GeneratorSrtpSuite;
  if (!(suite in SRTP_KEY_BYTES)) throw new Error(`FORWARD_SRTP_SUITE=${suite}: not supported`);
  const worker = await rawWorker();
  const routers: ms.Router[] = [];
  return {
    name: srtp ? 'raw-srtp' : 'raw',
    async addCall() {
      const router = await worker.createRouter({ mediaCodecs: ROUTER_MEDIA_CODECS });
      routers.push(router);
      const { first, ports } = await load.call('udpAdd', { count: PARTICIPANTS });
      const transports: ms.PlainTransport[] = [];
      const sendKeys: string[] = [];
      for (const port of ports) {
        const transport = await router.createPlainTransport({
          listenInfo: { protocol: 'udp', ip: '127.0.0.1' },
          rtcpMux: true,
          comedia: false,
          ...(srtp ? { enableSrtp: true, srtpCryptoSuite: suite } : {}),
        });
        // What the participant sends is encrypted with this key (what mediasoup sends, with
        // the transport's own srtpParameters; the counting sockets read only the clear header).
        const keyBase64 = randomBytes(SRTP_KEY_BYTES[suite]).toString('base64');
        await transport.connect({
          ip: '127.0.0.1',
          port,
          ...(srtp ? { srtpParameters: { cryptoSuite: suite, keyBase64 } } : {}),
        });
        transports.push(transport);
        sendKeys.push(keyBase64);
      }
      const producers: ms.Producer[] = [];
      const ssrcs: number[] = [];
      for (let s = 0; s < SPEAKERS; s++) {
        const ssrc = randomBytes(4).readUInt32BE(0) || 1;
        ssrcs.push(ssrc);
        producers.push(
          await transports[s].produce({
            kind: 'audio',
            rtpParameters: {
              codecs: [
                {
                  mimeType: 'audio/opus',
                  payloadType: OPUS_PT,
                  clockRate: 48000,
                  channels: 2,
                  parameters: { useinbandfec: 1 },
                },
              ],
              encodings: [{ ssrc }],
            },
          }),
        );
      }
      for (const [p, transport] of transports.entries()) {
        for (const [s, producer] of producers.entries()) {
          if (s === p) continue;
          await transport.consume({
            producerId: producer.id,
            rtpCapabilities: router.rtpCapabilities,
            paused: false,
          });
        }
      }
      await load.call('udpSend', {
        flows: producers.map((_, s) => ({
          index: first + s,
          port: transports[s].tuple.localPort,
          ssrc: ssrcs[s],
          payloadType: OPUS_PT,
          ...(srtp ? { srtp: { suite, keyBase64: sendKeys[s] } } : {}),
        })),
      });
    },
    workerCpu: () => workerCpuSeconds(worker),
    workerPid: () => worker.pid,
    async close() {
      await load.call('udpClear', undefined);
      routers.forEach((r) => r.close());
      worker.close();
    },
  };
}

/** The real host app, werift peers joining over socket.io (SfuService, WebRTC transports). */
async function modulePath(load: LoadProcess): Promise<ForwardingPath> {
  const host: TestHostApp = await startMediaHost();
  const sfu = host.app.get(SfuService);
  const groups: string[] = [];
  return {
    name: 'module',
    async addCall(index) {
      const group = `fwd-${index}`;
      const tokens = await loginMany(host, PARTICIPANTS, `fwd-${index}-`);
      const roles: AudioRole[] = tokens.map((_, i) => (i < SPEAKERS ? 'speaker' : 'none'));
      await load.call('weriftAdd', { group, url: host.url, tokens, roles });
      groups.push(group);
      const result = await load.call('weriftJoin', {
        group,
        channel: `fwd-${index}-${randomBytes(4).toString('hex')}`,
        unmuteSpeakers: true,
        timeoutMs: 60_000,
      });
      const missing = result.times.filter((t) => t.firstMedia === undefined).length;
      if (missing > 0 || result.failures.length > 0) {
        console.warn(
          `module call ${index}: ${missing} participants without media; ${[...result.failures, ...result.errors].slice(0, 3).join(' | ')}`,
        );
      }
    },
    async workerCpu() {
      const usage = await sfu.workerUsage();
      return usage.reduce((sum, w) => sum + w.cpuSeconds, 0);
    },
    workerPid: () => sfu.workerPids()[0],
    async close() {
      for (const group of groups) await load.call('weriftClose', { group });
      await host.close();
    },
  };
}

async function measure(
  path: ForwardingPath,
  load: LoadProcess,
  calls: number,
  windowS: number,
): Promise<Step> {
  const pids = [path.workerPid(), load.pid ?? 0];
  const drops0 = dropsOf(pids);
  await load.call('windowStart', undefined);
  const cpu0 = await path.workerCpu();
  const t0 = performance.now();
  await sleep(windowS * 1000);
  const cpu1 = await path.workerCpu();
  const seconds = (performance.now() - t0) / 1000;
  const w = await load.call('windowEnd', undefined);
  const drops1 = dropsOf(pids);
  if (w.errors.length > 0) console.warn(`${path.name}: client errors: ${w.errors.join(' | ')}`);
  return {
    path: path.name,
    calls,
    streams: calls * STREAMS_PER_CALL,
    effectiveStreams: w.received / w.seconds / PACKETS_PER_SECOND,
    streamsSeen: w.streams,
    sentPps: w.sent / w.seconds,
    receivedPps: w.received / w.seconds,
    duplicatePps: w.duplicates / w.seconds,
    loss: w.expected > 0 ? 1 - w.received / w.expected : 1,
    workerCpu: (cpu1 - cpu0) / seconds,
    generatorCpu: w.generatorCpu,
    workerDrops: drops1[0] - drops0[0],
    generatorDrops: drops1[1] - drops0[1],
  };
}

/** Adds calls step by step until loss, saturation or `maxCalls`. */
async function ramp(path: ForwardingPath, load: LoadProcess, maxCalls: number): Promise<Step[]> {
  const stepCalls = envNumber('FORWARD_STEP', 5);
  const windowS = envNumber('FORWARD_WINDOW_S', 5);
  const settleS = envNumber('FORWARD_SETTLE_S', 2);
  const windows = Math.max(1, envNumber('FORWARD_WINDOWS', 3));
  const lossLimit = envNumber('FORWARD_LOSS_LIMIT', 0.01);
  const cpuLimit = envNumber('FORWARD_CPU_LIMIT', 0.95);
  const generatorLimit = envNumber('FORWARD_GEN_CPU_LIMIT', 0.9);
  const steps: Step[] = [];
  let calls = 0;
  while (calls < maxCalls) {
    const target = Math.min(maxCalls, calls + stepCalls);
    for (; calls < target; calls++) await path.addCall(calls);
    await sleep(settleS * 1000);
    const measured: Step[] = [];
    for (let w = 0; w < windows; w++) measured.push(await measure(path, load, calls, windowS));
    const cpuPerStream = (m: Step) => m.workerCpu / m.effectiveStreams;
    measured.sort((a, b) => cpuPerStream(a) - cpuPerStream(b));
    const step = measured[Math.floor(measured.length / 2)];
    steps.push(step);
    console.log(
      `[forwarding] ${step.path} calls=${calls} streams=${step.streams} seen=${step.streamsSeen} loss=${(step.loss * 100).toFixed(2)}% worker=${(step.workerCpu * 100).toFixed(1)}% generator=${(step.generatorCpu * 100).toFixed(1)}% drops=${step.workerDrops}/${step.generatorDrops} load=${loadavg()[0].toFixed(2)}`,
    );
    // A saturated load generator would measure itself from here on.
    if (step.loss > lossLimit || step.workerCpu >= cpuLimit || step.generatorCpu >= generatorLimit)
      break;
  }
  return steps;
}

const pct = (v: number) => Number((v * 100).toFixed(2));

export async function forwardingBench(): Promise<void> {
  const paths = (process.env.FORWARD_PATHS ?? 'raw,raw-srtp,module')
    .split(',')
    .map((p) => p.trim() as PathName);
  const lossLimit = envNumber('FORWARD_LOSS_LIMIT', 0.01);
  const results = new Map<PathName, Step[]>();
  const load = LoadProcess.start();
  try {
    for (const name of paths) {
      const path =
        name === 'module'
          ? await modulePath(load)
          : name === 'raw' || name === 'raw-srtp'
            ? await rawPath(load, name === 'raw-srtp')
            : null;
      if (!path) throw new Error(`unknown forwarding path ${name}; known: raw, raw-srtp, module`);
      const max = envNumber(
        name === 'module' ? 'FORWARD_MODULE_MAX_CALLS' : 'FORWARD_MAX_CALLS',
        name === 'module' ? 20 : 150,
      );
      try {
        results.set(name, await ramp(path, load, max));
      } finally {
        await path.close();
      }
    }
  } finally {
    await load.close();
  }

  const all = [...results.values()].flat();
  printTable(
    `Forwarding steps: calls of ${PARTICIPANTS} with ${SPEAKERS} speakers (${STREAMS_PER_CALL} streams per call), 1 media worker, Opus 20 ms packets on loopback; CPU = the worker's user+system time over the window; streams per core = (forwarded pps / 50) / worker CPU fraction`,
    all.map((s) => ({
      path: s.path,
      calls: s.calls,
      'streams (seen)': `${s.streams} (${s.streamsSeen})`,
      'sent pps': Math.round(s.sentPps),
      'forwarded pps': Math.round(s.receivedPps),
      'duplicate pps': Math.round(s.duplicatePps),
      'loss %': pct(s.loss),
      'send rate % of nominal': pct(s.sentPps / ((s.calls * SPEAKERS * 1000) / PACKET_INTERVAL_MS)),
      'worker CPU %': pct(s.workerCpu),
      'streams per core': Math.round(s.effectiveStreams / s.workerCpu),
      'load gen CPU %': pct(s.generatorCpu),
      'kernel drops worker / load gen': `${s.workerDrops} / ${s.generatorDrops}`,
    })),
  );

  const raw = results.get('raw') ?? [];
  const rawSrtp = results.get('raw-srtp') ?? [];
  /** Worker CPU per stream against a baseline at the same number of calls (latest match). */
  const ratioTo = (steps: Step[], base: Step[]) => {
    const ratios = steps.flatMap((s) => {
      const b = base.find((r) => r.calls === s.calls);
      return b ? [s.workerCpu / s.effectiveStreams / (b.workerCpu / b.effectiveStreams)] : [];
    });
    return ratios.length > 0 ? ratios[ratios.length - 1] : '';
  };
  const summary: Row[] = [];
  for (const [name, steps] of results) {
    const ok = steps.filter((s) => s.loss <= lossLimit);
    const best = ok[ok.length - 1];
    const stopped = steps[steps.length - 1];
    summary.push({
      path: name,
      'max streams < 1 % loss': best ? best.streams : 0,
      'loss % there': best ? pct(best.loss) : '',
      'worker CPU % there': best ? pct(best.workerCpu) : '',
      'streams per core (extrapolated)': best
        ? Math.round(best.effectiveStreams / best.workerCpu)
        : '',
      'CPU/stream vs raw': ratioTo(steps, raw),
      'CPU/stream vs raw-srtp': ratioTo(steps, rawSrtp),
      'stopped by':
        stopped.loss > lossLimit
          ? `loss ${pct(stopped.loss)} % at ${stopped.streams} streams`
          : stopped.workerCpu >= envNumber('FORWARD_CPU_LIMIT', 0.95)
            ? 'worker CPU'
            : stopped.generatorCpu >= envNumber('FORWARD_GEN_CPU_LIMIT', 0.9)
              ? `load generator CPU ${pct(stopped.generatorCpu)} %`
              : 'step limit',
    });
  }
  printTable(
    'Forwarding capacity summary: streams per core = flowing streams (forwarded pps / 50) / worker CPU fraction at the last step under 1 % loss, an extrapolation to a full core (targets: ≥ 1,250 per core at < 1 % loss; module/raw CPU per stream ≤ 1.1 at the same calls)',
    summary,
  );
}
