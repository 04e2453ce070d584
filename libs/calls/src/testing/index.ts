/** Test helpers of the calls plugin (`@app/calls/testing`); real parts only, no mocks. */
export { TestRedisServer } from './redis-server';
export { freePort } from './free-port';
export { testRedisUrl } from './test-redis-url';
