import { deflateSync } from 'node:zlib';
import { io, type Socket } from 'socket.io-client';
import {
  MediaStreamTrack,
  RTCPeerConnection,
  type RTCDataChannel,
  useOPUS,
  useSdesMid,
  useSdesRTPStreamId,
  useVP8,
} from 'werift';
import type { AudioRole, BenchParticipant, StageTimes } from './bench-participant';
import type { CameraRecording } from './camera-recording';
import { CameraReplay } from './camera-replay';
import { skipSrtpDecryption } from './clear-rtp';
import { OpusPacer } from './opus-pacer';
import { StreamCounter } from './rtp';

type ServerSignal =
  | { type: 'offer' | 'answer'; sdp: string }
  | { type: 'candidate'; candidate: { candidate: string; sdpMid?: string; sdpMLineIndex?: number } }
  | { type: string };

interface SignalEnvelope {
  data: { connID?: string; data?: string };
}

const EVENT = (short: string) => `custom_com.mattermost.calls_${short}`;

/**
 * A cheap real WebRTC participant for load tests: a werift peer connection (ICE, DTLS, SRTP,
 * SCTP in TypeScript, no codecs) signaling through the calls gateway over socket.io exactly like
 * a Mattermost client: `join`, then the first offer (data channel, plus one sendonly audio
 * transceiver unless the role is `none`) as zlib JSON bytes in `sdp`, trickled `ice`, and the
 * server's `signal` events for its connection (answers; server offers it answers as the polite
 * peer). Received RTP is counted per SSRC. (A werift recvonly audio transceiver is not offered:
 * werift 0.24.4 then fails on the server's next offer with "Transceiver with mid=0 not found".)
 * With a camera, a sendonly video section too, announced and replayed by {@link CameraReplay};
 * with `offerVideo`, an idle one. Either shows the server the video codecs and header extensions
 * the peer takes (mid and rid only: no transport-wide CC or abs-send-time, so the server's
 * consumers run no bandwidth estimation; werift has no usable transport-wide CC receiver).
 */
export class WeriftParticipant implements BenchParticipant {
  readonly times: StageTimes = {};
  readonly received = new StreamCounter();
  readonly errors: string[] = [];
  private socket!: Socket;
  private connectionId = '';
  private pc!: RTCPeerConnection;
  private track: MediaStreamTrack | null = null;
  private offerSdp = '';
  private joined = false;
  private readonly pendingCandidates: string[] = [];
  private chain: Promise<void> = Promise.resolve();
  private joinStart = 0;
  /** When `join` was sent, in epoch ms with sub-ms precision (comparable across processes). */
  joinSentAt = 0;
  private readonly pacer = new OpusPacer();
  private dataChannel: RTCDataChannel | null = null;
  /** The replayed camera (`options.camera`); sends once {@link setSending} turns video on. */
  readonly camera: CameraReplay | null;
  private sending = { audio: true, video: false };

  /**
   * @param options.decrypt false: received SRTP is counted from its clear RTP header and never
   *   decrypted ({@link skipSrtpDecryption}; a listener of a large load test)
   * @param options.camera a recorded camera to offer (simulcast) and replay
   * @param options.offerVideo offer a video section that sends nothing (see above)
   */
  constructor(
    private readonly url: string,
    private readonly token: string,
    readonly role: AudioRole,
    private readonly options: {
      decrypt?: boolean;
      camera?: CameraRecording;
      offerVideo?: boolean;
    } = {},
  ) {
    this.camera = options.camera ? new CameraReplay(options.camera) : null;
  }

  /** The gateway's connection id (the session id once joined). */
  get sessionId(): string {
    return this.connectionId;
  }

  get sent(): number {
    return this.pacer.sent + (this.camera?.sent ?? 0);
  }

  /** Whether the peer connection is connected (ICE + DTLS). */
  get isConnected(): boolean {
    return this.pc?.connectionState === 'connected';
  }

  /** Connects the socket (resolves on `hello`). */
  async connect(): Promise<void> {
    this.socket = io(`${this.url}/calls`, {
      transports: ['websocket'],
      auth: { token: this.token },
      reconnection: false,
      forceNew: true,
    });
    await new Promise<void>((resolve, reject) => {
      this.socket.once('connect_error', reject);
      this.socket.once('hello', (payload: { data: { connection_id: string } }) => {
        this.connectionId = payload.data.connection_id;
        resolve();
      });
    });
    this.socket.on(EVENT('signal'), (envelope: SignalEnvelope) => {
      if (envelope.data.connID !== this.connectionId || !envelope.data.data) return;
      const signal = JSON.parse(envelope.data.data) as ServerSignal;
      this.serial(() => this.onSignal(signal));
    });
  }

