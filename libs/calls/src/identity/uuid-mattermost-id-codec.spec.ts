import { UuidMattermostIdCodec } from './uuid-mattermost-id-codec';

describe('UuidMattermostIdCodec', () => {
  const codec = new UuidMattermostIdCodec();

  it('encodes a UUID as a 26-character Mattermost id and back', () => {
    const uuid = '0b6f3c8e-1f7c-4f8e-9a52-3b1d2c9e7a10';
    const wire = codec.toWire(uuid);
    expect(wire).toMatch(/^[ybndrfg8ejkmcpqxot1uwisza345h769]{26}$/);
    expect(codec.fromWire(wire)).toBe(uuid);
  });

  it('maps the all-zero and all-one UUIDs to the alphabet ends', () => {
    expect(codec.toWire('00000000-0000-0000-0000-000000000000')).toBe('y'.repeat(26));
    const ones = 'ffffffff-ffff-ffff-ffff-ffffffffffff';
    expect(codec.fromWire(codec.toWire(ones))).toBe(ones);
  });

  it('round-trips many random UUIDs', () => {
    for (let i = 0; i < 200; i++) {
      const uuid = crypto.randomUUID();
      expect(codec.fromWire(codec.toWire(uuid))).toBe(uuid);
    }
  });

  it('accepts the internal form on input and passes other ids through', () => {
    expect(codec.fromWire('0B6F3C8E-1F7C-4F8E-9A52-3B1D2C9E7A10')).toBe(
      '0b6f3c8e-1f7c-4f8e-9a52-3b1d2c9e7a10',
    );
    expect(codec.toWire('session-1')).toBe('session-1');
    expect(codec.fromWire('session-1')).toBe('session-1');
  });

  it('rejects a 26-character id whose padding bits are set (not from a UUID)', () => {
    expect(codec.fromWire('9'.repeat(26))).toBeNull();
  });
});
