/**
 * URL of the Redis the test run started (jest global setup sets `TEST_REDIS_URL`).
 * @throws when unset, so a suite that needs Redis never silently skips
 */
export function testRedisUrl(): string {
  const url = process.env.TEST_REDIS_URL;
  if (!url)
    throw new Error(
      'TEST_REDIS_URL is not set: run the tests through jest (its global setup starts Redis)',
    );
  return url;
}
