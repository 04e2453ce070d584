import { PipeMessage } from '../sfu/pipe/pipe.messages';
import {
  BUS_MESSAGE_PARSERS,
  InstanceMessage,
  RelayMessage,
  isBusMessageType,
  parseBusEnvelope,
  parseBusRequest,
  parseBusResponse,
  SessionMessage,
} from './instance-bus.messages';

const srtpParameters = { cryptoSuite: 'AEAD_AES_256_GCM', keyBase64: 'a2V5' };
const endpoint = { ip: '10.0.0.2', port: 40000, srtpParameters };

describe('bus messages', () => {
  it('has parsers for every session and pipe message type', () => {
    const types = [
      ...Object.values(InstanceMessage),
      ...Object.values(RelayMessage),
      ...Object.values(SessionMessage),
      ...Object.values(PipeMessage),
    ].sort();

    expect(Object.keys(BUS_MESSAGE_PARSERS).sort()).toEqual(types);
    expect(types.every(isBusMessageType)).toBe(true);
    expect(isBusMessageType('session.unknown')).toBe(false);
    expect(isBusMessageType('toString')).toBe(false);
  });

  describe('instance requests', () => {
    it('answers a ping with the boot id, whatever the request carries', () => {
      expect(parseBusRequest('instance.ping', { x: 1 })).toEqual({});
      expect(parseBusResponse('instance.ping', { bootId: 'b1', x: 1 })).toEqual({ bootId: 'b1' });
      expect(() => parseBusResponse('instance.ping', {})).toThrow('bootId');
      expect(() => parseBusResponse('instance.ping', null)).toThrow('payload is not an object');
    });
  });

  describe('relay requests', () => {
    it('parses a relayed client action of every kind', () => {
      const actions = [
        { type: 'description', description: { type: 'answer', sdp: 'v=0' } },
        { type: 'ice', candidate: { candidate: 'candidate:1', sdpMid: '0', sdpMLineIndex: 0 } },
        { type: 'mute', muted: true },
        { type: 'hand', raised: false },
        { type: 'react', emoji: { name: 'smile', unified: '1f604' } },
        { type: 'screen-on', streamId: 's1' },
        { type: 'screen-off' },
        { type: 'video', on: true },
        { type: 'video', on: true, streamId: 'cam-1' },
        {
          type: 'track-settings',
          video: { sessionId: 's2', type: 'video' },
          preference: { width: 320, height: 180 },
        },
        {
          type: 'track-settings',
          video: { sessionId: 's2', type: 'screen' },
          preference: { disabled: true, quality: 'low' },
        },
      ];
      for (const action of actions) {
        expect(parseBusRequest('session.action', { sessionId: 's1', action })).toMatchObject({
          sessionId: 's1',
          action,
        });
      }
      expect(
        parseBusRequest('session.reconnect', { sessionId: 's1', userId: 'u1', channelId: 'c1' }),
      ).toEqual({ sessionId: 's1', userId: 'u1', channelId: 'c1' });
      expect(parseBusRequest('session.detach', { sessionId: 's1' })).toEqual({ sessionId: 's1' });
    });

    it.each([
      [{ sessionId: 's1', action: { type: 'teleport' } }, 'unknown action type'],
      [{ sessionId: 's1', action: { type: 'mute', muted: 'yes' } }, 'muted is not a boolean'],
      [
        {
          sessionId: 's1',
          action: { type: 'description', description: { type: 'pranswer', sdp: 'x' } },
        },
        'description type is wrong',
      ],
      [
        {
          sessionId: 's1',
          action: { type: 'ice', candidate: { candidate: 'c', sdpMLineIndex: 0.5 } },
        },
        'sdpMLineIndex is not an integer',
      ],
      [{ sessionId: 's1', action: { type: 'react', emoji: {} } }, 'name is not a non-empty string'],
      [{ action: { type: 'screen-off' } }, 'sessionId is not a non-empty string'],
      [
        {
          sessionId: 's1',
          action: { type: 'track-settings', video: { sessionId: 's2', type: 'voice' } },
        },
        'video type is wrong',
      ],
      [
        {
          sessionId: 's1',
          action: {
            type: 'track-settings',
            video: { sessionId: 's2', type: 'video' },
            preference: { width: -1 },
          },
        },
        'width is not a size',
      ],
      [
        {
          sessionId: 's1',
          action: {
            type: 'track-settings',
            video: { sessionId: 's2', type: 'video' },
            preference: { quality: 'ultra' },
          },
        },
        'quality is wrong',
      ],
    ])('rejects a malformed session.action (%#)', (payload, message) => {
      expect(() => parseBusRequest('session.action', payload)).toThrow(message);
    });
  });

  describe('session requests', () => {
    it('parses well-formed payloads, dropping unknown fields', () => {
      expect(
        parseBusRequest('session.remove', { sessionId: 's1', reason: 'removed by host', x: 1 }),
      ).toEqual({ sessionId: 's1', reason: 'removed by host' });
      expect(parseBusRequest('session.mute', { sessionId: 's1', muted: true })).toEqual({
        sessionId: 's1',
        muted: true,
      });
      expect(parseBusRequest('session.screen-off', { sessionId: 's1' })).toEqual({
        sessionId: 's1',
      });
    });

    it.each([
      ['session.remove', null, 'payload is not an object'],
      ['session.remove', [], 'payload is not an object'],
      ['session.remove', { reason: 'x' }, 'sessionId is not a non-empty string'],
      ['session.remove', { sessionId: 's1' }, 'reason is not a string'],
      ['session.remove', { sessionId: 's1', reason: 'x'.repeat(1025) }, 'reason is not a string'],
      ['session.mute', { sessionId: 's1', muted: 'yes' }, 'muted is not a boolean'],
      ['session.mute', { sessionId: '', muted: true }, 'sessionId is not a non-empty string'],
      ['session.screen-off', { sessionId: 7 }, 'sessionId is not a non-empty string'],
      ['session.screen-off', 'sessionId', 'payload is not an object'],
    ] as const)('rejects a malformed %s request (%#)', (type, payload, message) => {
      expect(() => parseBusRequest(type, payload)).toThrow(message);
    });

    it('ignores what comes back in a response: the responses carry nothing', () => {
      expect(parseBusResponse('session.remove', undefined)).toBeUndefined();
      expect(parseBusResponse('session.mute', { anything: true })).toBeUndefined();
    });
  });

  describe('pipe requests', () => {
    it('parses each request type with the call id', () => {
      expect(parseBusRequest('pipe.list', { callId: 'c1' })).toEqual({ callId: 'c1' });
      expect(parseBusRequest('pipe.close', { callId: 'c1' })).toEqual({ callId: 'c1' });
      expect(parseBusRequest('pipe.connect', { ...endpoint, callId: 'c1' })).toEqual({
        ...endpoint,
        callId: 'c1',
      });
      for (const type of ['pipe.consume', 'pipe.producer', 'pipe.producer-closed'] as const) {
        expect(parseBusRequest(type, { producerId: 'p1', callId: 'c1' })).toEqual({
          producerId: 'p1',
          callId: 'c1',
        });
      }
      expect(
        parseBusRequest('pipe.producer-changed', {
          producerId: 'p1',
          paused: true,
          appData: { source: 'screen' },
          callId: 'c1',
        }),
      ).toEqual({ producerId: 'p1', paused: true, appData: { source: 'screen' }, callId: 'c1' });
    });

    it('keeps the field order the pipes send (the JSON on the wire stays the same)', () => {
      const sent = { ...endpoint, callId: 'c1' };

      expect(JSON.stringify(parseBusRequest('pipe.connect', sent))).toBe(JSON.stringify(sent));
    });

    it.each([
      ['pipe.list', {}, 'callId is not a non-empty string'],
      ['pipe.close', undefined, 'payload is not an object'],
      ['pipe.consume', { callId: 'c1' }, 'producerId is not a non-empty string'],
      ['pipe.producer', { producerId: 'p1' }, 'callId is not a non-empty string'],
      ['pipe.connect', { ...endpoint, port: 70000, callId: 'c1' }, 'port is not a port number'],
      ['pipe.connect', { ip: '10.0.0.2', port: 1, callId: 'c1' }, 'srtpParameters'],
      ['pipe.producer-changed', { producerId: 'p1', callId: 'c1' }, 'appData is not an object'],
    ] as const)('rejects a malformed %s request (%#)', (type, payload, message) => {
      expect(() => parseBusRequest(type, payload)).toThrow(message);
    });

    it('parses the responses that carry something, and rejects malformed ones', () => {
      expect(parseBusResponse('pipe.list', { producerIds: ['p1'], exporting: true })).toEqual({
        producerIds: ['p1'],
        exporting: true,
      });
      expect(parseBusResponse('pipe.connect', endpoint)).toEqual(endpoint);
      expect(() => parseBusResponse('pipe.list', { producerIds: 'p1' })).toThrow(
        'producerIds is not a list of strings',
      );
      expect(() => parseBusResponse('pipe.consume', { kind: 'text' })).toThrow(
        'kind is not audio or video',
      );
    });

    it('answers notifications with an empty object, whatever came back', () => {
      expect(parseBusResponse('pipe.producer', {})).toEqual({});
      expect(parseBusResponse('pipe.close', undefined)).toEqual({});
    });
  });

  describe('envelope', () => {
    it('parses a request and a response', () => {
      expect(
        parseBusEnvelope(
          JSON.stringify({ id: 'r1', from: 'A', type: 'pipe.list', payload: { callId: 'c1' } }),
        ),
      ).toEqual({ id: 'r1', from: 'A', type: 'pipe.list', payload: { callId: 'c1' } });
      expect(
        parseBusEnvelope(JSON.stringify({ id: 'r2', from: 'B', replyTo: 'r1', payload: {} })),
      ).toEqual({ id: 'r2', from: 'B', replyTo: 'r1', payload: {} });
      expect(
        parseBusEnvelope(JSON.stringify({ id: 'r3', from: 'B', replyTo: 'r1', error: 'boom' })),
      ).toEqual({ id: 'r3', from: 'B', replyTo: 'r1', error: 'boom' });
    });

    it('parses a response without payload (a handler that returns nothing)', () => {
      const reply = parseBusEnvelope(JSON.stringify({ id: 'r2', from: 'B', replyTo: 'r1' }));

      expect(reply.replyTo).toBe('r1');
      expect(reply.payload).toBeUndefined();
    });

    it.each([
      ['not JSON', '{', 'message is not JSON'],
      ['not an object', '"hello"', 'message is not an object'],
      ['null', 'null', 'message is not an object'],
      ['no id', JSON.stringify({ from: 'A', type: 'pipe.list' }), 'id is not'],
      ['no sender', JSON.stringify({ id: 'r1', type: 'pipe.list' }), 'from is not'],
      ['no type', JSON.stringify({ id: 'r1', from: 'A' }), 'type is not'],
      ['a bad replyTo', JSON.stringify({ id: 'r1', from: 'A', replyTo: 5 }), 'replyTo is not'],
      [
        'a bad error',
        JSON.stringify({ id: 'r1', from: 'A', replyTo: 'r0', error: {} }),
        'error is not a string',
      ],
    ])('rejects a message with %s', (_what, text, message) => {
      expect(() => parseBusEnvelope(text)).toThrow(message);
    });
  });
});
