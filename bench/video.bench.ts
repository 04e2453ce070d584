/**
 * Group video (issue 18 item 6): worker CPU and bytes per viewer for 1, 4 and 9 cameras in one
 * call, against the audio-only call of the same size measured in the same run.
 *
 * The real host app (socket.io signaling, SfuService, WebRTC transports with ICE, DTLS, SRTP,
 * SCTP; one media worker; video on, `RUSTCHAT_CALLS_MAX_CAMERAS` = the call's size), a fresh one
 * per camera count. The call has `VIDEO_PARTICIPANTS` (10) werift participants in two load
 * processes (bench/lib/load.child.ts): K publishers (a microphone and a camera each) in one, the
 * other N − K (data channel only) in the other. Every participant views every camera but its
 * own, like the Mattermost page's grid: a v1 session's default camera preference (640×360, the
 * middle layer). Receivers count RTP from its clear header without decrypting it
 * (bench/lib/clear-rtp.ts), so the load processes stay light; the server still encrypts once
 * per receiver.
 *
 * Cameras are real VP8 simulcast, replayed: bench/fixtures/camera-720p-simulcast.rtp holds 8 s
 * of a 1280×720 30 fps camera that libwebrtc (@roamhq/wrtc, libvpx) encoded as a browser does
 * (rids q, h, f at 320×180, 640×360, 1280×720, capped at 150, 500 and 1200 kbit/s, L1T3, a key
 * frame about every 3 s), recorded once by bench/record-camera.ts. A publisher offers it like a
 * browser (`a=simulcast:send q;h;f`, rid and transport-cc header extensions), announces it with
 * `video_on`, and sends the recorded payloads at their recorded times, looping, with its own
 * SSRCs, sequence numbers, timestamps and sender reports (bench/lib/camera-replay.ts): no encoding
 * in the load generator. It does not answer the server's PLIs (key frames come when recorded).
 *
 * No bandwidth estimation: every participant's first offer has a video section (the viewers' an
 * idle one) whose header extensions are mid and rid only, so the server's consumers have neither
 * transport-wide CC nor abs-send-time, and forward the layer each viewer prefers, as to a browser
 * whose estimate has room (werift has no usable transport-wide CC receiver; without feedback the
 * server's estimate would stay at mediasoup's initial 600 kbit/s per viewer).
 *
 * Per camera count K, one call, four phases measured back to back:
 * - `audio`: the K publishers speak (Opus 20 ms, 50 packets/s each), cameras off: the audio-only
 *   baseline of the same call;
 * - `video`: cameras on (`video_on`), microphones silent: K × (N − 1) video streams forwarded;
 * - `video, 320×180 tiles`: every participant asks each camera at 320×180 (`track_settings`,
 *   this server's extension): the lowest layer;
 * - `idle`: nothing sent: what the N sessions cost without media (ICE consent, RTCP, SCTP).
 *
 * Per phase (median of `VIDEO_WINDOWS` windows by worker CPU): worker CPU from the worker's own
 * accounting (`SfuService.workerUsage()`), per participant and per forwarded stream (streams that
 * delivered packets in the window, at every receiver); bytes/s received per viewer (a participant
 * without a camera, K streams), from the receivers' counters (RTP header + payload, without the
 * SRTP tag; a packet counted once however often the receiver reports it: werift hands each packet
 * twice to a publisher's track handlers); bytes/s a camera sent; loss from sequence
 * numbers; host and load process CPU. A viewer's bytes are checked against the bitrate of the
 * layer it asked for in the recording (a warning when more than 20 % off).
 *
 * Env: VIDEO_PARTICIPANTS (10), VIDEO_CAMERAS (1,4,9), VIDEO_WINDOW_S (5), VIDEO_WINDOWS (3),
 * VIDEO_SETTLE_S (3), VIDEO_LOW (1; 0: no 320×180 phase), VIDEO_WARMUP (1; 0: no unreported
 * first call).
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { SfuService } from '../libs/calls/src/sfu/sfu.service';
import type { TestHostApp } from '../test/support/host-app';
import { readRecording, type RecordedLayer } from './lib/camera-recording';
import { envNumber, envNumbers } from './lib/env';
import { LoadProcess } from './lib/load-process';
import { loginMany, startMediaHost } from './lib/media-host';
import { printTable, type Row } from './lib/measure';

type Phase = 'audio' | 'video' | 'video, 320×180 tiles' | 'idle';

/** The load processes: the publishers in one, the other participants in the other. */
interface Loads {
  readonly publishers: LoadProcess;
  readonly viewers: LoadProcess;
}

