import { DataPacket, DataPacket_Kind, UserPacket } from '@livekit/protocol';
import type { EmojiData } from '../../calls/call-events';

/**
 * The data channels livekit-client opens on its publisher connection, in the order it creates
 * them (the order names them: see `MediaSessionOptions.dataChannels`).
 */
export const LIVEKIT_DATA_CHANNELS = ['_lossy', '_reliable', '_data_track'] as const;

/** A data channel of LiveKit's publisher connection. */
export type LiveKitDataChannel = (typeof LIVEKIT_DATA_CHANNELS)[number];

/** The channel packets sent reliably go on. */
export const RELIABLE_CHANNEL: LiveKitDataChannel = '_reliable';

/** Largest data packet a client may send (LiveKit's clients split larger data into streams). */
export const MAX_DATA_PACKET_BYTES = 64 * 1024;

/** Mattermost's topic of reactions. */
export const REACTION_TOPIC = 'reaction';

/** Mattermost's topic of the host's requests to one participant (`{"action": …}`). */
export const HOST_CONTROL_TOPIC = 'host_control';

/** Who sent a packet, as the server stamps it. */
export interface DataSender {
  readonly participantSid: string;
  readonly identity: string;
}

/** A client's data packet, stamped with its sender, and whom it is for. */
export interface StampedPacket {
  readonly packet: DataPacket;
  /** The packet to forward, re-encoded with the sender the server stamped. */
  readonly bytes: Uint8Array;
  /** Identities it is for; empty: everyone else in the room. */
  readonly destinations: readonly string[];
}

/** Why a client's data packet is refused. */
export type DataRefusal = 'oversized' | 'malformed' | 'not-forwarded';

/**
 * Decodes a client's `DataPacket` and stamps the sender (LiveKit's rule: the server overwrites
 * `participant_sid` and `participant_identity`, also the deprecated ones of a user packet, so no
 * client can speak for another). The rest is forwarded as it came: streams, RPC and chat work
 * without the server knowing them. Packets only a server sends (active speakers) are refused.
 */
export function stampClientPacket(
  bytes: Uint8Array,
  sender: DataSender,
): StampedPacket | DataRefusal {
  if (bytes.byteLength > MAX_DATA_PACKET_BYTES) return 'oversized';
  let packet: DataPacket;
  try {
    packet = DataPacket.fromBinary(bytes);
  } catch {
    return 'malformed';
  }
  if (packet.value.case === undefined || packet.value.case === 'speaker') return 'not-forwarded';
  packet.participantSid = sender.participantSid;
  packet.participantIdentity = sender.identity;
  const destinations = [...packet.destinationIdentities];
  if (packet.value.case === 'user') {
    const user = packet.value.value;
    user.participantSid = sender.participantSid;
    user.participantIdentity = sender.identity;
    destinations.push(...user.destinationIdentities);
  }
  return { packet, bytes: packet.toBinary(), destinations: [...new Set(destinations)] };
}

/**
 * The emoji of a reaction packet (topic `reaction`, JSON `{emojiData | emoji, timestamp}` as
 * Mattermost's LiveKit-era clients send it; `emoji` may also be the emoji itself), or null when
 * the packet is not a well-formed reaction.
 */
export function reactionOf(packet: DataPacket): EmojiData | null {
  if (packet.value.case !== 'user' || packet.value.value.topic !== REACTION_TOPIC) return null;
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(packet.value.value.payload));
  } catch {
    return null;
  }
  if (!isRecord(body)) return null;
  const emoji = body.emojiData ?? body.emoji;
  if (typeof emoji === 'string') {
    return emoji.length > 0 && emoji.length <= 64 ? { name: emoji, literal: emoji } : null;
  }
  if (!isRecord(emoji) || typeof emoji.name !== 'string' || emoji.name.length === 0) return null;
  const out: { -readonly [K in keyof EmojiData]: EmojiData[K] } = { name: emoji.name };
  for (const key of ['unified', 'skin', 'literal'] as const) {
    const value = emoji[key];
    if (typeof value === 'string') out[key] = value;
  }
  return JSON.stringify(out).length <= 512 ? out : null;
}

/**
 * A reaction as LiveKit participants get it: a user packet, topic `reaction`, JSON
 * `{emojiData, timestamp}`, from the reacting participant.
 */
export function reactionPacket(
  sender: DataSender,
  emoji: EmojiData,
  timestamp: number,
): Uint8Array {
  return userPacket(sender, REACTION_TOPIC, { emojiData: emoji, timestamp });
}

/**
 * A request of the host to one participant (Mattermost's `host_control`, e.g.
 * `{"action": "stop_screenshare"}`), sent by the server: no sender participant.
 */
export function hostControlPacket(action: string): Uint8Array {
  return userPacket({ participantSid: '', identity: '' }, HOST_CONTROL_TOPIC, { action });
}

function userPacket(sender: DataSender, topic: string, body: unknown): Uint8Array {
  return new DataPacket({
    kind: DataPacket_Kind.RELIABLE,
    participantSid: sender.participantSid,
    participantIdentity: sender.identity,
    value: {
      case: 'user',
      value: new UserPacket({
        participantSid: sender.participantSid,
        participantIdentity: sender.identity,
        payload: new TextEncoder().encode(JSON.stringify(body)),
        topic,
      }),
    },
  }).toBinary();
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
