import { Injectable } from '@nestjs/common';

/** Whether this instance is shutting down (joins are refused meanwhile). */
@Injectable()
export class DrainState {
  /** Set once shutdown began. */
  draining = false;
}
