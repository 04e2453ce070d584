import { setTimeout as sleep } from 'node:timers/promises';
import { dominantFrequency, meanPower, TONE_SAMPLE_RATE, ToneGenerator } from './tone';
import type {
  WrtcAudioSink,
  WrtcCandidateInit,
  WrtcDataChannel,
  WrtcDescription,
  WrtcModule,
  WrtcPeerConnection,
  WrtcSender,
  WrtcTrack,
  WrtcTransceiver,
  WrtcVideoSink,
} from './wrtc.types';

let loaded: Promise<WrtcModule> | null = null;

/**
 * `@roamhq/wrtc`, typed by {@link WrtcModule}, loaded on first use (its native threads should
 * not start in test processes that never make a peer).
 */
export function loadWrtc(): Promise<WrtcModule> {
  loaded ??= import('@roamhq/wrtc').then((m) => m as unknown as WrtcModule);
  return loaded;
}

/** A signal from the server, as `SfuService` emits it (or a gateway's `signal.data`, parsed). */
export type TestPeerSignal =
  | { type: 'offer' | 'answer'; sdp: string }
  | {
      type: 'candidate';
      candidate: {
        candidate: string;
        sdpMid?: string | null;
        sdpMLineIndex?: number | null;
        usernameFragment?: string | null;
      };
    }
  | { type: 'ice-state' | 'connection-state'; state: string };

/** How the peer reaches the server: `SfuService` directly, or a gateway client in e2e tests. */
export interface TestPeerTransport {
  sendDescription(description: { type: 'offer' | 'answer'; sdp: string }): Promise<void>;
  sendCandidate(candidate: WrtcCandidateInit): Promise<void>;
}

/** Options of {@link WrtcTestPeer}. */
export interface WrtcTestPeerOptions {
  /** Name in log lines and errors. */
  readonly name: string;
  /** Open the `calls-dc` data channel at once, like Mattermost's RTCPeer (first offer = m=application). @default true */
  readonly dataChannel?: boolean;
  /** Answer server offers (a polite peer). `false` makes an impolite client for glare tests. @default true */
  readonly answerOffers?: boolean;
  /**
   * More in-band data channels to open at once, in this order after `calls-dc` (e.g. LiveKit's
   * `_lossy` and `_reliable`); see {@link WrtcTestPeer.channels}.
   */
  readonly channels?: readonly { label: string; ordered?: boolean; maxRetransmits?: number }[];
  /** Rewrites every server description before it is applied (e.g. to route through a relay). */
  readonly rewriteRemoteSdp?: (sdp: string) => string;
  /** Rewrites a trickled server candidate line; `null` drops it. */
  readonly rewriteRemoteCandidate?: (candidate: string) => string | null;
}

interface RemoteAudio {
  readonly track: WrtcTrack;
  readonly mid: string | null;
  readonly sink: WrtcAudioSink;
  samples: Int16Array;
  received: number;
}

interface RemoteVideo {
  readonly track: WrtcTrack;
  readonly mid: string | null;
  readonly sink: WrtcVideoSink;
  frames: number;
}

/** Seconds of decoded audio kept per remote track for frequency checks. */
const AUDIO_WINDOW_SAMPLES = TONE_SAMPLE_RATE / 2;

/**
 * A real WebRTC client for tests (Chrome's libwebrtc through `@roamhq/wrtc`): sends tones and
 * synthetic video, receives and decodes the server's tracks (frequency detection, frame counts),
 * answers server offers as the polite peer (rolling back its own offer on glare), and pings on
 * `calls-dc`. Wire it to the server with a {@link TestPeerTransport} and {@link handleSignal}.
 */
