import { randomUUID } from 'node:crypto';
import { Test } from '@nestjs/testing';
import { CallsModule } from '../calls.module';
import { SfuSessionExistsError } from '../errors/sfu-session-exists.error';
import { SfuUnavailableError } from '../errors/sfu-unavailable.error';
import { SfuHarness } from '../testing/sfu-harness';
import { SfuService } from './sfu.service';

jest.setTimeout(60_000);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('SfuService lifecycle', () => {
  it('starts one worker per configured count and, on shutdown, closes everything and waits for the processes', async () => {
    const h = await SfuHarness.start({ rtcWorkers: 2 });
    const pids = h.sfu.workerPids();
    expect(pids).toHaveLength(2);
    const callId = `call-${randomUUID()}`;
    const a = await h.join(callId, { name: 'a' }, (p) => p.addTone(440));
    const b = await h.join(callId, { name: 'b' }, (p) => p.addTone(660));
    await a.peer.waitFor(() => a.peer.receiving('audio').length === 1, 15_000, 'consuming');
    await b.peer.waitFor(() => b.peer.receiving('audio').length === 1, 15_000, 'consuming');
    expect(h.sfu.stats()).toEqual({
      workers: 2,
      routers: 1,
      transports: 2,
      producers: 2,
      consumers: 2,
      pipes: 0,
    });
    await h.close(); // onApplicationShutdown
    expect(pids.map(alive)).toEqual([false, false]);
    expect(h.sfu.stats()).toEqual({
      workers: 0,
      routers: 0,
      transports: 0,
      producers: 0,
      consumers: 0,
      pipes: 0,
    });
  });

  it('creates one room per call under concurrent openSession, spreads calls over workers, and closes empty rooms', async () => {
    const h = await SfuHarness.start({ rtcWorkers: 2 });
    try {
      const callId = `call-${randomUUID()}`;
      const refs = Array.from({ length: 8 }, (_, i) => ({
        callId,
        sessionId: `s${i}-${randomUUID()}`,
        userId: `u${i}`,
      }));
      await Promise.all(refs.map((ref) => h.sfu.openSession(ref)));
      expect(h.sfu.stats()).toMatchObject({ routers: 1, transports: 8 });
      await expect(h.sfu.openSession(refs[0])).rejects.toBeInstanceOf(SfuSessionExistsError);
      // A second call goes to the other (less loaded) worker.
      const other = { callId: `call-${randomUUID()}`, sessionId: `o-${randomUUID()}`, userId: 'o' };
      await h.sfu.openSession(other);
      expect(h.sfu.callWorkerPid(other.callId)).not.toBe(h.sfu.callWorkerPid(callId));
      for (const ref of refs) await h.sfu.closeSession(ref.sessionId);
      await h.sfu.closeSession('never-opened'); // ignored
      expect(h.sfu.stats()).toMatchObject({ routers: 1, transports: 1 });
      expect(h.sfu.hasSession(refs[0].sessionId)).toBe(false);
      await h.sfu.closeCall(other.callId);
      expect(h.sfu.stats()).toMatchObject({ routers: 0, transports: 0 });
    } finally {
      await h.close();
    }
  });

  it('refuses sessions with SfuUnavailableError when media is disabled (rtcWorkers: 0)', async () => {
    const h = await SfuHarness.start({ rtcWorkers: 0 });
    try {
      await expect(
        h.sfu.openSession({ callId: 'c', sessionId: 's', userId: 'u' }),
      ).rejects.toBeInstanceOf(SfuUnavailableError);
      expect(h.sfu.stats().workers).toBe(0);
    } finally {
      await h.close();
    }
  });

  it('is provided and exported by CallsModule', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        CallsModule.forRoot({ stateBackend: 'memory', rtcWorkers: 1, rtcListenIp: '127.0.0.1' }),
      ],
    }).compile();
    await moduleRef.init();
    try {
      expect(moduleRef.get(SfuService).workerPids()).toHaveLength(1);
    } finally {
      await moduleRef.close();
    }
  });
});
