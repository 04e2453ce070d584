import { createHmac } from 'node:crypto';
import { turnCredentials } from './turn-credentials';

describe('turnCredentials', () => {
  it('builds coturn REST credentials: "<expiry>:<user>" and base64 HMAC-SHA1', () => {
    const now = Date.UTC(2026, 0, 1);
    const c = turnCredentials(['turn:t.example:3478'], 'secret', 'alice', 240, now);
    const expiry = now / 1000 + 240 * 60;
    expect(c.username).toBe(`${expiry}:alice`);
    expect(c.credential).toBe(createHmac('sha1', 'secret').update(c.username).digest('base64'));
    expect(c.urls).toEqual(['turn:t.example:3478']);
  });
});
