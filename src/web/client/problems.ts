/** Person-readable text for what went wrong (both protocols' sessions and the page). */

/** The message of anything thrown. */
export const messageOf = (err: unknown): string =>
  err instanceof Error ? err.message : typeof err === 'string' ? err : 'unknown error';

/** A person-readable reason for a getUserMedia/getDisplayMedia failure. */
export function deviceProblem(err: unknown): string {
  if (err instanceof DOMException) {
    switch (err.name) {
      case 'NotAllowedError':
        return "access was denied (check the browser's site permissions)";
      case 'NotFoundError':
        return 'no device was found';
      case 'NotReadableError':
        return 'the device is in use by another application';
      default:
        return err.message || err.name;
    }
  }
  return messageOf(err);
}

/** True when the person closed the browser's screen picker (not an error worth a red banner). */
export const pickerClosed = (err: unknown): boolean =>
  err instanceof DOMException && err.name === 'NotAllowedError';
