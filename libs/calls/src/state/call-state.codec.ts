import { CorruptCallStateError } from '../errors/corrupt-call-state.error';
import { InvalidCallStateInputError } from '../errors/invalid-call-state-input.error';
import type { CallSessionState, CallState } from './call-state.types';

/** Longest id the repository accepts (Mattermost ids are 26 chars, UUIDs 36). */
export const MAX_ID_LENGTH = 128;
const ID_PATTERN = /^[A-Za-z0-9._:@-]+$/;

/**
 * Checks an id before it is used in a Redis key or stored: non-empty, at most
 * {@link MAX_ID_LENGTH} characters, letters, digits and `._:@-` only.
 */
export function assertValidId(field: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidCallStateInputError(field, 'must be a non-empty string');
  }
  if (value.length > MAX_ID_LENGTH) {
    throw new InvalidCallStateInputError(field, `must be at most ${MAX_ID_LENGTH} characters`);
  }
  if (!ID_PATTERN.test(value)) {
    throw new InvalidCallStateInputError(field, 'may contain only letters, digits and . _ : @ -');
  }
}

/**
 * `"<session id>":<session JSON>` of the last session object written under each session id (states
 * are immutable, so an entry never goes stale for its object). Keyed by the id string, whose hash
 * V8 keeps, rather than by the object (a WeakMap gives every new session an identity hash and the
 * collector ephemeron work). Bounded: emptied when full.
 */
const sessionEntries = new Map<
  string,
  { readonly session: CallSessionState; readonly entry: string }
>();
const MAX_SESSION_ENTRIES = 20_000;

/** `"<field>":` of each top-level field name seen (a handful; bounded against odd documents). */
const fieldPrefixes = new Map<string, string>();
const MAX_FIELD_PREFIXES = 64;

function fieldPrefix(key: string): string {
  let prefix = fieldPrefixes.get(key);
  if (prefix === undefined) {
    prefix = `${JSON.stringify(key)}:`;
    if (fieldPrefixes.size < MAX_FIELD_PREFIXES) fieldPrefixes.set(key, prefix);
  }
  return prefix;
}

/** A session's fields in the order sessions are built with (`JSON.stringify` writes them so). */
const SESSION_FIELDS = [
  'sessionId',
  'userId',
  'unmuted',
  'raisedHand',
  'video',
  'joinAt',
  'instanceId',
] as const;

/** Whether a session has exactly the known fields, in the usual order. */
export function hasUsualSessionFields(session: CallSessionState): boolean {
  return hasKeys(session, SESSION_FIELDS);
}

function hasKeys(value: object, fields: readonly string[]): boolean {
  const keys = Object.keys(value);
  if (keys.length !== fields.length) return false;
  for (let i = 0; i < keys.length; i++) if (keys[i] !== fields[i]) return false;
  return true;
}

/**
 * `JSON.stringify(session)`, written directly when the session has exactly the known fields in
 * the usual order and types (several times faster than the generic serialiser); anything else
 * (another order, a field of a newer version) goes through `JSON.stringify`.
 */
function sessionJson(session: CallSessionState): string {
  let i = 0;
  for (const key in session) if (key !== SESSION_FIELDS[i++]) return JSON.stringify(session);
  const s = session;
  const plain =
    i === SESSION_FIELDS.length &&
    typeof s.sessionId === 'string' &&
    typeof s.userId === 'string' &&
    typeof s.unmuted === 'boolean' &&
    Number.isFinite(s.raisedHand) &&
    typeof s.video === 'boolean' &&
    Number.isFinite(s.joinAt) &&
    typeof s.instanceId === 'string';
  if (!plain) return JSON.stringify(session);
  return (
    `{"sessionId":${JSON.stringify(s.sessionId)},"userId":${JSON.stringify(s.userId)},` +
    `"unmuted":${s.unmuted},"raisedHand":${s.raisedHand},"video":${s.video},` +
    `"joinAt":${s.joinAt},"instanceId":${JSON.stringify(s.instanceId)}}`
  );
}

function serializeSessions(sessions: CallState['sessions']): string {
  let out = '';
  for (const id in sessions) {
    const session = sessions[id];
    const cached = sessionEntries.get(id);
    let entry: string;
    if (cached !== undefined && cached.session === session) entry = cached.entry;
    else {
      entry = `${JSON.stringify(id)}:${sessionJson(session)}`;
      if (sessionEntries.size >= MAX_SESSION_ENTRIES) sessionEntries.clear();
      sessionEntries.set(id, { session, entry });
    }
    out = out === '' ? entry : `${out},${entry}`;
  }
  return `{${out}}`;
}

/** The fields of a call state in the order it is built with (what `JSON.stringify` writes). */
const CALL_FIELDS = [
  'version',
  'id',
  'channelId',
  'startAt',
  'ownerId',
  'hostId',
  'hostLockedUserId',
  'threadId',
  'postId',
  'title',
  'screenSharingSessionId',
  'screenStartAt',
  'dismissedNotification',
  'sessions',
] as const;

