/** What the registry keeps: anything with a call id that can be closed. */
export interface RegistryRoom {
  readonly callId: string;
  readonly isClosed: boolean;
  close(): void;
}

/**
 * The rooms of this instance, one per call. `getOrCreate` is serialised per call: concurrent
 * callers for a call without a room share one creation (mediasoup-demo's `getOrCreateRoom`).
 */
export class RoomRegistry<R extends RegistryRoom> {
  private readonly rooms = new Map<string, R>();
  private readonly creating = new Map<string, Promise<R>>();

  /** The call's open room, created with `create` if there is none. */
  getOrCreate(callId: string, create: (callId: string) => Promise<R>): Promise<R> {
    const existing = this.rooms.get(callId);
    if (existing && !existing.isClosed) return Promise.resolve(existing);
    let creating = this.creating.get(callId);
    if (!creating) {
      creating = create(callId)
        .then((room) => {
          this.rooms.set(callId, room);
          return room;
        })
        .finally(() => this.creating.delete(callId));
      this.creating.set(callId, creating);
    }
    return creating;
  }

  /** The call's room, if any. */
  get(callId: string): R | undefined {
    return this.rooms.get(callId);
  }

  /** Every room. */
  all(): R[] {
    return [...this.rooms.values()];
  }

  /** Waits for the call's room creation in progress, if any (errors ignored). */
  async settled(callId?: string): Promise<void> {
    const pending = callId ? [this.creating.get(callId)] : [...this.creating.values()];
    await Promise.allSettled(pending.filter((p): p is Promise<R> => p !== undefined));
  }

  /** Forgets a room (it is closed by its owner) if it is still the call's room. */
  delete(room: R): void {
    if (this.rooms.get(room.callId) === room) this.rooms.delete(room.callId);
  }

  /** Closes and forgets every room. */
  closeAll(): void {
    for (const room of this.rooms.values()) room.close();
    this.rooms.clear();
  }
}
