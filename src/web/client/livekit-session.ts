import {
  ConnectionState as RoomState,
  DisconnectReason,
  type Participant,
  type RemoteParticipant,
  type RemoteTrack,
  type RemoteTrackPublication,
  Room,
  RoomEvent,
  setLogLevel,
  Track,
  type TrackPublication,
  VideoPresets,
} from 'livekit-client';
import { clientConfig, HttpError, liveKitSession } from './api';
import { emojiLiteral } from './call-model';
import {
  CallSession,
  QUALITY_INTERVAL_MS,
  type Emoji,
  type SessionOptions,
  type SessionView,
  type VideoFeed,
} from './call-session';
import { parseIdentity, RAISED_HAND, roomSnapshot } from './livekit-room-model';
import { deviceProblem, pickerClosed } from './problems';
import {
  isInboundAudio,
  ownQuality,
  voiceQuality,
  type Counters,
  type LinkQuality,
  type StatsEntry,
} from './quality';

// livekit-client logs every step at info level; the page's console keeps its warnings and errors.
setLogLevel('warn');

/** Mattermost's data packet topics: reactions, and the host's requests to one participant. */
const REACTION_TOPIC = 'reaction';
const HOST_CONTROL_TOPIC = 'host_control';

/** The entries of a stats report. */
function entriesOf(report: RTCStatsReport | undefined): StatsEntry[] {
  const out: StatsEntry[] = [];
  report?.forEach((entry: StatsEntry) => out.push(entry));
  return out;
}

