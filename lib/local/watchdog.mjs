/**
 * `node watchdog.mjs <command> [args...]`: runs the command and ends it when this process's standard input
 * closes. feedpub starts DynamoDB Local through it with a pipe as standard input: however feedpub ends (Ctrl-C, a
 * crash, SIGKILL), the kernel closes the pipe, and the JVM is told to stop (SIGTERM, then SIGKILL after a grace
 * period). A JVM cannot watch its parent itself, and its own process group keeps a terminal's Ctrl-C from it.
 *
 * Plain JavaScript so that it starts in a few tens of milliseconds, without a TypeScript loader.
 * Prints the command's pid on its first line of output; exits as the command does.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

const GRACE_MS = 3_000;
const [command, ...args] = process.argv.slice(2);
if (!command) {
  process.stderr.write('usage: node watchdog.mjs <command> [args...]\n');
  process.exit(2);
}

const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'inherit'] });
let ending = false;
const end = () => {
  if (ending) return;
  ending = true;
  child.kill('SIGTERM');
  setTimeout(() => child.kill('SIGKILL'), GRACE_MS).unref();
};

child.once('error', (error) => {
  process.stderr.write(`${command}: ${error.message}\n`);
  process.exit(127);
});
child.once('exit', (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 0)));

// The parent may already be gone: a failed write of the pid means the same as a closed pipe.
process.stdout.once('error', end);
if (child.pid) process.stdout.write(`${child.pid}\n`);
process.stdin.once('end', end);
process.stdin.once('error', end);
process.stdin.resume();
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, end);
