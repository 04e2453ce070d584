/**
 * The load generator process of the media benchmarks (forked by {@link LoadProcess}), so that
 * client work (werift's DTLS and SRTP in JavaScript, UDP send and receive) does not run on the
 * server's event loop. Commands come over IPC; see `COMMANDS`.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import {
  ProtectionProfileAeadAes128Gcm,
  ProtectionProfileAes128CmHmacSha1_80,
  RtpHeader,
  SrtpSession,
} from 'werift';
import {
  OPUS_SILENCE,
  OPUS_TICKS_PER_PACKET,
  PACKET_INTERVAL_MS,
  type GeneratorSrtpSuite,
  rtpPacket,
  SRTP_KEY_BYTES,
  StreamCounter,
  sumCounts,
} from './rtp';
import type { AudioRole, BenchParticipant, StageTimes } from './bench-participant';
import { type CameraRecording, readRecording } from './camera-recording';
import { CpuProfiler } from './cpu-profile';
import { useFastRtpHeaders } from './fast-rtp-header';
import { useNativeX25519 } from './native-x25519';
import { LiveKitParticipant } from './livekit-participant';
import { WeriftParticipant } from './werift-participant';

interface UdpFlow {
  socket: UdpSocket;
  port: number;
  ssrc: number;
  payloadType: number;
  /** Encrypts each packet (SRTP towards a plain transport with `enableSrtp`). */
  srtp: SrtpSession | null;
  seq: number;
  timestamp: number;
  start: number;
  sent: number;
  skipped: number;
}

/** A werift SRTP session for sending (16-byte key; 12-byte salt for GCM, 14 for CM). */
function srtpSession(keyBase64: string, suite: GeneratorSrtpSuite): SrtpSession {
  const key = Buffer.from(keyBase64, 'base64');
  const [masterKey, masterSalt] = [key.subarray(0, 16), key.subarray(16, SRTP_KEY_BYTES[suite])];
  return new SrtpSession({
    keys: {
      localMasterKey: masterKey,
      localMasterSalt: masterSalt,
      remoteMasterKey: masterKey,
      remoteMasterSalt: masterSalt,
    },
    profile:
      suite === 'AEAD_AES_128_GCM'
        ? ProtectionProfileAeadAes128Gcm
        : ProtectionProfileAes128CmHmacSha1_80,
  });
}

// werift's own RTP header parsing and copying were a third of this process's CPU with hundreds
// of peers receiving audio, its JavaScript X25519 a tenth with peers joining at 20 a second.
useFastRtpHeaders();
useNativeX25519();

const groups = new Map<string, BenchParticipant[]>();
/** Exceptions nothing caught (see the handler at the end), reported by the next join. */
const uncaught: string[] = [];
/** werift's exceptions on an early DCEP ACK (see the handler at the end). */
let earlyAcks = 0;
const udpSockets: UdpSocket[] = [];
const udpFlows: UdpFlow[] = [];
const udpCounter = new StreamCounter();
let windowStart = { at: 0, sent: 0, cameraBytes: 0, cpu: process.cpuUsage() };
/** The recorded camera (bench/fixtures), read once when a group first has cameras. */
let recording: CameraRecording | null = null;
let profiler: CpuProfiler | null = null;

function participants(): BenchParticipant[] {
  return [...groups.values()].flat();
}

function cameras(group?: string): WeriftParticipant[] {
  const list = group === undefined ? participants() : (groups.get(group) ?? []);
  return list.filter((p): p is WeriftParticipant => p instanceof WeriftParticipant && !!p.camera);
}

function cameraBytes(): number {
  return cameras().reduce((n, p) => n + (p.camera?.bytes ?? 0), 0);
}

function sentTotal(): number {
  return participants().reduce((n, p) => n + p.sent, 0) + udpFlows.reduce((n, f) => n + f.sent, 0);
}

/** Runs `fn` over `items` with at most `limit` at a time. */
async function inBatches<T>(items: T[], limit: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      for (let i = next++; i < items.length; i = next++) await fn(items[i]);
    }),
  );
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/**
 * Packets a late timer may send at once per stream (200 ms): the rate stays nominal when this
 * process is briefly descheduled; beyond that, packets are skipped (and reported by the
 * sent-pps column, not counted as loss).
 */
const MAX_BURST = 10;

