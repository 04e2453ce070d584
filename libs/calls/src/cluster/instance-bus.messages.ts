import type { SessionAction } from '../calls/session-relay.interface';
import { flag, object, text } from './bus-fields';
import { parseSessionAction } from './session-action.parser';
import {
  callIdOf,
  parseEndpoint,
  parseProducerChange,
  parseProducerList,
  parseProducerParameters,
  producerIdOf,
  type PipeEndpoint,
  type PipedProducerChange,
  type PipedProducerParameters,
  type PipeProducerList,
} from '../sfu/pipe/pipe.messages';

/** Bus request types of session control: acting on a session served by another instance. */
export const SessionMessage = {
  /** Close the session where it is served (socket session and media) and remove it from the call. */
  remove: 'session.remove',
  /** Pause or resume the forwarding of the session's voice. */
  mute: 'session.mute',
  /** Stop forwarding the session's screen. */
  screenOff: 'session.screen-off',
} as const;

/** Bus request types of the instance registry. */
export const InstanceMessage = {
  /** Are you alive? Answered with the instance's boot id (asked before taking it for dead). */
  ping: 'instance.ping',
} as const;

/** Payload of {@link InstanceMessage.ping}: nothing. */
export type InstancePingRequest = Record<string, never>;

/** Answer to {@link InstanceMessage.ping}. */
export interface InstancePingResponse {
  /** Random id of the instance's process, new at every start. */
  readonly bootId: string;
}

/**
 * Bus request types of the session relay: a session whose media one instance holds, served
 * through a connection of another (its client reconnected through it).
 */
export const RelayMessage = {
  /** To the instance holding the session: a connection of the sender takes it over. */
  reconnect: 'session.reconnect',
  /** To the instance holding the session: perform the client's action. */
  action: 'session.action',
  /** To the instance holding the session: the sender's connection for it closed. */
  connectionLost: 'session.connection-lost',
  /** To the instance of the connection: it no longer serves the session. */
  detach: 'session.detach',
} as const;

/** Payload of {@link RelayMessage.reconnect}. */
export interface RelayReconnectRequest {
  readonly sessionId: string;
  readonly userId: string;
  readonly channelId: string;
}

/** Payload of {@link RelayMessage.action}. */
export interface RelayActionRequest {
  readonly sessionId: string;
  readonly action: SessionAction;
}

/** Payload of {@link RelayMessage.connectionLost} and {@link RelayMessage.detach}. */
export interface RelaySessionRequest {
  readonly sessionId: string;
}

/** Payload of {@link SessionMessage.remove}. */
export interface SessionRemoveRequest {
  readonly sessionId: string;
  /** Why (logged, and told to the session's client). */
  readonly reason: string;
}

/** Payload of {@link SessionMessage.mute}. */
export interface SessionMuteRequest {
  readonly sessionId: string;
  readonly muted: boolean;
}

/** Payload of {@link SessionMessage.screenOff}. */
export interface SessionScreenOffRequest {
  readonly sessionId: string;
}

/** What every pipe request carries: the call it is about. */
export interface PipeCallRequest {
  readonly callId: string;
}

/** A pipe request about one producer of the call. */
export interface PipeProducerRequest extends PipeCallRequest {
  readonly producerId: string;
}

/** Payload of `pipe.connect`: the importer's end of the pipe. */
export type PipeConnectRequest = PipeEndpoint & PipeCallRequest;

/** Payload of `pipe.producer-changed`. */
export type PipeProducerChangeRequest = PipeProducerRequest & PipedProducerChange;

/** The answer to a pipe notification: an empty object. */
export type PipeAck = Record<string, never>;

/**
 * The messages instances exchange over the instance bus: every request type with the payload of
 * its request and of its response. Each has a pair of parsers in {@link BUS_MESSAGE_PARSERS}:
 * other instances are trusted, but what they send is checked for shape (during a rolling upgrade
 * they may run another version). The `pipe.*` types are `PipeMessage`'s (sfu/pipe/pipe.messages.ts).
 */
