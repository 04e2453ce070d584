import { Inject, Injectable, type PipeTransform } from '@nestjs/common';
import { CALLS_OPTIONS } from '../calls.constants';
import type { ResolvedCallsOptions } from '../config/calls-options.interface';
import { InvalidMessageError } from '../errors/invalid-message.error';
import { assertValidId } from '../state/call-state.codec';

/** Validates a channel id path parameter and converts it to the internal form. */
@Injectable()
export class ChannelIdPipe implements PipeTransform<string, string> {
  constructor(@Inject(CALLS_OPTIONS) private readonly options: ResolvedCallsOptions) {}

  transform(value: string): string {
    const id = this.options.idCodec.fromWire(value);
    if (!id) throw new InvalidMessageError('channel_id', 'is not a channel id');
    assertValidId('channel_id', id);
    return id;
  }
}
