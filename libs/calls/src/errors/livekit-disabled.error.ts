import { CallsError } from './calls.error';

/** The LiveKit transport is off on this server (no LiveKit API key is configured). */
export class LiveKitDisabledError extends CallsError {
  readonly code = 'livekit_disabled';

  constructor() {
    super('LiveKit is not configured on this server');
  }
}
