import type { StreamCounter } from './rtp';

/**
 * What a participant does with audio: `speaker` offers a sendonly audio transceiver and sends
 * pre-encoded Opus; `idle` offers the sendonly transceiver but sends nothing; `none` offers only
 * the data channel(s) (a client before its first unmute).
 */
export type AudioRole = 'speaker' | 'idle' | 'none';

/**
 * Milliseconds from the join request (v1: `join` sent on the open socket; LiveKit: the signal
 * WebSocket opened with the token) to each stage; absent: not reached. Stages a protocol does not
 * have stay absent.
 */
export interface StageTimes {
  /** v1: `join` acknowledged. */
  ack?: number;
  /** LiveKit: the signal WebSocket is open (the token was admitted). */
  wsOpen?: number;
  /** LiveKit: `join` response received. */
  joinResponse?: number;
  /** LiveKit: `track_published` for the microphone announced with `add_track`. */
  trackPublished?: number;
  /** The first offer (v1: the only connection's; LiveKit: the publisher's) was sent. */
  offerSent?: number;
  /** The answer to that offer arrived. */
  answer?: number;
  /** That connection is connected (ICE + DTLS). */
  connected?: number;
  /** LiveKit: the server's first offer on the subscriber connection arrived. */
  subscriberOffer?: number;
  /** LiveKit: the subscriber connection is connected. */
  subscriberConnected?: number;
  /** The first RTP packet from another participant arrived. */
  firstMedia?: number;
}

/** A load-test participant of either protocol, as the load process drives it. */
export interface BenchParticipant {
  readonly role: AudioRole;
  readonly times: StageTimes;
  /** Received RTP, per SSRC. */
  readonly received: StreamCounter;
  readonly errors: string[];
  /** The server's session id (known once connected or joined). */
  readonly sessionId: string;
  /** When the join request went out, in epoch ms (comparable across processes). */
  readonly joinSentAt: number;
  /** RTP packets sent so far. */
  readonly sent: number;
  /** Connects what must exist before the join (v1: the socket; LiveKit: nothing). */
  connect(): Promise<void>;
  /** Makes the peer connection(s) and the first offer (client work, not timed). */
  prepare(): Promise<void>;
  /** Joins `channelId`; stage times count from here. `unmute`: v1 speakers unmute after the offer. */
  join(channelId: string, options?: { unmute?: boolean }): Promise<void>;
  /** Sends the packets due (speakers, once connected). */
  sendDue(now: number, maxBurst: number): void;
  /** Leaves the call (acknowledged where the protocol acknowledges it) and closes everything. */
  leave(): Promise<void>;
  /** Closes everything without leaving (the server sees the connection drop). */
  close(): Promise<void>;
}
