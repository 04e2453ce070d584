import { createHmac } from 'node:crypto';
import { TrackSource } from '@livekit/protocol';
import { grantsToInput } from './livekit-grants';
import { LiveKitTokenError, LiveKitTokens, mintLiveKitToken } from './livekit-tokens';

const KEY = { apiKey: 'key1', apiSecret: 'a'.repeat(40) };
const OTHER = { apiKey: 'key2', apiSecret: 'b'.repeat(40) };

function handSigned(header: object, payload: object, secret: string, alg = 'sha256'): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const body = `${b64(header)}.${b64(payload)}`;
  return `${body}.${createHmac(alg, secret).update(body).digest('base64url')}`;
}

describe('LiveKitTokens', () => {
  const tokens = new LiveKitTokens({
    [KEY.apiKey]: KEY.apiSecret,
    [OTHER.apiKey]: OTHER.apiSecret,
  });
  const now = () => Math.floor(Date.now() / 1000);
  const refusal = async (token: string) => {
    try {
      await tokens.verify(token);
      return 'verified';
    } catch (err) {
      return err instanceof LiveKitTokenError ? 'refused' : 'other';
    }
  };

  it('verifies a minted token: identity, room, name, attributes, metadata and grants with LiveKit defaults', async () => {
    const jwt = await mintLiveKitToken(KEY, {
      identity: 'u1___s1',
      room: 'ch1',
      name: 'Ann',
      metadata: '{"x":1}',
      attributes: { bot: 'true' },
      ttlSeconds: 3600,
    });
    const verified = await tokens.verify(jwt);
    expect(verified).toMatchObject({
      apiKey: 'key1',
      identity: 'u1___s1',
      room: 'ch1',
      name: 'Ann',
      metadata: '{"x":1}',
      attributes: { bot: 'true' },
      grants: {
        canPublish: true,
        canSubscribe: true,
        canPublishData: true,
        canPublishSources: [],
        canUpdateOwnMetadata: false,
        hidden: false,
      },
    });
    expect(verified.ttlSeconds).toBe(3600);
  });

  it('selects the key by iss and keeps explicit grants, sources included', async () => {
    const jwt = await mintLiveKitToken(OTHER, {
      identity: 'bot',
      room: 'ch1',
      ttlSeconds: 60,
      grants: {
        canPublish: false,
        canPublishData: false,
        canUpdateOwnMetadata: true,
        canPublishSources: ['microphone', 'screen_share'],
      },
    });
    const { apiKey, grants } = await tokens.verify(jwt);
    expect(apiKey).toBe('key2');
    expect(grants).toMatchObject({
      canPublish: false,
      canSubscribe: true,
      canPublishData: false,
      canUpdateOwnMetadata: true,
      canPublishSources: [TrackSource.MICROPHONE, TrackSource.SCREEN_SHARE],
    });
    expect(grantsToInput(grants).canPublishSources).toEqual(['microphone', 'screen_share']);
  });

  it('mints with the configured keys (the first, or the one named)', async () => {
    expect(
      (await tokens.verify(await tokens.mint({ identity: 'u', room: 'r', ttlSeconds: 60 }))).apiKey,
    ).toBe('key1');
    const named = await tokens.mint({ identity: 'u', room: 'r', ttlSeconds: 60 }, 'key2');
    expect((await tokens.verify(named)).apiKey).toBe('key2');
    await expect(
      new LiveKitTokens({}).mint({ identity: 'u', room: 'r', ttlSeconds: 60 }),
    ).rejects.toThrow();
  });

  it('refuses expired, unsigned, forged, foreign-key, non-HS256 and room-less tokens', async () => {
    const claims = {
      iss: 'key1',
      sub: 'u1',
      nbf: now() - 5,
      video: { roomJoin: true, room: 'ch' },
    };
    const header = { alg: 'HS256', typ: 'JWT' };
    expect(await refusal(handSigned(header, { ...claims, exp: now() + 60 }, KEY.apiSecret))).toBe(
      'verified',
    );
    expect(await refusal(handSigned(header, { ...claims, exp: now() - 11 }, KEY.apiSecret))).toBe(
      'refused',
    );
    // Within the 10 s clock tolerance.
    expect(await refusal(handSigned(header, { ...claims, exp: now() - 5 }, KEY.apiSecret))).toBe(
      'verified',
    );
    expect(await refusal(handSigned(header, claims, KEY.apiSecret))).toBe('refused');
    expect(await refusal(handSigned(header, { ...claims, exp: now() + 60 }, OTHER.apiSecret))).toBe(
      'refused',
    );
    expect(
      await refusal(
        handSigned(header, { ...claims, iss: 'nobody', exp: now() + 60 }, KEY.apiSecret),
      ),
    ).toBe('refused');
    expect(
      await refusal(
        handSigned({ alg: 'HS512' }, { ...claims, exp: now() + 60 }, KEY.apiSecret, 'sha512'),
      ),
    ).toBe('refused');
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ ...claims, exp: now() + 60 })).toString('base64url')}.`;
    expect(await refusal(none)).toBe('refused');
    expect(
      await refusal(
        handSigned(header, { ...claims, video: { room: 'ch' }, exp: now() + 60 }, KEY.apiSecret),
      ),
    ).toBe('refused');
    expect(
      await refusal(
        handSigned(
          header,
          { ...claims, video: { roomJoin: true }, exp: now() + 60 },
          KEY.apiSecret,
        ),
      ),
    ).toBe('refused');
    expect(
      await refusal(
        handSigned(header, { ...claims, sub: undefined, exp: now() + 60 }, KEY.apiSecret),
      ),
    ).toBe('refused');
    expect(await refusal('')).toBe('refused');
    expect(await refusal('not.a.jwt')).toBe('refused');
    expect(await refusal('x'.repeat(9000))).toBe('refused');
  });
});
