/** Test helpers of the calls plugin (`@app/calls/testing`); real parts only, no mocks. */
export { TestRedisServer, type TestRedisServerOptions } from './redis-server';
export { TestSentinelGroup, type TestSentinelGroupOptions } from './redis-sentinel-group';
export { freePort } from './free-port';
export { testRedisUrl } from './test-redis-url';
export {
  WrtcTestPeer,
  loadWrtc,
  type TestPeerSignal,
  type TestPeerTransport,
  type WrtcTestPeerOptions,
} from './wrtc-test-peer';
export { UdpRelay } from './udp-relay';
export {
  ToneGenerator,
  goertzelPower,
  dominantFrequency,
  meanPower,
  TONE_SAMPLE_RATE,
} from './tone';
export type * from './wrtc.types';
export { SfuHarness, type HarnessPeer, type SignalSink } from './sfu-harness';
export {
  browserLikeWebRtc,
  loadStockRTCPeer,
  type StockRTCPeer,
  type StockRTCPeerClass,
} from './stock-rtc-peer';