/** A data packet's JSON body, or null. */
function jsonOf(payload: Uint8Array): Record<string, unknown> | null {
  try {
    const body: unknown = JSON.parse(new TextDecoder().decode(payload));
    return typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * One person in one call over LiveKit's client protocol: the stock livekit-client `Room`, joined
 * with a token from the calls plugin's `livekit-token` route. The room (everyone in it, their
 * microphones, attributes and screens, the host in the room metadata) is the page's model; the
 * microphone is published on the first unmute; remote tracks are handed to the page, which plays
 * them itself (on the chosen speaker). Hand = the `raised_hand` attribute, reactions = data
 * packets on topic `reaction`, as Mattermost's LiveKit-era clients do.
 */
export class LiveKitSession extends CallSession {
  readonly protocol = 'livekit';
  private readonly room: Room;
  /** What this page asked for: the microphone on (Unmute), the hand up. */
  private micWanted = false;
  private camWanted = false;
  private handWanted = false;
  /** The remote videos by their track. */
  private readonly feeds = new Map<RemoteTrack, VideoFeed>();
  private over = false;
  private leaving = false;
  private qualityTimer: ReturnType<typeof setInterval> | null = null;
  private readonly remoteCounters = new Map<string, Counters>();
  private readonly ownCounters = new Map<string, Counters>();

  private constructor(options: SessionOptions, view: SessionView) {
    super(options, view);
    // Adaptive stream: each video comes at the layer the element it is attached to needs, none
    // while hidden (the server picks the layer). Dynacast off: the server does not ask for it.
    this.room = new Room({
      adaptiveStream: true,
      dynacast: false,
      audioCaptureDefaults: {
        echoCancellation: true,
        noiseSuppression: true,
        autoGainControl: true,
      },
      publishDefaults: { screenShareEncoding: { maxBitrate: 1_000_000, maxFramerate: 10 } },
    });
    this.listen();
  }

  /** Gets a token from the calls plugin, connects the room, and shows the call. */
  static async join(options: SessionOptions, view: SessionView): Promise<LiveKitSession> {
    view.state('connecting', null);
    const session = new LiveKitSession(options, view);
    try {
      const grant = await liveKitSession(options.token, options.channel).catch((err: unknown) => {
        if (err instanceof HttpError && err.code === 'livekit_disabled') {
          throw new Error(
            "this server's LiveKit endpoint is off (it is turned on with RUSTCHAT_CALLS_LIVEKIT_KEYS)",
          );
        }
        throw err;
      });
      session.sessionId = grant.session_id;
      const config = await clientConfig(options.token, false);
      session.videoEnabled = config.enableVideo;
      session.maxCameras = config.maxCallCameras;
      await session.room.connect(grant.url, grant.token);
      session.sessionId = parseIdentity(session.room.localParticipant.identity).sessionId;
    } catch (err) {
      session.finish();
      void session.room.disconnect();
      view.state('idle', null);
      throw err;
    }
    session.qualityTimer = setInterval(() => void session.measureQuality(), QUALITY_INTERVAL_MS);
    session.sync();
    session.updateState();
    return session;
  }

  get sharingScreen(): boolean {
    return this.room.localParticipant.isScreenShareEnabled;
  }

  get screenStream(): MediaStream | null {
    const pub = this.room.localParticipant.getTrackPublication(Track.Source.ScreenShare);
    return pub?.track?.mediaStream ?? null;
  }

  get microphone(): { deviceId: string; label: string } | null {
    const track = this.micTrack();
    if (!track) return null;
    return { deviceId: track.getSettings().deviceId ?? '', label: track.label };
  }

  get cameraOn(): boolean {
    return this.room.localParticipant.isCameraEnabled;
  }

  get cameraStream(): MediaStream | null {
    if (!this.cameraOn) return null;
    const pub = this.room.localParticipant.getTrackPublication(Track.Source.Camera);
    return pub?.track?.mediaStream ?? null;
  }

  /**
   * The first "on" publishes the camera (360p, and a 180p simulcast layer for small tiles); "off"
   * mutes it (livekit-client releases the camera) and "on" again unmutes it.
   */
  async setCamera(on: boolean): Promise<void> {
    if (this.cameraOn === on) return;
    if (on) this.checkCameraAllowed();
    this.camWanted = on;
    try {
      await this.room.localParticipant.setCameraEnabled(
        on,
        on ? { resolution: VideoPresets.h360.resolution } : undefined,
        { simulcast: true, videoSimulcastLayers: [VideoPresets.h180] },
      );
    } catch (err) {
      this.camWanted = false;
      this.sync();
      throw new Error(`The camera cannot be turned ${on ? 'on' : 'off'}: ${deviceProblem(err)}`);
    }
    this.sync();
  }

  /** The first unmute publishes the microphone; later ones unmute its track (the server is told). */
  async setMuted(muted: boolean): Promise<void> {
    const wanted = this.micWanted;
    this.micWanted = !muted;
    try {
      await this.room.localParticipant.setMicrophoneEnabled(!muted, {
        deviceId: this.options.microphoneId || undefined,
      });
    } catch (err) {
      this.micWanted = wanted;
      throw new Error(`The microphone cannot be used: ${deviceProblem(err)}`);
    }
    this.muted = muted;
    this.sync();
  }

  async useMicrophone(deviceId: string): Promise<void> {
    this.options.microphoneId = deviceId;
    if (!this.micTrack()) return;
    let switched: boolean;
    try {
      switched = await this.room.switchActiveDevice('audioinput', deviceId || 'default');
    } catch (err) {
      throw new Error(`That microphone cannot be used: ${deviceProblem(err)}`);
    }
    if (!switched) throw new Error('That microphone cannot be used.');
    this.view.changed();
  }

  /** Sets the `raised_hand` attribute (when it went up; '' lowers it). */
  async setHand(raised: boolean): Promise<void> {
    this.handWanted = raised;
    await this.room.localParticipant.setAttributes({
      [RAISED_HAND]: raised ? String(Date.now()) : '',
    });
  }

  /** A `reaction` data packet; the others' pages show it, this one shows its own at once. */
  async react(emoji: Emoji): Promise<void> {
    const body = JSON.stringify({ emojiData: emoji, timestamp: Date.now() });
    await this.room.localParticipant.publishData(new TextEncoder().encode(body), {
      reliable: true,
      topic: REACTION_TOPIC,
    });
    if (this.model.react(this.sessionId, emoji.literal)) this.view.changed();
  }

  async startScreen(): Promise<void> {
    if (this.sharingScreen) return;
    try {
      // One layer, as the Mattermost path sends it: of a simulcast screen the SFU gives Mattermost
      // clients the lowest frame rate (2.5 fps measured) where one layer arrives at its 10 fps.
      await this.room.localParticipant.setScreenShareEnabled(
        true,
        { audio: false, contentHint: 'detail' },
        { simulcast: false },
      );
    } catch (err) {
      if (pickerClosed(err)) {
        this.view.notice('Screen sharing was not started.');
        return;
      }
      throw new Error(`The screen cannot be shared: ${deviceProblem(err)}`);
    }
    this.sync();
  }

  async stopScreen(): Promise<void> {
    if (!this.sharingScreen) return;
    await this.room.localParticipant.setScreenShareEnabled(false);
    this.sync();
  }

  async leave(): Promise<void> {
    if (this.over) return;
    this.leaving = true;
    try {
      await this.room.disconnect();
    } finally {
      this.finish();
      this.view.state('idle', null);
      this.view.ended();
    }
  }

  abandon(): void {
    if (this.over) return;
    this.finish();
    void this.room.disconnect();
  }

  /** Both peer connections' statistics (publisher, then subscriber). */
  async stats(): Promise<StatsEntry[]> {
    const transports = this.room.engine.pcManager;
    const reports = await Promise.all([
      transports?.publisher.getStats(),
      transports?.subscriber?.getStats(),
    ]);
    return reports.flatMap(entriesOf);
  }

  private micTrack(): MediaStreamTrack | null {
    const pub = this.room.localParticipant.getTrackPublication(Track.Source.Microphone);
    return pub?.track?.mediaStreamTrack ?? null;
  }

  private listen(): void {
    const sync = () => this.sync();
    this.room
      .on(RoomEvent.ConnectionStateChanged, () => this.updateState())
      .on(RoomEvent.Disconnected, (reason) => this.onDisconnected(reason))
      .on(RoomEvent.ParticipantConnected, sync)
      .on(RoomEvent.ParticipantDisconnected, sync)
      .on(RoomEvent.TrackPublished, sync)
      .on(RoomEvent.TrackUnpublished, sync)
      .on(RoomEvent.LocalTrackPublished, sync)
      .on(RoomEvent.LocalTrackUnpublished, sync)
      .on(RoomEvent.TrackUnmuted, sync)
      .on(RoomEvent.TrackMuted, (pub, participant) => this.onMuted(pub, participant))
      .on(RoomEvent.ParticipantAttributesChanged, (changed, participant) =>
        this.onAttributes(changed, participant),
      )
      .on(RoomEvent.RoomMetadataChanged, sync)
      .on(RoomEvent.ActiveSpeakersChanged, sync)
      .on(RoomEvent.TrackSubscribed, (track, pub, participant) =>
        this.onSubscribed(track, pub, participant),
      )
      .on(RoomEvent.TrackUnsubscribed, (track: RemoteTrack) => this.onUnsubscribed(track))
      .on(RoomEvent.DataReceived, (payload, participant, _kind, topic, _enc, identity) =>
        this.onData(payload, topic, participant?.identity ?? identity ?? ''),
      );
  }

  /** A voice is played; a camera or a screen is kept for the page to show (attached by livekit-client). */
  private onSubscribed(
    track: RemoteTrack,
    pub: RemoteTrackPublication,
    participant: RemoteParticipant,
  ): void {
    if (this.over) return;
    if (track.kind !== Track.Kind.Video) {
      this.view.remoteTrack(track.mediaStreamTrack);
      this.sync();
      return;
    }
    const feed: VideoFeed = {
      sessionId: parseIdentity(participant.identity).sessionId,
      source: pub.source === Track.Source.Camera ? 'camera' : 'screen',
      track: track.mediaStreamTrack,
      attach: (el) => void track.attach(el),
      detach: (el) => void track.detach(el),
    };
    this.feeds.set(track, feed);
    this.addVideo(feed);
    this.sync();
  }

  private onUnsubscribed(track: RemoteTrack): void {
    if (this.over) return;
    const feed = this.feeds.get(track);
    if (!feed) return this.view.remoteTrackGone(track.mediaStreamTrack);
    this.feeds.delete(track);
    this.removeVideo(feed);
  }

  /** The room as it is now, into the page's model. */
  private sync(): void {
    if (this.over) return;
    this.model.replace(roomSnapshot(this.room));
    this.view.changed();
  }

  /**
   * This page's microphone muted while it wanted it on: the server muted it (the host); its camera
   * muted while wanted on: the server refused it (the call's camera limit).
   */
  private onMuted(pub: TrackPublication, participant: Participant): void {
    const own = participant === this.room.localParticipant;
    if (own && pub.source === Track.Source.Camera && this.camWanted) {
      this.camWanted = false;
      this.view.error(
        'The server turned your camera off: the call has as many cameras on as it may.',
      );
      void this.room.localParticipant.setCameraEnabled(false);
    }
    if (own && pub.source === Track.Source.Microphone && this.micWanted) {
      this.micWanted = false;
      this.muted = true;
      this.view.notice('The host muted you.');
    }
    this.sync();
  }

  /** This page's hand lowered while it wanted it up: the host lowered it. */
  private onAttributes(changed: Record<string, string>, participant: Participant): void {
    const own = participant === this.room.localParticipant;
    if (own && changed[RAISED_HAND] === '' && this.handWanted) {
      this.handWanted = false;
      this.view.notice('The host lowered your hand.');
    }
    this.sync();
  }

  private onData(payload: Uint8Array, topic: string | undefined, identity: string): void {
    if (this.over) return;
    const body = jsonOf(payload);
    if (topic === REACTION_TOPIC && body) {
      const { sessionId } = parseIdentity(identity);
      if (this.model.react(sessionId, emojiLiteral(body.emojiData ?? body.emoji))) {
        this.view.changed();
      }
    } else if (topic === HOST_CONTROL_TOPIC && body?.action === 'stop_screenshare') {
      // The server has stopped forwarding it and told livekit-client to unpublish it.
      this.view.notice('The host stopped your screen share.');
    }
  }

  private onDisconnected(reason: DisconnectReason | undefined): void {
    if (this.over || this.leaving) return;
    switch (reason) {
      case DisconnectReason.PARTICIPANT_REMOVED:
        return this.end('The host removed you from the call.');
      case DisconnectReason.ROOM_DELETED:
        return this.end('The host ended the call.');
      default:
        return this.fail(
          `Lost the connection to the call (${DisconnectReason[reason ?? DisconnectReason.UNKNOWN_REASON]}).`,
        );
    }
  }

  private updateState(): void {
    if (this.over) return;
    switch (this.room.state) {
      case RoomState.Connected:
        return this.view.state('connected', null);
      case RoomState.Reconnecting:
        return this.view.state('reconnecting', 'both');
      case RoomState.SignalReconnecting:
        return this.view.state('reconnecting', 'server');
      case RoomState.Connecting:
        return this.view.state('connecting', null);
      default:
        // Disconnected: onDisconnected says why.
        return;
    }
  }

  /**
   * Each remote voice's quality from its receiver's statistics; this page's own from the
   * publisher connection's (its voice as the server reports it, the path's round trip).
   */
  private async measureQuality(): Promise<void> {
    const remote = new Map<string, LinkQuality>();
    let own: StatsEntry[];
    try {
      for (const p of this.room.remoteParticipants.values()) {
        const pub = p.getTrackPublication(Track.Source.Microphone);
        const inbound = entriesOf(await pub?.track?.getRTCStatsReport()).find(isInboundAudio);
        if (inbound)
          remote.set(
            parseIdentity(p.identity).sessionId,
            voiceQuality(inbound, this.remoteCounters),
          );
      }
      own = entriesOf(await this.room.engine.pcManager?.publisher.getStats());
    } catch (err) {
      console.warn('calls: getStats failed', err);
      return;
    }
    if (this.over) return;
    this.quality.clear();
    remote.forEach((q, sessionId) => this.quality.set(sessionId, q));
    this.ownQuality = ownQuality(own, this.ownCounters);
    if (this.ownQuality.rttMs !== null) this.view.roundTrip(this.ownQuality.rttMs);
    this.view.measured();
  }

  private fail(message: string): void {
    if (this.over) return;
    this.finish();
    void this.room.disconnect();
    this.view.error(message);
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
    this.feeds.clear();
    this.videos.clear();
    if (this.qualityTimer) clearInterval(this.qualityTimer);
  }
}
