/** Stops the Redis that global setup started. */
export default async function globalTeardown(): Promise<void> {
  await globalThis.__TEST_REDIS__?.stop();
}
