import { callsOptionsFromEnv } from '@app/calls';
import { defaultDemoLiveKitKeys } from './demo-livekit-keys';

describe('the demo host serves LiveKit by default', () => {
  it('an unset RUSTCHAT_CALLS_LIVEKIT_KEYS gets a valid key of this process', () => {
    const env: NodeJS.ProcessEnv = {};
    expect(defaultDemoLiveKitKeys(env)).toMatch(/not set/);
    const keys = callsOptionsFromEnv(env).livekitKeys ?? {};
    expect(Object.keys(keys)).toEqual(['demo']);
    // Another process gets another secret.
    const other: NodeJS.ProcessEnv = {};
    defaultDemoLiveKitKeys(other);
    expect(other.RUSTCHAT_CALLS_LIVEKIT_KEYS).not.toBe(env.RUSTCHAT_CALLS_LIVEKIT_KEYS);
  });

  it('a set variable is kept, and an empty one keeps LiveKit off', () => {
    const set: NodeJS.ProcessEnv = { RUSTCHAT_CALLS_LIVEKIT_KEYS: `k:${'s'.repeat(32)}` };
    expect(defaultDemoLiveKitKeys(set)).toBeNull();
    expect(set.RUSTCHAT_CALLS_LIVEKIT_KEYS).toBe(`k:${'s'.repeat(32)}`);
    const off: NodeJS.ProcessEnv = { RUSTCHAT_CALLS_LIVEKIT_KEYS: '' };
    expect(defaultDemoLiveKitKeys(off)).toBeNull();
    expect(callsOptionsFromEnv(off).livekitKeys ?? {}).toEqual({});
  });
});
