import type { types as ms } from 'mediasoup';
import type { DataStream } from './data-streams';
import { DCEP_ACK, PPID } from './data-channel.messages';
import { LabelledChannels } from './labelled-channels';

/** A relayed stream whose sends are recorded. */
function stream(streamId: number, sent: { streamId: number; data: Buffer; ppid?: number }[]) {
  const toClient = {
    closed: false,
    send: (data: Buffer, ppid?: number) => sent.push({ streamId, data, ppid }),
  };
  return { streamId, fromClient: {}, toClient } as unknown as DataStream;
}

describe('LabelledChannels', () => {
  const labels = ['_lossy', '_reliable', '_data_track'];
  let sent: { streamId: number; data: Buffer; ppid?: number }[];
  let received: [string, number[], boolean][];
  let transport: { sctpState: string; dtlsParameters: { role: string } };
  let streams: Map<number, DataStream>;
  let channels: LabelledChannels;

  beforeEach(() => {
    sent = [];
    received = [];
    transport = { sctpState: 'connected', dtlsParameters: { role: 'server' } };
    streams = new Map([0, 1, 2, 3, 4, 5].map((id) => [id, stream(id, sent)]));
    channels = new LabelledChannels(
      transport as unknown as ms.WebRtcTransport,
      streams,
      labels,
      (label, payload, binary) => received.push([label, [...payload], binary]),
      'test',
    );
  });

  it('labels messages by creation order on either stream of a pair', () => {
    channels.onMessage(streams.get(0)!, Buffer.from('hi'), PPID.string);
    channels.onMessage(streams.get(3)!, Buffer.from([1, 2]), PPID.binary);
    channels.onMessage(streams.get(4)!, Buffer.from([0]), PPID.binaryEmpty);
    channels.onMessage(streams.get(2)!, Buffer.from(' '), PPID.stringEmpty);
    channels.onMessage(streams.get(2)!, DCEP_ACK, PPID.dcep);
    expect(received).toEqual([
      ['_lossy', [...Buffer.from('hi')], false],
      ['_reliable', [1, 2], true],
      ['_data_track', [], true],
      ['_reliable', [], false],
    ]);
  });

  it('sends on the stream the DTLS role gives, or the one the client used', () => {
    expect(channels.send('_reliable', new Uint8Array([9]))).toBe(true);
    transport.dtlsParameters.role = 'client'; // the client is the DTLS server: odd ids
    expect(channels.send('_lossy', new Uint8Array([8]))).toBe(true);
    channels.onMessage(streams.get(4)!, Buffer.from([1]), PPID.binary);
    expect(channels.send('_data_track', new Uint8Array([7]))).toBe(true);
    expect(sent.map(({ streamId, data }) => [streamId, [...data]])).toEqual([
      [2, [9]],
      [1, [8]],
      [4, [7]],
    ]);
  });

  it('sends nothing on an unknown label or before the association is up', () => {
    expect(channels.send('calls-dc', new Uint8Array([1]))).toBe(false);
    transport.sctpState = 'new';
    expect(channels.send('_reliable', new Uint8Array([1]))).toBe(false);
    expect(sent).toEqual([]);
  });

  it('acknowledges every channel with a DCEP ACK', () => {
    channels.acknowledge();
    expect(sent).toEqual([0, 2, 4].map((streamId) => ({ streamId, data: DCEP_ACK, ppid: 50 })));
  });
});
