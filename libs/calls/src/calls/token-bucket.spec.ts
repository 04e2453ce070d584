import { TokenBucket } from './token-bucket';

describe('TokenBucket', () => {
  it('allows a burst, then the refill rate', () => {
    let t = 0;
    const bucket = new TokenBucket(10, 100, () => t);
    let allowed = 0;
    for (let i = 0; i < 150; i++) if (bucket.take()) allowed++;
    expect(allowed).toBe(100);
    t += 1000;
    allowed = 0;
    for (let i = 0; i < 50; i++) if (bucket.take()) allowed++;
    expect(allowed).toBe(10);
    expect(bucket.idle).toBe(false);
    t += 20_000;
    expect(bucket.idle).toBe(true);
  });
});
