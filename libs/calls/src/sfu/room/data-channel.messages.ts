/** SCTP payload protocol identifiers of WebRTC data channels (RFC 8831, RFC 8832). */
export const PPID = { dcep: 50, string: 51, binary: 53, stringEmpty: 56, binaryEmpty: 57 } as const;

/** DCEP `DATA_CHANNEL_ACK` (RFC 8832 §5.2). */
export const DCEP_ACK = Buffer.from([0x02]);

/** A message to send back on the data channel. */
export interface DataChannelReply {
  readonly data: string | Buffer;
  readonly ppid: number;
}

/** msgpack positive fixints of Mattermost's `DCMessageType.Ping` / `Pong` (calls-common `dc_msg.ts`). */
const MSGPACK_PING = 0x01;
const MSGPACK_PONG = 0x02;

/**
 * The server's answer to a message on the client's `calls-dc` channel: the text `ping` gets
 * `pong` (older Mattermost clients measure RTT so), and a binary msgpack `Ping` (type 1, the
 * flat encoding of newer clients) gets a msgpack `Pong` (type 2). Anything else gets none.
 */
export function dataChannelReply(message: Buffer, ppid: number): DataChannelReply | null {
  if (ppid === PPID.string && message.toString('utf8') === 'ping') {
    return { data: 'pong', ppid: PPID.string };
  }
  if (ppid === PPID.binary && message.length >= 1 && message[0] === MSGPACK_PING) {
    return { data: Buffer.from([MSGPACK_PONG]), ppid: PPID.binary };
  }
  return null;
}
