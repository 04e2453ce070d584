import { createRequire } from 'node:module';
import { x25519, x25519KeyPair } from './native-x25519';

interface Nacl {
  scalarMult: ((n: Uint8Array, p: Uint8Array) => Uint8Array) & {
    base(n: Uint8Array): Uint8Array;
  };
  box: { keyPair(): { publicKey: Uint8Array; secretKey: Uint8Array } };
}
const nacl = createRequire(require.resolve('werift'))('tweetnacl') as Nacl;

describe('native X25519 for werift', () => {
  it('agrees with tweetnacl both ways, and its keys own their ArrayBuffers', () => {
    for (let i = 0; i < 20; i++) {
      const ours = x25519KeyPair();
      const theirs = nacl.box.keyPair();
      expect(ours.secretKey.buffer.byteLength).toBe(32);
      expect(ours.publicKey.buffer.byteLength).toBe(32);
      // Our public key is the base point times our secret, as tweetnacl computes it.
      expect(Buffer.from(nacl.scalarMult.base(ours.secretKey))).toEqual(
        Buffer.from(ours.publicKey),
      );
      const shared = Buffer.from(nacl.scalarMult(theirs.secretKey, ours.publicKey));
      expect(Buffer.from(x25519(ours.secretKey, theirs.publicKey))).toEqual(shared);
      expect(Buffer.from(x25519(theirs.secretKey, ours.publicKey))).toEqual(shared);
    }
  });
});
