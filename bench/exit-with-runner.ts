/**
 * Preloaded (`--import`) into the worker processes that bench/reminders.ts starts: when the runner's end of stdin
 * closes (it exited, however it died), the worker gets SIGTERM and drains as in production, instead of outliving a
 * bench whose database is gone.
 */
process.stdin.on('end', () => process.kill(process.pid, 'SIGTERM'));
process.stdin.resume();
