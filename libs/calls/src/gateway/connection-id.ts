import { randomUUID } from 'node:crypto';
import { UuidMattermostIdCodec } from '../identity/uuid-mattermost-id-codec';

const codec = new UuidMattermostIdCodec();

/** A fresh connection id in Mattermost's form (26 base32 characters), like the server's `hello`. */
export function newConnectionId(): string {
  return codec.toWire(randomUUID());
}