/** One measured window. */
interface Window {
  seconds: number;
  workerCpu: number;
  hostCpu: number;
  /** Load processes' CPU (fractions of a core): publishers, viewers. */
  generatorCpu: [number, number];
  /** Streams that delivered packets, at every receiver. */
  streams: number;
  /** Packets and bytes per second received by everyone. */
  receivedPps: number;
  receivedBps: number;
  /** Bytes per second received by the participants without a camera, each. */
  viewerBps: number;
  /** Bytes per second sent by each camera. */
  cameraBps: number;
  loss: number;
  /** Packets received again (a receiver counting a packet twice, or retransmissions). */
  duplicates: number;
}

/** One phase of one call. */
interface Measured {
  cameras: number;
  participants: number;
  phase: Phase;
  window: Window;
  load: number;
}

const pct = (v: number) => Number((v * 100).toFixed(2));
const kbps = (bytesPerSecond: number) => Math.round((bytesPerSecond * 8) / 1000);

async function measureWindow(
  sfu: SfuService,
  loads: Loads,
  cameras: number,
  seconds: number,
): Promise<Window> {
  await Promise.all([
    loads.publishers.call('windowStart', undefined),
    loads.viewers.call('windowStart', undefined),
  ]);
  const u0 = await sfu.workerUsage();
  const host0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const u1 = await sfu.workerUsage();
  const host = process.cpuUsage(host0);
  const elapsed = (performance.now() - t0) / 1000;
  const [p, v] = await Promise.all([
    loads.publishers.call('windowEnd', undefined),
    loads.viewers.call('windowEnd', undefined),
  ]);
  const errors = [...p.errors, ...v.errors];
  if (errors.length > 0) console.warn(`[video] client errors: ${errors.join(' | ')}`);
  const cpu = (u: typeof u0) => u.reduce((n, w) => n + w.cpuSeconds, 0);
  const expected = p.expected + v.expected;
  return {
    seconds: elapsed,
    workerCpu: (cpu(u1) - cpu(u0)) / elapsed,
    hostCpu: (host.user + host.system) / 1e6 / elapsed,
    generatorCpu: [p.generatorCpu, v.generatorCpu],
    streams: p.streams + v.streams,
    receivedPps: (p.received + v.received) / elapsed,
    receivedBps: (p.bytes + v.bytes) / elapsed,
    viewerBps: v.participants > 0 ? v.bytes / v.seconds / v.participants : NaN,
    cameraBps: cameras > 0 ? p.cameraBytes / p.seconds / cameras : 0,
    loss: expected > 0 ? 1 - (p.received + v.received) / expected : 0,
    duplicates: p.duplicates + v.duplicates,
  };
}

/** `windows` windows back to back; the median by worker CPU. */
async function medianWindow(sfu: SfuService, loads: Loads, cameras: number): Promise<Window> {
  const windows = Math.max(1, envNumber('VIDEO_WINDOWS', 3));
  const seconds = envNumber('VIDEO_WINDOW_S', 5);
  const measured: Window[] = [];
  for (let i = 0; i < windows; i++)
    measured.push(await measureWindow(sfu, loads, cameras, seconds));
  measured.sort((a, b) => a.workerCpu - b.workerCpu);
  return measured[measured.length >> 1];
}

/**
 * Waits (up to 30 s) until `streams` streams deliver packets at the receivers, in 1 s windows;
 * warns when they do not.
 */
async function untilFlowing(sfu: SfuService, loads: Loads, streams: number, what: string) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const w = await measureWindow(sfu, loads, 0, 1);
    if (w.streams >= streams) return;
    if (Date.now() > deadline) {
      console.warn(
        `[video] ${what}: ${w.streams} of ${streams} streams flow; the server holds ${sfu.stats().consumers} consumers`,
      );
      return;
    }
  }
}

