import { NegotiationQueue } from './negotiation-queue';

describe('NegotiationQueue', () => {
  it('runs steps one after another, even across awaits', async () => {
    const q = new NegotiationQueue();
    const log: string[] = [];
    const step = (name: string, ms: number) => async () => {
      log.push(`${name} start`);
      await new Promise((r) => setTimeout(r, ms));
      log.push(`${name} end`);
      return name;
    };
    const results = await Promise.all([
      q.run(step('a', 20)),
      q.run(step('b', 1)),
      q.run(() => 'c'),
    ]);
    expect(results).toEqual(['a', 'b', 'c']);
    expect(log).toEqual(['a start', 'a end', 'b start', 'b end']);
    expect(q.size).toBe(0);
  });

  it('rejects only the failing step and goes on', async () => {
    const q = new NegotiationQueue();
    const failed = q.run(() => Promise.reject(new Error('boom')));
    const next = q.run(() => 'next');
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('next');
  });

  it('refuses steps once closed', async () => {
    const q = new NegotiationQueue();
    q.close();
    await expect(q.run(() => 1)).rejects.toThrow('closed');
  });
});
