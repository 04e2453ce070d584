import { Inject } from '@nestjs/common';

/** An authenticated user, as the host app knows them. */
export interface CallsPrincipal {
  /** The host's internal user id. */
  readonly userId: string;
  /** Display name, shown to other participants. */
  readonly displayName?: string;
  /** True for system administrators (they may use host controls in any call). */
  readonly isAdmin?: boolean;
}

/** What the module sees of a socket.io handshake. */
export interface SocketHandshakeInfo {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The socket.io `auth` object the client sent (e.g. `{ token }`). */
  readonly auth: Readonly<Record<string, unknown>>;
  readonly query: Readonly<Record<string, string | string[] | undefined>>;
}

/** What the module sees of an HTTP request. */
export interface HttpRequestInfo {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/**
 * Seam: who is this socket / HTTP request. The host app owns users; the module only asks.
 * Return null for "not authenticated": the socket is refused, the request gets 401.
 */
export interface CallsIdentity {
  authenticateSocket(handshake: SocketHandshakeInfo): Promise<CallsPrincipal | null>;
  authenticateRequest(request: HttpRequestInfo): Promise<CallsPrincipal | null>;
}

/** Injection token of {@link CallsIdentity}. */
export const CallsIdentity = Symbol('CallsIdentity');

/** Injects the {@link CallsIdentity}. */
export const InjectCallsIdentity = (): ParameterDecorator => Inject(CallsIdentity);
