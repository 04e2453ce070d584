import { Injectable } from '@nestjs/common';
import { type ActingSession, ParticipantActionsService } from './participant-actions.service';
import { InjectSessionRelay, type SessionAction, SessionRelay } from './session-relay.interface';

/**
 * Runs a client's action for its session: here when the session is served here, else where it is
 * served (the session's connection came back through this instance, see {@link SessionRelay}).
 */
@Injectable()
export class SessionActions {
  constructor(
    private readonly actions: ParticipantActionsService,
    @InjectSessionRelay() private readonly relay: SessionRelay,
  ) {}

  /** Performs `action` for `s`, wherever `s` is served. */
  perform(s: ActingSession, action: SessionAction): Promise<void> {
    if (this.relay.isRemote(s.sessionId)) return this.relay.perform(s, action);
    return this.performHere(s, action);
  }

  /** Performs `action` for a session served here. */
  performHere(s: ActingSession, action: SessionAction): Promise<void> {
    switch (action.type) {
      case 'description':
        return this.actions.description(s, action.description);
      case 'ice':
        return this.actions.iceCandidate(s, action.candidate);
      case 'mute':
        return this.actions.setMuted(s, action.muted);
      case 'hand':
        return this.actions.setHand(s, action.raised);
      case 'react':
        return this.actions.react(s, action.emoji);
      case 'screen-on':
        return this.actions.screenOn(s, action.streamId);
      case 'screen-off':
        return this.actions.screenOff(s);
      case 'video':
        return this.actions.setVideo(s, action.on, action.streamId);
      case 'track-settings':
        return this.actions.setTrackPreference(s, action.video, action.preference);
    }
  }
}
