import type { StatsEntry } from './quality';

/** A `signal` the server sends (`signal.data`, parsed). */
export type ServerSignal =
  | { type: 'offer' | 'answer'; sdp: string }
  | { type: 'candidate'; candidate: RTCIceCandidateInit }
  | { type: 'ice-state' | 'connection-state'; state?: string };

/** Where the peer sends its descriptions and candidates (the `sdp` and `ice` actions). */
export interface PeerSignaling {
  description(description: RTCSessionDescriptionInit): Promise<void>;
  candidate(candidate: RTCIceCandidateInit): Promise<void>;
}

/**
 * Whose a remote track is: the server names the stream of each `<type>_<sender's session>`
 * (`voice`, `screen`, `video` for a camera); type and session are '' for any other name.
 */
export interface RemoteOrigin {
  type: string;
  sessionId: string;
}

/** The origin of a remote stream by its id. */
export function originOf(streamId: string | undefined): RemoteOrigin {
  const cut = streamId?.indexOf('_') ?? -1;
  if (!streamId || cut <= 0) return { type: '', sessionId: '' };
  return { type: streamId.slice(0, cut), sessionId: streamId.slice(cut + 1) };
}

/** What the peer reports. */
export interface PeerObserver {
  state(state: RTCPeerConnectionState): void;
  remoteTrack(track: MediaStreamTrack, origin: RemoteOrigin): void;
  remoteTrackGone(track: MediaStreamTrack): void;
  roundTrip(ms: number): void;
  /** The local screen share ended outside the page (the browser's "Stop sharing"). */
  screenEnded(): void;
  /** The camera stopped outside the page (unplugged, taken away). */
  cameraEnded(): void;
  problem(message: string, err?: unknown): void;
}

const PING_INTERVAL_MS = 2000;

/**
 * The page's one RTCPeerConnection, speaking Mattermost's RTCPeer protocol: the page offers first
 * (the `calls-dc` data channel triggers it), the server's later offers are always accepted (the
 * page is the polite peer), the microphone is added on the first unmute and then only replaced,
 * and the screen and the camera are send-only video transceivers.
 */
export class CallsPeer {
  readonly pc: RTCPeerConnection;
  private readonly dc: RTCDataChannel;
  private readonly pingTimer: ReturnType<typeof setInterval>;
  private readonly remote = new Set<MediaStreamTrack>();
  private work: Promise<void> = Promise.resolve();
  private pendingCandidates: RTCIceCandidateInit[] = [];
  private mic: { track: MediaStreamTrack; sender: RTCRtpSender } | null = null;
  private screen: { stream: MediaStream; sender: RTCRtpSender } | null = null;
  private camera: { stream: MediaStream; sender: RTCRtpSender } | null = null;
  private pingSentAt = 0;
  private closed = false;
  /** The chosen microphone ('' = the system default). */
  private microphoneId = '';

  constructor(
    iceServers: RTCIceServer[],
    private readonly signaling: PeerSignaling,
    private readonly observer: PeerObserver,
  ) {
    const pc = new RTCPeerConnection({ iceServers });
    this.pc = pc;
    pc.onnegotiationneeded = () => this.serially('creating an offer', () => this.offer());
    pc.onicecandidate = ({ candidate }) => {
      // Empty candidates mark the end of gathering; the server does not need them.
      if (!candidate?.candidate) return;
      this.signaling
        .candidate(candidate.toJSON())
        .catch((err: unknown) => this.report('sending a network candidate failed', err));
    };
    pc.onconnectionstatechange = () => this.observer.state(pc.connectionState);
    pc.ontrack = (ev) => this.onTrack(ev.track, ev.streams);
    this.dc = pc.createDataChannel('calls-dc');
    this.dc.onmessage = (ev: MessageEvent) => {
      if (ev.data === 'pong' && this.pingSentAt > 0) {
        this.observer.roundTrip(performance.now() - this.pingSentAt);
        this.pingSentAt = 0;
      }
    };
    this.pingTimer = setInterval(() => {
      if (this.dc.readyState !== 'open') return;
      this.pingSentAt = performance.now();
      this.dc.send('ping');
    }, PING_INTERVAL_MS);
  }

  /** Applies a server signal (in arrival order, one at a time). */
  signal(signal: ServerSignal): void {
    this.serially(`applying the server's ${signal.type}`, () => this.apply(signal));
  }

