/**
 * The canonical IANA name of a time zone (`asia/tokyo` → `Asia/Tokyo`), or undefined when Intl does not know it.
 * Intl is the judge because it is what later turns an instant into the user's "today". Names must start with a
 * letter: recent Node versions also accept offsets such as `+05:00`, which follow no daylight-saving rules and
 * are not IANA names.
 */
export function canonicalTimeZone(name: string): string | undefined {
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/.test(name)) return undefined;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}
