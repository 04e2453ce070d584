import {
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { createRequire } from 'node:module';

/** The two X25519 functions of tweetnacl that werift's DTLS calls. */
interface NaclX25519 {
  scalarMult(n: Uint8Array, p: Uint8Array): Uint8Array;
  box: { keyPair(): { publicKey: Uint8Array; secretKey: Uint8Array } };
}

/** DER prefixes of a raw 32-byte X25519 key (RFC 8410): PKCS#8 private, SPKI public. */
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

/** The last 32 bytes of a DER key, in an ArrayBuffer of their own (werift reads `.buffer`). */
function raw32(key: KeyObject, type: 'pkcs8' | 'spki'): Uint8Array {
  const der = key.export({ format: 'der', type });
  return new Uint8Array(der.subarray(der.length - 32));
}

/** X25519(n, p) as tweetnacl's `scalarMult` (RFC 7748: the scalar clamped), natively. */
export function x25519(n: Uint8Array, p: Uint8Array): Uint8Array {
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_PREFIX, n]),
    format: 'der',
    type: 'pkcs8',
  });
  const publicKey = createPublicKey({
    key: Buffer.concat([SPKI_PREFIX, p]),
    format: 'der',
    type: 'spki',
  });
  return new Uint8Array(diffieHellman({ privateKey, publicKey }));
}

/** A fresh X25519 key pair as tweetnacl's `box.keyPair` gives it, natively. */
export function x25519KeyPair(): { publicKey: Uint8Array; secretKey: Uint8Array } {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  return { publicKey: raw32(publicKey, 'spki'), secretKey: raw32(privateKey, 'pkcs8') };
}

/**
 * Makes werift's DTLS in this process do its X25519 key exchange with Node's crypto instead of
 * tweetnacl's JavaScript (7 % of the load generator's CPU when peers join at 20 a second, two
 * scalar multiplications per handshake). Same keys, same shared secrets; the server never runs
 * werift.
 */
export function useNativeX25519(): void {
  const nacl = createRequire(require.resolve('werift'))('tweetnacl') as NaclX25519;
  nacl.scalarMult = x25519;
  nacl.box.keyPair = x25519KeyPair;
}
