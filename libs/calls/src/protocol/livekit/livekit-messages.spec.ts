import { ParticipantInfo } from '@livekit/protocol';
import { coalesceUpdates, LiveKitMessages } from './livekit-messages';

const info = (sid: string) => new ParticipantInfo({ sid, identity: sid });
const shape = (messages: ReturnType<typeof coalesceUpdates>) =>
  messages.map((m) =>
    m.case === 'update' ? `update ${m.value.participants.map((p) => p.sid).join('+')}` : m.case,
  );

describe('coalesceUpdates', () => {
  it('makes each run of updates one update, other messages keeping their place', () => {
    const messages = [
      LiveKitMessages.update([info('a')]),
      LiveKitMessages.update([info('b'), info('c')]),
      LiveKitMessages.speaker('a', true),
      LiveKitMessages.update([info('d')]),
    ];

    expect(shape(coalesceUpdates(messages))).toEqual([
      'update a+b+c',
      'speakersChanged',
      'update d',
    ]);
  });

  it('starts a new update when a participant would appear twice', () => {
    const messages = [
      LiveKitMessages.update([info('a')]),
      LiveKitMessages.update([info('b')]),
      LiveKitMessages.update([info('a')]),
    ];

    expect(shape(coalesceUpdates(messages))).toEqual(['update a+b', 'update a']);
    expect(shape(messages)).toEqual(['update a', 'update b', 'update a']);
  });
});