// One timer drives every sender: 20 ms packets, catching up (bounded) when the timer is late.
setInterval(() => {
  const now = performance.now();
  for (const p of participants()) p.sendDue(now, MAX_BURST);
  for (const f of udpFlows) {
    const due = Math.floor((now - f.start) / PACKET_INTERVAL_MS) + 1 - f.sent - f.skipped;
    for (let i = 0; i < Math.min(due, MAX_BURST); i++) {
      f.seq = (f.seq + 1) & 0xffff;
      f.timestamp = (f.timestamp + OPUS_TICKS_PER_PACKET) >>> 0;
      f.socket.send(
        f.srtp
          ? f.srtp.encrypt(
              OPUS_SILENCE,
              new RtpHeader({
                payloadType: f.payloadType,
                sequenceNumber: f.seq,
                timestamp: f.timestamp,
                ssrc: f.ssrc,
              }),
            )
          : rtpPacket(f.payloadType, f.seq, f.timestamp, f.ssrc),
        f.port,
        '127.0.0.1',
      );
      f.sent++;
    }
    if (due > MAX_BURST) f.skipped += due - MAX_BURST; // not sent: seq-based loss ignores it
  }
}, PACKET_INTERVAL_MS).unref();

/** Connects and prepares a new group (socket connected where there is one, first offer ready). */
async function addGroup(group: string, list: BenchParticipant[]): Promise<number> {
  groups.set(group, list);
  await inBatches(list, 20, async (p) => {
    await p.connect();
    await p.prepare();
  });
  return list.length;
}

