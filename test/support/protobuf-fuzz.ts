import {
  type AnyMessage,
  type FieldInfo,
  LongType,
  type Message,
  type MessageType,
  ScalarType,
} from '@bufbuild/protobuf';
import { longString, NASTY_STRINGS, type Rng } from './fuzz';

/** How large fuzzed values get. */
export interface ProtobufFuzzLimits {
  /** Deepest nesting of message fields (deeper ones stay unset). @default 3 */
  readonly depth?: number;
  /** Most bytes of one string or bytes field. @default 4096 */
  readonly maxBytes?: number;
  /** Most elements of one repeated or map field. @default 8 */
  readonly maxElements?: number;
}

type Resolved = Required<ProtobufFuzzLimits>;

const INT32 = [0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 7, 1000];
const UINT32 = [0, 1, 2 ** 32 - 1, 2 ** 31, 7, 1000];
const INT64 = [0n, 1n, -1n, 2n ** 63n - 1n, -(2n ** 63n), BigInt(Date.now())];
const UINT64 = [0n, 1n, 2n ** 64n - 1n, 2n ** 63n, BigInt(Date.now())];
const FLOATS = [0, -0, 1.5, NaN, Infinity, -Infinity, 3.4e38, -3.4e38, 1e-45];
const DOUBLES = [...FLOATS, 1e308, -1e308, 5e-324];

/** A string of up to `max` bytes: empty, nasty, random, or long. */
export function fuzzString(rng: Rng, max: number): string {
  switch (rng.int(5)) {
    case 0:
      return '';
    case 1:
      return rng.pick(NASTY_STRINGS);
    case 2:
      return rng.string(1 + rng.int(24));
    case 3:
      return rng.string(1 + rng.int(8), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789');
    default:
      return longString(rng, 1 + rng.int(max)).slice(0, max);
  }
}

function scalar(rng: Rng, field: { T: ScalarType; L: LongType }, limits: Resolved): unknown {
  const long = (values: readonly bigint[]) => {
    const v = rng.chance(0.7)
      ? rng.pick(values)
      : BigInt(rng.int(2 ** 31)) * BigInt(rng.int(2 ** 31));
    return field.L === LongType.STRING ? v.toString() : v;
  };
  switch (field.T) {
    case ScalarType.STRING:
      return fuzzString(rng, limits.maxBytes);
    case ScalarType.BYTES:
      return new Uint8Array(rng.bytes(rng.chance(0.5) ? rng.int(32) : rng.int(limits.maxBytes)));
    case ScalarType.BOOL:
      return rng.chance(0.5);
    case ScalarType.DOUBLE:
      return rng.chance(0.6) ? rng.pick(DOUBLES) : (rng.next() - 0.5) * 10 ** rng.int(12);
    case ScalarType.FLOAT:
      // A float32 (the encoder refuses finite values past its range).
      return rng.chance(0.6) ? rng.pick(FLOATS) : (rng.next() - 0.5) * 10 ** rng.int(12);
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return rng.chance(0.7) ? rng.pick(INT32) : rng.int(2 ** 31) - 2 ** 30;
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return rng.chance(0.7) ? rng.pick(UINT32) : rng.int(2 ** 32);
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return long(UINT64);
    default:
      return long(INT64);
  }
}

function enumValue(rng: Rng, values: readonly { no: number }[]): number {
  // Open enums: numbers the schema does not name are legal on the wire.
  return rng.chance(0.85) ? rng.pick(values).no : rng.pick([-1, 99, 2 ** 31 - 1]);
}

function value(
  rng: Rng,
  field: Exclude<FieldInfo, { kind: 'map' }>,
  depth: number,
  limits: Resolved,
): unknown {
  switch (field.kind) {
    case 'scalar':
      return scalar(rng, field, limits);
    case 'enum':
      return enumValue(rng, field.T.values);
    case 'message':
      return fuzzMessage(rng, field.T, depth + 1, limits);
  }
}

function mapValue(
  rng: Rng,
  field: Extract<FieldInfo, { kind: 'map' }>,
  depth: number,
  limits: Resolved,
) {
  const out: Record<string, unknown> = {};
  const count = rng.chance(0.9) ? rng.int(limits.maxElements) : limits.maxElements * 20;
  const keyField = { T: field.K, L: LongType.STRING } as const;
  for (let i = 0; i < count; i++) {
    const key = String(scalar(rng, keyField, { ...limits, maxBytes: 64 }));
    const v =
      field.V.kind === 'scalar'
        ? scalar(rng, { T: field.V.T, L: LongType.BIGINT }, limits)
        : field.V.kind === 'enum'
          ? enumValue(rng, field.V.T.values)
          : fuzzMessage(rng, field.V.T, depth + 1, limits);
    // defineProperty: a `__proto__` key must be an own entry, as the decoder makes it.
    Object.defineProperty(out, key, { value: v, enumerable: true, writable: true });
  }
  return out;
}

/**
 * A message of `type` with every field given a fuzzed value or left unset, read from the
 * generated type's own field list (no hand-written protobuf): scalars at their edges (empty,
 * nasty, long strings; extreme numbers; NaN), enums in and out of range, nested messages to
 * `depth`, repeated and map fields short or long, one case of each oneof or none.
 */
export function fuzzMessage<T extends Message<T> = AnyMessage>(
  rng: Rng,
  type: MessageType<T>,
  depth = 0,
  limits: ProtobufFuzzLimits = {},
): T {
  const resolved: Resolved = { depth: 3, maxBytes: 4096, maxElements: 8, ...limits };
  const message = new type();
  const target = message as unknown as Record<string, unknown>;
  if (depth > resolved.depth) return message;
  const oneofs = new Set<string>();
  for (const field of type.fields.list()) {
    if (field.oneof) {
      if (oneofs.has(field.oneof.localName)) continue;
      oneofs.add(field.oneof.localName);
      const choice = rng.chance(0.2) ? null : rng.pick(field.oneof.fields);
      if (choice && choice.kind !== 'map' && !isWrapper(choice)) {
        target[field.oneof.localName] = {
          case: choice.localName,
          value: value(rng, choice, depth, resolved),
        };
      }
      continue;
    }
    if (rng.chance(0.25) || isWrapper(field)) continue;
    if (field.kind === 'map') target[field.localName] = mapValue(rng, field, depth, resolved);
    else if (field.repeated) {
      const n = rng.chance(0.9) ? rng.int(resolved.maxElements) : resolved.maxElements * 20;
      target[field.localName] = Array.from({ length: n }, () => value(rng, field, depth, resolved));
    } else target[field.localName] = value(rng, field, depth, resolved);
  }
  return message;
}

/** Wrapper types (`google.protobuf.StringValue`, …) appear unwrapped: left unset here. */
function isWrapper(field: FieldInfo): boolean {
  return field.kind === 'message' && field.T.fieldWrapper !== undefined;
}
