import { CorruptCallStateError } from '../errors/corrupt-call-state.error';
import { InvalidCallStateInputError } from '../errors/invalid-call-state-input.error';
import { assertValidId, parseCallState, serializeCallState } from './call-state.codec';
import { addSession, createCallState, patchSession } from './call-state.mutations';
import type { CallState } from './call-state.types';

describe('call state codec', () => {
  const call = addSession(createCallState({ callId: 'c1', channelId: 'ch', ownerId: 'u1' }, 5), {
    sessionId: 's1',
    userId: 'u1',
    unmuted: true,
    raisedHand: 0,
    video: false,
    joinAt: 6,
    instanceId: 'i',
  });

  it('round-trips, with version first (the CAS script reads it from the head)', () => {
    const text = serializeCallState({ ...call, version: 42 });
    expect(text.startsWith('{"version":42,')).toBe(true);
    expect(parseCallState('k', text)).toEqual({ ...call, version: 42 });
  });

  it('writes exactly what JSON.stringify writes, also for sessions reused after a mutation', () => {
    const plain = (c: object) => {
      const { version, ...rest } = c as { version: number };
      return JSON.stringify({ version, ...rest });
    };
    const bigger = addSession(
      { ...call, title: 'quote " and \\ é\u2028' },
      {
        ...call.sessions.s1,
        sessionId: 's"2',
        userId: 'u2',
      },
    );
    expect(serializeCallState(bigger)).toBe(plain(bigger));
    const patched = patchSession(bigger, 's1', { unmuted: false });
    expect(patched.sessions['s"2']).toBe(bigger.sessions['s"2']);
    expect(serializeCallState(patched)).toBe(plain(patched));
    // Fields this version does not know (written by a newer instance) are kept.
    const extended = { ...patched, future: { a: [1] }, gone: undefined } as unknown as typeof call;
    expect(serializeCallState(extended)).toBe(plain(extended));
    expect(JSON.parse(serializeCallState(extended))).toEqual(JSON.parse(plain(extended)));
  });

  it('writes the new value of any call field once a state of the same call was written', () => {
    const plain = (c: CallState) => {
      const { version, ...rest } = c;
      return JSON.stringify({ version, ...rest });
    };
    const first = { ...call, id: 'c-header', version: 3 };
    expect(serializeCallState(first)).toBe(plain(first));
    const changes: Partial<CallState>[] = [
      { hostId: 'u1' },
      { title: 'renamed' },
      { screenSharingSessionId: 's1', screenStartAt: 9 },
      { dismissedNotification: { u2: true } },
      { startAt: 1 },
    ];
    for (const change of changes) {
      const next = { ...first, ...change, version: 4 };
      expect(serializeCallState(next)).toBe(plain(next));
    }
  });

  it('writes sessions of another field order, with unknown fields or odd values as JSON.stringify does', () => {
    const s1 = call.sessions.s1;
    const { sessionId, ...rest } = s1;
    const odd = {
      reordered: { ...rest, sessionId: 'reordered' },
      newer: { ...s1, sessionId: 'newer', screen: true },
      missing: { ...s1, sessionId: 'missing', video: undefined },
      nan: { ...s1, sessionId: 'nan', joinAt: NaN, raisedHand: -0 },
      typed: { ...s1, sessionId: 'typed', unmuted: 'yes', userId: 'u\u2028"' },
    } as unknown as CallState['sessions'];
    const withOdd = { ...call, sessions: { ...call.sessions, ...odd } };
    const { version, ...others } = withOdd;
    expect(sessionId).toBe('s1');
    expect(serializeCallState(withOdd)).toBe(JSON.stringify({ version, ...others }));
  });

  it('writes a session object under the key it is found at, also after it was cached', () => {
    serializeCallState(call); // keeps the entry of s1
    const moved = { ...call, sessions: { other: call.sessions.s1 } };
    expect(JSON.parse(serializeCallState(moved)).sessions).toEqual({ other: call.sessions.s1 });
  });

  it.each([
    ['not json', 'not JSON'],
    ['[1,2]', 'not a JSON object'],
    ['{"version":1}', 'field id'],
    [JSON.stringify({ ...call, version: 'x' }), 'field version'],
    [JSON.stringify({ ...call, sessions: { s1: { sessionId: 's1' } } }), 'session s1'],
    [JSON.stringify({ ...call, sessions: { s2: { ...call.sessions.s1 } } }), 'session s2'],
  ])('names malformed stored state %#', (text, reason) => {
    expect(() => parseCallState('rustchat:calls:state:c1', text)).toThrow(CorruptCallStateError);
    expect(() => parseCallState('rustchat:calls:state:c1', text)).toThrow(reason);
  });

  it.each([[''], ['a'.repeat(129)], ['has space'], ['new\nline'], [42], [null]])(
    'rejects the id %j',
    (id) => {
      expect(() => assertValidId('callId', id)).toThrow(InvalidCallStateInputError);
    },
  );

  it('accepts Mattermost ids and UUIDs', () => {
    expect(() => assertValidId('id', 'ybndrfg8ejkmcpqxot1uwisza3')).not.toThrow();
    expect(() => assertValidId('id', '0b6f3c8e-1f7c-4f8e-9a52-3b1d2c9e7a10')).not.toThrow();
  });
});
