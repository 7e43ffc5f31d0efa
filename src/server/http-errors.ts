import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { isWeftError, PlanValidationError, type WeftErrorCode } from '../core/errors.js';

/** The HTTP status of a `WeftError` code: the edge maps codes, as the CLI maps them to exit codes. */
export function statusForCode(code: WeftErrorCode): ContentfulStatusCode {
  switch (code) {
    case 'WEFT_RUN_NOT_FOUND':
      return 404;
    case 'WEFT_RUN_LOCKED':
    case 'WEFT_RUN_STATE':
      return 409;
    case 'WEFT_PLAN_INVALID':
    case 'WEFT_PLAN_NOT_FOUND':
    case 'WEFT_CONFIG_INVALID':
    case 'WEFT_USAGE':
    case 'WEFT_IMPORT':
      return 400;
    default:
      return 500;
  }
}

/** The JSON body of an error: `{ error: { code, message, hint?, issues? } }` — never a stack. */
export function errorResponse(c: Context, error: unknown): Response {
  if (isWeftError(error)) {
    const issues = error instanceof PlanValidationError ? { issues: error.issues } : {};
    const hint = error.hint === undefined ? {} : { hint: error.hint };
    return c.json(
      { error: { code: error.code, message: error.message, ...hint, ...issues } },
      statusForCode(error.code),
    );
  }
  return c.json({ error: { code: 'WEFT_INTERNAL', message: 'internal error; see the server output' } }, 500);
}
