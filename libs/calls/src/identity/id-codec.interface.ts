import { Inject } from '@nestjs/common';

/**
 * Seam: converts between the host's internal ids and the Mattermost form clients see. Payloads
 * carry Mattermost ids and the seed's `*_raw` twins with the internal form.
 */
export interface CallsIdCodec {
  /** Internal id → Mattermost form. */
  toWire(internalId: string): string;
  /**
   * Mattermost form (or internal form, which is accepted too) → internal id.
   * Returns null when the value is neither.
   */
  fromWire(wireId: string): string | null;
}

/** Injection token of {@link CallsIdCodec}. */
export const CallsIdCodec = Symbol('CallsIdCodec');

/** Injects the {@link CallsIdCodec}. */
export const InjectCallsIdCodec = (): ParameterDecorator => Inject(CallsIdCodec);

/** The default codec: internal and wire ids are the same strings. */
export class PlainIdCodec implements CallsIdCodec {
  toWire(internalId: string): string {
    return internalId;
  }

  fromWire(wireId: string): string | null {
    return wireId;
  }
}
