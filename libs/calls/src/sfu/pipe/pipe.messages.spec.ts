import {
  callIdOf,
  parseEndpoint,
  parseProducerChange,
  parseProducerList,
  parseProducerParameters,
  producerIdOf,
} from './pipe.messages';

const srtpParameters = { cryptoSuite: 'AEAD_AES_256_GCM', keyBase64: 'a2V5' };

describe('pipe messages', () => {
  it('reads ids and refuses missing, empty or oversized ones', () => {
    expect(callIdOf({ callId: 'c1' })).toBe('c1');
    expect(producerIdOf({ callId: 'c1', producerId: 'p1' })).toBe('p1');
    for (const bad of [
      null,
      'c1',
      [],
      {},
      { callId: '' },
      { callId: 7 },
      { callId: 'x'.repeat(257) },
    ]) {
      expect(() => callIdOf(bad)).toThrow();
    }
  });

  it('reads a pipe endpoint and refuses a bad port or missing SRTP parameters', () => {
    expect(parseEndpoint({ ip: 'calls-1', port: 40001, srtpParameters })).toEqual({
      ip: 'calls-1',
      port: 40001,
      srtpParameters,
    });
    expect(() => parseEndpoint({ ip: '10.0.0.1', port: 0, srtpParameters })).toThrow(/port/);
    expect(() => parseEndpoint({ ip: '10.0.0.1', port: 1.5, srtpParameters })).toThrow(/port/);
    expect(() => parseEndpoint({ ip: '10.0.0.1', port: 40001 })).toThrow(/srtpParameters/);
    expect(() =>
      parseEndpoint({ ip: '10.0.0.1', port: 40001, srtpParameters: { cryptoSuite: 'x' } }),
    ).toThrow(/keyBase64/);
  });

  it('reads producer lists, parameters and changes', () => {
    expect(parseProducerList({ producerIds: ['a', 'b'] })).toEqual({
      producerIds: ['a', 'b'],
      exporting: undefined,
    });
    expect(parseProducerList({ producerIds: [], exporting: true }).exporting).toBe(true);
    expect(() => parseProducerList({ producerIds: [1] })).toThrow();
    expect(() => parseProducerList({ producerIds: [], exporting: 'yes' })).toThrow();
    const rtpParameters = { codecs: [], encodings: [] };
    expect(
      parseProducerParameters({ kind: 'audio', rtpParameters, paused: true, appData: { a: 1 } }),
    ).toEqual({ kind: 'audio', rtpParameters, paused: true, appData: { a: 1 } });
    expect(() =>
      parseProducerParameters({ kind: 'data', rtpParameters, paused: false, appData: {} }),
    ).toThrow(/kind/);
    expect(() =>
      parseProducerParameters({ kind: 'video', rtpParameters: { codecs: [] }, appData: {} }),
    ).toThrow(/encodings/);
    expect(parseProducerChange({ paused: 1, appData: { type: 'screen' } })).toEqual({
      paused: false,
      appData: { type: 'screen' },
    });
  });
});