/** Joins the call: publishers (speakers with a camera) first, then the others. */
async function joinCall(host: TestHostApp, loads: Loads, tag: string, n: number, k: number) {
  const tokens = await loginMany(host, n, `video-${tag}-`);
  const channel = `video-${tag}`;
  const sessionIds: string[] = [];
  const groups = [
    {
      load: loads.publishers,
      group: `${tag}-publishers`,
      tokens: tokens.slice(0, k),
      camera: true,
    },
    { load: loads.viewers, group: `${tag}-viewers`, tokens: tokens.slice(k), camera: false },
  ].filter((g) => g.tokens.length > 0);
  for (const g of groups) {
    await g.load.call('weriftAdd', {
      group: g.group,
      url: host.url,
      tokens: g.tokens,
      roles: g.tokens.map(() => (g.camera ? 'speaker' : 'none')),
      decrypt: false,
      offerVideo: true,
      cameras: g.tokens.map(() => g.camera),
    });
    const joined = await g.load.call('weriftJoin', {
      group: g.group,
      channel,
      unmuteSpeakers: g.camera,
      timeoutMs: 60_000,
    });
    const unconnected = joined.times.filter((t) => t.connected === undefined).length;
    if (unconnected > 0 || joined.failures.length > 0 || joined.errors.length > 0) {
      console.warn(
        `[video] ${g.group}: ${unconnected} not connected; ${[...joined.failures, ...joined.errors].slice(0, 3).join(' | ')}`,
      );
    }
    if (g.camera) sessionIds.push(...joined.sessionIds);
  }
  return { groups, publisherIds: sessionIds };
}

/** The layer a viewer should get in each video phase: h at the v1 default, q at 320×180. */
const EXPECTED_LAYER: Partial<Record<Phase, number>> = { video: 1, 'video, 320×180 tiles': 0 };

/**
 * Sanity check: a viewer without a camera receives K times the bitrate of the layer it asked for
 * (RTP payload + 12-byte header, as the recording counts it; the header extensions add a few
 * bytes), within 20 %. Warns when not (e.g. the server forwarded another layer).
 */
function checkLayer(layers: RecordedLayer[], phase: Phase, k: number, viewerBps: number): void {
  const layer = EXPECTED_LAYER[phase];
  if (layer === undefined || !Number.isFinite(viewerBps)) return;
  const expected = (k * layers[layer].bitrate) / 8;
  const ratio = viewerBps / expected;
  if (Math.abs(ratio - 1) > 0.2) {
    console.warn(
      `[video] cameras=${k} ${phase}: a viewer receives ${ratio.toFixed(2)}× the ${layers[layer].rid} layer's bitrate`,
    );
  }
}

