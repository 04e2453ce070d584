import { RoomRegistry } from './room-registry';

class FakeRoom {
  isClosed = false;
  constructor(readonly callId: string) {}
  close(): void {
    this.isClosed = true;
  }
}

describe('RoomRegistry', () => {
  it('creates one room per call however many callers race', async () => {
    const registry = new RoomRegistry<FakeRoom>();
    let created = 0;
    const create = async (callId: string) => {
      created++;
      await new Promise((r) => setTimeout(r, 10));
      return new FakeRoom(callId);
    };
    const rooms = await Promise.all(
      Array.from({ length: 10 }, () => registry.getOrCreate('c1', create)),
    );
    expect(created).toBe(1);
    expect(new Set(rooms).size).toBe(1);
    expect(await registry.getOrCreate('c1', create)).toBe(rooms[0]);
    expect(created).toBe(1);
  });

  it('creates a new room after a failed creation or once the old one is closed', async () => {
    const registry = new RoomRegistry<FakeRoom>();
    await expect(
      registry.getOrCreate('c', () => Promise.reject(new Error('no worker'))),
    ).rejects.toThrow('no worker');
    const first = await registry.getOrCreate('c', (id) => Promise.resolve(new FakeRoom(id)));
    first.close();
    const second = await registry.getOrCreate('c', (id) => Promise.resolve(new FakeRoom(id)));
    expect(second).not.toBe(first);
    registry.delete(first); // not the call's room any more: ignored
    expect(registry.get('c')).toBe(second);
    registry.closeAll();
    expect(second.isClosed).toBe(true);
    expect(registry.all()).toEqual([]);
  });
});
