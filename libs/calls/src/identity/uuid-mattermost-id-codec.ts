import type { CallsIdCodec } from './id-codec.interface';

/** Mattermost's base32 alphabet (`model.NewId`). */
const ALPHABET = 'ybndrfg8ejkmcpqxot1uwisza345h769';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MM_ID = /^[ybndrfg8ejkmcpqxot1uwisza345h769]{26}$/;

/**
 * For hosts with UUID ids (like RustChat): a UUID's 16 bytes are written as the 26-character
 * base32 Mattermost id, and back. Ids that are neither form pass through unchanged (e.g. session
 * ids, which are generated in Mattermost form).
 */
export class UuidMattermostIdCodec implements CallsIdCodec {
  toWire(internalId: string): string {
    if (!UUID.test(internalId)) return internalId;
    const bytes = Buffer.from(internalId.replace(/-/g, ''), 'hex');
    let out = '';
    let buffer = 0;
    let bits = 0;
    for (const byte of bytes) {
      buffer = (buffer << 8) | byte;
      bits += 8;
      while (bits >= 5) {
        out += ALPHABET[(buffer >>> (bits - 5)) & 31];
        bits -= 5;
      }
    }
    if (bits > 0) out += ALPHABET[(buffer << (5 - bits)) & 31];
    return out;
  }

  fromWire(wireId: string): string | null {
    if (UUID.test(wireId)) return wireId.toLowerCase();
    if (!MM_ID.test(wireId)) return wireId;
    const bytes: number[] = [];
    let buffer = 0;
    let bits = 0;
    for (const char of wireId) {
      buffer = ((buffer << 5) | ALPHABET.indexOf(char)) & 0xffff;
      bits += 5;
      if (bits >= 8) {
        bytes.push((buffer >>> (bits - 8)) & 0xff);
        bits -= 8;
      }
    }
    // 26 chars carry 130 bits: 16 bytes plus 2 padding bits that must be zero.
    if (bytes.length !== 16 || (buffer & ((1 << bits) - 1)) !== 0) return null;
    const hex = Buffer.from(bytes).toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
}
