// Keeps a foreign child (hopwise, squid) from outliving the harness: `node leash.js CMD ARGS...` runs CMD with the
// leash's stdio and exits with it. The harness holds the leash's IPC channel; if the harness dies, even by SIGKILL,
// the channel closes and the leash stops CMD (SIGTERM, then SIGKILL). The harness's own SIGTERM reaches CMD directly
// (same process group), so the leash only waits for CMD to exit.
import { spawn } from 'node:child_process';

const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error('usage: node leash.js COMMAND [ARGS...]');
  process.exit(2);
}

const child = spawn(command, args, { stdio: 'inherit' });
child.once('error', (err) => {
  console.error(`leash: cannot start ${command}: ${err.message}`);
  process.exit(127);
});
child.once('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));

// Signals to the group reach the child too; the leash just waits for the child's exit.
process.on('SIGTERM', () => undefined);
process.on('SIGINT', () => undefined);
process.once('disconnect', () => {
  child.kill('SIGTERM');
  setTimeout(() => {
    child.kill('SIGKILL');
    process.exit(1);
  }, 3000).unref();
});
