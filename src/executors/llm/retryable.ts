import type { TaskFailure } from '../../core/errors.js';

/** Maps an HTTP status and retry-after header to a failure; 429/5xx overloads are transient. */
export function httpFailure(
  status: number | undefined,
  message: string,
  retryAfter: string | null | undefined,
): TaskFailure {
  const transient =
    status === 429 ||
    status === 529 ||
    status === 503 ||
    status === 502 ||
    /overloaded|rate.?limit|usage limit/i.test(message);
  const seconds = retryAfter === null || retryAfter === undefined ? NaN : Number(retryAfter);
  const dateMs = Number.isNaN(seconds) && retryAfter ? Date.parse(retryAfter) - Date.now() : NaN;
  const retryAfterMs = !Number.isNaN(seconds)
    ? seconds * 1000
    : !Number.isNaN(dateMs) && dateMs > 0
      ? dateMs
      : undefined;
  return {
    message: status === undefined ? message : `HTTP ${status}: ${message}`,
    code: transient ? 'WEFT_RATE_LIMITED' : 'WEFT_EXECUTOR',
    transient,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  };
}
