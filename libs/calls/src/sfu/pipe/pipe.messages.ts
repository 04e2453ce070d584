import type { types as ms } from 'mediasoup';

/**
 * Instance bus request types of the media pipes. The importer (the instance whose participants
 * want a producer) asks; the exporter (the instance whose participant sends it) answers and tells
 * the importers about changes.
 */
export const PipeMessage = {
  /** Importer → exporter: the ids of your local producers in the call. */
  list: 'pipe.list',
  /** Importer → exporter: here is my pipe transport; make and connect yours, give me its tuple. */
  connect: 'pipe.connect',
  /** Importer → exporter: consume this producer on your side of our pipe; give me its parameters. */
  consume: 'pipe.consume',
  /** Exporter → importer: a producer started (import it). */
  producer: 'pipe.producer',
  /** Exporter → importer: a producer closed (close your pipe producer). */
  producerClosed: 'pipe.producer-closed',
  /** Exporter → importer: a producer was paused or resumed, or relabelled. */
  producerChanged: 'pipe.producer-changed',
  /** Either way: my room of the call closed or moved; drop every pipe you have with me for it. */
  close: 'pipe.close',
} as const;

/** One of the {@link PipeMessage} types. */
export type PipeMessageType = (typeof PipeMessage)[keyof typeof PipeMessage];

/** One end of a pipe: where it receives and its SRTP key (the other end sends with it). */
export interface PipeEndpoint {
  readonly ip: string;
  readonly port: number;
  readonly srtpParameters: ms.SrtpParameters;
}

/** What an importer needs to create the pipe producer of an exported one. */
export interface PipedProducerParameters {
  readonly kind: ms.MediaKind;
  readonly rtpParameters: ms.RtpParameters;
  readonly paused: boolean;
  readonly appData: ms.AppData;
}

/** Payload of {@link PipeMessage.producerChanged}. */
export interface PipedProducerChange {
  readonly paused: boolean;
  readonly appData: ms.AppData;
}

function object(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${what} is not an object`);
  }
  return value as Record<string, unknown>;
}

function text(o: Record<string, unknown>, key: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0 || v.length > 256) {
    throw new Error(`${key} is not a non-empty string`);
  }
  return v;
}

/** The `callId` of any pipe request (other instances are trusted, but checked for shape). */
export function callIdOf(payload: unknown): string {
  return text(object(payload, 'payload'), 'callId');
}

/** The `producerId` of a producer request. */
export function producerIdOf(payload: unknown): string {
  return text(object(payload, 'payload'), 'producerId');
}

/** A {@link PipeEndpoint} from a request or response. */
export function parseEndpoint(value: unknown): PipeEndpoint {
  const o = object(value, 'endpoint');
  const port = o.port;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error('port is not a port number');
  }
  const srtp = object(o.srtpParameters, 'srtpParameters');
  text(srtp, 'cryptoSuite');
  text(srtp, 'keyBase64');
  return {
    ip: text(o, 'ip'),
    port,
    srtpParameters: srtp as unknown as ms.SrtpParameters,
  };
}

/** A {@link PipeMessage.list} response. */
export interface PipeProducerList {
  /** The exporter's local producers in the call. */
  readonly producerIds: string[];
  /**
   * Whether the exporter has an open pipe end for the asking importer (absent: not said, as from
   * an older instance).
   */
  readonly exporting?: boolean;
}

/** Parses a {@link PipeMessage.list} response. */
export function parseProducerList(value: unknown): PipeProducerList {
  const o = object(value, 'response');
  const ids = o.producerIds;
  if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string')) {
    throw new Error('producerIds is not a list of strings');
  }
  if (o.exporting !== undefined && typeof o.exporting !== 'boolean') {
    throw new Error('exporting is not a boolean');
  }
  return { producerIds: ids as string[], exporting: o.exporting };
}

/** A {@link PipedProducerParameters} from a {@link PipeMessage.consume} response. */
export function parseProducerParameters(value: unknown): PipedProducerParameters {
  const o = object(value, 'response');
  if (o.kind !== 'audio' && o.kind !== 'video') throw new Error('kind is not audio or video');
  const rtp = object(o.rtpParameters, 'rtpParameters');
  if (!Array.isArray(rtp.codecs) || !Array.isArray(rtp.encodings)) {
    throw new Error('rtpParameters lack codecs or encodings');
  }
  return {
    kind: o.kind,
    rtpParameters: rtp as unknown as ms.RtpParameters,
    paused: o.paused === true,
    appData: object(o.appData, 'appData'),
  };
}

/** A {@link PipedProducerChange} from a {@link PipeMessage.producerChanged} request. */
export function parseProducerChange(value: unknown): PipedProducerChange {
  const o = object(value, 'payload');
  return { paused: o.paused === true, appData: object(o.appData, 'appData') };
}
