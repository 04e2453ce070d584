import {
  ClientConfigSetting,
  ClientConfiguration,
  ICEServer,
  JoinResponse,
  ServerInfo,
  ServerInfo_Edition,
} from '@livekit/protocol';
import type { SignalMessage } from './livekit-codec';
import type { RoomView } from './room-view';

/**
 * The LiveKit server version announced (`server_version`, `server_info.version`): the level of
 * the protocol this server speaks; clients require one and gate features on it.
 */
export const LIVEKIT_SERVER_VERSION = '1.9.0';
/** The signal protocol version announced in `server_info.protocol`. */
export const LIVEKIT_SERVER_PROTOCOL = 16;
/** Keepalive the client runs (s): LiveKit's values. */
export const PING_INTERVAL_SECONDS = 5;
export const PING_TIMEOUT_SECONDS = 15;

/** An ICE server for the client (STUN, or TURN with credentials). */
export interface IceServerEntry {
  readonly urls: readonly string[];
  readonly username?: string;
  readonly credential?: string;
}

/**
 * The `join` message: the room (host in its metadata), the client's own participant, everyone
 * else, the server's version, LiveKit's keepalive, dual-PC with the publisher primary, ICE
 * servers, and resume disabled (every reconnect is a full rejoin under the same identity).
 */
export function joinResponse(
  view: RoomView,
  iceServers: readonly IceServerEntry[],
  nodeId: string,
): SignalMessage {
  return {
    case: 'join',
    value: new JoinResponse({
      room: view.room(),
      participant: view.selfInfo(),
      otherParticipants: view.otherInfos(),
      serverVersion: LIVEKIT_SERVER_VERSION,
      serverInfo: new ServerInfo({
        edition: ServerInfo_Edition.Standard,
        version: LIVEKIT_SERVER_VERSION,
        protocol: LIVEKIT_SERVER_PROTOCOL,
        nodeId,
      }),
      pingInterval: PING_INTERVAL_SECONDS,
      pingTimeout: PING_TIMEOUT_SECONDS,
      subscriberPrimary: false,
      iceServers: iceServers.map(
        (s) =>
          new ICEServer({
            urls: [...s.urls],
            username: s.username ?? '',
            credential: s.credential ?? '',
          }),
      ),
      clientConfiguration: new ClientConfiguration({
        resumeConnection: ClientConfigSetting.DISABLED,
      }),
    }),
  };
}
