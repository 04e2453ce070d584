import { Injectable } from '@nestjs/common';
import type { CallsSocket } from '../gateway/socket-context';

/** A call session served by this instance, and the socket currently bound to it. */
export interface SessionBinding {
  readonly sessionId: string;
  readonly callId: string;
  readonly channelId: string;
  readonly userId: string;
  /** The socket serving it; null while it waits for a reconnect. */
  socket: CallsSocket | null;
  /** Removal timer while the socket is gone. */
  graceTimer?: NodeJS.Timeout;
}

/** Sessions served by this instance, by session id. Owns the reconnect grace timers. */
@Injectable()
export class SessionBindings {
  private readonly bindings = new Map<string, SessionBinding>();

  get(sessionId: string): SessionBinding | undefined {
    return this.bindings.get(sessionId);
  }

  add(binding: SessionBinding): void {
    this.bindings.set(binding.sessionId, binding);
  }

  /** Removes a binding and stops its grace timer. */
  delete(sessionId: string): SessionBinding | undefined {
    const binding = this.bindings.get(sessionId);
    if (binding?.graceTimer) clearTimeout(binding.graceTimer);
    this.bindings.delete(sessionId);
    return binding;
  }

  /** Bindings of one call. */
  ofCall(callId: string): SessionBinding[] {
    return [...this.bindings.values()].filter((b) => b.callId === callId);
  }

  all(): SessionBinding[] {
    return [...this.bindings.values()];
  }

  get size(): number {
    return this.bindings.size;
  }
}
