import { describeRedis, parseSentinelAddress, urlCredentials } from './redis-connection';

describe('Redis connection settings', () => {
  it('parses sentinel addresses, IPv6 in brackets', () => {
    expect(parseSentinelAddress('s1:26379')).toEqual({ host: 's1', port: 26379 });
    expect(parseSentinelAddress('[::1]:26380')).toEqual({ host: '::1', port: 26380 });
  });

  it('takes credentials, database and TLS from the URL in Sentinel mode', () => {
    expect(urlCredentials('redis://127.0.0.1:6379')).toEqual({});
    expect(urlCredentials('rediss://calls:p%40ss@ignored:1/3')).toEqual({
      username: 'calls',
      password: 'p@ss',
      db: 3,
      tls: {},
      enableTLSForSentinelMode: true,
    });
  });

  it('describes where Redis is without the password', () => {
    const url = 'redis://u:secret@h:1';
    expect(describeRedis({ redisUrl: url, redisSentinels: [], redisSentinelName: 'm' })).toBe(
      'url=redis://u:***@h:1',
    );
    expect(
      describeRedis({ redisUrl: url, redisSentinels: ['a:1', 'b:2'], redisSentinelName: 'm' }),
    ).toBe('sentinel=m@a:1,b:2');
  });
});