export interface BusMessageMap {
  'instance.ping': { request: InstancePingRequest; response: InstancePingResponse };
  'session.remove': { request: SessionRemoveRequest; response: void };
  'session.reconnect': { request: RelayReconnectRequest; response: void };
  'session.action': { request: RelayActionRequest; response: void };
  'session.connection-lost': { request: RelaySessionRequest; response: void };
  'session.detach': { request: RelaySessionRequest; response: void };
  'session.mute': { request: SessionMuteRequest; response: void };
  'session.screen-off': { request: SessionScreenOffRequest; response: void };
  'pipe.list': { request: PipeCallRequest; response: PipeProducerList };
  'pipe.connect': { request: PipeConnectRequest; response: PipeEndpoint };
  'pipe.consume': { request: PipeProducerRequest; response: PipedProducerParameters };
  'pipe.producer': { request: PipeProducerRequest; response: PipeAck };
  'pipe.producer-closed': { request: PipeProducerRequest; response: PipeAck };
  'pipe.producer-changed': { request: PipeProducerChangeRequest; response: PipeAck };
  'pipe.close': { request: PipeCallRequest; response: PipeAck };
}

/** One bus request type. */
export type BusMessageType = keyof BusMessageMap;

/** The request payload of a bus message type. */
export type BusRequest<K extends BusMessageType> = BusMessageMap[K]['request'];

/** The response payload of a bus message type. */
export type BusResponse<K extends BusMessageType> = BusMessageMap[K]['response'];

/** Checks the shape of a value received from another instance; throws an Error naming the fault. */
export type BusParser<T> = (value: unknown) => T;

/** The parsers of one message type. */
export interface BusMessageParsers<K extends BusMessageType> {
  readonly request: BusParser<BusRequest<K>>;
  readonly response: BusParser<BusResponse<K>>;
}

const MAX_REASON = 1024;

/** Parses an {@link InstanceMessage.ping} request: whatever it carries is ignored. */
export function parseInstancePingRequest(): InstancePingRequest {
  return {};
}

/** Parses the answer to an {@link InstanceMessage.ping}. */
export function parseInstancePingResponse(value: unknown): InstancePingResponse {
  return { bootId: text(object(value, 'payload'), 'bootId') };
}

/** Parses a {@link RelayMessage.reconnect} request. */
export function parseRelayReconnectRequest(value: unknown): RelayReconnectRequest {
  const o = object(value, 'payload');
  return {
    sessionId: text(o, 'sessionId'),
    userId: text(o, 'userId'),
    channelId: text(o, 'channelId'),
  };
}

/** Parses a {@link RelayMessage.action} request. */
export function parseRelayActionRequest(value: unknown): RelayActionRequest {
  const o = object(value, 'payload');
  return { sessionId: text(o, 'sessionId'), action: parseSessionAction(o.action) };
}

/** Parses a {@link RelayMessage.connectionLost} or {@link RelayMessage.detach} request. */
export function parseRelaySessionRequest(value: unknown): RelaySessionRequest {
  return { sessionId: text(object(value, 'payload'), 'sessionId') };
}

/** Parses a {@link SessionMessage.remove} request. */
export function parseSessionRemoveRequest(value: unknown): SessionRemoveRequest {
  const o = object(value, 'payload');
  const reason = o.reason;
  if (typeof reason !== 'string' || reason.length > MAX_REASON) {
    throw new Error('reason is not a string');
  }
  return { sessionId: text(o, 'sessionId'), reason };
}

/** Parses a {@link SessionMessage.mute} request. */
export function parseSessionMuteRequest(value: unknown): SessionMuteRequest {
  const o = object(value, 'payload');
  return { sessionId: text(o, 'sessionId'), muted: flag(o, 'muted') };
}

/** Parses a {@link SessionMessage.screenOff} request. */
export function parseSessionScreenOffRequest(value: unknown): SessionScreenOffRequest {
  return { sessionId: text(object(value, 'payload'), 'sessionId') };
}

/** Parses a pipe request that names only the call. */
export function parsePipeCallRequest(value: unknown): PipeCallRequest {
  return { callId: callIdOf(value) };
}

/** Parses a pipe request about one producer. */
export function parsePipeProducerRequest(value: unknown): PipeProducerRequest {
  return { producerId: producerIdOf(value), callId: callIdOf(value) };
}

/** Parses a `pipe.connect` request. */
export function parsePipeConnectRequest(value: unknown): PipeConnectRequest {
  return { ...parseEndpoint(value), callId: callIdOf(value) };
}

