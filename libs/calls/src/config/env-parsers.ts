/** A parser of one environment value: the parsed value, or `undefined` when it is not allowed. */
export interface EnvParser<T> {
  readonly parse: (raw: string) => T | undefined;
  /** Human description of the allowed values, used in the boot error. */
  readonly allowed: string;
  /** When true, a bad value is not shown in the boot error. */
  readonly secret?: boolean;
}

/** One of fixed words; whitespace is trimmed and letter case ignored. */
export function oneOf<T extends string>(values: readonly T[]): EnvParser<T> {
  return {
    parse: (raw) => {
      const v = raw.trim().toLowerCase();
      return (values as readonly string[]).includes(v) ? (v as T) : undefined;
    },
    allowed: `one of ${values.join(' | ')} (any letter case)`,
  };
}

/** An integer within bounds. */
export function integer(min: number, max: number): EnvParser<number> {
  return {
    parse: (raw) => {
      const v = raw.trim();
      if (!/^-?\d+$/.test(v)) return undefined;
      const n = Number(v);
      return n >= min && n <= max ? n : undefined;
    },
    allowed: `an integer from ${min} to ${max}`,
  };
}

/** A URL with one of the given protocols (e.g. `redis:`). */
export function url(protocols: readonly string[]): EnvParser<string> {
  return {
    parse: (raw) => {
      const v = raw.trim();
      try {
        return protocols.includes(new URL(v).protocol) ? v : undefined;
      } catch {
        return undefined;
      }
    },
    allowed: `a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`,
  };
}

/** A string matching a pattern. */
export function matching(pattern: RegExp, allowed: string): EnvParser<string> {
  return { parse: (raw) => (pattern.test(raw.trim()) ? raw.trim() : undefined), allowed };
}

/** `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`), any letter case. */
export const boolean: EnvParser<boolean> = {
  parse: (raw) => {
    const v = raw.trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(v)) return true;
    if (['false', '0', 'no', 'off'].includes(v)) return false;
    return undefined;
  },
  allowed: 'true or false',
};

/** A comma-separated list whose every item matches `pattern`; empty items are ignored. */
export function list(pattern: RegExp, allowed: string): EnvParser<string[]> {
  return {
    parse: (raw) => {
      const items = raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
      return items.every((s) => pattern.test(s)) ? items : undefined;
    },
    allowed: `a comma-separated list of ${allowed}`,
  };
}

/** Any non-empty string, never echoed back in errors (for secrets). */
export const secret: EnvParser<string> = {
  parse: (raw) => (raw.length > 0 && raw.length <= 1024 ? raw : undefined),
  allowed: '1 to 1024 characters',
  secret: true,
};

/** 0 (meaning "none"), or what `parser` allows. */
export function zeroOr(parser: EnvParser<number>): EnvParser<number> {
  return {
    parse: (raw) => (/^\s*0+\s*$/.test(raw) ? 0 : parser.parse(raw)),
    allowed: `0 or ${parser.allowed}`,
  };
}
