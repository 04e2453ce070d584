import { Inject } from '@nestjs/common';
import type { CallState } from '../state/call-state.types';
import type { CallEvent } from './call-events';

/**
 * The port through which the core reaches people: each protocol adapter implements it (the
 * Mattermost/socket.io gateway today). Delivery spans instances (the adapter's concern) and never
 * fails: a target that is not connected anywhere simply gets nothing.
 */
export interface CallDelivery {
  /** To the one connection serving a session, wherever it is. */
  toSession(sessionId: string, channelId: string, event: CallEvent): void;
  /** To every connection of a user; `channelId` names the channel the event is about, if any. */
  toUser(userId: string, event: CallEvent, channelId?: string): void;
  /** To every user with a session in the call (all their connections). */
  toParticipants(call: CallState, event: CallEvent): void;
  /** To everyone following a channel's calls (members with the channel open, participants). */
  toChannel(channelId: string, event: CallEvent): void;
  /**
   * Several events, in order, to everyone following a channel's calls (the joins and leaves of a
   * call collected over a short window): the adapter sends them with as few messages and writes as
   * its protocol allows.
   */
  toChannelBatch(channelId: string, events: readonly CallEvent[]): void;
}

/** Injection token of {@link CallDelivery}. */
export const CallDelivery = Symbol('CallDelivery');

/** Injects the {@link CallDelivery}. */
export const InjectCallDelivery = (): ParameterDecorator => Inject(CallDelivery);
