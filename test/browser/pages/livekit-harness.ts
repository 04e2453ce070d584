/**
 * Runs in the test page: the stock livekit-client `Room` behind `window.__lk`, which the e2e
 * specs drive with `page.evaluate` (test/browser/livekit-page.ts). Bundled with livekit-client
 * by esbuild at test start.
 */
import {
  type Participant,
  type RemoteTrack,
  Room,
  RoomEvent,
  setLogLevel,
  Track,
  type TrackPublication,
  VideoPresets,
} from 'livekit-client';

/** Something that happened in the room, as the page saw it. */
export interface PageEvent {
  readonly type: string;
  readonly identity?: string;
  readonly source?: string;
  readonly detail?: string;
}

/** One remote track's RTP counters. */
export interface TrackStats {
  readonly bytes: number;
  readonly packets: number;
  readonly audioLevel: number;
  readonly frames: number;
  /** Video: the size of the frames received now. */
  readonly width: number;
  readonly height: number;
}

/** One simulcast layer the page sends: its rid and what the encoder makes of it. */
export interface SentLayer {
  readonly rid: string;
  readonly width: number;
  readonly height: number;
  readonly bytes: number;
  readonly frames: number;
}

/** How the page shows a remote video: its tile's size, or hidden. */
export interface TileLayout {
  readonly width: number;
  readonly height: number;
  readonly hidden: boolean;
}

/** The camera the page publishes: 960×540 at 15 fps, three simulcast layers (180p, 360p, 540p). */
const CAMERA = { width: 960, height: 540, frameRate: 15 };
/** Where a remote video is shown until a test lays it out. */
const DEFAULT_TILE: TileLayout = { width: 320, height: 180, hidden: false };

/** A remote participant as the page sees it. */
export interface RemoteView {
  readonly identity: string;
  readonly sid: string;
  readonly attributes: Record<string, string>;
  readonly tracks: { sid: string; source: string; muted: boolean; subscribed: boolean }[];
}

const who = (p?: Participant): string | undefined => p?.identity;

class LiveKitHarness {
  room: Room | null = null;
  readonly events: PageEvent[] = [];

  private record(event: PageEvent): void {
    this.events.push(event);
  }

  /**
   * Joins with `token` at `url`; resolves once connected (both peer connections up). With
   * `adaptiveStream`, the video it receives follows the tiles it shows it in (LiveKit's adaptive
   * stream: element size and visibility are sent to the server); else Mattermost's settings.
   */
  async connect(
    url: string,
    token: string,
    adaptiveStream = false,
  ): Promise<{ sid: string; identity: string }> {
    // Set by LiveKitPage when LIVEKIT_PAGE_DEBUG is: livekit-client logs everything.
    if ((globalThis as { __lkDebug?: boolean }).__lkDebug) setLogLevel('debug');
    // Mattermost's LiveKit-era client settings (MM-69110).
    const room = new Room({
      adaptiveStream,
      dynacast: false,
      publishDefaults: { dtx: true, red: true },
    });
    this.room = room;
    room
      .on(RoomEvent.ParticipantConnected, (p) => this.record({ type: 'joined', identity: who(p) }))
      .on(RoomEvent.ParticipantDisconnected, (p) => this.record({ type: 'left', identity: who(p) }))
      .on(RoomEvent.TrackSubscribed, (track: RemoteTrack, pub, p) => {
        if (track.kind === Track.Kind.Audio) document.body.appendChild(track.attach());
        else this.tile(`${p.identity}/${pub.source}`).appendChild(track.attach());
        this.record({ type: 'subscribed', identity: who(p), source: pub.source });
      })
      .on(RoomEvent.TrackUnsubscribed, (track, pub, p) => {
        track.detach().forEach((e) => e.remove());
        this.record({ type: 'unsubscribed', identity: who(p), source: pub.source });
      })
      .on(RoomEvent.TrackUnpublished, (pub, p) =>
        this.record({ type: 'unpublished', identity: who(p), source: pub.source }),
      )
      .on(RoomEvent.TrackMuted, (pub: TrackPublication, p) =>
        this.record({ type: 'muted', identity: who(p), source: pub.source }),
      )
      .on(RoomEvent.TrackUnmuted, (pub: TrackPublication, p) =>
        this.record({ type: 'unmuted', identity: who(p), source: pub.source }),
      )
      .on(RoomEvent.ParticipantAttributesChanged, (changed, p) =>
        this.record({ type: 'attributes', identity: who(p), detail: JSON.stringify(changed) }),
      )
      .on(RoomEvent.DataReceived, (payload, p, _kind, topic) =>
        this.record({
          type: 'data',
          identity: who(p),
          source: topic,
          detail: new TextDecoder().decode(payload),
        }),
      )
      .on(RoomEvent.Reconnecting, () => this.record({ type: 'reconnecting' }))
      .on(RoomEvent.Reconnected, () => this.record({ type: 'reconnected' }))
      .on(RoomEvent.Disconnected, (reason) =>
        this.record({ type: 'disconnected', detail: String(reason) }),
      )
      .on(RoomEvent.LocalTrackUnpublished, (pub) =>
        this.record({ type: 'local-unpublished', source: pub.source }),
      );
    await room.connect(url, token);
    return { sid: room.localParticipant.sid, identity: room.localParticipant.identity };
  }

  private get local() {
    if (!this.room) throw new Error('not connected');
    return this.room.localParticipant;
  }

  /** Publishes (first time) or unmutes the fake microphone; `false` mutes it. */
  async setMicrophone(on: boolean): Promise<void> {
    await this.local.setMicrophoneEnabled(on);
  }

