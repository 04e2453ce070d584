import { Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import {
  InjectMediaPlane,
  type MediaPlane,
  type MediaPlaneListener,
} from '../media/media-plane.interface';
import { LiveKitMediaBinding } from './livekit-media.binding';
import type {
  LiveKitMedia,
  LiveKitMediaEvents,
  LiveKitMediaSession,
  LiveKitMediaSessionRef,
} from './livekit-media-session.interface';
import { LiveKitSwitch } from './livekit-switch';
import { LiveKitTrackMirror } from './livekit-track.mirror';

/**
 * {@link LiveKitMedia} on the media port: each LiveKit participant's two connections become two
 * media sessions ({@link LiveKitMediaBinding}), and the port's events are routed to them: signals
 * and data by session, tracks to the participant that sends them and to the
 * {@link LiveKitTrackMirror} that shows them to the LiveKit clients of the call.
 */
@Injectable()
export class LiveKitMediaService implements LiveKitMedia, OnModuleInit, OnApplicationShutdown {
  /** Bindings by session id and by subscriber session id. */
  private readonly bindings = new Map<string, LiveKitMediaBinding>();
  /** The session of each track started here, by producer id. */
  private readonly producers = new Map<string, string>();
  private unsubscribe: (() => void) | null = null;

  constructor(
    @InjectMediaPlane() private readonly media: MediaPlane,
    private readonly mirror: LiveKitTrackMirror,
    private readonly enabled: LiveKitSwitch,
  ) {}

  /**
   * Subscribes before the core's `MediaEventsBridge` (it comes first in the module's providers):
   * when a LiveKit session's media closes by itself, its client is told to reconnect before the
   * bridge removes the session (which would tell it it was removed).
   */
  onModuleInit(): void {
    if (this.enabled.on) this.unsubscribe = this.media.subscribe(this.listener());
  }

  onApplicationShutdown(): void {
    this.unsubscribe?.();
  }

  /**
   * Opens a participant's subscriber connection (its publisher is the session's own media,
   * opened at join). Returns at once, so that the client's first offer finds it; the subscriber
   * opens in the background (after the subscriber of an older connection of the same session
   * closed), and its failure closes the session through `events.closed`.
   */
  open(ref: LiveKitMediaSessionRef, events: LiveKitMediaEvents): Promise<LiveKitMediaSession> {
    const previous = this.bindings.get(ref.sessionId);
    const closed = previous ? previous.close() : Promise.resolve();
    const binding: LiveKitMediaBinding = new LiveKitMediaBinding(
      ref,
      events,
      this.media,
      closed,
      () => this.forget(binding),
    );
    this.bindings.set(ref.sessionId, binding);
    this.bindings.set(binding.subscriberId, binding);
    return Promise.resolve(binding);
  }

  /** The binding of a session (publisher or subscriber id), if it is live. */
  find(sessionId: string): LiveKitMediaBinding | undefined {
    return this.bindings.get(sessionId);
  }

  private forget(binding: LiveKitMediaBinding): void {
    for (const id of [binding.ref.sessionId, binding.subscriberId]) {
      if (this.bindings.get(id) === binding) this.bindings.delete(id);
    }
  }

  /** The binding a media session belongs to, and which of its two connections it is. */
  private side(sessionId: string): { binding: LiveKitMediaBinding; which: Side } | null {
    const binding = this.bindings.get(sessionId);
    if (!binding) return null;
    return { binding, which: sessionId === binding.subscriberId ? 'subscriber' : 'publisher' };
  }

  private listener(): MediaPlaneListener {
    return {
      signal: (ref, signal) => {
        const s = this.side(ref.sessionId);
        s?.binding.signal(s.which, signal);
      },
      voice: () => undefined,
      sessionClosed: (ref, reason) => this.bindings.get(ref.sessionId)?.failed(reason),
      offerTracks: (ref, tracks) => {
        const s = this.side(ref.sessionId);
        if (s?.which === 'subscriber') s.binding.offering(tracks);
      },
      trackAdded: (callId, track) => {
        this.producers.set(track.producerId, track.sessionId);
        this.bindings.get(track.sessionId)?.trackAdded(track);
        for (const binding of new Set(this.bindings.values())) {
          if (binding.ref.callId === callId) binding.othersTrackAdded(track);
        }
        this.mirror.added(callId, track);
      },
      trackRemoved: (callId, producerId) => {
        const sessionId = this.producers.get(producerId);
        this.producers.delete(producerId);
        if (sessionId !== undefined) this.bindings.get(sessionId)?.trackRemoved(producerId);
        this.mirror.removed(callId, producerId);
      },
      trackPaused: (callId, producerId, paused) => this.mirror.paused(callId, producerId, paused),
      data: (ref, label, payload) => {
        const s = this.side(ref.sessionId);
        if (s?.which === 'publisher') s.binding.data(label, payload);
      },
    };
  }
}

/** One of a participant's two connections. */
type Side = 'publisher' | 'subscriber';
