import { clientConfig } from './api';
import {
  CallSession,
  QUALITY_INTERVAL_MS,
  type ConnectionState,
  type ConnectionTrouble,
  type Emoji,
  type SessionOptions,
  type SessionView,
  type VideoFeed,
} from './call-session';
import { CallsPeer, type RemoteOrigin, type ServerSignal } from './calls-peer';
import { ActionError, CallsSocket, type Envelope } from './calls-socket';
import { mattermostCameraFeed } from './mattermost-video';
import { deviceProblem, messageOf, pickerClosed } from './problems';
import {
  ownQuality,
  remoteQualities,
  streamsByMid,
  type Counters,
  type StatsEntry,
} from './quality';

const HELLO_TIMEOUT_MS = 10_000;
const MEDIA_TIMEOUT_MS = 20_000;
const RECONNECT_GIVE_UP_MS = 30_000;

/** What the camera is asked for: the size a Mattermost client receives a camera at by default. */
const CAMERA: MediaTrackConstraints = {
  width: { ideal: 640 },
  height: { ideal: 360 },
  frameRate: { ideal: 15, max: 30 },
};

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** A screen share received (shown at the server's top layer: no size is asked for). */
function screenFeed(track: MediaStreamTrack, sessionId: string): VideoFeed {
  return {
    sessionId,
    source: 'screen',
    track,
    attach: (el) => {
      el.srcObject = new MediaStream([track]);
    },
    detach: (el) => {
      el.srcObject = null;
    },
  };
}

/** The `sdp` action's data: zlib-deflated JSON as Mattermost sends it (plain JSON text without CompressionStream). */
async function encodeDescription(
  description: RTCSessionDescriptionInit,
): Promise<Uint8Array | string> {
  const json = JSON.stringify({ type: description.type, sdp: description.sdp });
  if (typeof CompressionStream === 'undefined') return json;
  const deflated = new Blob([json]).stream().pipeThrough(new CompressionStream('deflate'));
  return new Uint8Array(await new Response(deflated).arrayBuffer());
}

function parseSignal(data: unknown): ServerSignal | null {
  if (typeof data !== 'string') return null;
  const signal = JSON.parse(data) as { type?: unknown; sdp?: unknown; candidate?: unknown };
  if ((signal.type === 'offer' || signal.type === 'answer') && typeof signal.sdp === 'string') {
    return { type: signal.type, sdp: signal.sdp };
  }
  if (signal.type === 'candidate' && typeof signal.candidate === 'object' && signal.candidate) {
    return { type: 'candidate', candidate: signal.candidate };
  }
  return null;
}

/**
 * One person in one call over Mattermost's calls protocol: the calls socket (join, actions,
 * reconnect with the same session), the peer connection, and the call model fed by the server's
 * events.
 */
export class MattermostSession extends CallSession {
  readonly protocol = 'mattermost';
  peer: CallsPeer | null = null;
  private readonly socket: CallsSocket;
  /** From the plugin's config (fetched at join). */
  private iceServers: RTCIceServer[] = [];
  private linked = false;
  private waiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private prevConnId = '';
  private pcState: RTCPeerConnectionState = 'new';
  private everConnected = false;
  private failed = false;
  private over = false;
  private leaving = false;
  private mediaTimer: ReturnType<typeof setTimeout> | null = null;
  private giveUpTimer: ReturnType<typeof setTimeout> | null = null;
  private qualityTimer: ReturnType<typeof setInterval> | null = null;
  private readonly counters = new Map<string, Counters>();
  private helloWaiter: { resolve: () => void; reject: (e: Error) => void } | null = null;
  /** The remote videos by their track. */
  private readonly feeds = new Map<MediaStreamTrack, VideoFeed>();

  private constructor(options: SessionOptions, view: SessionView) {
    super(options, view);
    this.socket = new CallsSocket(options.token, {
      hello: (_id, first) => (first ? this.helloWaiter?.resolve() : void this.resume()),
      event: (name, data, envelope) => this.onEvent(name, data, envelope),
      down: () => this.onDown(),
      refused: (err) => {
        const message = `the server refused the connection (${err.message})`;
        if (this.helloWaiter) this.helloWaiter.reject(new Error(message));
        else this.fail(message);
      },
    });
  }

  /** Connects, joins the channel's call and starts the media connection. */
  static async join(options: SessionOptions, view: SessionView): Promise<MattermostSession> {
    const session = new MattermostSession(options, view);
    // Waited for from now on: the server's hello may come while the config is being fetched.
    const hello = session.firstHello();
    hello.catch(() => undefined); // awaited below; the config may fail first
    view.state('connecting', null);
    try {
      const config = await clientConfig(options.token);
      session.iceServers = config.iceServers;
      session.videoEnabled = config.enableVideo;
      session.maxCameras = config.maxCallCameras;
      await hello;
      const ack = await session.socket.send('join', { channelID: options.channel });
      session.sessionId = str(ack.connID) || session.socket.connectionId;
      session.prevConnId = session.socket.connectionId;
      session.linked = true;
      session.startMedia();
      return session;
    } catch (err) {
      session.over = true;
      session.socket.close();
      view.state('idle', null);
      throw err;
    }
  }

  get sharingScreen(): boolean {
    return this.peer?.sharingScreen ?? false;
  }

  get screenStream(): MediaStream | null {
    return this.peer?.screenStream ?? null;
  }

  get microphone(): { deviceId: string; label: string } | null {
    return this.peer?.microphone ?? null;
  }

  get cameraOn(): boolean {
    return this.peer?.cameraOn ?? false;
  }

  get cameraStream(): MediaStream | null {
    return this.peer?.cameraStream ?? null;
  }

  /** On: asks the browser for the camera, tells the server (`video_on`), then sends it. */
  async setCamera(on: boolean): Promise<void> {
    const peer = this.peer;
    if (!peer || peer.cameraOn === on) return;
    if (!on) {
      peer.stopCamera();
      this.view.changed();
      await this.action('video_off');
      return;
    }
    this.checkCameraAllowed();
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: CAMERA, audio: false });
    } catch (err) {
      throw new Error(`The camera cannot be used: ${deviceProblem(err)}`);
    }
    try {
      await this.action('video_on', { data: JSON.stringify({ videoStreamID: stream.id }) });
      if (!this.peer) throw new Error('the call is over');
      this.peer.startCamera(stream);
    } catch (err) {
      stream.getTracks().forEach((t) => t.stop());
      if (err instanceof ActionError && err.code === 'video_unavailable') {
        throw new Error(`The camera cannot be turned on: ${err.message}.`);
      }
      throw err;
    }
    this.view.changed();
  }

  /** Mutes or unmutes; the first unmute asks for the microphone. */
  async setMuted(muted: boolean): Promise<void> {
    if (!this.peer) return;
    try {
      await this.peer.setMicrophone(!muted);
    } catch (err) {
      throw new Error(`The microphone cannot be used: ${deviceProblem(err)}`);
    }
    this.muted = muted;
    this.view.changed();
    await this.action(muted ? 'mute' : 'unmute');
  }

  /** Switches to another microphone ('' = the system default). */
  async useMicrophone(deviceId: string): Promise<void> {
    this.options.microphoneId = deviceId;
    try {
      await this.peer?.useMicrophone(deviceId);
    } catch (err) {
      throw new Error(`That microphone cannot be used: ${deviceProblem(err)}`);
    }
    this.view.changed();
  }

  async setHand(raised: boolean): Promise<void> {
    await this.action(raised ? 'raise_hand' : 'unraise_hand');
  }

  async react(emoji: Emoji): Promise<void> {
    await this.action('react', { data: JSON.stringify(emoji) });
  }

  /** Asks the browser for a screen, tells the server, then sends it. */
  async startScreen(): Promise<void> {
    if (!this.peer || this.peer.sharingScreen) return;
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getDisplayMedia({
        video: { frameRate: { ideal: 10, max: 15 } },
        audio: false,
      });
    } catch (err) {
      if (pickerClosed(err)) {
        this.view.notice('Screen sharing was not started.');
        return;
      }
      throw new Error(`The screen cannot be shared: ${deviceProblem(err)}`);
    }
    try {
      await this.action('screen_on', { data: JSON.stringify({ screenStreamID: stream.id }) });
      if (!this.peer) throw new Error('the call is over');
      this.peer.startScreen(stream);
    } catch (err) {
      stream.getTracks().forEach((t) => t.stop());
      throw err;
    }
    this.view.changed();
  }

  async stopScreen(): Promise<void> {
    if (!this.peer?.sharingScreen) return;
    this.peer.stopScreen();
    this.view.changed();
    await this.action('screen_off');
  }

  /** Leaves the call (waits for the server to confirm, briefly). */
  async leave(): Promise<void> {
    if (this.over) return;
    // The server's user_left for this session may arrive before the acknowledgement.
    this.leaving = true;
    try {
      if (this.linked) await this.socket.send('leave');
    } finally {
      this.finish();
      this.view.state('idle', null);
      this.view.ended();
    }
  }

  /** The page is going away: leave without waiting. */
  abandon(): void {
    if (this.over) return;
    this.socket.fire('leave');
    this.finish();
  }

  /** Test hook: sends a raw action of this session (the UI state is not touched). */
  rawAction(type: string, data?: unknown): Promise<Record<string, unknown>> {
    return this.action(type, data);
  }

  stats(): Promise<StatsEntry[]> {
    return this.peer?.stats() ?? Promise.resolve([]);
  }

  /** Test hook: drops the socket's transport (socket.io reconnects, the session resumes). */
  dropConnection(): void {
    this.socket.dropTransport();
  }

  private firstHello(): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('the server does not answer')),
        HELLO_TIMEOUT_MS,
      );
      this.helloWaiter = {
        resolve: () => {
          clearTimeout(timer);
          this.helloWaiter = null;
          resolve();
        },
        reject: (e) => {
          clearTimeout(timer);
          this.helloWaiter = null;
          reject(e);
        },
      };
    });
  }

  private startMedia(): void {
    this.peer = new CallsPeer(
      this.iceServers,
      {
        description: async (d) => {
          await this.action('sdp', { data: await encodeDescription(d) });
        },
        candidate: async (c) => {
          await this.action('ice', { data: JSON.stringify(c) });
        },
      },
      {
        state: (s) => this.onPeerState(s),
        remoteTrack: (t, origin) => this.onRemoteTrack(t, origin),
        remoteTrackGone: (t) => this.onRemoteTrackGone(t),
        roundTrip: (ms) => this.view.roundTrip(ms),
        screenEnded: () => {
          this.stopScreen().catch((e: unknown) => this.view.error(messageOf(e)));
        },
        cameraEnded: () => {
          this.view.notice('The camera stopped.');
          this.setCamera(false).catch((e: unknown) => this.view.error(messageOf(e)));
        },
        problem: (message, err) => {
          console.error(`calls: ${message}`, err);
          this.view.error(err ? `${message}: ${messageOf(err)}` : message);
        },
      },
    );
    void this.peer.useMicrophone(this.options.microphoneId);
    this.mediaTimer = setTimeout(() => {
      if (!this.everConnected) this.fail('The media connection could not be set up (timed out).');
    }, MEDIA_TIMEOUT_MS);
    this.qualityTimer = setInterval(() => void this.measureQuality(), QUALITY_INTERVAL_MS);
    this.updateState();
  }

  /** A voice is played; a camera or a screen is kept for the page to show. */
  private onRemoteTrack(track: MediaStreamTrack, origin: RemoteOrigin): void {
    if (track.kind === 'audio') return this.view.remoteTrack(track);
    const old = this.feeds.get(track);
    if (old) this.removeVideo(old);
    const feed =
      origin.type === 'video'
        ? mattermostCameraFeed(track, origin.sessionId, (settings) => {
            this.action('track_settings', { data: JSON.stringify(settings) }).catch(
              (err: unknown) => console.warn('calls: track_settings', err),
            );
          })
        : screenFeed(track, origin.type === 'screen' ? origin.sessionId : '');
    this.feeds.set(track, feed);
    this.addVideo(feed);
  }

  private onRemoteTrackGone(track: MediaStreamTrack): void {
    const feed = this.feeds.get(track);
    if (!feed) return this.view.remoteTrackGone(track);
    this.feeds.delete(track);
    this.removeVideo(feed);
  }

  /** Samples the peer connection's statistics into `quality` and `ownQuality`. */
  private async measureQuality(): Promise<void> {
    const peer = this.peer;
    const sdp = peer?.pc.currentRemoteDescription?.sdp ?? peer?.pc.remoteDescription?.sdp;
    if (!peer || !sdp) return;
    let entries;
    try {
      entries = await peer.stats();
    } catch (err) {
      console.warn('calls: getStats failed', err);
      return;
    }
    if (this.over || peer !== this.peer) return;
    const remote = remoteQualities(entries, streamsByMid(sdp), peer.midsByTrack(), this.counters);
    this.quality.clear();
    remote.forEach((q, sessionId) => this.quality.set(sessionId, q));
    this.ownQuality = ownQuality(entries, this.counters);
    this.view.measured();
  }

  /** Sends an action of the session; while the socket is reconnecting it waits for it. */
  private async action(type: string, data?: unknown): Promise<Record<string, unknown>> {
    if (this.over) throw new Error('the call is over');
    if (!this.linked) {
      await new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    }
    return this.socket.send(type, data);
  }

  private onEvent(name: string, data: Record<string, unknown>, envelope: Envelope): void {
    if (this.over) return;
    const channel = this.options.channel;
    const channels = [envelope.broadcast?.channel_id, data.channelID, data.channel_id_raw]
      .map(str)
      .filter(Boolean);
    if (channels.length > 0 && !channels.includes(channel)) return;
    const mine = str(data.session_id) === this.sessionId;
    switch (name) {
      case 'signal':
        return this.onSignal(data);
      case 'error':
        if ([this.sessionId, this.socket.connectionId].includes(str(data.connID))) {
          this.view.error(`Server error: ${str(data.data) || str(data.error) || 'unknown'}`);
        }
        return;
      case 'call_state':
        this.model.applyCallState(data.call);
        this.view.changed();
        return;
      case 'call_end':
        return this.end('The host ended the call.');
      case 'host_removed':
        if (mine) {
          this.socket.fire('leave');
          this.end('The host removed you from the call.');
        }
        return;
      case 'user_left':
        if (mine && !this.leaving) return this.end('You are no longer in the call.');
        break;
      case 'host_mute':
        if (mine && !this.muted) {
          this.view.notice('The host muted you.');
          this.setMuted(true).catch((e: unknown) => this.view.error(messageOf(e)));
        }
        return;
      case 'host_lower_hand':
        if (mine) this.view.notice('The host lowered your hand.');
        return;
      case 'host_screen_off':
        if (mine && this.peer?.sharingScreen) {
          // The server already stopped the share: only the local capture needs stopping.
          this.peer.stopScreen();
          this.view.notice('The host stopped your screen share.');
          this.view.changed();
        }
        return;
      default:
        break;
    }
    if (this.model.apply(name, data)) this.view.changed();
  }

  private onSignal(data: Record<string, unknown>): void {
    const connId = str(data.connID);
    if (connId && connId !== this.sessionId && connId !== this.socket.connectionId) return;
    let signal: ServerSignal | null;
    try {
      signal = parseSignal(data.data);
    } catch {
      this.view.error('The server sent a malformed signal.');
      return;
    }
    if (signal && this.peer) this.peer.signal(signal);
  }

  private onPeerState(state: RTCPeerConnectionState): void {
    this.pcState = state;
    if (state === 'connected' && !this.everConnected) {
      this.everConnected = true;
      if (this.mediaTimer) clearTimeout(this.mediaTimer);
    }
    if (state === 'failed') {
      this.fail('The media connection failed.');
      return;
    }
    this.updateState();
  }

  private onDown(): void {
    if (this.over || !this.linked) return;
    this.linked = false;
    this.prevConnId = this.socket.connectionId;
    this.updateState();
    this.giveUpTimer = setTimeout(
      () => this.fail('Lost the connection to the server.'),
      RECONNECT_GIVE_UP_MS,
    );
  }

  /** A new connection after a drop: re-bind the session to it (the peer connection is kept). */
  private async resume(): Promise<void> {
    if (this.over || this.linked || !this.sessionId) return;
    try {
      await this.socket.send('reconnect', {
        channelID: this.options.channel,
        originalConnID: this.sessionId,
        prevConnID: this.prevConnId,
      });
    } catch (err) {
      // Dropped again before the answer: the next hello retries.
      if (err instanceof ActionError && !this.socket.connected) return;
      this.fail(`Could not get back into the call after the connection dropped: ${messageOf(err)}`);
      return;
    }
    this.prevConnId = this.socket.connectionId;
    this.linked = true;
    if (this.giveUpTimer) clearTimeout(this.giveUpTimer);
    this.waiters.splice(0).forEach((w) => w.resolve());
    this.updateState();
    try {
      const ack = await this.socket.send('call_state', { channelID: this.options.channel });
      this.model.applyCallState(ack.call);
      this.view.changed();
    } catch (err) {
      this.view.error(`Could not refresh the call: ${messageOf(err)}`);
    }
  }

  private updateState(): void {
    if (this.over) return;
    let state: ConnectionState;
    if (this.failed) state = 'failed';
    else if (this.linked && this.pcState === 'connected') state = 'connected';
    else state = this.everConnected ? 'reconnecting' : 'connecting';
    const mediaDown = this.pcState !== 'connected';
    const trouble: ConnectionTrouble =
      state !== 'reconnecting' ? null : !this.linked ? (mediaDown ? 'both' : 'server') : 'media';
    this.view.state(state, trouble);
  }

  private fail(message: string): void {
    if (this.over) return;
    this.failed = true;
    this.view.error(message);
    this.socket.fire('leave');
    this.finish();
    this.view.state('failed', null);
    this.view.ended();
  }

  private end(notice: string): void {
    if (this.over) return;
    this.finish();
    this.view.notice(notice);
    this.view.state('idle', null);
    this.view.ended();
  }

  private finish(): void {
    this.over = true;
    this.linked = false;
    if (this.mediaTimer) clearTimeout(this.mediaTimer);
    if (this.giveUpTimer) clearTimeout(this.giveUpTimer);
    if (this.qualityTimer) clearInterval(this.qualityTimer);
    this.waiters.splice(0).forEach((w) => w.reject(new Error('the call is over')));
    this.peer?.close();
    this.peer = null;
    this.feeds.clear();
    this.videos.clear();
    this.socket.close();
  }
}
