import { type ParticipantInfo, ParticipantUpdate } from '@livekit/protocol';
import type { SignalMessage } from './livekit-codec';

/**
 * Merges each run of consecutive `update` messages into one `update` that carries every
 * participant of the run once, with its last info (a later info has a higher version, so the
 * client would drop the earlier one anyway). Other messages stay where they are and end a run, so
 * nothing is reordered across them (an `update` that shows a track still comes before the offer
 * that carries it). What a client was held from during its join goes out in a few frames instead
 * of one per change: at 200 joining at once, a client's first message released hundreds of
 * one-participant updates, each encoded and framed on its own.
 */
export function coalesceUpdates(messages: readonly SignalMessage[]): SignalMessage[] {
  const out: SignalMessage[] = [];
  let run: Map<string, ParticipantInfo> | null = null;
  const endRun = () => {
    if (run)
      out.push({
        case: 'update',
        value: new ParticipantUpdate({ participants: [...run.values()] }),
      });
    run = null;
  };
  for (const message of messages) {
    if (message.case !== 'update') {
      endRun();
      out.push(message);
      continue;
    }
    run ??= new Map();
    for (const info of message.value.participants) {
      run.delete(info.sid); // the last info of a participant takes its place in the order
      run.set(info.sid, info);
    }
  }
  endRun();
  return out;
}
