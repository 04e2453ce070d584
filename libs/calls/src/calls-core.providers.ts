import type { Provider } from '@nestjs/common';
import { CallAccessPolicy } from './calls/call-access.policy';
import { CallMembershipService } from './calls/call-membership.service';
import { CallQueriesService } from './calls/call-queries.service';
import { DrainState } from './calls/drain-state';
import { HostControlsService } from './calls/host-controls.service';
import { LocalSessions } from './calls/local-sessions';
import { MediaEventsBridge } from './calls/media-events.bridge';
import { ParticipantActionsService } from './calls/participant-actions.service';
import { SessionActions } from './calls/session-actions';
import { SessionControl } from './calls/session-control.interface';
import { SessionRelay } from './calls/session-relay.interface';
import { BusSessionRelay } from './cluster/bus-session-relay';
import { DrainService } from './cluster/drain.service';
import { InstanceBus } from './cluster/instance-bus';
import { InstanceRegistry } from './cluster/instance-registry.service';
import { RedisContinuity } from './cluster/redis-continuity.service';
import { ServedStateRebuilder } from './cluster/served-state-rebuilder.service';
import { SessionControlService } from './cluster/session-control.service';
import { SessionRelayHandlers } from './cluster/session-relay.handlers';

/**
 * The application core and the cluster services that implement its ports (`SessionControl`,
 * `SessionRelay`): wired the same way by `CallsModule` and by the core's testing module, which
 * give them the options, the state, the media plane, the delivery and the permissions.
 */
export const CORE_PROVIDERS: Provider[] = [
  CallAccessPolicy,
  DrainState,
  LocalSessions,
  CallMembershipService,
  ParticipantActionsService,
  HostControlsService,
  CallQueriesService,
  MediaEventsBridge,
  InstanceBus,
  RedisContinuity,
  InstanceRegistry,
  ServedStateRebuilder,
  DrainService,
  SessionControlService,
  { provide: SessionControl, useExisting: SessionControlService },
  BusSessionRelay,
  { provide: SessionRelay, useExisting: BusSessionRelay },
  SessionRelayHandlers,
  SessionActions,
];