/** One call of `n` participants of whom `k` have a camera; every phase measured. */
async function runCall(loads: Loads, n: number, k: number): Promise<Measured[]> {
  const host = await startMediaHost({
    RUSTCHAT_CALLS_ENABLE_VIDEO: 'true',
    RUSTCHAT_CALLS_MAX_CAMERAS: String(Math.max(9, n)),
  });
  const tag = randomBytes(4).toString('hex');
  const { layers } = readRecording();
  const results: Measured[] = [];
  let groups: { load: LoadProcess; group: string }[] = [];
  try {
    const sfu = host.app.get(SfuService);
    const joined = await joinCall(host, loads, tag, n, k);
    groups = joined.groups;
    const publishers = joined.groups.find((g) => g.camera)!;
    const everyone = (cmd: (g: { load: LoadProcess; group: string }) => Promise<unknown>) =>
      Promise.all(groups.map(cmd));
    const measure = async (phase: Phase) => {
      const window = await medianWindow(sfu, loads, phase === 'audio' ? 0 : k);
      const load = loadavg()[0];
      results.push({ cameras: k, participants: n, phase, window, load });
      checkLayer(layers, phase, k, window.viewerBps);
      console.log(
        `[video] cameras=${k} ${phase}: streams=${window.streams} worker=${pct(window.workerCpu)}% viewer=${kbps(window.viewerBps)}kbit/s camera=${kbps(window.cameraBps)}kbit/s loss=${pct(window.loss)}% dup=${window.duplicates} gen=${window.generatorCpu.map(pct).join('+')}% load=${load.toFixed(2)}`,
      );
    };
    const settle = () => sleep(envNumber('VIDEO_SETTLE_S', 3) * 1000);
    const videoStreams = k * (n - 1);

    await settle();
    await untilFlowing(sfu, loads, videoStreams, 'audio');
    await measure('audio');

    await publishers.load.call('weriftSending', {
      group: publishers.group,
      audio: false,
      video: true,
    });
    await publishers.load.call('weriftVideo', { group: publishers.group, on: true });
    await settle();
    await untilFlowing(sfu, loads, videoStreams, 'video');
    await measure('video');

    if (envNumber('VIDEO_LOW', 1) > 0) {
      await everyone((g) =>
        g.load.call('weriftTrackSettings', {
          group: g.group,
          sessionIds: joined.publisherIds,
          settings: { width: 320, height: 180 },
        }),
      );
      await settle();
      await measure('video, 320×180 tiles');
    }

    await publishers.load.call('weriftSending', {
      group: publishers.group,
      audio: false,
      video: false,
    });
    await settle();
    await measure('idle');
    return results;
  } finally {
    for (const { load, group } of groups) await load.call('weriftClose', { group });
    await host.close();
  }
}

function rows(all: Measured[]): Row[] {
  return all.map((m) => {
    const w = m.window;
    const audio = all.find((a) => a.cameras === m.cameras && a.phase === 'audio')!.window;
    const idle = all.find((a) => a.cameras === m.cameras && a.phase === 'idle')?.window;
    const forwarding = idle ? w.workerCpu - idle.workerCpu : NaN;
    return {
      cameras: m.cameras,
      participants: m.participants,
      phase: m.phase,
      'streams received': w.streams,
      'worker CPU %': pct(w.workerCpu),
      'in audio calls':
        m.phase === 'idle' ? '' : Number((w.workerCpu / audio.workerCpu).toFixed(2)),
      'worker CPU % per participant': Number((pct(w.workerCpu) / m.participants).toFixed(3)),
      'CPU µs/s per stream (idle subtracted)':
        w.streams > 0 && m.phase !== 'idle' ? Math.round((forwarding / w.streams) * 1e6) : '',
      'kbit/s per viewer': kbps(w.viewerBps),
      'kbit/s per camera sent': m.phase === 'audio' || m.phase === 'idle' ? '' : kbps(w.cameraBps),
      'forwarded pps': Math.round(w.receivedPps),
      'forwarded Mbit/s': Number(((w.receivedBps * 8) / 1e6).toFixed(2)),
      'loss %': pct(w.loss),
      'host CPU %': pct(w.hostCpu),
      'load gen CPU % (publishers + viewers)': w.generatorCpu.map(pct).join(' + '),
      'load avg': Number(m.load.toFixed(2)),
    };
  });
}

export async function videoBench(): Promise<void> {
  const n = envNumber('VIDEO_PARTICIPANTS', 10);
  const steps = envNumbers('VIDEO_CAMERAS', [1, 4, 9]).filter((k) => k <= n);
  const loads: Loads = { publishers: LoadProcess.start(), viewers: LoadProcess.start() };
  const all: Measured[] = [];
  try {
    // Not reported: the first host app of the process loads and compiles what the others reuse.
    if (envNumber('VIDEO_WARMUP', 1) > 0) await runCall(loads, Math.min(n, 3), 1);
    for (const k of steps) all.push(...(await runCall(loads, n, k)));
  } finally {
    await Promise.all([loads.publishers.close(), loads.viewers.close()]);
  }
  printTable(
    `Group video: one call of ${n} werift participants, K cameras (VP8 simulcast q/h/f replayed, every participant views every other camera at the v1 default 640×360 layer), 1 worker; "in audio calls" = worker CPU against the same call with the K publishers speaking instead (first row of each K); median of the windows by worker CPU`,
    rows(all),
  );
}
