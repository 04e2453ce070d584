import { Injectable } from '@nestjs/common';

const MAX_ENTRIES = 10_000;

/**
 * Display names of users who opened the calls page (the demo host keeps no user table; names come
 * from signed tokens). In memory, oldest forgotten first.
 */
@Injectable()
export class DisplayNames {
  private readonly names = new Map<string, string>();

  remember(userId: string, name: string): void {
    this.names.delete(userId);
    this.names.set(userId, name);
    if (this.names.size > MAX_ENTRIES) {
      const oldest = this.names.keys().next();
      if (!oldest.done) this.names.delete(oldest.value);
    }
  }

  /** The known names among `userIds`. */
  lookup(userIds: readonly string[]): Record<string, string> {
    const found: Record<string, string> = {};
    for (const id of userIds) {
      const name = this.names.get(id);
      if (name !== undefined) found[id] = name;
    }
    return found;
  }
}
