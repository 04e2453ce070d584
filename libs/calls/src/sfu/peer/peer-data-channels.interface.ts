import type { types as ms } from 'mediasoup';

/** One session's data channel plumbing; closing it closes every mediasoup object of it. */
export interface DataChannelAttachment {
  /**
   * Sends a binary message on the client's channel of that label.
   * @returns false when the session has no such channel (or not connected yet)
   */
  send(label: string, payload: Uint8Array): boolean;
  close(): void;
}

/**
 * Which data channels a session's client opens in-band, and what becomes of their messages:
 * Mattermost's one `calls-dc` (pings answered, nothing relayed), or channels by label, each
 * message handed to `received` and {@link DataChannelAttachment.send} able to answer.
 */
export type PeerDataChannelSpec =
  | { readonly kind: 'calls-dc' }
  | {
      readonly kind: 'labelled';
      /** The labels the client opens, in the order it creates them. */
      readonly labels: readonly string[];
      /** A message the client sent on a channel (`binary`: not a string). */
      readonly received: (label: string, payload: Uint8Array, binary: boolean) => void;
    };

/**
 * What a peer needs of its room's data channel relay: attaching its transport's client data
 * channels (the room's `DataChannelRelay` implements it).
 */
export interface PeerDataChannels {
  /** Answers on the transport's client data channels; `context` names it in logs. */
  attach(
    transport: ms.WebRtcTransport,
    context: string,
    spec: PeerDataChannelSpec,
  ): Promise<DataChannelAttachment>;
}
