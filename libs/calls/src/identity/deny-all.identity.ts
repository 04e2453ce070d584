import type { CallsIdentity, CallsPrincipal } from './calls-identity.interface';
import type { CallsPermissions } from './calls-permissions.interface';

/**
 * The defaults when the host app provides no identity or permissions: nobody is authenticated and
 * nobody may join anything. Secure, and loud: the module warns at boot.
 */
export class DenyAllIdentity implements CallsIdentity, CallsPermissions {
  authenticateSocket(): Promise<CallsPrincipal | null> {
    return Promise.resolve(null);
  }

  authenticateRequest(): Promise<CallsPrincipal | null> {
    return Promise.resolve(null);
  }

  canJoinChannel(): Promise<boolean> {
    return Promise.resolve(false);
  }

  isAdmin(): Promise<boolean> {
    return Promise.resolve(false);
  }
}
