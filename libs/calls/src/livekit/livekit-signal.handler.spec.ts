import { Logger } from '@nestjs/common';
import {
  RequestResponse_Reason,
  SessionDescription,
  SignalRequest,
  TrickleRequest,
  UpdateParticipantMetadata,
} from '@livekit/protocol';
import type { CallMembershipService } from '../calls/call-membership.service';
import type { ParticipantActionsService } from '../calls/participant-actions.service';
import { InvalidMessageError, InvalidSdpError } from '../errors';
import type { CallsMetrics } from '../metrics/calls-metrics.service';
import type { SignalMessage } from '../protocol/livekit/livekit-codec';
import type { ParticipantView } from '../protocol/livekit/participant-view';
import { RoomView } from '../protocol/livekit/room-view';
import type { LiveKitConnection } from './livekit-connection';
import type { LiveKitMediaSession } from './livekit-media-session.interface';
import type { LiveKitScreenShare } from './livekit-screen-share';
import { LiveKitSignalHandler } from './livekit-signal.handler';
import type { LiveKitDelivery } from './livekit.delivery';

describe('LiveKitSignalHandler (a request that fails)', () => {
  let sent: SignalMessage[];
  let counted: { type: string; result: string }[];
  let media: Partial<LiveKitMediaSession>;
  let handler: LiveKitSignalHandler;
  let connection: LiveKitConnection;
  let loggedErrors: jest.SpyInstance;

  beforeEach(() => {
    sent = [];
    counted = [];
    media = {};
    connection = {
      sessionId: 's1',
      get media() {
        return media as LiveKitMediaSession;
      },
      send: (...messages: SignalMessage[]) => sent.push(...messages),
    } as unknown as LiveKitConnection;
    const metrics = {
      messages: { inc: (labels: { type: string; result: string }) => counted.push(labels) },
    } as unknown as CallsMetrics;
    const screens = {
      beforeOffer: (_c: unknown, sdp: string) => Promise.resolve(sdp),
    } as unknown as LiveKitScreenShare;
    handler = new LiveKitSignalHandler(
      {} as CallMembershipService,
      {} as ParticipantActionsService,
      {} as LiveKitDelivery,
      screens,
      metrics,
    );
    loggedErrors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });

  afterEach(() => loggedErrors.mockRestore());

  const offer = new SignalRequest({
    message: { case: 'offer', value: new SessionDescription({ type: 'offer', sdp: 'v=0', id: 3 }) },
  });

  it('a client error (an invalid offer) gets a request_response with its code and message, counted refused', async () => {
    media.handlePublisherOffer = () => Promise.reject(new InvalidSdpError('no m= sections', 's1'));

    await handler.handle(connection, offer);

    expect(sent).toHaveLength(1);
    expect(sent[0].case).toBe('requestResponse');
    expect(sent[0].value).toMatchObject({
      reason: RequestResponse_Reason.UNCLASSIFIED_ERROR,
      message: 'invalid_sdp: invalid session description: no m= sections [sessionId=s1]',
    });
    expect(counted).toEqual([{ type: 'livekit:offer', result: 'refused' }]);
    expect(loggedErrors).not.toHaveBeenCalled();
  });

  it('a malformed trickle is refused with the request echoed', async () => {
    media.addCandidate = () => Promise.reject(new InvalidMessageError('candidateInit', 'not JSON'));
    const trickle = new TrickleRequest({ candidateInit: '{' });

    await handler.handle(
      connection,
      new SignalRequest({ message: { case: 'trickle', value: trickle } }),
    );

    expect(sent[0].case === 'requestResponse' && sent[0].value.request).toEqual({
      case: 'trickle',
      value: trickle,
    });
    expect(counted).toEqual([{ type: 'livekit:trickle', result: 'refused' }]);
  });

  it("the server's own failure gets `internal error` (no details), counted error and logged as an error", async () => {
    media.handlePublisherOffer = () =>
      Promise.reject(new TypeError("Cannot read properties of undefined (reading 'id')"));

    await handler.handle(connection, offer);

    expect(sent[0].value).toMatchObject({
      reason: RequestResponse_Reason.UNCLASSIFIED_ERROR,
      message: 'internal error',
    });
    expect(counted).toEqual([{ type: 'livekit:offer', result: 'error' }]);
    expect(loggedErrors).toHaveBeenCalledTimes(1);
    expect(String(loggedErrors.mock.calls[0][0])).toContain('Cannot read properties');
  });

  describe('update_metadata sizes', () => {
    const grants = {
      canPublish: true,
      canSubscribe: true,
      canPublishData: true,
      canPublishSources: [],
      canUpdateOwnMetadata: true,
      hidden: false,
    };
    const self: ParticipantView = {
      sessionId: 's1',
      identity: 'u1___s1',
      name: 'Ann',
      metadata: '',
      attributes: {},
      tracks: [],
      joinedAtMs: 0,
      permission: grants,
      unmuted: false,
    };
    let view: RoomView;
    let hands: boolean[];

    beforeEach(() => {
      view = new RoomView(self, 'call1', 'ch1', (id) => id);
      hands = [];
      const actions = {
        setHand: (_s: unknown, raised: boolean) => {
          hands.push(raised);
          return Promise.resolve();
        },
      } as unknown as ParticipantActionsService;
      handler = new LiveKitSignalHandler(
        {} as CallMembershipService,
        actions,
        { showParticipant: () => undefined } as unknown as LiveKitDelivery,
        {} as LiveKitScreenShare,
        { messages: { inc: () => undefined } } as unknown as CallsMetrics,
      );
      connection = {
        sessionId: 's1',
        view,
        session: { sessionId: 's1', callId: 'call1', channelId: 'ch1' },
        client: { userId: 'u1', token: { grants } },
        send: (...messages: SignalMessage[]) => sent.push(...messages),
      } as unknown as LiveKitConnection;
    });

    const update = (attributes: Record<string, string>) =>
      handler.handle(
        connection,
        new SignalRequest({
          message: {
            case: 'updateMetadata',
            value: new UpdateParticipantMetadata({ attributes, requestId: 4 }),
          },
        }),
      );

    it('a hand (raised_hand) over the size limit is refused like any attribute: no hand, no change', async () => {
      await update({ raised_hand: 'x'.repeat(20_000) });

      expect(sent).toHaveLength(1);
      expect(sent[0].value).toMatchObject({
        requestId: 4,
        reason: RequestResponse_Reason.LIMIT_EXCEEDED,
      });
      expect(hands).toEqual([]);
      expect(view.self).toEqual(self);
    });

    it('a hand within the limit is raised', async () => {
      await update({ raised_hand: '1700000000000' });

      expect(hands).toEqual([true]);
      expect(view.self.attributes).toEqual({ raised_hand: '1700000000000' });
    });
  });
});
