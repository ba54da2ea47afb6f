// Keeps a foreign child (hopwise, squid) from outliving the harness: `node leash.js [--rm DIR] [--stdout FILE] CMD
// ARGS...` runs CMD with the leash's stdio (its stdout appended to FILE instead, when given: a log to a file, as
// production runs it, rather than a pipe the harness must drain) and exits with it. The harness holds the leash's IPC channel; if the harness dies, even by
// SIGKILL, the channel closes and the leash stops CMD (SIGTERM, then SIGKILL) and removes DIR (the target's temp dir,
// which a SIGKILLed harness cannot remove itself). The harness's own SIGTERM reaches CMD directly (same process
// group), so the leash only waits for CMD to exit.
import { spawn } from 'node:child_process';
import { openSync, rmSync } from 'node:fs';

const argv = process.argv.slice(2);
/** @type {Record<string, string>} */
const flags = {};
while (argv[0] === '--rm' || argv[0] === '--stdout') {
  const [flag = '', value = ''] = argv.splice(0, 2);
  flags[flag] = value;
}
const removeDir = flags['--rm'];
const stdoutFile = flags['--stdout'];
const [command, ...args] = argv;
if (!command) {
  console.error('usage: node leash.js [--rm DIR] [--stdout FILE] COMMAND [ARGS...]');
  process.exit(2);
}

/** @param {number} code */
function exit(code) {
  if (removeDir) rmSync(removeDir, { recursive: true, force: true });
  process.exit(code);
}

const stdout = stdoutFile ? openSync(stdoutFile, 'a') : 'inherit';
const child = spawn(command, args, { stdio: ['inherit', stdout, 'inherit'] });
child.once('error', (err) => {
  console.error(`leash: cannot start ${command}: ${err.message}`);
  exit(127);
});
child.once('exit', (code, signal) => exit(code ?? (signal ? 128 : 1)));

// Signals to the group reach the child too; the leash just waits for the child's exit.
process.on('SIGTERM', () => undefined);
process.on('SIGINT', () => undefined);
process.once('disconnect', () => {
  child.kill('SIGTERM');
  setTimeout(() => {
    child.kill('SIGKILL');
    exit(1);
  }, 3000).unref();
});
