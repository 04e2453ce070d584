import { ParticipantInfo, SignalResponse } from '@livekit/protocol';
import type { SignalMessage } from './livekit-codec';
import { LiveKitMessages } from './livekit-messages';
import { coalesceUpdates } from './update-coalescing';

const info = (sid: string, version: number) => new ParticipantInfo({ sid, version });
const update = (...infos: ParticipantInfo[]) => LiveKitMessages.update(infos);

/** Each message as its case and, for updates, `sid@version` of each participant. */
const shape = (messages: SignalMessage[]) =>
  messages.map((m) =>
    m.case === 'update'
      ? `update ${m.value.participants.map((p) => `${p.sid}@${p.version}`).join(',')}`
      : String(m.case),
  );

describe('coalesceUpdates', () => {
  it('merges consecutive updates, each participant once with its last info, in the order of its last change', () => {
    const out = coalesceUpdates([
      update(info('PA_a', 1)),
      update(info('PA_b', 1), info('PA_c', 1)),
      update(info('PA_a', 2)),
    ]);
    expect(shape(out)).toEqual(['update PA_b@1,PA_c@1,PA_a@2']);
  });

  it('keeps other messages in place: a run ends at each one', () => {
    const out = coalesceUpdates([
      update(info('PA_a', 1)),
      update(info('PA_a', 2)),
      LiveKitMessages.speaker('PA_a', true),
      update(info('PA_a', 3)),
      LiveKitMessages.mute('TR_x', true),
      LiveKitMessages.mute('TR_y', false),
    ]);
    expect(shape(out)).toEqual([
      'update PA_a@2',
      'speakersChanged',
      'update PA_a@3',
      'mute',
      'mute',
    ]);
  });

  it('gives nothing for nothing, and what has no update unchanged', () => {
    expect(coalesceUpdates([])).toEqual([]);
    const alone = [LiveKitMessages.refreshToken('t')];
    expect(coalesceUpdates(alone)).toEqual(alone);
  });

  it('encodes to one SignalResponse a client decodes with every participant', () => {
    const [merged] = coalesceUpdates([update(info('PA_a', 1)), update(info('PA_b', 4))]);
    const decoded = SignalResponse.fromBinary(
      new SignalResponse({ message: merged }).toBinary(),
    ).message;
    expect(decoded.case).toBe('update');
    expect(decoded.case === 'update' && decoded.value.participants.map((p) => p.sid)).toEqual([
      'PA_a',
      'PA_b',
    ]);
  });
});