export class WrtcTestPeer {
  readonly pc: WrtcPeerConnection;
  readonly dataChannel: WrtcDataChannel | null;
  private readonly chain: { tail: Promise<unknown> } = { tail: Promise.resolve() };
  private readonly queuedCandidates: WrtcCandidateInit[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly remoteAudio = new Map<WrtcTrack, RemoteAudio>();
  private readonly remoteVideo = new Map<WrtcTrack, RemoteVideo>();
  private readonly localTracks: WrtcTrack[] = [];
  private readonly dcWaiters: ((message: string | ArrayBuffer) => void)[] = [];
  private needsOffer = false;
  private closed = false;
  private framesFed = 0;
  /** Offers and answers received from the server, in order. */
  readonly received: { type: string; sdp: string }[] = [];
  /** Errors of background negotiation steps (tests assert it stays empty). */
  readonly errors: Error[] = [];
  /** The data channels of the `channels` option, by label. */
  readonly channels = new Map<string, WrtcDataChannel>();
  /** Messages received on the `channels` data channels, by label. */
  readonly channelMessages = new Map<string, (string | ArrayBuffer)[]>();
  /** Whether server offers are answered (false: an impolite client that ignores them). */
  answerOffers: boolean;
  /** Server offers still to ignore before answering again (an impolite client for a while). */
  ignoreNextOffers = 0;
  /** Server answers that arrived with no offer of ours pending (a server answering too late). */
  unexpectedAnswers = 0;

  private constructor(
    private readonly wrtc: WrtcModule,
    private readonly transport: TestPeerTransport,
    private readonly options: WrtcTestPeerOptions,
  ) {
    this.answerOffers = options.answerOffers ?? true;
    // No ICE servers: loopback only.
    this.pc = new wrtc.RTCPeerConnection({ iceServers: [] });
    this.pc.onicecandidate = ({ candidate }) => {
      if (candidate?.candidate) {
        void this.transport
          .sendCandidate({
            candidate: candidate.candidate,
            sdpMid: candidate.sdpMid,
            sdpMLineIndex: candidate.sdpMLineIndex,
            usernameFragment: candidate.usernameFragment,
          })
          .catch((err: Error) => this.fail(err));
      }
    };
    this.pc.onnegotiationneeded = () => this.negotiate();
    this.pc.ontrack = ({ track, transceiver }) => this.onTrack(track, transceiver);
    this.dataChannel = options.dataChannel === false ? null : this.pc.createDataChannel('calls-dc');
    if (this.dataChannel) {
      this.dataChannel.binaryType = 'arraybuffer';
      this.dataChannel.onmessage = ({ data }) => this.dcWaiters.shift()?.(data);
    }
    for (const { label, ...init } of options.channels ?? []) {
      const channel = this.pc.createDataChannel(label, init);
      channel.binaryType = 'arraybuffer';
      const messages: (string | ArrayBuffer)[] = [];
      channel.onmessage = ({ data }) => messages.push(data);
      this.channels.set(label, channel);
      this.channelMessages.set(label, messages);
    }
  }

  /** Creates a peer (its `calls-dc` makes it offer at once unless `dataChannel` is false). */
  static async create(
    transport: TestPeerTransport,
    options: WrtcTestPeerOptions,
  ): Promise<WrtcTestPeer> {
    return new WrtcTestPeer(await loadWrtc(), transport, options);
  }

  /** Name given in the options. */
  get name(): string {
    return this.options.name;
  }

  /** Sends a sine tone on a new audio track (10 ms frames, 48 kHz). */
  addTone(frequencyHz: number): WrtcSender {
    const source = new this.wrtc.nonstandard.RTCAudioSource();
    const track = source.createTrack();
    const tone = new ToneGenerator(frequencyHz);
    let next = Date.now();
    const timer = setInterval(() => {
      // Catch up on timer drift so the source gets 100 frames per second.
      for (let i = 0; next <= Date.now() && i < 10; i++, next += 10) {
        source.onData({ samples: tone.nextFrame(), sampleRate: TONE_SAMPLE_RATE, channelCount: 1 });
        this.framesFed++;
      }
    }, 10);
    this.timers.push(timer);
    this.localTracks.push(track);
    return this.pc.addTrack(track, new this.wrtc.MediaStream([track]));
  }

  /**
   * 10 ms audio frames fed to the tone sources so far (all tones): how much this process gave
   * libwebrtc to send, whatever became of it on the network. A loaded machine that starves this
   * process's timers feeds fewer than 100 per second and tone.
   */
  get audioFramesFed(): number {
    return this.framesFed;
  }

  /**
   * Sends synthetic I420 video (a moving gradient) as a screen-share-like track.
   * @returns the sender and the MediaStream id (what Mattermost's `screen_on` carries)
   */
  addVideo(options: { width?: number; height?: number; fps?: number; simulcast?: boolean } = {}): {
    sender: WrtcSender;
    streamId: string;
  } {
    const { width = 320, height = 240, fps = 15 } = options;
    const source = new this.wrtc.nonstandard.RTCVideoSource({ isScreencast: true });
    const track = source.createTrack();
    let n = 0;
    const timer = setInterval(() => {
      const data = new Uint8Array(width * height * 1.5);
      for (let y = 0; y < height; y++) data.fill((y + n * 4) & 0xff, y * width, (y + 1) * width);
      data.fill(128, width * height);
      source.onFrame({ width, height, data });
      n++;
    }, 1000 / fps);
    this.timers.push(timer);
    this.localTracks.push(track);
    const stream = new this.wrtc.MediaStream([track]);
    // Mattermost's simulcast screen encodings: rids l (low) and h (high).
    const sendEncodings = options.simulcast
      ? [
          { rid: 'l', maxBitrate: 500_000, scaleResolutionDownBy: 2 },
          { rid: 'h', maxBitrate: 2_500_000, scaleResolutionDownBy: 1 },
        ]
      : undefined;
    const transceiver = this.pc.addTransceiver(track, {
      direction: 'sendonly',
      streams: [stream],
      ...(sendEncodings ? { sendEncodings } : {}),
    });
    return { sender: transceiver.sender, streamId: stream.id };
  }

  /**
   * Handles one server signal (offer, answer, candidate; state signals are ignored). Failures
   * are collected in {@link errors}.
   */
  handleSignal(signal: TestPeerSignal): Promise<void> {
    return this.serialRecorded(async () => {
      if (this.closed) return;
      if (signal.type === 'candidate') {
        const line = this.options.rewriteRemoteCandidate
          ? this.options.rewriteRemoteCandidate(signal.candidate.candidate)
          : signal.candidate.candidate;
        if (line === null) return;
        const c = { ...signal.candidate, candidate: line };
        if (!this.pc.remoteDescription) this.queuedCandidates.push(c);
        else await this.pc.addIceCandidate(c).catch(() => undefined); // stale generation: ignored
        return;
      }
      if (signal.type !== 'offer' && signal.type !== 'answer') return;
      const sdp = this.options.rewriteRemoteSdp
        ? this.options.rewriteRemoteSdp(signal.sdp)
        : signal.sdp;
      this.received.push({ type: signal.type, sdp });
      if (signal.type === 'answer') {
        if (this.pc.signalingState !== 'have-local-offer') {
          this.unexpectedAnswers++; // e.g. an answer to an offer we rolled back
          return;
        }
        await this.pc.setRemoteDescription({ type: 'answer', sdp });
        await this.flushCandidates();
        if (this.needsOffer) this.negotiate();
        return;
      }
      if (!this.answerOffers) return;
      if (this.ignoreNextOffers > 0) {
        this.ignoreNextOffers--;
        return;
      }
      if (this.pc.signalingState !== 'stable') {
        // Polite peer: give our offer up, take theirs, offer again afterwards.
        await this.pc.setLocalDescription({ type: 'rollback' });
        this.needsOffer = true;
      }
      await this.pc.setRemoteDescription({ type: 'offer', sdp });
      await this.flushCandidates();
      const answer = await this.pc.createAnswer();
      await this.pc.setLocalDescription(answer);
      await this.transport.sendDescription({ type: 'answer', sdp: answer.sdp ?? '' });
      if (this.needsOffer) this.negotiate();
    });
  }

  /** Makes and sends an offer now (also what `negotiationneeded` does). */
  negotiate(options: { iceRestart?: boolean } = {}): void {
    void this.serialRecorded(async () => {
      if (this.closed) return;
      if (this.pc.signalingState !== 'stable') {
        this.needsOffer = true;
        return;
      }
      this.needsOffer = false;
      const offer = await this.pc.createOffer(options);
      await this.pc.setLocalDescription(offer);
      await this.transport.sendDescription({ type: 'offer', sdp: offer.sdp ?? '' });
    });
  }

  /**
   * Makes an offer but does not send it (for glare tests).
   * @returns the offer, to send later
   */
  async createLocalOffer(): Promise<WrtcDescription> {
    return this.serial(async () => {
      const offer = await this.pc.createOffer();
      await this.pc.setLocalDescription(offer);
      return offer;
    });
  }

  /** Waits until the peer connection is `connected`. */
  async waitConnected(timeoutMs = 10_000): Promise<void> {
    await this.waitFor(() => this.pc.connectionState === 'connected', timeoutMs, 'connected');
  }

  /** Polls `condition` every 50 ms. */
  async waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (this.errors.length > 0) throw this.errors[0];
      if (Date.now() > deadline) {
        throw new Error(
          `${this.name}: timed out after ${timeoutMs} ms waiting for ${what} [connection=${this.pc.connectionState}, signaling=${this.pc.signalingState}]`,
        );
      }
      await sleep(50);
    }
  }

  /** Transceivers that currently receive from the server, by kind. */
  receiving(kind: 'audio' | 'video'): WrtcTransceiver[] {
    return this.pc
      .getTransceivers()
      .filter(
        (t) =>
          t.receiver.track.kind === kind &&
          (t.currentDirection === 'recvonly' || t.currentDirection === 'sendrecv'),
      );
  }

  /**
   * The dominant candidate frequency of every remote audio track that currently receives and has
   * decoded at least `minSeconds` of audio, with its share of the candidates' power and the
   * track's mean power.
   */
  heardTones(
    candidatesHz: readonly number[],
    minSeconds = 0.3,
  ): { mid: string | null; frequencyHz: number; share: number; power: number }[] {
    const receivingMids = new Set(this.receiving('audio').map((t) => t.mid));
    const result: { mid: string | null; frequencyHz: number; share: number; power: number }[] = [];
    for (const audio of this.remoteAudio.values()) {
      if (!receivingMids.has(audio.mid) || audio.received < minSeconds * TONE_SAMPLE_RATE) continue;
      const { frequencyHz, share } = dominantFrequency(audio.samples, candidatesHz);
      result.push({ mid: audio.mid, frequencyHz, share, power: meanPower(audio.samples) });
    }
    return result;
  }

  /** Forgets decoded audio (so the next {@link heardTones} reflects only what arrives from now). */
  resetAudio(): void {
    for (const audio of this.remoteAudio.values()) {
      audio.samples = new Int16Array(0);
      audio.received = 0;
    }
  }

  /**
   * RTP packets and bytes received so far, per `inbound-rtp` stream (from `getStats`), with the
   * stream's transceiver `mid` (null when the stats do not say).
   */
  async inboundRtp(): Promise<
    { kind: string; mid: string | null; packets: number; bytes: number }[]
  > {
    const report = await this.pc.getStats();
    return [...report.values()]
      .filter((s) => s.type === 'inbound-rtp')
      .map((s) => ({
        kind:
          typeof s.kind === 'string' ? s.kind : typeof s.mediaType === 'string' ? s.mediaType : '',
        mid: typeof s.mid === 'string' ? s.mid : null,
        packets: Number(s.packetsReceived ?? 0),
        bytes: Number(s.bytesReceived ?? 0),
      }));
  }

  /** RTP audio packets sent so far (`outbound-rtp` `packetsSent` of every audio stream). */
  async sentAudioPackets(): Promise<number> {
    const report = await this.pc.getStats();
    let packets = 0;
    for (const s of report.values()) {
      const kind = s.kind ?? s.mediaType;
      if (s.type === 'outbound-rtp' && kind === 'audio') packets += Number(s.packetsSent ?? 0);
    }
    return packets;
  }

  /** Decoded frames per remote video track. */
  videoFrames(): { mid: string | null; frames: number }[] {
    return [...this.remoteVideo.values()].map((v) => ({ mid: v.mid, frames: v.frames }));
  }

  /**
   * Sends `message` on `calls-dc` and waits for the next message back.
   * @returns the reply and the round-trip time (ms)
   */
  async dataChannelRoundTrip(
    message: string | Uint8Array,
    timeoutMs = 5000,
  ): Promise<{ reply: string | ArrayBuffer; rttMs: number }> {
    const dc = this.dataChannel;
    if (!dc) throw new Error(`${this.name}: no data channel`);
    await this.waitFor(() => dc.readyState === 'open', timeoutMs, 'calls-dc open');
    const started = performance.now();
    const reply = new Promise<string | ArrayBuffer>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.name}: no data channel reply`)),
        timeoutMs,
      );
      this.dcWaiters.push((data) => {
        clearTimeout(timer);
        resolve(data);
      });
    });
    dc.send(message);
    const data = await reply;
    return { reply: data, rttMs: performance.now() - started };
  }

  /** Stops sources, sinks and the peer connection. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.timers.forEach((t) => clearInterval(t));
    for (const audio of this.remoteAudio.values()) audio.sink.stop();
    for (const video of this.remoteVideo.values()) video.sink.stop();
    this.dataChannel?.close();
    this.channels.forEach((c) => c.close());
    this.pc.close();
    this.localTracks.forEach((t) => t.stop());
  }

  private onTrack(track: WrtcTrack, transceiver: WrtcTransceiver): void {
    if (track.kind === 'audio' && !this.remoteAudio.has(track)) {
      const sink = new this.wrtc.nonstandard.RTCAudioSink(track);
      const entry: RemoteAudio = {
        track,
        mid: transceiver.mid,
        sink,
        samples: new Int16Array(0),
        received: 0,
      };
      sink.ondata = ({ samples, channelCount = 1 }) => {
        const mono =
          channelCount === 1 ? samples : samples.filter((_, i) => i % channelCount === 0);
        const joined = new Int16Array(
          Math.min(entry.samples.length + mono.length, AUDIO_WINDOW_SAMPLES),
        );
        const keep = joined.length - mono.length;
        if (keep > 0) joined.set(entry.samples.subarray(entry.samples.length - keep), 0);
        joined.set(mono.subarray(Math.max(0, mono.length - joined.length)), Math.max(0, keep));
        entry.samples = joined;
        entry.received += mono.length;
      };
      this.remoteAudio.set(track, entry);
    } else if (track.kind === 'video' && !this.remoteVideo.has(track)) {
      const sink = new this.wrtc.nonstandard.RTCVideoSink(track);
      const entry: RemoteVideo = { track, mid: transceiver.mid, sink, frames: 0 };
      sink.onframe = () => entry.frames++;
      this.remoteVideo.set(track, entry);
    }
  }

  private async flushCandidates(): Promise<void> {
    for (const c of this.queuedCandidates.splice(0)) {
      await this.pc.addIceCandidate(c).catch(() => undefined);
    }
  }

  private serial<T>(step: () => Promise<T>): Promise<T> {
    const run = this.chain.tail.then(step, step);
    this.chain.tail = run.catch(() => undefined);
    return run;
  }

  private serialRecorded(step: () => Promise<void>): Promise<void> {
    return this.serial(step).catch((err: Error) => this.fail(err));
  }

  private fail(err: Error): void {
    if (!this.closed) this.errors.push(err);
  }
}