  /** Turns the microphone on or off; the first "on" asks for the device and adds the track. */
  async setMicrophone(on: boolean): Promise<void> {
    if (on && !this.mic) {
      const { track, stream } = await this.openMicrophone();
      if (this.closed) {
        track.stop();
        return;
      }
      this.mic = { track, sender: this.pc.addTrack(track, stream) };
      return;
    }
    if (!this.mic) return;
    // Mattermost mutes without renegotiation: the sender just stops sending.
    this.mic.track.enabled = on;
    await this.mic.sender.replaceTrack(on ? this.mic.track : null);
  }

  /**
   * Uses another microphone: from the next unmute, or at once when the microphone is in use (the
   * new track replaces the old one in the same sender: no renegotiation, muted stays muted).
   */
  async useMicrophone(deviceId: string): Promise<void> {
    this.microphoneId = deviceId;
    const mic = this.mic;
    if (!mic) return;
    const { track } = await this.openMicrophone();
    if (this.closed || this.mic !== mic) {
      track.stop();
      return;
    }
    const on = mic.track.enabled;
    track.enabled = on;
    await mic.sender.replaceTrack(on ? track : null);
    mic.track.onended = null;
    mic.track.stop();
    mic.track = track;
  }

  /** The microphone in use, as the browser reports it. */
  get microphone(): { deviceId: string; label: string } | null {
    if (!this.mic) return null;
    return { deviceId: this.mic.track.getSettings().deviceId ?? '', label: this.mic.track.label };
  }

  /** The peer connection's statistics as plain entries. */
  async stats(): Promise<StatsEntry[]> {
    const report = await this.pc.getStats();
    const entries: StatsEntry[] = [];
    report.forEach((entry: StatsEntry) => entries.push(entry));
    return entries;
  }

  /** The receiving transceivers' mids by their track's id. */
  midsByTrack(): Map<string, string> {
    const out = new Map<string, string>();
    for (const t of this.pc.getTransceivers()) if (t.mid) out.set(t.receiver.track.id, t.mid);
    return out;
  }

  /** Starts sending a screen capture (the caller has already told the server `screen_on`). */
  startScreen(stream: MediaStream): void {
    const track = stream.getVideoTracks()[0];
    if (!track) throw new Error('the screen capture has no video');
    track.contentHint = 'detail';
    track.onended = () => this.observer.screenEnded();
    const transceiver = this.pc.addTransceiver(track, {
      direction: 'sendonly',
      streams: [stream],
      sendEncodings: [{ maxBitrate: 1_000_000, maxFramerate: 10 }],
    });
    this.screen = { stream, sender: transceiver.sender };
  }

  /** Stops sending the screen (renegotiates the track away). */
  stopScreen(): void {
    if (!this.screen) return;
    const { stream, sender } = this.screen;
    this.screen = null;
    this.stopSending(stream, sender);
  }

  /** Starts sending a camera (the caller has already told the server `video_on`). */
  startCamera(stream: MediaStream): void {
    const track = stream.getVideoTracks()[0];
    if (!track) throw new Error('the camera gave no video');
    track.contentHint = 'motion';
    track.onended = () => this.observer.cameraEnded();
    const transceiver = this.pc.addTransceiver(track, {
      direction: 'sendonly',
      streams: [stream],
      sendEncodings: [{ maxBitrate: 800_000, maxFramerate: 15 }],
    });
    this.camera = { stream, sender: transceiver.sender };
  }

  /** Stops sending the camera (renegotiates the track away; the camera is released). */
  stopCamera(): void {
    if (!this.camera) return;
    const { stream, sender } = this.camera;
    this.camera = null;
    this.stopSending(stream, sender);
  }

  /** True while the page sends its camera. */
  get cameraOn(): boolean {
    return this.camera !== null;
  }

  /** The local camera (for this page's own tile). */
  get cameraStream(): MediaStream | null {
    return this.camera?.stream ?? null;
  }

  private stopSending(stream: MediaStream, sender: RTCRtpSender): void {
    stream.getTracks().forEach((t) => {
      t.onended = null;
      t.stop();
    });
    if (this.pc.signalingState !== 'closed') this.pc.removeTrack(sender);
  }

  /** True while the page sends its screen. */
  get sharingScreen(): boolean {
    return this.screen !== null;
  }

