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
import { type AudioRole, type StageTimes, WeriftParticipant } from './werift-participant';

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

const groups = new Map<string, WeriftParticipant[]>();
const udpSockets: UdpSocket[] = [];
const udpFlows: UdpFlow[] = [];
const udpCounter = new StreamCounter();
/** Exceptions thrown from callbacks outside any command (see the handler at the end). */
const uncaught: string[] = [];
let windowStart = { at: 0, sent: 0, cpu: process.cpuUsage() };

function participants(): WeriftParticipant[] {
  return [...groups.values()].flat();
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

const COMMANDS = {
  /** Makes participants (socket connected, first offer ready), not yet joined. */
  async weriftAdd(a: {
    group: string;
    /** The host app's URL, or one per participant (`urls[i]`: participants spread over instances). */
    url: string | string[];
    tokens: string[];
    roles: AudioRole[];
    /** false: received SRTP is counted from its clear headers, not decrypted (default true). */
    decrypt?: boolean;
  }) {
    const urlOf = (i: number) => (typeof a.url === 'string' ? a.url : a.url[i]);
    const list = a.tokens.map(
      (t, i) => new WeriftParticipant(urlOf(i), t, a.roles[i], { decrypt: a.decrypt }),
    );
    groups.set(a.group, list);
    await inBatches(list, 20, async (p) => {
      await p.connect();
      await p.prepare();
    });
    return list.length;
  },

  /** `rounds` bursts of one acknowledged no-op per participant, all at once. */
  async weriftAcks(a: { group: string; rounds: number }) {
    const rtts: number[] = [];
    for (let r = 0; r < a.rounds; r++) {
      rtts.push(...(await Promise.all(groups.get(a.group)!.map((p) => p.ackRoundTrip()))));
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
    const done = (p: WeriftParticipant) =>
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
    windowStart = { at: performance.now(), sent: sentTotal(), cpu: process.cpuUsage() };
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
      generatorCpu: (cpu.user + cpu.system) / 1e6 / seconds,
      errors: [
        ...(uncaught.length > 0 ? [`${uncaught.length} uncaught, last: ${uncaught.at(-1)}`] : []),
        ...participants().flatMap((p) => p.errors),
      ].slice(0, 5),
    };
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

/**
 * An exception a client library throws from a socket callback (werift's SCTP throws "channel not
 * found" for data on a stream it has no channel for) would end the process and every peer in
 * it: it is reported with the window's client errors instead.
 */
process.on('uncaughtException', (err: Error) => {
  uncaught.push(err.message);
  if (uncaught.length === 1) console.warn(`[load] uncaught exception: ${err.stack ?? err.message}`);
});
