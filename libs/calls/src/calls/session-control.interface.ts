import { Inject } from '@nestjs/common';

/**
 * Acting on a session wherever it is served: on this instance directly, on another through the
 * instance bus (cluster/ implements it). Host controls use it; a serving instance that does not
 * answer (dead) gets its session removed from the shared state.
 */
export interface SessionControl {
  /** Removes a session (its connection's session and media, where it is served). */
  remove(callId: string, sessionId: string, reason: string): Promise<void>;
  /** Removes every remaining session of a call. */
  endCall(callId: string, reason: string): Promise<void>;
  /** Pauses or resumes the forwarding of a session's voice, wherever its media is. */
  setAudioMuted(instanceId: string, sessionId: string, muted: boolean): Promise<void>;
  /** Stops the forwarding of a session's screen, wherever its media is. */
  screenOff(instanceId: string, sessionId: string): Promise<void>;
}

/** Injection token of {@link SessionControl}. */
export const SessionControl = Symbol('SessionControl');

/** Injects the {@link SessionControl}. */
export const InjectSessionControl = (): ParameterDecorator => Inject(SessionControl);
