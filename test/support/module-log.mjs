// Preloaded with --import by tests that must know which packages a process loads (test/lifecycle/tracing.test.ts):
// appends the URL of every module resolved through the ES module loader, and the path of every CommonJS require, to
// MODULE_LOG_FILE.
import { appendFileSync } from 'node:fs';
import Module, { register } from 'node:module';

const file = process.env.MODULE_LOG_FILE;
if (file) {
  register('./module-log-hooks.mjs', import.meta.url, { data: { file } });
  const resolve = Module._resolveFilename;
  Module._resolveFilename = function (...args) {
    const resolved = resolve.apply(this, args);
    appendFileSync(file, `${resolved}\n`);
    return resolved;
  };
}
