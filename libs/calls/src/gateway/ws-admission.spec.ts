import { ClientAction } from '../protocol/mattermost/calls-events';
import type { CallsSocket } from './socket-context';
import { TokenBucket } from '../calls/token-bucket';
import { wsAdmission } from './ws-admission';

describe('wsAdmission', () => {
  const known = new Set<string>(Object.values(ClientAction));
  let now = 0;
  let ws: { pause: jest.Mock; resume: jest.Mock };
  let admit: ReturnType<typeof wsAdmission>;

  beforeEach(() => {
    jest.useFakeTimers();
    now = 0;
    ws = { pause: jest.fn(), resume: jest.fn() };
    const socket = {
      data: { limiter: new TokenBucket(10, 2, () => now) },
      conn: { transport: { name: 'websocket', socket: ws } },
    } as unknown as CallsSocket;
    admit = wsAdmission(socket, known, 10);
  });

  afterEach(() => jest.useRealTimers());

  it('lets known actions through while the bucket has tokens', () => {
    const next = jest.fn();
    admit([ClientAction.mute, jest.fn()], next);
    admit([ClientAction.unmute], next);
    expect(next).toHaveBeenCalledTimes(2);
    expect(ws.pause).not.toHaveBeenCalled();
  });

  it('refuses over the rate with rate_limited and stops reading the connection for a while', () => {
    const next = jest.fn();
    admit([ClientAction.mute], next);
    admit([ClientAction.mute], next);
    const acks = [jest.fn(), jest.fn(), jest.fn()];
    for (const ack of acks) admit([ClientAction.mute, ack], next);
    expect(next).toHaveBeenCalledTimes(2);
    for (const ack of acks) {
      expect(ack).toHaveBeenCalledWith({
        ok: false,
        error: { code: 'rate_limited', message: 'too many requests' },
      });
    }
    expect(ws.pause).toHaveBeenCalledTimes(1);
    // Three refusals: held back three token intervals (100 ms each), then read again.
    now = 250;
    jest.advanceTimersByTime(250);
    expect(ws.resume).not.toHaveBeenCalled();
    now = 300;
    jest.advanceTimersByTime(50);
    expect(ws.resume).toHaveBeenCalledTimes(1);
  });

  it('refuses unknown actions with invalid_message, and without an ack quietly', () => {
    const next = jest.fn();
    const ack = jest.fn();
    admit(['custom_com.mattermost.calls_mute_everyone', ack], next);
    expect(() => admit(['whatever', { no: 'ack' }], next)).not.toThrow();
    expect(next).not.toHaveBeenCalled();
    expect(ack).toHaveBeenCalledWith({
      ok: false,
      error: expect.objectContaining({ code: 'invalid_message' }) as unknown,
    });
  });
});
