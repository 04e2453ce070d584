import type { CallProtocol, CallSession, SessionOptions, SessionView } from './call-session';
import { LiveKitSession } from './livekit-session';
import { MattermostSession } from './mattermost-session';

/** Each protocol the page joins with: its name on the page and how a session joins. */
export const PROTOCOLS: Record<
  CallProtocol,
  { label: string; join(options: SessionOptions, view: SessionView): Promise<CallSession> }
> = {
  mattermost: { label: 'Mattermost', join: (o, v) => MattermostSession.join(o, v) },
  livekit: { label: 'LiveKit', join: (o, v) => LiveKitSession.join(o, v) },
};

const STORED = 'calls.protocol';

/** A protocol's name, or null for anything else. */
export function protocolOf(value: unknown): CallProtocol | null {
  return value === 'mattermost' || value === 'livekit' ? value : null;
}

/** The remembered choice (Mattermost's protocol by default). */
export function storedProtocol(): CallProtocol {
  try {
    return protocolOf(localStorage.getItem(STORED)) ?? 'mattermost';
  } catch {
    return 'mattermost';
  }
}

/** Remembers the choice for the next visit. */
export function storeProtocol(protocol: CallProtocol): void {
  try {
    localStorage.setItem(STORED, protocol);
  } catch {
    // Private browsing: the choice lasts for this page only.
  }
}
