import { Test, type TestingModule } from '@nestjs/testing';
import { CallDelivery } from '../calls/call-delivery.interface';
import { CallMembershipService } from '../calls/call-membership.service';
import type { ActingSession } from '../calls/participant-actions.service';
import { CALLS_OPTIONS } from '../calls.constants';
import { CORE_PROVIDERS } from '../calls-core.providers';
import { resolveCallsOptions } from '../config/calls-options.defaults';
import type { CallsModuleOptions } from '../config/calls-options.interface';
import { CallsPermissions } from '../identity/calls-permissions.interface';
import { MediaPlane } from '../media/media-plane.interface';
import { CallsMetrics } from '../metrics/calls-metrics.service';
import {
  callStateRepositoryProvider,
  callsRedisClientProvider,
  redisKeysProvider,
  servedCallSnapshotsProvider,
} from '../state/call-state.providers';
import type { CallState } from '../state/call-state.types';
import { ChannelSettingsStore } from '../state/channel-settings.store';
import { FakeConnection, FakeDelivery, FakeMediaPlane, FakePermissions } from './core-fakes';

/** The id of the instance a core testing module plays. */
export const TEST_INSTANCE_ID = 'instance-here';

/** The reconnect grace of a core testing module unless overridden (ms). */
export const TEST_RECONNECT_GRACE_MS = 1000;

/**
 * Builds the application core as the calls module wires it, with the real memory state backend
 * (repository, channel settings), the real local sessions, access policy, drain state, metrics and
 * cluster services (which are inactive without Redis: the instance bus reaches no one, the
 * registry sees only this instance), and fakes for the ports: {@link FakeMediaPlane} as
 * `MediaPlane`, {@link FakeDelivery} as `CallDelivery`, {@link FakePermissions} as
 * `CallsPermissions`. Resolve everything by its token; the module is initialised (listeners
 * subscribed) and must be closed by the caller.
 *
 * @param options module options over the defaults (`memory` backend, instance
 *   {@link TEST_INSTANCE_ID}, reconnect grace {@link TEST_RECONNECT_GRACE_MS})
 */
export async function createCoreTestingModule(
  options: CallsModuleOptions = {},
): Promise<TestingModule> {
  const moduleRef = await Test.createTestingModule({
    providers: [
      {
        provide: CALLS_OPTIONS,
        useValue: resolveCallsOptions({
          stateBackend: 'memory',
          instanceId: TEST_INSTANCE_ID,
          reconnectGraceMs: TEST_RECONNECT_GRACE_MS,
          rtcWorkers: 1,
          ...options,
        }),
      },
      callsRedisClientProvider,
      redisKeysProvider,
      servedCallSnapshotsProvider,
      callStateRepositoryProvider,
      ChannelSettingsStore,
      CallsMetrics,
      { provide: MediaPlane, useValue: new FakeMediaPlane() },
      { provide: CallDelivery, useValue: new FakeDelivery() },
      { provide: CallsPermissions, useValue: new FakePermissions() },
      ...CORE_PROVIDERS,
    ],
  }).compile();
  // Errors only: the core logs every join and leave.
  moduleRef.useLogger(['error']);
  await moduleRef.init();
  return moduleRef;
}

/** A session joined by {@link joinSession}: its connection, the call it joined, and itself. */
export interface JoinedSession {
  readonly connection: FakeConnection;
  readonly call: CallState;
  /** The session as the participant actions take it. */
  readonly session: ActingSession;
}

/**
 * Joins a user to the channel's call through the module's {@link CallMembershipService}, as a new
 * session served by a new {@link FakeConnection}.
 */
export async function joinSession(
  moduleRef: TestingModule,
  userId: string,
  sessionId: string,
  channelId: string,
): Promise<JoinedSession> {
  const connection = new FakeConnection(sessionId);
  const call = await moduleRef
    .get(CallMembershipService)
    .join({ userId, sessionId, channelId, connection });
  return { connection, call, session: { sessionId, callId: call.id, channelId, userId } };
}

/**
 * Resolves on the next turn of the event loop, after the join fan-outs queued so far (the core
 * sends them from `setImmediate`; keep `setImmediate` real when faking timers).
 */
export function afterFanOut(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
