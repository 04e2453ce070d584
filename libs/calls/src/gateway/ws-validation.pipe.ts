import type { ValidationError } from '@nestjs/common';
import { InvalidMessageError } from '../errors/invalid-message.error';
import { DepthLimitedValidationPipe } from '../protocol/mattermost/depth-limited-validation.pipe';

function describe(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((e) => {
    const path = parent ? `${parent}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((m) => m.replace(e.property, path));
    return [...own, ...describe(e.children ?? [], path)];
  });
}

/** Validates action data against its DTO; a bad message becomes one InvalidMessageError. */
export const wsValidationPipe = new DepthLimitedValidationPipe({
  transform: true,
  whitelist: true,
  forbidUnknownValues: true,
  validationError: { target: false, value: false },
  exceptionFactory: (errors) =>
    new InvalidMessageError('data', describe(errors).join('; ') || 'is malformed'),
});
