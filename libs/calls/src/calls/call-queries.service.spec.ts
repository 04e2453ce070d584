import type { TestingModule } from '@nestjs/testing';
import { CallNotFoundError } from '../errors/call-not-found.error';
import { ForbiddenError } from '../errors/forbidden.error';
import { CallsPermissions } from '../identity/calls-permissions.interface';
import { CallStateRepository } from '../state/call-state.repository';
import { ChannelSettingsStore } from '../state/channel-settings.store';
import type { FakeDelivery, FakePermissions } from '../testing/core-fakes';
import { afterFanOut, createCoreTestingModule, joinSession } from '../testing/core-testing-module';
import { CallDelivery } from './call-delivery.interface';
import { CallQueriesService } from './call-queries.service';

describe('CallQueriesService', () => {
  let moduleRef: TestingModule;
  let queries: CallQueriesService;
  let permissions: FakePermissions;
  let delivery: FakeDelivery;

  beforeEach(async () => {
    moduleRef = await createCoreTestingModule();
    queries = moduleRef.get(CallQueriesService);
    permissions = moduleRef.get<FakePermissions>(CallsPermissions);
    delivery = moduleRef.get<FakeDelivery>(CallDelivery);
    await joinSession(moduleRef, 'alice', 's1', 'channel-1');
    await joinSession(moduleRef, 'bob', 's2', 'channel-2');
    await afterFanOut();
    delivery.clear();
  });

  afterEach(() => moduleRef.close());

  it("reads a channel's call only for a user who may join it", async () => {
    permissions.refuse('mallory', 'channel-1');

    expect((await queries.callOfChannel('carol', 'channel-1'))?.hostId).toBe('alice');
    await expect(queries.callOfChannel('mallory', 'channel-1')).rejects.toThrow(ForbiddenError);
    expect(await queries.callOfChannel('carol', 'channel-3')).toBeNull();
  });

  it('follows a channel only once access is checked', async () => {
    permissions.refuse('mallory', 'channel-1');
    const followed: string[] = [];

    const call = await queries.follow('carol', 'channel-1', () => void followed.push('carol'));
    const refused = queries.follow('mallory', 'channel-1', () => void followed.push('mallory'));

    await expect(refused).rejects.toThrow(ForbiddenError);
    expect(call?.channelId).toBe('channel-1');
    expect(followed).toEqual(['carol']);
  });

  it('lists the active calls of the channels the user may join', async () => {
    permissions.refuse('carol', 'channel-2');
    await moduleRef.get(ChannelSettingsStore).setEnabled('channel-1', false);

    const entries = await queries.activeCalls('carol');

    expect(entries.map((e) => [e.channelId, e.enabled])).toEqual([['channel-1', false]]);
  });

  it("dismisses the call's notification for the user's connections only", async () => {
    await queries.dismissNotification('carol', 'channel-1');

    const call = await moduleRef
      .get<CallStateRepository>(CallStateRepository)
      .getCallByChannel('channel-1');
    expect(call?.dismissedNotification).toEqual({ carol: true });
    expect(delivery.delivered).toEqual([
      {
        scope: 'user',
        target: 'carol',
        event: { type: 'notification-dismissed', userId: 'carol', callId: call?.id },
      },
    ]);
    await expect(queries.dismissNotification('carol', 'channel-3')).rejects.toThrow(
      CallNotFoundError,
    );
  });

  it("changes a channel's settings for admins only", async () => {
    permissions.admins.add('root');
    const settings = moduleRef.get(ChannelSettingsStore);

    await expect(
      queries.setChannelEnabled({ userId: 'alice' }, 'channel-3', false),
    ).rejects.toThrow(ForbiddenError);
    expect(await settings.isEnabled('channel-3')).toBe(true);

    await queries.setChannelEnabled({ userId: 'root' }, 'channel-3', false);
    expect(await settings.isEnabled('channel-3')).toBe(false);
    expect((await queries.channel('alice', 'channel-3')).enabled).toBe(false);
  });
});
