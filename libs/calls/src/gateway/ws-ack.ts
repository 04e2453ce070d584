import { CallsError } from '../errors/calls.error';

/** The acknowledgement every action gets when the client asks for one. */
export type WsAck =
  | ({ ok: true } & Record<string, unknown>)
  | { ok: false; error: { code: string; message: string } };

/** Turns any error into a clear error acknowledgement (internal errors are not detailed). */
export function errorAck(err: unknown): WsAck {
  if (err instanceof CallsError)
    return { ok: false, error: { code: err.code, message: err.message } };
  return { ok: false, error: { code: 'internal_error', message: 'internal error' } };
}
