import { CallsError } from './calls.error';

/** Another instance did not answer a request (dead, partitioned, or Redis away). */
export class InstanceUnreachableError extends CallsError {
  readonly code = 'instance_unreachable';

  constructor(
    readonly instanceId: string,
    readonly reason: string,
  ) {
    super(`instance ${instanceId} unreachable: ${reason}`);
  }
}
