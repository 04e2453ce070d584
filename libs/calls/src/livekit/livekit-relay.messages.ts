import type { CallEvent } from '../calls/call-events';
import { LIVEKIT_EVENT_TYPES } from '../protocol/livekit/call-event.mapping';
import type { ParticipantView } from '../protocol/livekit/participant-view';

/** The relay topic of the LiveKit transport. */
export const LIVEKIT_RELAY_TOPIC = 'calls:livekit';

/** Whom a relayed call event is for (the `CallDelivery` method it came through). */
export type DeliveryTarget =
  | { readonly kind: 'session'; readonly sessionId: string }
  | { readonly kind: 'user'; readonly userId: string; readonly channelId?: string }
  | { readonly kind: 'channel'; readonly channelId: string };

/** What instances tell each other's LiveKit clients. */
export type LiveKitRelayMessage =
  /** A call event delivered on another instance. */
  | { readonly type: 'event'; readonly target: DeliveryTarget; readonly event: CallEvent }
  /**
   * A LiveKit participant's view (name, attributes, metadata, tracks: what the call state does not
   * hold), for the LiveKit clients of its channel, or only for session `to`. `joined`: it just
   * joined, and every instance answers with its own LiveKit participants of the channel.
   */
  | {
      readonly type: 'participant';
      readonly channelId: string;
      readonly view: ParticipantView;
      readonly to?: string;
      readonly joined?: boolean;
    }
  /** The identity joined again elsewhere: its session here gets `leave DUPLICATE_IDENTITY`. */
  | { readonly type: 'evict'; readonly sessionId: string }
  /** A LiveKit participant's data packet (stamped), for the LiveKit clients of its channel. */
  | ({ readonly type: 'data'; readonly payload: string } & Omit<DataDelivery, 'payload'>);

/** A data packet for the LiveKit clients of a channel. */
export interface DataDelivery {
  readonly channelId: string;
  /** The sender's session: never sent its own packet. */
  readonly from: string;
  /** The data channel it came on and goes out on (`_reliable`, `_lossy`). */
  readonly label: string;
  /** The encoded `DataPacket` (base64 when relayed). */
  readonly payload: Uint8Array;
  /** Identities it is for; empty: every other participant. */
  readonly destinations: readonly string[];
}

/** Largest relayed data packet payload (base64 of the largest packet a client may send). */
const MAX_RELAYED_DATA_CHARS = 96 * 1024;

/**
 * Checks the shape of a relayed message (other instances are trusted, but may run another
 * version during a rolling upgrade). Returns null for anything unexpected.
 */
export function parseRelayMessage(payload: unknown): LiveKitRelayMessage | null {
  if (!isRecord(payload)) return null;
  switch (payload.type) {
    case 'event':
      return isTarget(payload.target) &&
        isRecord(payload.event) &&
        LIVEKIT_EVENT_TYPES.has(payload.event.type as CallEvent['type'])
        ? (payload as unknown as LiveKitRelayMessage)
        : null;
    case 'participant':
      return typeof payload.channelId === 'string' &&
        isView(payload.view) &&
        (payload.to === undefined || typeof payload.to === 'string')
        ? (payload as unknown as LiveKitRelayMessage)
        : null;
    case 'evict':
      return typeof payload.sessionId === 'string'
        ? (payload as unknown as LiveKitRelayMessage)
        : null;
    case 'data':
      return typeof payload.channelId === 'string' &&
        typeof payload.from === 'string' &&
        typeof payload.label === 'string' &&
        typeof payload.payload === 'string' &&
        payload.payload.length <= MAX_RELAYED_DATA_CHARS &&
        Array.isArray(payload.destinations) &&
        payload.destinations.every((d) => typeof d === 'string')
        ? (payload as unknown as LiveKitRelayMessage)
        : null;
    default:
      return null;
  }
}

function isTarget(value: unknown): value is DeliveryTarget {
  if (!isRecord(value)) return false;
  switch (value.kind) {
    case 'session':
      return typeof value.sessionId === 'string';
    case 'user':
      return (
        typeof value.userId === 'string' &&
        (value.channelId === undefined || typeof value.channelId === 'string')
      );
    case 'channel':
      return typeof value.channelId === 'string';
    default:
      return false;
  }
}

function isView(value: unknown): value is ParticipantView {
  return (
    isRecord(value) &&
    typeof value.sessionId === 'string' &&
    typeof value.identity === 'string' &&
    typeof value.name === 'string' &&
    typeof value.metadata === 'string' &&
    isRecord(value.attributes) &&
    Object.values(value.attributes).every((v) => typeof v === 'string') &&
    Array.isArray(value.tracks) &&
    value.tracks.every((t) => isRecord(t) && typeof t.sid === 'string') &&
    typeof value.joinedAtMs === 'number' &&
    typeof value.unmuted === 'boolean'
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
