import { CallMembershipService } from '../../libs/calls/src/calls/call-membership.service';
import { SfuService } from '../../libs/calls/src/sfu/sfu.service';
import type { TestHostApp } from '../../test/support/host-app';

/** Server-side timestamps of a session (epoch ms, comparable with the load process's). */
export interface ServerTimes {
  /** The server took up its `join`. */
  joinIn?: number;
  openStart?: number;
  openEnd?: number;
  offerIn?: number;
  answerOut?: number;
  firstServerOffer?: number;
  dtlsConnected?: number;
}

/** Now, in epoch ms with sub-millisecond precision (comparable across processes). */
export const epochNow = (): number => performance.timeOrigin + performance.now();

/** Per-session {@link ServerTimes}, filled in by whoever observes the server. */
export class ServerTimeline {
  private readonly sessions = new Map<string, ServerTimes>();

  /** The times of one session (created empty). */
  of(sessionId: string): ServerTimes {
    let times = this.sessions.get(sessionId);
    if (!times) this.sessions.set(sessionId, (times = {}));
    return times;
  }

  /** Records `stage` of a session now, unless recorded already. */
  mark(sessionId: string, stage: keyof ServerTimes): void {
    this.of(sessionId)[stage] ??= epochNow();
  }
}

/**
 * Watches the module in the host app: when a session's join was taken up, its SFU media opened
 * (`openSession`), its first offer came in and the answer went out, the server's first offer
 * (consumers), DTLS connected. What the server spends, apart from the client and the socket path.
 */
export function probeModule(host: TestHostApp): ServerTimeline {
  const timeline = new ServerTimeline();
  const membership = host.app.get(CallMembershipService);
  const join = membership.join.bind(membership);
  membership.join = (request) => {
    timeline.mark(request.sessionId, 'joinIn');
    return join(request);
  };
  const sfu = host.app.get(SfuService);
  const open = sfu.openSession.bind(sfu);
  const describe = sfu.handleDescription.bind(sfu);
  sfu.openSession = async (ref, options) => {
    timeline.mark(ref.sessionId, 'openStart');
    await open(ref, options);
    timeline.mark(ref.sessionId, 'openEnd');
  };
  sfu.handleDescription = (sessionId, description) => {
    if (description.type === 'offer') timeline.mark(sessionId, 'offerIn');
    return describe(sessionId, description);
  };
  sfu.subscribe({
    signal: (ref, signal) => {
      if (signal.type === 'answer') timeline.mark(ref.sessionId, 'answerOut');
      if (signal.type === 'offer') timeline.mark(ref.sessionId, 'firstServerOffer');
      if (signal.type === 'connection-state' && signal.state === 'connected') {
        timeline.mark(ref.sessionId, 'dtlsConnected');
      }
    },
    voice: () => undefined,
    sessionClosed: () => undefined,
  });
  return timeline;
}
