import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { TestRedisServer } from '@app/calls/testing';
import { AppModule } from '../src/app.module';

/** Boots the host app with the given environment (the calls config is read from process.env). */
async function bootApp(env: Record<string, string>): Promise<INestApplication> {
  Object.assign(process.env, env);
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  const app = moduleRef.createNestApplication({ logger: ['error'] });
  app.enableShutdownHooks();
  await app.listen(0, '127.0.0.1');
  return app;
}

describe('host app /health', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('reports the memory backend, the workers and the drain state; /metrics has the operator metrics', async () => {
    const app = await bootApp({
      RUSTCHAT_CALLS_STATE_BACKEND: 'memory',
      RUSTCHAT_CALLS_WORKERS: '1',
    });
    const res = await request(app.getHttpServer()).get('/health').expect(200);
    expect(res.body.details.calls_state).toMatchObject({
      status: 'up',
      backend: 'memory',
      mode: 'memory',
      redisReachable: null,
    });
    expect(res.body.details.calls_media).toMatchObject({ status: 'up', workers: 1, configured: 1 });
    expect(res.body.details.calls_instance).toMatchObject({ status: 'up', draining: false });
    const metrics = await request(app.getHttpServer()).get('/metrics').expect(200);
    for (const name of [
      'calls_active_calls',
      'calls_active_sessions',
      'calls_joins_total',
      'calls_join_latency_seconds',
      'calls_signaling_messages_total',
      'calls_state_backend_mode{backend="memory",mode="memory"} 1',
      'calls_state_fallbacks',
      'calls_sfu_objects{kind="workers"} 1',
      'calls_sfu_worker_cpu_seconds',
      'calls_ice_restarts_total',
    ]) {
      expect(metrics.text).toContain(name);
    }
    await app.close();
  });

  it('reports auto on Redis, then degraded (still up) when Redis dies, then redis again', async () => {
    const redis = await TestRedisServer.start();
    const app = await bootApp({
      RUSTCHAT_CALLS_STATE_BACKEND: 'AUTO',
      RUSTCHAT_REDIS_URL: redis.url,
      RUSTCHAT_CALLS_REDIS_PROBE_INTERVAL_MS: '100',
    });
    const health = () => request(app.getHttpServer()).get('/health');
    expect((await health().expect(200)).body.details.calls_state).toMatchObject({
      backend: 'auto',
      mode: 'redis',
      redisReachable: true,
    });
    await redis.kill();
    await new Promise((r) => setTimeout(r, 300));
    expect((await health().expect(200)).body.details.calls_state).toMatchObject({
      status: 'up',
      mode: 'degraded',
      redisReachable: false,
    });
    await redis.restart();
    let mode = '';
    for (let i = 0; i < 100 && mode !== 'redis'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      mode = (await health()).body.details.calls_state.mode;
    }
    expect(mode).toBe('redis');
    await app.close();
    await redis.stop();
  });

  it('reports the redis backend as down (503) while Redis is unreachable', async () => {
    const redis = await TestRedisServer.start();
    const app = await bootApp({
      RUSTCHAT_CALLS_STATE_BACKEND: 'redis',
      RUSTCHAT_REDIS_URL: redis.url,
    });
    await request(app.getHttpServer()).get('/health').expect(200);
    await redis.kill();
    await new Promise((r) => setTimeout(r, 200));
    const res = await request(app.getHttpServer()).get('/health').expect(503);
    expect(res.body.error.calls_state).toMatchObject({ status: 'down', backend: 'redis' });
    await app.close();
  });
});
