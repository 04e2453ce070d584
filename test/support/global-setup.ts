import { TestRedisServer } from '../../libs/calls/src/testing/redis-server';

declare global {
  var __TEST_REDIS__: TestRedisServer | undefined;
}

/**
 * Starts the throwaway Redis every integration and e2e suite shares (unless TEST_REDIS_URL already
 * points at one). Suites that kill or restart Redis start their own.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.TEST_REDIS_URL) return;
  const server = await TestRedisServer.start();
  globalThis.__TEST_REDIS__ = server;
  process.env.TEST_REDIS_URL = server.url;
}
