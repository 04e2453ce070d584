import { IsString } from 'class-validator';
import { InvalidMessageError } from '../../errors/invalid-message.error';
import {
  DepthLimitedValidationPipe,
  MAX_PAYLOAD_DEPTH,
  nestsDeeperThan,
} from './depth-limited-validation.pipe';

class TitleDto {
  @IsString()
  title!: string;
}

const nested = (depth: number): unknown => {
  let v: unknown = 'x';
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
  return v;
};

describe('nestsDeeperThan', () => {
  it('counts object and array levels; scalars and binary data are leaves', () => {
    expect(nestsDeeperThan('text', 1)).toBe(false);
    expect(nestsDeeperThan({ a: [1] }, 2)).toBe(false);
    expect(nestsDeeperThan({ a: [1] }, 1)).toBe(true);
    expect(nestsDeeperThan({ data: Buffer.alloc(100_000) }, 1)).toBe(false);
    expect(nestsDeeperThan(nested(100_000), MAX_PAYLOAD_DEPTH)).toBe(true);
  });
});

describe('DepthLimitedValidationPipe', () => {
  const pipe = new DepthLimitedValidationPipe({ transform: true, whitelist: true });
  const metadata = { type: 'body' as const, metatype: TitleDto };

  it('refuses data nested past the limit with InvalidMessageError (no stack overflow)', async () => {
    await expect(pipe.transform({ title: nested(20_000) }, metadata)).rejects.toBeInstanceOf(
      InvalidMessageError,
    );
  });

  it('validates everything else as the ValidationPipe does', async () => {
    await expect(pipe.transform({ title: 'ok' }, metadata)).resolves.toEqual({ title: 'ok' });
    await expect(pipe.transform({ title: nested(3) }, metadata)).rejects.toThrow();
  });

  it('passes through what it does not validate (the socket, any cyclic object)', async () => {
    const socket: Record<string, unknown> = {};
    socket.self = socket;
    await expect(pipe.transform(socket, { type: 'custom', metatype: Object })).resolves.toBe(
      socket,
    );
  });
});