  /** The local screen capture (for a preview). */
  get screenStream(): MediaStream | null {
    return this.screen?.stream ?? null;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.pingTimer);
    this.mic?.track.stop();
    this.screen?.stream.getTracks().forEach((t) => t.stop());
    this.camera?.stream.getTracks().forEach((t) => t.stop());
    this.mic = null;
    this.screen = null;
    this.camera = null;
    for (const track of [...this.remote]) this.dropRemote(track);
    this.pc.onnegotiationneeded = null;
    this.pc.onicecandidate = null;
    this.pc.onconnectionstatechange = null;
    this.pc.ontrack = null;
    this.dc.close();
    this.pc.close();
  }

  private async openMicrophone(): Promise<{ track: MediaStreamTrack; stream: MediaStream }> {
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: {
        echoCancellation: true,
        noiseSuppression: true,
        autoGainControl: true,
        ...(this.microphoneId ? { deviceId: { exact: this.microphoneId } } : {}),
      },
      video: false,
    });
    const track = stream.getAudioTracks()[0];
    if (!track) throw new Error('the browser gave no microphone track');
    track.onended = () => this.report(`The microphone stopped (${track.label || 'unplugged?'})`);
    return { track, stream };
  }

  private async offer(): Promise<void> {
    // Not stable: a negotiation is under way; the browser asks again once it is done.
    if (this.closed || this.pc.signalingState !== 'stable') return;
    await this.pc.setLocalDescription();
    this.send(this.pc.localDescription);
  }

  private async apply(signal: ServerSignal): Promise<void> {
    if (this.closed) return;
    switch (signal.type) {
      case 'offer':
        // The polite peer: a server offer wins over one of ours (the browser rolls ours back).
        await this.setRemote(signal);
        await this.flushCandidates();
        await this.pc.setLocalDescription();
        this.send(this.pc.localDescription);
        this.forgetStoppedTracks();
        return;
      case 'answer':
        if (this.pc.signalingState !== 'have-local-offer') {
          console.warn(`calls: answer ignored in signaling state ${this.pc.signalingState}`);
          return;
        }
        await this.setRemote(signal);
        await this.flushCandidates();
        this.forgetStoppedTracks();
        return;
      case 'candidate':
        if (!this.pc.remoteDescription) {
          this.pendingCandidates.push(signal.candidate);
          return;
        }
        await this.addCandidate(signal.candidate);
        return;
      default:
        return;
    }
  }

  private async setRemote(description: { type: 'offer' | 'answer'; sdp: string }): Promise<void> {
    try {
      await this.pc.setRemoteDescription(description);
    } catch (err) {
      // Keep the refused description (and our offer it answers) for whoever debugs the server.
      console.error(`calls: the server's ${description.type} was refused:\n${description.sdp}`);
      if (description.type === 'answer') {
        console.error(`calls: our offer was:\n${this.pc.localDescription?.sdp ?? ''}`);
      }
      throw err;
    }
  }

  private send(description: RTCSessionDescription | null): void {
    if (!description) return;
    this.signaling
      .description({ type: description.type, sdp: description.sdp })
      .catch((err: unknown) => this.report(`sending the ${description.type} failed`, err));
  }

  private async flushCandidates(): Promise<void> {
    const queued = this.pendingCandidates;
    this.pendingCandidates = [];
    for (const candidate of queued) await this.addCandidate(candidate);
  }

  private async addCandidate(candidate: RTCIceCandidateInit): Promise<void> {
    try {
      await this.pc.addIceCandidate(candidate);
    } catch (err) {
      console.warn('calls: a server ICE candidate was rejected', candidate, err);
    }
  }

  private onTrack(track: MediaStreamTrack, streams: readonly MediaStream[]): void {
    this.remote.add(track);
    track.onended = () => this.dropRemote(track);
    for (const stream of streams) {
      stream.addEventListener('removetrack', (ev) => {
        if (ev.track === track) this.dropRemote(track);
      });
    }
    this.observer.remoteTrack(track, originOf(streams[0]?.id));
  }

  /** Remote tracks whose transceiver no longer receives (the server renegotiated them away). */
  private forgetStoppedTracks(): void {
    const receiving = new Set(
      this.pc
        .getTransceivers()
        .filter((t) => t.currentDirection === 'recvonly' || t.currentDirection === 'sendrecv')
        .map((t) => t.receiver.track),
    );
    for (const track of [...this.remote]) if (!receiving.has(track)) this.dropRemote(track);
  }

  private dropRemote(track: MediaStreamTrack): void {
    if (!this.remote.delete(track)) return;
    this.observer.remoteTrackGone(track);
  }

  private serially(what: string, step: () => Promise<void>): void {
    this.work = this.work
      .then(step)
      .catch((err: unknown) => this.report(`Media negotiation failed (${what})`, err));
  }

  private report(message: string, err?: unknown): void {
    if (!this.closed) this.observer.problem(message, err);
  }
}