const COMMANDS = {
  /** Makes v1 (socket.io) participants (socket connected, first offer ready), not yet joined. */
  async weriftAdd(a: {
    group: string;
    /** The host app's URL, or one per participant (`urls[i]`: participants spread over instances). */
    url: string | string[];
    tokens: string[];
    roles: AudioRole[];
    /** false: received SRTP is counted from its clear headers, not decrypted (default true). */
    decrypt?: boolean;
    /** Which participants offer a camera (replayed from bench/fixtures; default none). */
    cameras?: boolean[];
    /** Every participant offers a video section (see {@link WeriftParticipant}). */
    offerVideo?: boolean;
  }) {
    const urlOf = (i: number) => (typeof a.url === 'string' ? a.url : a.url[i]);
    if (a.cameras?.some(Boolean)) recording ??= readRecording();
    return addGroup(
      a.group,
      a.tokens.map(
        (t, i) =>
          new WeriftParticipant(urlOf(i), t, a.roles[i], {
            decrypt: a.decrypt,
            offerVideo: a.offerVideo,
            ...(a.cameras?.[i] && recording ? { camera: recording } : {}),
          }),
      ),
    );
  },

  /** What the group's participants send (speakers' voice, cameras' video). */
  async weriftSending(a: { group: string; audio: boolean; video: boolean }) {
    await Promise.resolve();
    for (const p of groups.get(a.group) ?? []) {
      if (p instanceof WeriftParticipant) p.setSending({ audio: a.audio, video: a.video });
    }
    return true;
  },

  /** The group's cameras announce themselves on (`video_on`) or off (`video_off`). */
  async weriftVideo(a: { group: string; on: boolean }) {
    await Promise.all(cameras(a.group).map((p) => p.setVideo(a.on)));
    return cameras(a.group).map((p) => p.sessionId);
  },

  /** Every participant of the group asks `settings` for each camera of `sessionIds` but its own. */
  async weriftTrackSettings(a: {
    group: string;
    sessionIds: string[];
    settings: Record<string, unknown>;
  }) {
    const list = (groups.get(a.group) ?? []).filter((p) => p instanceof WeriftParticipant);
    await Promise.all(
      list.flatMap((p) =>
        a.sessionIds
          .filter((id) => id !== p.sessionId)
          .map((id) => p.trackSettings(id, a.settings)),
      ),
    );
    return true;
  },

  /**
   * Makes LiveKit participants (peer connections and publisher offer ready), not yet joined:
   * `url` is the LiveKit endpoint (`<host><path>`), `tokens[i]` names session `sessionIds[i]`
   * and the room.
   */
  async livekitAdd(a: {
    group: string;
    url: string;
    tokens: string[];
    sessionIds: string[];
    roles: AudioRole[];
  }) {
    return addGroup(
      a.group,
      a.tokens.map((t, i) => new LiveKitParticipant(a.url, t, a.roles[i], a.sessionIds[i])),
    );
  },

  /** `rounds` bursts of one acknowledged no-op per (v1) participant, all at once. */
  async weriftAcks(a: { group: string; rounds: number }) {
    const list = groups.get(a.group)!.filter((p) => p instanceof WeriftParticipant);
    const rtts: number[] = [];
    for (let r = 0; r < a.rounds; r++) {
      rtts.push(...(await Promise.all(list.map((p) => p.ackRoundTrip()))));
    }
    return rtts;
  },

  /**
   * Every participant of the group joins at once; waits until each is connected and (when the
   * group has speakers) received media, or the timeout.
   */
  async weriftJoin(a: {
    group: string;
    channel: string;
    unmuteSpeakers: boolean;
    timeoutMs: number;
  }) {
    const list = groups.get(a.group)!;
    const failures: string[] = [];
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(
      list.map((p) =>
        p
          .join(a.channel, { unmute: a.unmuteSpeakers && p.role === 'speaker' })
          .catch((err: Error) => failures.push(err.message)),
      ),
    );
    const speakers = list.filter((p) => p.role === 'speaker').length;
    const done = (p: BenchParticipant) =>
      p.times.connected !== undefined &&
      (speakers === 0 ||
        (speakers === 1 && p.role === 'speaker') ||
        p.times.firstMedia !== undefined);
    await waitUntil(() => list.every(done), a.timeoutMs);
    const cpu = process.cpuUsage(cpu0);
    return {
      /** CPU of this process over the join (fraction of one core). */
      generatorCpu: (cpu.user + cpu.system) / 1000 / (performance.now() - t0),
      times: list.map((p): StageTimes => p.times),
      sessionIds: list.map((p) => p.sessionId),
      joinSentAt: list.map((p) => p.joinSentAt),
      failures,
      errors: [...uncaught.splice(0), ...list.flatMap((p) => p.errors)].slice(0, 5),
      /** werift's exceptions on an early DCEP ACK so far. */
      earlyAcks,
    };
  },

  /**
   * Participant `i` of the group joins `offsetsMs[i]` after the start (arrivals spread over time);
   * waits until each is connected and received media, or the timeout. Also this process's CPU over
   * the run and its busiest second (fractions of one core).
   */
  async weriftArrive(a: {
    group: string;
    channel: string;
    offsetsMs: number[];
    unmuteSpeakers: boolean;
    timeoutMs: number;
  }) {
    const list = groups.get(a.group)!;
    const failures: string[] = [];
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let last = { at: t0, cpu: cpu0 };
    let busiest = 0;
    const sampler = setInterval(() => {
      const now = { at: performance.now(), cpu: process.cpuUsage() };
      const used = now.cpu.user + now.cpu.system - last.cpu.user - last.cpu.system;
      busiest = Math.max(busiest, used / 1000 / (now.at - last.at));
      last = now;
    }, 1000);
    await Promise.all(
      list.map(async (p, i) => {
        await new Promise((r) =>
          setTimeout(r, Math.max(0, t0 + a.offsetsMs[i] - performance.now())),
        );
        await p
          .join(a.channel, { unmute: a.unmuteSpeakers && p.role === 'speaker' })
          .catch((err: Error) => failures.push(err.message));
      }),
    );
    const done = (p: BenchParticipant) =>
      p.times.connected !== undefined && p.times.firstMedia !== undefined;
    await waitUntil(() => list.every(done), a.timeoutMs);
    clearInterval(sampler);
    const cpu = process.cpuUsage(cpu0);
    return {
      generatorCpu: (cpu.user + cpu.system) / 1000 / (performance.now() - t0),
      generatorBusiestSecond: busiest,
      times: list.map((p): StageTimes => p.times),
      sessionIds: list.map((p) => p.sessionId),
      joinSentAt: list.map((p) => p.joinSentAt),
      failures,
      errors: list.flatMap((p) => p.errors).slice(0, 5),
    };
  },

  /** Binds `count` UDP sockets on loopback; returns their ports. */
  async udpAdd(a: { count: number }) {
    const ports: number[] = [];
    for (let i = 0; i < a.count; i++) {
      const socket = createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
      socket.on('message', (msg) => udpCounter.addPacket(msg));
      await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
      udpSockets.push(socket);
      ports.push(socket.address().port);
    }
    return { first: udpSockets.length - a.count, ports };
  },

  /**
   * Starts sending RTP from socket `index` to 127.0.0.1:`port`; with `srtp` (suite, master key
   * and salt), SRTP.
   */
  async udpSend(a: {
    flows: {
      index: number;
      port: number;
      ssrc: number;
      payloadType: number;
      srtp?: { suite: GeneratorSrtpSuite; keyBase64: string };
    }[];
  }) {
    await Promise.resolve();
    const start = performance.now();
    for (const f of a.flows) {
      udpFlows.push({
        socket: udpSockets[f.index],
        port: f.port,
        ssrc: f.ssrc,
        payloadType: f.payloadType,
        srtp: f.srtp ? srtpSession(f.srtp.keyBase64, f.srtp.suite) : null,
        seq: Math.floor(Math.random() * 0xffff),
        timestamp: Math.floor(Math.random() * 0xffffffff),
        start: start + Math.random() * PACKET_INTERVAL_MS,
        sent: 0,
        skipped: 0,
      });
    }
    return udpFlows.length;
  },

  /** Stops every UDP flow and closes every UDP socket. */
  async udpClear() {
    udpFlows.length = 0;
    await Promise.all(
      udpSockets.splice(0).map((socket) => new Promise<void>((r) => socket.close(() => r()))),
    );
    udpCounter.reset();
    return true;
  },

  /** Opens a measurement window: counters reset. */
  async windowStart() {
    await Promise.resolve();
    for (const p of participants()) p.received.reset();
    udpCounter.reset();
    windowStart = {
      at: performance.now(),
      sent: sentTotal(),
      cameraBytes: cameraBytes(),
      cpu: process.cpuUsage(),
    };
    return true;
  },

  /** Closes the window: received and expected packets, packets sent, the generator's CPU. */
  async windowEnd() {
    await Promise.resolve();
    const seconds = (performance.now() - windowStart.at) / 1000;
    const cpu = process.cpuUsage(windowStart.cpu);
    const counts = sumCounts([
      udpCounter.snapshot(),
      ...participants().map((p) => p.received.snapshot()),
    ]);
    return {
      ...counts,
      seconds,
      sent: sentTotal() - windowStart.sent,
      /** Bytes the cameras of this process sent (RTP header + payload). */
      cameraBytes: cameraBytes() - windowStart.cameraBytes,
      /** Participants of this process (receivers the counts are spread over). */
      participants: participants().length,
      generatorCpu: (cpu.user + cpu.system) / 1e6 / seconds,
      errors: [
        ...(uncaught.length > 0 ? [`${uncaught.length} uncaught, last: ${uncaught.at(-1)}`] : []),
        ...participants().flatMap((p) => p.errors),
      ].slice(0, 5),
    };
  },

  /** Starts profiling this process's JavaScript (see {@link CpuProfiler}). */
  async profileStart() {
    profiler = new CpuProfiler();
    await profiler.start();
    return true;
  },

  /** Stops the profile started by `profileStart`, writes `<dir>/<name>.cpuprofile`, returns it. */
  async profileStop(a: { dir: string; name: string }) {
    const profile = await profiler!.stop(a.dir, a.name);
    profiler = null;
    return profile;
  },

  /** One group's participants leave the call (all at once), then close. */
  async weriftLeave(a: { group: string }) {
    await Promise.all((groups.get(a.group) ?? []).map((p) => p.leave()));
    groups.delete(a.group);
    return true;
  },

  /** Closes one group's participants. */
  async weriftClose(a: { group: string }) {
    await Promise.all((groups.get(a.group) ?? []).map((p) => p.close()));
    groups.delete(a.group);
    return true;
  },
};

export type LoadCommands = typeof COMMANDS;

process.on('message', (msg: { id: number; cmd: keyof LoadCommands; args: never }) => {
  const fn = COMMANDS[msg.cmd] as (args: unknown) => Promise<unknown>;
  fn(msg.args).then(
    (result) => process.send?.({ id: msg.id, result }),
    (err: Error) => process.send?.({ id: msg.id, error: err.stack ?? err.message }),
  );
});
process.on('disconnect', () => process.exit(0));
// A client library's exception in an event handler is reported with the join's errors instead
// of ending the run. werift 0.24 throws on a DCEP ACK for a channel it has not opened yet (the
// server acknowledges each channel once SCTP is up, maybe before werift sent its OPEN; browsers
// ignore such an ACK; werift's channel then stays unopened, and the bench sends no data):
// counted, not reported.
process.on('uncaughtException', (err) => {
  if (err.message === 'channel not found') {
    earlyAcks++;
    return;
  }
  uncaught.push(err.message);
  console.error('load process: uncaught', err);
});
