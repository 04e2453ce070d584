import { DEFAULT_KEY_PREFIX, RedisKeys } from './redis-keys';

/**
 * Old and new instances share one Redis during a rolling upgrade: these names must never change.
 */
describe('RedisKeys', () => {
  it('has the seed prefix by default', () => {
    expect(DEFAULT_KEY_PREFIX).toBe('rustchat:calls:');
    expect(new RedisKeys().prefix).toBe('rustchat:calls:');
  });

  it('names every key family exactly as before', () => {
    // Arrange
    const keys = new RedisKeys();

    // Act
    const names = {
      state: keys.state('c1'),
      channel: keys.channel('ch1'),
      active: keys.active(),
      channelSettings: keys.channelSettings(),
      instance: keys.instance('i1'),
      instances: keys.instances(),
      reap: keys.reap('i1'),
      epoch: keys.epoch(),
      bus: keys.bus('i1'),
      socketIoStream: keys.socketIoStream(),
    };

    // Assert
    expect(names).toEqual({
      state: 'rustchat:calls:state:c1',
      channel: 'rustchat:calls:channel:ch1',
      active: 'rustchat:calls:active',
      channelSettings: 'rustchat:calls:channels',
      instance: 'rustchat:calls:instance:i1',
      instances: 'rustchat:calls:instances',
      reap: 'rustchat:calls:reap:i1',
      epoch: 'rustchat:calls:epoch',
      bus: 'rustchat:calls:bus:i1',
      socketIoStream: 'rustchat:calls:socket.io',
    });
  });

  it('puts a custom prefix in front of every name', () => {
    const keys = new RedisKeys('tenant1:calls:');

    expect([
      keys.state('c1'),
      keys.channel('ch1'),
      keys.active(),
      keys.channelSettings(),
      keys.instance('i1'),
      keys.instances(),
      keys.reap('i1'),
      keys.epoch(),
      keys.bus('i1'),
      keys.socketIoStream(),
    ]).toEqual([
      'tenant1:calls:state:c1',
      'tenant1:calls:channel:ch1',
      'tenant1:calls:active',
      'tenant1:calls:channels',
      'tenant1:calls:instance:i1',
      'tenant1:calls:instances',
      'tenant1:calls:reap:i1',
      'tenant1:calls:epoch',
      'tenant1:calls:bus:i1',
      'tenant1:calls:socket.io',
    ]);
  });

  it("gives the state keys' common prefix as state('') (the create script builds keys from it)", () => {
    expect(new RedisKeys().state('')).toBe('rustchat:calls:state:');
  });
});
