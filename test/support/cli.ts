import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { ROOT } from './app.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * A real operator command (src/cli/<name>.ts) in its own process, with only this environment; `stdin` is piped in
 * and closed (what an operator would type at a prompt).
 */
export function runCli(name: string, args: string[], env: Record<string, string>, stdin = ''): Promise<CliResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', `src/cli/${name}.ts`, ...args], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'test',
      // Given, so the command does not generate development secrets in the checkout's .data/.
      JWT_SECRET: randomBytes(32).toString('base64url'),
      CSRF_SECRET: randomBytes(32).toString('base64url'),
      EMAIL_HASH_KEY: randomBytes(32).toString('base64url'),
      HEALTH_TOKEN: randomBytes(32).toString('base64url'),
      FIELD_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      ...env,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  child.stdin.end(stdin);
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}
