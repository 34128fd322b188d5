import { describe, expect, it } from 'vitest';
import { PASSWORD_MAX_LENGTH, passwordProblems } from '../../../src/modules/auth/password-policy.service.js';

/** A deterministic pseudo-random string (no dependence on the run), drawn from `alphabet`. */
function drawn(length: number, alphabet: string, seed: number): string {
  let state = seed;
  let out = '';
  for (let i = 0; i < length; i += 1) {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    out += alphabet[state % alphabet.length];
  }
  return out;
}

const repeated = (unit: string) =>
  unit.repeat(Math.ceil(PASSWORD_MAX_LENGTH / unit.length)).slice(0, PASSWORD_MAX_LENGTH);

/**
 * The CPU time of one judgement, in milliseconds: the least of three, so that what another process or a garbage
 * collection adds on this shared machine does not count, while a judgement that is itself slow is slow every time.
 * CPU time, not the wall clock: the machine's load stretches the one, not the other.
 */
function cpuMsOf(password: string): number {
  let least = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i += 1) {
    const before = process.cpuUsage();
    passwordProblems(password, ['owner@example.com', 'Ann Lee'], 'body.password');
    const used = process.cpuUsage(before);
    least = Math.min(least, (used.user + used.system) / 1000);
  }
  return least;
}

describe('password strength estimate', () => {
  it('when a password has the greatest length allowed, whatever its content, it is judged in under 50 ms of CPU', () => {
    passwordProblems('warm-up-Password-1', [], 'body.password'); // the dictionaries' first use is not the judgement
    const worst: Record<string, string> = {
      'random digits': drawn(PASSWORD_MAX_LENGTH, '0123456789', 7),
      'one digit': repeated('1'),
      'a digit sequence': repeated('1234567890'),
      'a repeated year pair': repeated('19841985'),
      'l33t symbols only': drawn(PASSWORD_MAX_LENGTH, '4@8({[<63#9&1!|7^n2/0$5+>%u', 11),
      'a repeated l33t word': repeated('p4ssw0rd'),
      'a keyboard walk': repeated('qwertyuiop'),
      'two letters': repeated('ab'),
      'mixed classes': repeated('aA1!'),
    };
    for (const [label, password] of Object.entries(worst)) {
      expect(password).toHaveLength(PASSWORD_MAX_LENGTH);
      expect(cpuMsOf(password), label).toBeLessThan(50);
    }
  });

  it('when a long password is weak in its judged part, or strong, the verdict is the same as for a short one', () => {
    expect(passwordProblems(repeated('1234567890'), [], 'body.password')).toHaveLength(1);
    expect(passwordProblems(repeated('p4ssw0rd'), [], 'body.password')).toHaveLength(1);
    expect(passwordProblems(`purple-Monkey-dishwasher-88-${'x'.repeat(100)}`, [], 'body.password')).toEqual([]);
    expect(passwordProblems('P4ssw0rd', [], 'p')[0]?.message).toMatch(/12 to 128/);
    expect(passwordProblems('p4ssw0rd1234', [], 'p')).toHaveLength(1);
  });

  it('when the password is the account email, longer than the judged part, it is still refused', () => {
    const email = 'ann-lee-1796325091465-household@example.com';
    expect(email.length).toBeGreaterThan(32);
    expect(passwordProblems(email, [email, 'Ann Lee'], 'body.password')).toHaveLength(1);
    expect(passwordProblems(`${email}!`, [email], 'body.password')).toHaveLength(1);
  });
});
