import type { types as ms } from 'mediasoup';
import type { DtlsSetup } from '../sdp/sdp.types';

/**
 * The DTLS role the client takes, given its `a=setup` and the server's. mediasoup is ICE-lite
 * and takes whatever role is left: answering a client's `actpass` the server says `passive`, so
 * the client is the DTLS client (`connect({ role: 'client' })`), as browsers expect.
 */
export function clientDtlsRole(clientSetup: DtlsSetup, serverSetup: DtlsSetup): ms.DtlsRole {
  if (clientSetup === 'active') return 'client';
  if (clientSetup === 'passive') return 'server';
  return serverSetup === 'passive' ? 'client' : 'server';
}

/** The server's `a=setup` in an answer to a client offering `clientSetup`. */
export function answerSetup(clientSetup: DtlsSetup): DtlsSetup {
  return clientSetup === 'passive' ? 'active' : 'passive';
}

/** mediasoup's DTLS state as the `connection-state` signal (`new` is not reported). */
export function connectionStateSignal(state: ms.DtlsState): string | null {
  return state === 'new' ? null : state;
}
