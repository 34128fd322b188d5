import { addDays, daysBetween, type LocalDate } from '../platform/calendar.js';
import { UnprocessableError } from './errors.js';

/**
 * The window a report covers, from a query's optional `from` and `to`: `to` defaults to the user's today, `from` to
 * `defaultDays` ending on `to`. A `from` after `to`, or a window longer than `maxDays`, is the client's mistake,
 * named on `query.from` (the one a client moves to fix either).
 */
export function dateWindow(
  query: { from?: LocalDate | undefined; to?: LocalDate | undefined },
  today: LocalDate,
  limits: { defaultDays: number; maxDays: number },
): { from: LocalDate; to: LocalDate } {
  const to = query.to ?? today;
  const from = query.from ?? addDays(to, -(limits.defaultDays - 1));
  const refuse = (message: string) =>
    new UnprocessableError('validation-failed', 'The request has invalid fields', [{ path: 'query.from', message }]);
  if (from > to) throw refuse(`must not be after \`to\` (${to})`);
  if (daysBetween(from, to) + 1 > limits.maxDays) {
    throw refuse(`must be at most ${limits.maxDays} days before \`to\` (${to})`);
  }
  return { from, to };
}
