import { Logger } from '@nestjs/common';
import type { MediaPlaneListener, MediaSessionRef } from '../media/media-plane.interface';
import { MediaListeners } from './media-listeners';

const ref: MediaSessionRef = { callId: 'c', sessionId: 's', userId: 'u' };

function recorder(calls: string[], name: string): MediaPlaneListener {
  return {
    signal: (r, signal) => calls.push(`${name}:signal:${r.sessionId}:${signal.type}`),
    voice: (_r, speaking) => calls.push(`${name}:voice:${speaking}`),
    sessionClosed: (_r, reason) => calls.push(`${name}:closed:${reason}`),
  };
}

describe('MediaListeners', () => {
  beforeEach(() => jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined));
  afterEach(() => jest.restoreAllMocks());

  it('calls every listener in the order they subscribed', () => {
    const listeners = new MediaListeners();
    const calls: string[] = [];
    listeners.add(recorder(calls, 'a'));
    listeners.add(recorder(calls, 'b'));

    listeners.emit('signal', ref, { type: 'offer', sdp: 'v=0' });
    listeners.emit('voice', ref, true);
    listeners.emit('sessionClosed', ref, 'dtls-failed');

    expect(calls).toEqual([
      'a:signal:s:offer',
      'b:signal:s:offer',
      'a:voice:true',
      'b:voice:true',
      'a:closed:dtls-failed',
      'b:closed:dtls-failed',
    ]);
  });

  it('skips listeners without the optional iceRestart', () => {
    const listeners = new MediaListeners();
    const calls: string[] = [];
    listeners.add(recorder(calls, 'plain'));
    listeners.add({
      ...recorder(calls, 'metrics'),
      iceRestart: (_r, initiator) => calls.push(`metrics:ice:${initiator}`),
    });

    listeners.emit('iceRestart', ref, 'server');

    expect(calls).toEqual(['metrics:ice:server']);
  });

  it('logs a listener that throws and still calls the others', () => {
    const listeners = new MediaListeners();
    const calls: string[] = [];
    listeners.add({
      ...recorder(calls, 'bad'),
      voice: () => {
        throw new Error('boom');
      },
    });
    listeners.add(recorder(calls, 'good'));

    expect(() => listeners.emit('voice', ref, false)).not.toThrow();

    expect(calls).toEqual(['good:voice:false']);
    expect(Logger.prototype.error).toHaveBeenCalledWith(expect.stringContaining("'voice' threw"));
  });

  it('stops calling a listener once removed', () => {
    const listeners = new MediaListeners();
    const calls: string[] = [];
    const remove = listeners.add(recorder(calls, 'a'));

    remove();
    listeners.emit('voice', ref, true);

    expect(calls).toEqual([]);
  });
});
