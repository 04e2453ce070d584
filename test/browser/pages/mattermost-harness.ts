/**
 * Runs in the test page: the stock Mattermost client's `RTCPeer` (@mattermost/calls-common, the
 * code Mattermost's web, desktop and mobile clients run) with the browser's WebRTC, behind
 * `window.__mm`. Its signaling goes through `window.__mmSend` to a socket.io client in the test
 * process (test/browser/mattermost-page.ts), as the Mattermost web app wires it to its calls
 * WebSocket. Bundled by esbuild at test start.
 */
import { RTCPeer } from '@mattermost/calls-common';

/** One inbound RTP stream's counters. */
export interface InboundStats {
  readonly kind: string;
  readonly bytes: number;
  readonly packets: number;
  readonly audioLevel: number;
  readonly frames: number;
  /** The receiving track's id (the server's label: `<type>_<sender session>_<hex>`). */
  readonly trackId: string;
  /** Video: the size of the frames received now. */
  readonly width: number;
  readonly height: number;
}

declare global {
  interface Window {
    __mm: MattermostHarness;
    /** To the test process: `sdp` (JSON of a description) or `ice` (JSON of a candidate). */
    __mmSend(kind: 'sdp' | 'ice', data: string): Promise<void>;
  }
}

const quiet = (): void => undefined;

class MattermostHarness {
  peer: RTCPeer | null = null;
  readonly problems: string[] = [];
  private screen: MediaStream | null = null;
  private camera: MediaStream | null = null;

  /** Creates the peer (its data channel makes it offer at once). */
  start(): void {
    const peer = new RTCPeer({
      iceServers: [],
      connTimeoutMs: 15_000,
      logger: {
        logDebug: quiet,
        logInfo: quiet,
        logWarn: (...args: unknown[]) => this.problems.push(args.map(String).join(' ')),
        logErr: (...args: unknown[]) => this.problems.push(args.map(String).join(' ')),
      },
    });
    const send = (kind: 'sdp' | 'ice') => (data: unknown) =>
      void window.__mmSend(kind, JSON.stringify(data));
    peer.on('offer', send('sdp'));
    peer.on('answer', send('sdp'));
    peer.on('candidate', send('ice'));
    peer.on('stream', (stream: MediaStream) => {
      if (stream.getAudioTracks().length === 0) return;
      const audio = document.createElement('audio');
      audio.srcObject = stream;
      audio.autoplay = true;
      document.body.appendChild(audio);
    });
    peer.on('error', (err: unknown) => this.problems.push(`error: ${String(err)}`));
    this.peer = peer;
  }

  /** A server signal (`signal.data`, a JSON string). */
  async signal(data: string): Promise<void> {
    await this.peer?.signal(data);
  }

  /** Adds the fake microphone, as the first unmute does. */
  async addMicrophone(): Promise<void> {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    this.peer?.addStream(stream);
  }

  /** Captures the fake screen; returns its stream id (for `screen_on`) before it is sent. */
  async captureScreen(): Promise<string> {
    this.screen = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    return this.screen.id;
  }

  /** Sends the captured screen. */
  sendScreen(): void {
    if (this.screen) this.peer?.addStream(this.screen);
  }

  /** Captures the fake camera (640×360, 15 fps); returns its stream id (for `video_on`). */
  async captureCamera(): Promise<string> {
    this.camera = await navigator.mediaDevices.getUserMedia({
      video: { width: 640, height: 360, frameRate: 15 },
    });
    return this.camera.id;
  }

  /** Sends the captured camera. */
  sendCamera(): void {
    if (this.camera) this.peer?.addStream(this.camera);
  }

  /** Stops sending the camera (its transceiver stops, as the web app's camera off does). */
  stopCamera(): void {
    for (const track of this.camera?.getTracks() ?? []) {
      this.peer?.removeTrack(track.id);
      track.stop();
    }
    this.camera = null;
  }

  /** Inbound RTP streams of the peer connection. */
  async inbound(): Promise<InboundStats[]> {
    const out: InboundStats[] = [];
    const report = await this.peer?.getStats();
    report?.forEach((s: Record<string, unknown>) => {
      if (s.type !== 'inbound-rtp') return;
      out.push({
        kind: String(s.kind),
        bytes: Number(s.bytesReceived ?? 0),
        packets: Number(s.packetsReceived ?? 0),
        audioLevel: Number(s.audioLevel ?? 0),
        frames: Number(s.framesDecoded ?? 0),
        trackId: typeof s.trackIdentifier === 'string' ? s.trackIdentifier : '',
        width: Number(s.frameWidth ?? 0),
        height: Number(s.frameHeight ?? 0),
      });
    });
    return out;
  }

  close(): void {
    this.peer?.destroy();
  }
}

window.__mm = new MattermostHarness();