  /** Makes the peer connection and its first offer (before joining: client work is not timed). */
  async prepare(): Promise<void> {
    // No ICE servers: loopback only (werift's default names a public STUN server).
    this.pc = new RTCPeerConnection({
      iceServers: [],
      bundlePolicy: 'max-bundle',
      ...(this.camera || this.options.offerVideo
        ? {
            // Chrome's payload types: werift's own (Opus 96) would take the number the server's
            // VP8 consumers use, and the server would then forward no camera to this peer.
            codecs: {
              audio: [useOPUS({ payloadType: 111 })],
              video: [useVP8({ payloadType: 96 })],
            },
            headerExtensions: { audio: [], video: [useSdesMid(), useSdesRTPStreamId()] },
          }
        : {}),
    });
    this.pc.onIceCandidate.subscribe((c) => {
      if (!c?.candidate) return;
      const json = JSON.stringify({
        candidate: c.candidate,
        sdpMid: c.sdpMid,
        sdpMLineIndex: c.sdpMLineIndex,
      });
      // Not awaited: a candidate still unacknowledged when the peer closes must not end the
      // process (socket.io rejects pending acks on disconnect).
      if (this.joined)
        this.sendCandidate(json).catch((err: Error) => this.errors.push(err.message));
      else this.pendingCandidates.push(json);
    });
    this.pc.connectionStateChange.subscribe((state) => {
      if (state !== 'connected') return;
      this.times.connected ??= this.elapsed();
      if (this.options.decrypt === false) skipSrtpDecryption(this.pc);
    });
    this.pc.onTrack.subscribe((track) => {
      track.onReceiveRtp.subscribe((rtp) => {
        this.times.firstMedia ??= this.elapsed();
        this.received.add(
          rtp.header.ssrc,
          rtp.header.sequenceNumber,
          rtp.header.payloadOffset + rtp.payload.length,
        );
      });
    });
    this.dataChannel = this.pc.createDataChannel('calls-dc');
    if (this.role !== 'none') {
      this.track = new MediaStreamTrack({ kind: 'audio' });
      this.pc.addTransceiver(this.track, { direction: 'sendonly' });
    }
    if (this.camera || this.options.offerVideo) {
      this.pc.addTransceiver(new MediaStreamTrack({ kind: 'video' }), { direction: 'sendonly' });
    }
    await this.pc.setLocalDescription(await this.pc.createOffer());
    this.offerSdp = this.describe(this.pc.localDescription?.sdp ?? '');
    if (this.options.decrypt === false) skipSrtpDecryption(this.pc);
  }

  /** Round trip of an acknowledged no-op action (`metric`) through the gateway, in ms. */
  async ackRoundTrip(): Promise<number> {
    const t0 = performance.now();
    await this.socket.timeout(30_000).emitWithAck(EVENT('metric'), { metric_name: 'bench_ping' });
    return performance.now() - t0;
  }

  /** Sends `join`, then the prepared offer and candidates; stage times count from here. */
  async join(channelId: string, options: { unmute?: boolean } = {}): Promise<void> {
    this.joinStart = performance.now();
    this.joinSentAt = performance.timeOrigin + this.joinStart;
    const ack = (await this.socket
      .timeout(60_000)
      .emitWithAck(EVENT('join'), { channelID: channelId })) as { ok: boolean };
    if (!ack.ok) throw new Error(`join refused: ${JSON.stringify(ack)}`);
    this.times.ack = this.elapsed();
    this.times.offerSent = this.elapsed();
    await this.sendDescription({ type: 'offer', sdp: this.offerSdp });
    this.joined = true;
    for (const c of this.pendingCandidates.splice(0)) await this.sendCandidate(c);
    if (options.unmute) await this.socket.timeout(30_000).emitWithAck(EVENT('unmute'));
  }

