import { randomBytes } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { FaultRecorder } from '../support/fault-recorder';
import { TestHostApp, type TestClient } from '../support/host-app';
import { captureRealOffer } from '../support/real-offer';

type Ack = { ok: boolean; error?: { code: string; message: string } };

/**
 * Mutated offers the fuzzer found that the SFU does not refuse as a client error: each must get
 * `invalid_sdp` (the client's fault), never `internal_error`, and the session must still take a
 * good offer afterwards. (Failing tests for the SFU owner; the gateway only forwards the SDP.)
 */
describe('SFU: offers found by the fuzzer', () => {
  let faults: FaultRecorder;
  let host: TestHostApp;
  let client: TestClient;
  let offer = '';

  const send = (sdp: string) =>
    client.send<Ack>('sdp', {
      data: deflateSync(Buffer.from(JSON.stringify({ type: 'offer', sdp }))),
    });

  beforeAll(async () => {
    faults = FaultRecorder.install();
    host = await TestHostApp.start({
      RUSTCHAT_CALLS_STATE_BACKEND: 'memory',
      RUSTCHAT_CALLS_WORKERS: '1',
    });
    offer = (await captureRealOffer()).offer;
  });

  beforeEach(async () => {
    client = await host.connect((await host.login('Sdp Fuzz')).token);
    expect(
      await client.send('join', { channelID: `sdp-${randomBytes(4).toString('hex')}` }),
    ).toMatchObject({ ok: true });
  });

  afterEach(async () => {
    await client.send('leave');
    client.close();
    expect(faults.describe()).toEqual([]);
  });

  afterAll(async () => {
    await host.close();
    faults.uninstall();
  });

  it('a numeric a=setup value (sdp-transform parses "a=setup:7" as a number) is invalid_sdp', async () => {
    const ack = await send(offer.replace(/a=setup:\w+/g, 'a=setup:7'));
    expect(ack).toMatchObject({ ok: false, error: { code: 'invalid_sdp' } });
    expect(await send(offer)).toEqual({ ok: true });
  });

  it('a duplicated m= section (new mid, same SSRCs, in the BUNDLE) is invalid_sdp', async () => {
    const lines = offer.split('\r\n');
    const starts = lines.flatMap((l, i) => (l.startsWith('m=') ? [i] : []));
    const audio = lines
      .slice(starts[0], starts[1])
      .map((l) => (l.startsWith('a=mid:') ? 'a=mid:dup' : l));
    const sdp = [...lines.slice(0, -1), ...audio, '']
      .join('\r\n')
      .replace(/a=group:BUNDLE ([^\r]*)/, 'a=group:BUNDLE $1 dup');
    const ack = await send(sdp);
    // mediasoup says "ssrc already exists in RTP listener [method:transport.produce]".
    expect(ack).toMatchObject({ ok: false, error: { code: 'invalid_sdp' } });
    expect(await send(offer)).toEqual({ ok: true });
  });
});
