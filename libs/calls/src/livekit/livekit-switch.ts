import { Inject, Injectable } from '@nestjs/common';
import { CALLS_OPTIONS } from '../calls.constants';
import type { ResolvedCallsOptions } from '../config/calls-options.interface';

/** Whether the LiveKit endpoint is on (some API key is configured). */
@Injectable()
export class LiveKitSwitch {
  readonly on: boolean;

  constructor(@Inject(CALLS_OPTIONS) options: Pick<ResolvedCallsOptions, 'livekitKeys'>) {
    this.on = Object.keys(options.livekitKeys).length > 0;
  }
}