  /**
   * Sends the packets due (see {@link OpusPacer}, {@link CameraReplay}) once connected: a
   * speaker's voice, a camera's video, each while {@link setSending} has it on.
   */
  sendDue(now: number, maxBurst = 3): void {
    if (!this.isConnected) return;
    const track = this.track;
    if (this.role === 'speaker' && track && this.sending.audio)
      this.pacer.sendDue(now, maxBurst, (packet) => track.writeRtp(packet));
    const dtls = this.pc.dtlsTransports[0];
    if (this.camera && this.sending.video && dtls) this.camera.sendDue(now, dtls);
  }

  /** Which media {@link sendDue} sends (default: audio only). */
  setSending(sending: { audio: boolean; video: boolean }): void {
    this.sending = { ...sending };
  }

  /** `video_on` naming the camera's MediaStream (acknowledged), or `video_off`. */
  async setVideo(on: boolean): Promise<void> {
    if (!this.camera) throw new Error('no camera');
    const ack = (await (on
      ? this.socket.timeout(30_000).emitWithAck(EVENT('video_on'), {
          data: JSON.stringify({ videoStreamID: this.camera.streamId }),
        })
      : this.socket.timeout(30_000).emitWithAck(EVENT('video_off')))) as { ok: boolean };
    if (!ack.ok) throw new Error(`video ${on ? 'on' : 'off'} refused: ${JSON.stringify(ack)}`);
  }

  /**
   * `track_settings` (this server's extension): how this participant wants `sessionId`'s camera,
   * e.g. `{ quality: 'low' }` or `{ width: 320, height: 180 }`.
   */
  async trackSettings(sessionId: string, settings: Record<string, unknown>): Promise<void> {
    const ack = (await this.socket.timeout(30_000).emitWithAck(EVENT('track_settings'), {
      data: JSON.stringify({ session_id: sessionId, type: 'video', ...settings }),
    })) as { ok: boolean };
    if (!ack.ok) throw new Error(`track_settings refused: ${JSON.stringify(ack)}`);
  }

  /** Sends `leave` (acknowledged), then closes. */
  async leave(): Promise<void> {
    if (this.joined && this.socket?.connected) {
      await this.socket
        .timeout(30_000)
        .emitWithAck(EVENT('leave'))
        .catch(() => undefined);
    }
    await this.close();
  }

  async close(): Promise<void> {
    this.socket?.disconnect();
    this.dataChannel?.close();
    await this.pc?.close().catch(() => undefined);
  }

  private elapsed(): number {
    return performance.now() - this.joinStart;
  }

  private async onSignal(signal: ServerSignal): Promise<void> {
    if (signal.type === 'candidate' && 'candidate' in signal) {
      await this.pc.addIceCandidate(signal.candidate).catch(() => undefined);
      return;
    }
    if ((signal.type !== 'offer' && signal.type !== 'answer') || !('sdp' in signal)) return;
    if (signal.type === 'answer') {
      this.times.answer ??= this.elapsed();
      this.pacer.useAnswer(signal.sdp);
      await this.pc.setRemoteDescription({ type: 'answer', sdp: this.fromServer(signal.sdp) });
      return;
    }
    await this.pc.setRemoteDescription({ type: 'offer', sdp: this.fromServer(signal.sdp) });
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    await this.sendDescription({
      type: 'answer',
      sdp: this.describe(this.pc.localDescription?.sdp ?? ''),
    });
  }

  /** Our description as sent: with a camera, its section as a browser describes it. */
  private describe(sdp: string): string {
    return this.camera ? this.camera.describe(sdp) : sdp;
  }

  /** The server's description as werift takes it (see {@link CameraReplay.fromServer}). */
  private fromServer(sdp: string): string {
    return this.camera ? this.camera.fromServer(sdp) : sdp;
  }

  private async sendDescription(description: { type: string; sdp: string }): Promise<void> {
    const ack = (await this.socket.timeout(60_000).emitWithAck(EVENT('sdp'), {
      data: deflateSync(Buffer.from(JSON.stringify(description))),
    })) as { ok: boolean };
    if (!ack.ok) throw new Error(`sdp refused: ${JSON.stringify(ack)}`);
  }

  private async sendCandidate(json: string): Promise<void> {
    await this.socket.timeout(60_000).emitWithAck(EVENT('ice'), { data: json });
  }

  private serial(step: () => Promise<void>): void {
    this.chain = this.chain.then(step).catch((err: Error) => {
      this.errors.push(err.message);
    });
  }
}