/** Parses a `pipe.producer-changed` request. */
export function parsePipeProducerChangeRequest(value: unknown): PipeProducerChangeRequest {
  return {
    producerId: producerIdOf(value),
    ...parseProducerChange(value),
    callId: callIdOf(value),
  };
}

/** A response that carries nothing: whatever the other instance sent is ignored. */
function noBody(): void {
  return undefined;
}

/** The answer to a pipe notification carries nothing: whatever was sent is ignored. */
function pipeAck(): PipeAck {
  return {};
}

/** The parsers of every bus message type (the compiler requires one pair per type). */
export const BUS_MESSAGE_PARSERS: { readonly [K in BusMessageType]: BusMessageParsers<K> } = {
  'instance.ping': { request: parseInstancePingRequest, response: parseInstancePingResponse },
  'session.remove': { request: parseSessionRemoveRequest, response: noBody },
  'session.reconnect': { request: parseRelayReconnectRequest, response: noBody },
  'session.action': { request: parseRelayActionRequest, response: noBody },
  'session.connection-lost': { request: parseRelaySessionRequest, response: noBody },
  'session.detach': { request: parseRelaySessionRequest, response: noBody },
  'session.mute': { request: parseSessionMuteRequest, response: noBody },
  'session.screen-off': { request: parseSessionScreenOffRequest, response: noBody },
  'pipe.list': { request: parsePipeCallRequest, response: parseProducerList },
  'pipe.connect': { request: parsePipeConnectRequest, response: parseEndpoint },
  'pipe.consume': { request: parsePipeProducerRequest, response: parseProducerParameters },
  'pipe.producer': { request: parsePipeProducerRequest, response: pipeAck },
  'pipe.producer-closed': { request: parsePipeProducerRequest, response: pipeAck },
  'pipe.producer-changed': { request: parsePipeProducerChangeRequest, response: pipeAck },
  'pipe.close': { request: parsePipeCallRequest, response: pipeAck },
};

/** Whether a string names a bus message type. */
export function isBusMessageType(type: string): type is BusMessageType {
  return Object.prototype.hasOwnProperty.call(BUS_MESSAGE_PARSERS, type);
}

/** Parses the request payload of a message type. @throws Error naming what is wrong */
export function parseBusRequest<K extends BusMessageType>(type: K, value: unknown): BusRequest<K> {
  const parsers: BusMessageParsers<K> = BUS_MESSAGE_PARSERS[type];
  return parsers.request(value);
}

/** Parses the response payload of a message type. @throws Error naming what is wrong */
export function parseBusResponse<K extends BusMessageType>(
  type: K,
  value: unknown,
): BusResponse<K> {
  const parsers: BusMessageParsers<K> = BUS_MESSAGE_PARSERS[type];
  return parsers.response(value);
}

/** A request on the wire (JSON on the receiver's `bus:<instanceId>` channel). */
export interface BusRequestEnvelope {
  /** Unique id; the response names it in `replyTo`. */
  readonly id: string;
  /** The sender's instance id (where the response goes). */
  readonly from: string;
  readonly type: string;
  readonly payload?: unknown;
  readonly replyTo?: undefined;
}

/** A response on the wire: a payload, or the error the handler failed with. */
export interface BusReplyEnvelope {
  readonly id: string;
  readonly from: string;
  /** The id of the request answered. */
  readonly replyTo: string;
  readonly payload?: unknown;
  readonly error?: string;
}

/** A message on the bus: a request or a response. */
export type BusEnvelope = BusRequestEnvelope | BusReplyEnvelope;

/**
 * Parses a bus message (JSON text). The payload is left to the parser of its type.
 * @throws Error when the text is not JSON or not an envelope
 */
export function parseBusEnvelope(textValue: string): BusEnvelope {
  let value: unknown;
  try {
    value = JSON.parse(textValue);
  } catch {
    throw new Error('message is not JSON');
  }
  const o = object(value, 'message');
  const id = text(o, 'id');
  const from = text(o, 'from');
  if (o.replyTo !== undefined) {
    const replyTo = text(o, 'replyTo');
    if (o.error !== undefined && typeof o.error !== 'string') {
      throw new Error('error is not a string');
    }
    return o.error === undefined
      ? { id, from, replyTo, payload: o.payload }
      : { id, from, replyTo, error: o.error };
  }
  return { id, from, type: text(o, 'type'), payload: o.payload };
}
