import { CHROME_OFFER } from '../../../../../test/fixtures/sfu/chrome-offers';
import { ROUTER_RTP_CAPABILITIES } from '../../../../../test/fixtures/sfu/router-rtp-capabilities';
import { InvalidSdpError } from '../../errors/invalid-sdp.error';
import { clientSends, planClientOffer, type OfferPlanInput } from './peer-offer.plan';
import { newSlot } from './peer-slot';
import { BundleRegistry } from '../sdp/bundle-registry';
import { parseClientDescription } from '../sdp/client-description.parser';

const offer = (sdp = CHROME_OFFER) => parseClientDescription('offer', sdp, 65536);
const input = (overrides: Partial<OfferPlanInput> = {}): OfferPlanInput => ({
  sessionId: 's',
  slots: [],
  floating: [],
  remoteFingerprint: null,
  routerCapabilities: ROUTER_RTP_CAPABILITIES,
  bundles: new BundleRegistry(),
  ...overrides,
});

describe('planClientOffer', () => {
  it('makes client slots for a first offer and producers for what it sends', () => {
    const plan = planClientOffer(input(), offer());
    expect(plan.slots.map((s) => [s.mid, s.kind, s.origin])).toEqual([
      ['0', 'audio', 'client'],
      ['1', 'video', 'client'],
      ['2', 'application', 'client'],
    ]);
    expect(plan.produce.map((p) => p.slot.mid)).toEqual(['0', '1']);
    expect(plan.dataChannel).toBe(true);
  });

  it('requires the negotiated sections in order and the same DTLS fingerprint', () => {
    const first = planClientOffer(input(), offer());
    const reordered = [first.slots[1], first.slots[0], first.slots[2]];
    expect(() => planClientOffer(input({ slots: reordered }), offer())).toThrow('negotiated as');
    const more = [...first.slots, newSlot('s1', 'audio', 'server')];
    expect(() => planClientOffer(input({ slots: more }), offer())).toThrow('were negotiated');
    const fingerprint = offer().dtls.fingerprints[0].value.replace(/^../, '00');
    expect(() => planClientOffer(input({ remoteFingerprint: fingerprint }), offer())).toThrow(
      InvalidSdpError,
    );
    // A mid the server has taken for a consumer that no offer carried yet.
    expect(() =>
      planClientOffer(input({ floating: [newSlot('1', 'audio', 'server')] }), offer()),
    ).toThrow('already in use');
  });

  it('lets the client send in a server slot only with a MediaStream (a real track)', () => {
    const server = newSlot('s1', 'video', 'server');
    const section = offer().sections[1];
    expect(clientSends(server, section)).toBe(true);
    expect(clientSends(server, { ...section, msid: { streamId: '-', trackId: 't' } })).toBe(false);
    expect(clientSends(server, { ...section, direction: 'recvonly' })).toBe(false);
    expect(clientSends(newSlot('0', 'video', 'client'), { ...section, msid: undefined })).toBe(
      true,
    );
  });
});
