import { formatIdentity, parseIdentity } from './livekit-identity';
import { LiveKitIds, newSessionId } from './livekit-ids';

describe('LiveKit identities and ids', () => {
  it('parses Mattermost identities (userID___sessionID) and plain user ids', () => {
    expect(parseIdentity('u-1___abc123')).toEqual({ userId: 'u-1', sessionId: 'abc123' });
    expect(parseIdentity('u-1')).toEqual({ userId: 'u-1' });
    expect(formatIdentity('u-1', 'abc123')).toBe('u-1___abc123');
  });

  it.each(['', '___s', 'u___', 'a___b___c', 'u___s|TR_x', 'u___s_x', 'u x', 'x'.repeat(129)])(
    'refuses %j',
    (identity) => {
      expect(parseIdentity(identity)).toBeNull();
    },
  );

  it('derives participant, room and track ids, makes fresh session ids', () => {
    expect(LiveKitIds.participant('s1')).toBe('PA_s1');
    expect(LiveKitIds.room('c1')).toBe('RM_c1');
    // The same (session, client track) gives the same id everywhere; any other pair another one.
    expect(LiveKitIds.track('s1', 'cid-1')).toBe(LiveKitIds.track('s1', 'cid-1'));
    const tracks = new Set(
      Array.from({ length: 100 }, (_, i) => LiveKitIds.track(`s${i % 10}`, `cid-${i}`)),
    );
    tracks.add(LiveKitIds.track('s1', 'cid-0'));
    expect(tracks.size).toBe(101);
    for (const t of tracks) expect(t).toMatch(/^TR_[0-9A-Za-z]{12}$/);
    const session = newSessionId();
    expect(session).toMatch(/^[a-z0-9]{26}$/);
    expect(parseIdentity(formatIdentity('u-1', session))).toEqual({
      userId: 'u-1',
      sessionId: session,
    });
  });
});
