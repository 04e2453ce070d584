import { IceRestartPolicy, restartWaitMs } from './ice-restart.policy';

describe('IceRestartPolicy', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  const settings = { graceMs: 2000, maxAttempts: 3, backoffMs: 1000 };

  it('restarts after the grace period, then with exponential waits, then gives up', () => {
    const restart = jest.fn();
    const giveUp = jest.fn();
    const policy = new IceRestartPolicy(settings, { restart, giveUp });
    policy.onIceState('disconnected');
    jest.advanceTimersByTime(1999);
    expect(restart).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(restart).toHaveBeenLastCalledWith(1);
    jest.advanceTimersByTime(1000);
    expect(restart).toHaveBeenLastCalledWith(2);
    jest.advanceTimersByTime(2000);
    expect(restart).toHaveBeenLastCalledWith(3);
    expect(giveUp).not.toHaveBeenCalled();
    jest.advanceTimersByTime(4000);
    expect(giveUp).toHaveBeenCalledWith(3);
    jest.advanceTimersByTime(60_000);
    expect(restart).toHaveBeenCalledTimes(3);
  });

  it('does nothing when the session recovers within the grace period, and resets after a recovery', () => {
    const restart = jest.fn();
    const policy = new IceRestartPolicy(settings, { restart, giveUp: jest.fn() });
    policy.onIceState('disconnected');
    jest.advanceTimersByTime(1500);
    policy.onIceState('completed');
    jest.advanceTimersByTime(10_000);
    expect(restart).not.toHaveBeenCalled();
    policy.onIceState('disconnected');
    jest.advanceTimersByTime(3000);
    expect(restart).toHaveBeenCalledWith(1);
    policy.onIceState('connected');
    expect(policy.attemptsInOutage).toBe(0);
  });

  it('gives up right after the grace period with maxAttempts 0, and stops on close', () => {
    const giveUp = jest.fn();
    const policy = new IceRestartPolicy(
      { ...settings, maxAttempts: 0 },
      { restart: jest.fn(), giveUp },
    );
    policy.onIceState('disconnected');
    jest.advanceTimersByTime(2000);
    expect(giveUp).toHaveBeenCalledWith(0);
    const other = new IceRestartPolicy(settings, { restart: jest.fn(), giveUp });
    other.onIceState('disconnected');
    other.onIceState('closed');
    jest.advanceTimersByTime(60_000);
    expect(giveUp).toHaveBeenCalledTimes(1);
  });

  it('doubles the wait per attempt', () => {
    expect([1, 2, 3, 4].map((n) => restartWaitMs(settings, n))).toEqual([1000, 2000, 4000, 8000]);
  });
});
