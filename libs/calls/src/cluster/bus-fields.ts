/** Shape checks of what another instance sends over the bus (it may run another version). */

/** The default bound of a string field (ids and names). */
export const MAX_BUS_TEXT = 256;

/** `value` as a plain object. @throws Error when it is not one */
export function object(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${what} is not an object`);
  }
  return value as Record<string, unknown>;
}

/** A non-empty string field of at most `max` characters. @throws Error otherwise */
export function text(o: Record<string, unknown>, key: string, max = MAX_BUS_TEXT): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0 || v.length > max) {
    throw new Error(`${key} is not a non-empty string`);
  }
  return v;
}

/** An optional string field of at most `max` characters. @throws Error otherwise */
export function optionalText(
  o: Record<string, unknown>,
  key: string,
  max = MAX_BUS_TEXT,
): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length > max) throw new Error(`${key} is not a string`);
  return v;
}

/** A boolean field. @throws Error otherwise */
export function flag(o: Record<string, unknown>, key: string): boolean {
  const v = o[key];
  if (typeof v !== 'boolean') throw new Error(`${key} is not a boolean`);
  return v;
}
