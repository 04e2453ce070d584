import { DEFAULT_KEY_PREFIX } from '../config/redis-key-prefix';

export { DEFAULT_KEY_PREFIX };

/**
 * Every name this module uses in Redis, all under one prefix (`RUSTCHAT_CALLS_REDIS_KEY_PREFIX`,
 * default {@link DEFAULT_KEY_PREFIX}). Instances of different versions share one Redis during a
 * rolling upgrade, so these strings never change (redis-keys.spec.ts pins them).
 *
 * | Name                   | Type            | TTL                      | Written by                                   |
 * | ---------------------- | --------------- | ------------------------ | -------------------------------------------- |
 * | `state:<call_id>`      | string (JSON)   | none                     | `RedisCallStateStore` (Lua scripts)          |
 * | `channel:<channel_id>` | string (id)     | none                     | `RedisCallStateStore` (Lua scripts)          |
 * | `active`               | set of call ids | none                     | `RedisCallStateStore` (Lua scripts)          |
 * | `channels`             | hash            | none                     | `RedisCallStateStore` (channel settings)     |
 * | `instance:<id>`        | string (JSON)   | instance TTL (heartbeat) | `InstanceRegistry`                           |
 * | `instances`            | set of ids      | none                     | `InstanceRegistry`                           |
 * | `reap:<id>`            | string (lock)   | 30 s                     | `InstanceRegistry` (`SET NX`)                |
 * | `epoch`                | string (random) | none                     | `RedisContinuity` (`SET NX`)                 |
 * | `bus:<id>`             | pub/sub channel | (nothing stored)         | `InstanceBus`                                |
 * | `socket.io`            | stream          | trimmed to ~10000        | `@socket.io/redis-streams-adapter`           |
 *
 * The first three are the seed's data model. The socket.io adapter also uses pub/sub channels of
 * its own, `socket.io#/#…`, outside the prefix (its default `channelPrefix`).
 */
export class RedisKeys {
  constructor(readonly prefix: string = DEFAULT_KEY_PREFIX) {}

  /** `<prefix>state:<call_id>`: the call state JSON (`version` first). */
  state(callId: string): string {
    return `${this.prefix}state:${callId}`;
  }

  /** `<prefix>channel:<channel_id>`: the id of the channel's active call. */
  channel(channelId: string): string {
    return `${this.prefix}channel:${channelId}`;
  }

  /** `<prefix>active`: the set of active call ids. */
  active(): string {
    return `${this.prefix}active`;
  }

  /**
   * `<prefix>channels`: hash of channel id → `'1'` (calls enabled) or `'0'` (disabled); a channel
   * that is not in it has calls enabled.
   */
  channelSettings(): string {
    return `${this.prefix}channels`;
  }

  /**
   * `<prefix>instance:<instance_id>`: an instance's announcement (JSON `InstanceInfo`), refreshed
   * every heartbeat with the instance TTL; an instance whose key expired is dead.
   */
  instance(instanceId: string): string {
    return `${this.prefix}instance:${instanceId}`;
  }

  /** `<prefix>instances`: the set of instance ids announced and not yet reaped or shut down. */
  instances(): string {
    return `${this.prefix}instances`;
  }

  /**
   * `<prefix>reap:<instance_id>`: the lock (value: the reaper's instance id) one survivor takes
   * before removing a dead instance's sessions.
   */
  reap(instanceId: string): string {
    return `${this.prefix}reap:${instanceId}`;
  }

  /**
   * `<prefix>epoch`: a random value set (`SET NX`) by the first instance that finds it missing.
   * Another value than the one an instance saw before means Redis lost its data (it restarted
   * empty, or was flushed): the instances then rebuild what they hold.
   */
  epoch(): string {
    return `${this.prefix}epoch`;
  }

  /** `<prefix>bus:<instance_id>`: the pub/sub channel an instance's bus listens on. */
  bus(instanceId: string): string {
    return `${this.prefix}bus:${instanceId}`;
  }

  /** `<prefix>socket.io`: the stream the socket.io adapter carries broadcasts through. */
  socketIoStream(): string {
    return `${this.prefix}socket.io`;
  }
}
