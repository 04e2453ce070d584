import { type ArgumentMetadata, ValidationPipe } from '@nestjs/common';
import { InvalidMessageError } from '../../errors/invalid-message.error';

/** Deepest nesting of objects and arrays accepted in client data (Mattermost's is 2–3 levels). */
export const MAX_PAYLOAD_DEPTH = 32;

/**
 * Whether `value` nests objects or arrays more than `maxDepth` levels deep. Iterative, so it is
 * safe on any input; binary data (Buffers, typed arrays) counts as a leaf.
 */
export function nestsDeeperThan(value: unknown, maxDepth: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null || ArrayBuffer.isView(v)) continue;
    if (depth > maxDepth) return true;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}

/**
 * A ValidationPipe that first refuses data nested deeper than {@link MAX_PAYLOAD_DEPTH}:
 * class-transformer and the pipe recurse, so a few thousand levels (15 KB of JSON) would overflow
 * the stack and turn a bad message into an internal error with a logged stack trace.
 */
export class DepthLimitedValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    // Only what the pipe validates (a DTO); never the socket, which Nest also passes through pipes.
    if (this.toValidate(metadata) && nestsDeeperThan(value, MAX_PAYLOAD_DEPTH)) {
      throw new InvalidMessageError(
        metadata.data ?? 'data',
        `nests deeper than ${MAX_PAYLOAD_DEPTH} levels`,
      );
    }
    return (await super.transform(value, metadata)) as unknown;
  }
}
