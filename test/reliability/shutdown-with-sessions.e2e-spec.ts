import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { testRedisUrl } from '@app/calls/testing';
import { FaultRecorder } from '../support/fault-recorder';
import { TestHostApp } from '../support/host-app';

/**
 * Shutting down with sessions still open (a single instance: nowhere to drain them to): the app
 * closes cleanly and removes its sessions from the shared call state on the way out.
 */
describe('shutdown with sessions still open [redis]', () => {
  it('app.close() resolves and leaves no session of this instance in Redis', async () => {
    const faults = FaultRecorder.install();
    const prefix = `shutdown:${randomBytes(4).toString('hex')}:`;
    const redis = new Redis(testRedisUrl());
    const host = await TestHostApp.start({
      RUSTCHAT_CALLS_STATE_BACKEND: 'redis',
      RUSTCHAT_REDIS_URL: testRedisUrl(),
      RUSTCHAT_CALLS_REDIS_KEY_PREFIX: prefix,
      RUSTCHAT_CALLS_WORKERS: '1',
    });
    const channel = `bye-${randomBytes(3).toString('hex')}`;
    for (const name of ['Leaver A', 'Leaver B']) {
      const client = await host.connect((await host.login(name)).token);
      expect(await client.send('join', { channelID: channel })).toMatchObject({ ok: true });
    }
    let closeError: unknown = null;
    await host.close().catch((err: unknown) => (closeError = err));
    const left = await redis.keys(`${prefix}state:*`);
    redis.disconnect();
    faults.uninstall();
    expect(closeError).toBeNull();
    // Nest runs the module's onApplicationShutdown hooks in parallel: the Redis client quits
    // while CallMembershipService is still removing its sessions.
    expect(left).toEqual([]);
    expect(faults.describe()).toEqual([]);
  }, 30_000);
});