/**
 * Per call id, the JSON of the fields between `version` and `sessions` and the state it was
 * written from: a mutation rarely changes them (mute, hands, joins and leaves change only
 * `sessions`), so the next state of the call reuses the text when they are the same.
 */
const headers = new Map<string, { readonly source: CallState; readonly text: string }>();
const MAX_HEADERS = 10_000;

function sameHeader(a: CallState, b: CallState): boolean {
  return (
    a.id === b.id &&
    a.channelId === b.channelId &&
    a.startAt === b.startAt &&
    a.ownerId === b.ownerId &&
    a.hostId === b.hostId &&
    a.hostLockedUserId === b.hostLockedUserId &&
    a.threadId === b.threadId &&
    a.postId === b.postId &&
    a.title === b.title &&
    a.screenSharingSessionId === b.screenSharingSessionId &&
    a.screenStartAt === b.screenStartAt &&
    a.dismissedNotification === b.dismissedNotification
  );
}

/** `,"<field>":<JSON>` of each field but `version` and `sessions`, as `JSON.stringify` writes them. */
function headerJson(call: CallState): string {
  let out = '';
  for (const key in call) {
    const value: unknown = call[key as keyof CallState];
    if (key === 'version' || key === 'sessions' || value === undefined) continue;
    out += `,${fieldPrefix(key)}${valueJson(value)}`;
  }
  return out;
}

/** `JSON.stringify(value)`, finite numbers written directly. */
function valueJson(value: unknown): string {
  return typeof value === 'number' && Number.isFinite(value) ? `${value}` : JSON.stringify(value);
}

function versionJson(call: CallState): string {
  return `{"version":${Number.isFinite(call.version) ? `${call.version}` : 'null'}`;
}

/**
 * Serialises a call state: the same text as `JSON.stringify`, with `version` written first so the
 * Redis CAS script can read it without decoding the whole document. Sessions a mutation did not
 * touch are the same objects as before, and their JSON is reused instead of written again; so is
 * the JSON of the call's other fields while they are unchanged.
 */
export function serializeCallState(call: CallState): string {
  if (!hasKeys(call, CALL_FIELDS)) return serializeAnyCallState(call);
  const cached = headers.get(call.id);
  let header: string;
  if (cached !== undefined && sameHeader(cached.source, call)) header = cached.text;
  else {
    header = headerJson(call);
    if (headers.size >= MAX_HEADERS) headers.clear();
    headers.set(call.id, { source: call, text: header });
  }
  return `${versionJson(call)}${header},"sessions":${serializeSessions(call.sessions)}}`;
}

/** {@link serializeCallState} of a state of another shape (another field order, newer fields). */
function serializeAnyCallState(call: CallState): string {
  let out = versionJson(call);
  for (const key in call) {
    const value: unknown = call[key as keyof CallState];
    if (key === 'version' || value === undefined) continue;
    const json = key === 'sessions' ? serializeSessions(call.sessions) : valueJson(value);
    out += `,${fieldPrefix(key)}${json}`;
  }
  return `${out}}`;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean';
const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function checkSession(key: string, id: string, raw: unknown): CallSessionState {
  if (!isRecord(raw)) throw new CorruptCallStateError(key, `session ${id} is not an object`);
  const ok =
    raw.sessionId === id &&
    isString(raw.userId) &&
    isBoolean(raw.unmuted) &&
    isNumber(raw.raisedHand) &&
    isBoolean(raw.video) &&
    isNumber(raw.joinAt) &&
    isString(raw.instanceId);
  if (!ok) throw new CorruptCallStateError(key, `session ${id} has missing or mistyped fields`);
  return raw as unknown as CallSessionState;
}

/**
 * Parses and validates a stored call state.
 * @throws CorruptCallStateError when the text is not JSON of the expected shape.
 */
export function parseCallState(key: string, text: string): CallState {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new CorruptCallStateError(key, `not JSON (${(err as Error).message})`);
  }
  if (!isRecord(raw)) throw new CorruptCallStateError(key, 'not a JSON object');
  const strings = [
    'id',
    'channelId',
    'ownerId',
    'hostId',
    'hostLockedUserId',
    'threadId',
    'postId',
    'title',
    'screenSharingSessionId',
  ] as const;
  for (const f of strings) {
    if (!isString(raw[f])) throw new CorruptCallStateError(key, `field ${f} is not a string`);
  }
  for (const f of ['version', 'startAt', 'screenStartAt'] as const) {
    if (!isNumber(raw[f])) throw new CorruptCallStateError(key, `field ${f} is not a number`);
  }
  if (!isRecord(raw.dismissedNotification) || !isRecord(raw.sessions)) {
    throw new CorruptCallStateError(key, 'dismissedNotification or sessions is not an object');
  }
  for (const [id, s] of Object.entries(raw.sessions)) checkSession(key, id, s);
  return raw as unknown as CallState;
}