  /** Publishes (first time) or unmutes the fake camera (simulcast, 3 layers); `false` mutes it. */
  async setCamera(on: boolean): Promise<void> {
    await this.local.setCameraEnabled(on, on ? { resolution: CAMERA } : undefined, {
      simulcast: true,
      videoCodec: 'vp8',
      videoSimulcastLayers: [VideoPresets.h180, VideoPresets.h360],
    });
  }

  /** Lays out the tile of `identity`'s video of `source` (size in CSS pixels, or hidden). */
  layOut(identity: string, source: string, layout: TileLayout): void {
    const tile = this.tile(`${identity}/${source}`);
    tile.style.width = `${layout.width}px`;
    tile.style.height = `${layout.height}px`;
    tile.style.display = layout.hidden ? 'none' : 'block';
  }

  /** The tile (a box its video fills) of a remote video, made on first use. */
  private tile(key: string): HTMLElement {
    let tile = [...document.querySelectorAll<HTMLElement>('.tile')].find(
      (t) => t.dataset.key === key,
    );
    if (!tile) {
      tile = document.createElement('div');
      tile.className = 'tile';
      tile.dataset.key = key;
      Object.assign(tile.style, {
        width: `${DEFAULT_TILE.width}px`,
        height: `${DEFAULT_TILE.height}px`,
        display: 'block',
        overflow: 'hidden',
      });
      const style = document.createElement('style');
      style.textContent = '.tile video { width: 100%; height: 100%; object-fit: cover; }';
      if (!document.querySelector('style')) document.head.appendChild(style);
      document.body.appendChild(tile);
    }
    return tile;
  }

  /** The simulcast layers this page sends of its track of `source`, lowest first. */
  async sentLayers(source: string): Promise<SentLayer[]> {
    const pub = [...this.local.trackPublications.values()].find(
      (t) => t.source === (source as Track.Source),
    );
    const report = await pub?.track?.getRTCStatsReport();
    const layers: SentLayer[] = [];
    report?.forEach((s: Record<string, unknown>) => {
      if (s.type !== 'outbound-rtp') return;
      layers.push({
        rid: typeof s.rid === 'string' ? s.rid : '',
        width: Number(s.frameWidth ?? 0),
        height: Number(s.frameHeight ?? 0),
        bytes: Number(s.bytesSent ?? 0),
        frames: Number(s.framesEncoded ?? 0),
      });
    });
    return layers.sort((a, b) => a.width - b.width);
  }

  /** Shares the fake screen (Chromium picks it without a prompt), or stops. */
  async setScreenShare(on: boolean): Promise<void> {
    await this.local.setScreenShareEnabled(on, { audio: false });
  }

  async setAttributes(attributes: Record<string, string>): Promise<void> {
    await this.local.setAttributes(attributes);
  }

  /** Publishes JSON on a topic, reliably. */
  async publishJson(topic: string, body: unknown, destinationIdentities?: string[]): Promise<void> {
    const payload = new TextEncoder().encode(JSON.stringify(body));
    await this.local.publishData(payload, { reliable: true, topic, destinationIdentities });
  }

  /** The local publications (source, muted). */
  localTracks(): { source: string; muted: boolean }[] {
    return [...this.local.trackPublications.values()].map((p) => ({
      source: p.source,
      muted: p.isMuted,
    }));
  }

  remotes(): RemoteView[] {
    return [...(this.room?.remoteParticipants.values() ?? [])].map((p) => ({
      identity: p.identity,
      sid: p.sid,
      attributes: { ...p.attributes },
      tracks: [...p.trackPublications.values()].map((t) => ({
        sid: t.trackSid,
        source: t.source,
        muted: t.isMuted,
        subscribed: t.isSubscribed,
      })),
    }));
  }

  /** RTP counters of `identity`'s track of `source` as received here, or null without one. */
  async inbound(identity: string, source: string): Promise<TrackStats | null> {
    const participant = this.room?.remoteParticipants.get(identity);
    const pub = [...(participant?.trackPublications.values() ?? [])].find(
      (t) => t.source === (source as Track.Source),
    );
    const report = await pub?.track?.getRTCStatsReport();
    if (!report) return null;
    let stats: TrackStats | null = null;
    report.forEach((s: Record<string, unknown>) => {
      if (s.type !== 'inbound-rtp') return;
      stats = {
        bytes: Number(s.bytesReceived ?? 0),
        packets: Number(s.packetsReceived ?? 0),
        audioLevel: Number(s.audioLevel ?? 0),
        frames: Number(s.framesDecoded ?? 0),
        width: Number(s.frameWidth ?? 0),
        height: Number(s.frameHeight ?? 0),
      };
    });
    return stats;
  }

  /** This page's own track of `source`: what it captures (level) and sends (packets). */
  async outbound(source: string): Promise<{ level: number; packets: number } | null> {
    const pub = [...this.local.trackPublications.values()].find(
      (t) => t.source === (source as Track.Source),
    );
    const report = await pub?.track?.getRTCStatsReport();
    if (!report) return null;
    let level = 0;
    let packets = 0;
    report.forEach((s: Record<string, unknown>) => {
      if (s.type === 'media-source') level = Number(s.audioLevel ?? 0);
      if (s.type === 'outbound-rtp') packets = Number(s.packetsSent ?? 0);
    });
    return { level, packets };
  }

  async disconnect(): Promise<void> {
    await this.room?.disconnect();
  }
}

declare global {
  interface Window {
    __lk: LiveKitHarness;
  }
}

window.__lk = new LiveKitHarness();
