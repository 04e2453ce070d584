import { CorruptCallStateError } from '../errors/corrupt-call-state.error';
import { InvalidCallStateInputError } from '../errors/invalid-call-state-input.error';
import { assertValidId, parseCallState, serializeCallState } from './call-state.codec';
import { addSession, createCallState } from './call-state.mutations';

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
