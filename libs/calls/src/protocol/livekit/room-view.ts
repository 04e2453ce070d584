import {
  DisconnectReason,
  TrackSource,
  type ParticipantInfo,
  ParticipantInfo_State,
  Room,
} from '@livekit/protocol';
import type { CallState } from '../../state/call-state.types';
import type { SignalMessage } from './livekit-codec';
import { LiveKitIds } from './livekit-ids';
import { LiveKitMessages } from './livekit-messages';
import { participantInfo, viewOfSession } from './participant-info.builder';
import { micTrack, type ParticipantView, type TrackView } from './participant-view';

/** Turns an internal id into its wire form (the id codec). */
export type ToWire = (internalId: string) => string;

/**
 * The room as one LiveKit client is shown it: its own participant, the others (every session of
 * the call, whatever its protocol), the host in the room metadata, and the `version` of every
 * `ParticipantInfo` it was sent (bumped per message, so the client never drops a newer one). Each
 * change returns the messages that tell the client.
 */
export class RoomView {
  private selfView: ParticipantView;
  private readonly others = new Map<string, ParticipantView>();
  /** Sessions that left: a late relayed snapshot must not bring them back. */
  private readonly departed = new Set<string>();
  private readonly versions = new Map<string, number>();
  private hostId = '';
  /**
   * Tracks this client announced (`add_track`) whose media has not arrived, by sid: not shown to
   * anyone, but muted and unmuted like published ones.
   */
  readonly pending = new Map<string, TrackView>();

  constructor(
    self: ParticipantView,
    private readonly callId: string,
    /** The room's name: the channel id as the token named it. */
    private readonly roomName: string,
    readonly toWire: ToWire,
  ) {
    this.selfView = self;
  }

  /** This client's own participant. */
  get self(): ParticipantView {
    return this.selfView;
  }

  /** This client's microphone: the published one, else the announced one. */
  ownMic(): TrackView | undefined {
    return (
      micTrack(this.selfView) ??
      [...this.pending.values()].find((t) => t.source === TrackSource.MICROPHONE)
    );
  }

  /** Mutes or unmutes one of this client's tracks, published or announced (quietly). */
  setOwnTrackMuted(sid: string, muted: boolean): void {
    const pending = this.pending.get(sid);
    if (pending) this.pending.set(sid, { ...pending, muted });
    this.selfView = {
      ...this.selfView,
      tracks: this.selfView.tracks.map((t) => (t.sid === sid ? { ...t, muted } : t)),
    };
  }

  /** A participant by session id (this client's own included). */
  get(sessionId: string): ParticipantView | undefined {
    return sessionId === this.selfView.sessionId ? this.selfView : this.others.get(sessionId);
  }

  /** Fills the room from the call state; `known` (richer views of some sessions) win. */
  seed(call: CallState, known: readonly ParticipantView[]): void {
    this.hostId = call.hostId ? this.toWire(call.hostId) : '';
    for (const session of Object.values(call.sessions)) {
      if (session.sessionId !== this.selfView.sessionId) {
        this.others.set(session.sessionId, viewOfSession(session, this.toWire));
      }
    }
    for (const view of known) {
      if (view.sessionId !== this.selfView.sessionId && this.others.has(view.sessionId)) {
        this.others.set(view.sessionId, view);
      }
    }
  }

  /** `Room` with the host in its metadata (`{"host_id": …}`, Mattermost's). */
  room(): Room {
    return new Room({
      sid: LiveKitIds.room(this.callId),
      name: this.roomName,
      metadata: JSON.stringify({ host_id: this.hostId }),
    });
  }

  /** This client's own info (version bumped). */
  selfInfo(): ParticipantInfo {
    return this.info(this.selfView);
  }

  /** Every other participant's info (versions bumped). */
  otherInfos(): ParticipantInfo[] {
    return [...this.others.values()].map((v) => this.info(v));
  }

  /** Changes this client's own participant: an `update` (clients expect their own too). */
  patchSelf(change: (view: ParticipantView) => ParticipantView): SignalMessage[] {
    this.selfView = change(this.selfView);
    return [LiveKitMessages.update([this.info(this.selfView)])];
  }

  /** Changes this client's own participant without telling it (the core's event will). */
  replaceSelf(change: (view: ParticipantView) => ParticipantView): void {
    this.selfView = change(this.selfView);
  }

  /** Adds or replaces another participant (not one that left): an `update`. */
  upsert(view: ParticipantView): SignalMessage[] {
    if (view.sessionId === this.selfView.sessionId || this.departed.has(view.sessionId)) return [];
    this.others.set(view.sessionId, view);
    return [LiveKitMessages.update([this.info(view)])];
  }

  /** Adds another participant unless it is known already (or left). */
  addIfUnknown(view: ParticipantView): SignalMessage[] {
    return this.others.has(view.sessionId) ? [] : this.upsert(view);
  }

  /**
   * A session joined (the core says so): added unless known, even when it left before (a
   * LiveKit client's full reconnect joins again under the same session id).
   */
  joined(view: ParticipantView): SignalMessage[] {
    this.departed.delete(view.sessionId);
    return this.addIfUnknown(view);
  }

  /** Changes another participant, if known: an `update` unless `quiet` says the client sees no change. */
  patch(
    sessionId: string,
    change: (view: ParticipantView) => ParticipantView,
    quiet: (before: ParticipantView) => boolean = () => false,
  ): SignalMessage[] {
    const view = this.others.get(sessionId);
    if (!view) return [];
    this.others.set(sessionId, change(view));
    return quiet(view) ? [] : [LiveKitMessages.update([this.info(this.others.get(sessionId)!)])];
  }

  /** Another participant left: an `update` with its state DISCONNECTED. */
  remove(sessionId: string, reason: DisconnectReason): SignalMessage[] {
    this.departed.add(sessionId);
    const view = this.others.get(sessionId);
    if (!view) return [];
    this.others.delete(sessionId);
    const info = this.info(view, ParticipantInfo_State.DISCONNECTED, reason);
    this.versions.delete(sessionId);
    return [LiveKitMessages.update([info])];
  }

  /** The host changed: a `room_update` with the new metadata. */
  setHost(hostId: string): SignalMessage[] {
    const wire = hostId ? this.toWire(hostId) : '';
    if (wire === this.hostId) return [];
    this.hostId = wire;
    return [LiveKitMessages.roomUpdate(this.room())];
  }

  private info(
    view: ParticipantView,
    state = ParticipantInfo_State.ACTIVE,
    reason = DisconnectReason.UNKNOWN_REASON,
  ): ParticipantInfo {
    const version = (this.versions.get(view.sessionId) ?? 0) + 1;
    this.versions.set(view.sessionId, version);
    return participantInfo(view, version, state, reason);
  }
}
