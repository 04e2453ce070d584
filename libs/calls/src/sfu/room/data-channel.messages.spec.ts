import { dataChannelReply, PPID } from './data-channel.messages';

describe('dataChannelReply', () => {
  it("answers the text 'ping' with 'pong'", () => {
    expect(dataChannelReply(Buffer.from('ping'), PPID.string)).toEqual({
      data: 'pong',
      ppid: PPID.string,
    });
  });

  it('answers a msgpack Ping (type 1) with a msgpack Pong (type 2)', () => {
    expect(dataChannelReply(Buffer.from([0x01]), PPID.binary)).toEqual({
      data: Buffer.from([0x02]),
      ppid: PPID.binary,
    });
  });

  it('ignores anything else', () => {
    expect(dataChannelReply(Buffer.from('hello'), PPID.string)).toBeNull();
    expect(dataChannelReply(Buffer.from('ping'), PPID.binary)).toBeNull();
    expect(dataChannelReply(Buffer.from([0x03, 0xc4]), PPID.binary)).toBeNull();
    expect(dataChannelReply(Buffer.alloc(0), PPID.binary)).toBeNull();
  });
});
