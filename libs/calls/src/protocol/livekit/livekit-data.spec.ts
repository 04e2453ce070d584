import { ActiveSpeakerUpdate, DataPacket, UserPacket } from '@livekit/protocol';
import {
  hostControlPacket,
  MAX_DATA_PACKET_BYTES,
  reactionOf,
  reactionPacket,
  stampClientPacket,
} from './livekit-data';

const SENDER = { participantSid: 'PA_s1', identity: 'u1___s1' };

const userPacket = (topic: string, body: unknown, extra: Partial<DataPacket> = {}) =>
  new DataPacket({
    value: {
      case: 'user',
      value: new UserPacket({
        topic,
        payload: new TextEncoder().encode(typeof body === 'string' ? body : JSON.stringify(body)),
      }),
    },
    ...extra,
  });

describe('LiveKit data packets', () => {
  it('stamps the sender over what the client claimed, and keeps whom it is for', () => {
    const spoofed = userPacket(
      'chat',
      { text: 'hi' },
      {
        participantSid: 'PA_other',
        participantIdentity: 'u2___s2',
        destinationIdentities: ['u3___s3'],
      },
    );
    if (spoofed.value.case === 'user') {
      spoofed.value.value.participantIdentity = 'u2___s2';
      spoofed.value.value.destinationIdentities = ['u4___s4', 'u3___s3'];
    }

    const stamped = stampClientPacket(spoofed.toBinary(), SENDER);

    if (typeof stamped === 'string') throw new Error(stamped);
    const decoded = DataPacket.fromBinary(stamped.bytes);
    expect(decoded).toMatchObject({ participantSid: 'PA_s1', participantIdentity: 'u1___s1' });
    expect(decoded.value.value).toMatchObject({
      participantSid: 'PA_s1',
      participantIdentity: 'u1___s1',
      topic: 'chat',
    });
    expect([...stamped.destinations].sort()).toEqual(['u3___s3', 'u4___s4']);
  });

  it('refuses oversized, malformed and server-only packets', () => {
    expect(stampClientPacket(new Uint8Array(MAX_DATA_PACKET_BYTES + 1), SENDER)).toBe('oversized');
    expect(stampClientPacket(new Uint8Array([0xff, 0xff, 0xff]), SENDER)).toBe('malformed');
    const speakers = new DataPacket({
      value: { case: 'speaker', value: new ActiveSpeakerUpdate({ speakers: [] }) },
    });
    expect(stampClientPacket(speakers.toBinary(), SENDER)).toBe('not-forwarded');
    expect(stampClientPacket(new DataPacket().toBinary(), SENDER)).toBe('not-forwarded');
  });

  it("reads a reaction as Mattermost's clients send it", () => {
    const emoji = { name: 'thumbsup', unified: '1f44d', skin: '', literal: '👍', extra: 1 };
    expect(reactionOf(userPacket('reaction', { emojiData: emoji, timestamp: 1 }))).toEqual({
      name: 'thumbsup',
      unified: '1f44d',
      skin: '',
      literal: '👍',
    });
    expect(reactionOf(userPacket('reaction', { emoji: { name: 'tada' } }))).toEqual({
      name: 'tada',
    });
    expect(reactionOf(userPacket('reaction', { emoji: '🎉' }))).toEqual({
      name: '🎉',
      literal: '🎉',
    });
    for (const bad of [{ emoji: '' }, { emojiData: { unified: 'x' } }, [], 'not json', {}]) {
      expect(reactionOf(userPacket('reaction', bad))).toBeNull();
    }
    expect(reactionOf(userPacket('chat', { emoji: '🎉' }))).toBeNull();
  });

  it('makes the reaction and host_control packets LiveKit clients get', () => {
    const reaction = DataPacket.fromBinary(reactionPacket(SENDER, { name: 'tada' }, 5));
    expect(reaction).toMatchObject({ participantSid: 'PA_s1', participantIdentity: 'u1___s1' });
    expect(reactionOf(reaction)).toEqual({ name: 'tada' });

    const control = DataPacket.fromBinary(hostControlPacket('stop_screenshare'));
    expect(control.participantIdentity).toBe('');
    expect(control.value.case === 'user' && control.value.value.topic).toBe('host_control');
  });
});
