import type { SignalMessage } from '../protocol/livekit/livekit-codec';
import { LiveKitTokens } from '../protocol/livekit/livekit-tokens';
import type { LiveKitConnection } from './livekit-connection';
import { LiveKitTokenRefresher } from './livekit-token.refresher';

describe('LiveKitTokenRefresher', () => {
  const tokens = new LiveKitTokens({ first: 'f'.repeat(32), second: 's'.repeat(32) });

  it('sends a fresh token with the same identity, room, name, grants, lifetime and key', async () => {
    const original = await tokens.verify(
      await tokens.mint(
        {
          identity: 'u1___s1',
          room: 'ch1',
          name: 'Ann',
          attributes: { bot: 'true' },
          grants: { canUpdateOwnMetadata: true, canPublishSources: ['microphone'] },
          ttlSeconds: 3600,
        },
        'second',
      ),
    );
    const sent: SignalMessage[] = [];
    const connection = {
      client: { token: original },
      sessionId: 's1',
      send: (...messages: SignalMessage[]) => sent.push(...messages),
    } as unknown as LiveKitConnection;

    await new LiveKitTokenRefresher(tokens).refresh(connection);

    expect(sent).toHaveLength(1);
    expect(sent[0].case).toBe('refreshToken');
    const fresh = await tokens.verify(sent[0].value as string);
    expect(fresh).toEqual(original);
  });
});
