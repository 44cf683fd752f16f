/**
 * The README's quick start, run as a new user pastes it: `npm start`, then the shell block that publishes a post and
 * reads its feeds, taken from the README itself. Two things differ from a fresh clone, so that this test can run
 * beside a developer's own stack: the port (3000 in the README, a free one here, in PORT and in the commands) and the
 * data directory (`.feedpub` in a temporary folder, where the commands run, instead of in the checkout).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../lib/local/servers.js';
import { readFeed } from '../support/feeds.js';

const ROOT = join(import.meta.dirname, '../..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const quickStart = README.slice(README.indexOf('## Quick start'), README.indexOf('\n## ', README.indexOf('## Quick start') + 3));
const blocks = [...quickStart.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!.trim());

function run(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the README quick start, as written', () => {
  const home = mkdtempSync(join(tmpdir(), 'feedpub-quick-start-'));
  let port: number;
  let stack: ChildProcess | undefined;
  let env: NodeJS.ProcessEnv;
  // In a process group of its own, so that an interrupt reaches npm and feedpub both, as Ctrl-C in a terminal does.
  const startNpm = () => spawn('npm', ['start'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const interrupt = async (child: ChildProcess) => {
    const ended = new Promise((r) => child.once('exit', r));
    process.kill(-child.pid!, 'SIGINT');
    await ended;
  };
  const local = (commands: string) => commands.replaceAll('127.0.0.1:3000', `127.0.0.1:${port}`);

  beforeAll(async () => {
    port = await freePort();
    env = { ...process.env, PORT: String(port), FEEDPUB_DATA_DIR: join(home, '.feedpub') };
    delete env.FEEDPUB_API_KEY;
  });
  afterAll(async () => {
    if (stack && stack.exitCode === null) await interrupt(stack);
    rmSync(home, { recursive: true, force: true });
  });

  it('has the blocks it describes: install and start, publish and read, test', () => {
    expect(blocks).toHaveLength(3);
    expect(blocks[0]).toBe('npm install\nnpm start');
    expect(blocks[2]).toBe('npm test');
  });

  it('npm start answers within 10 s (the packages are installed: npm install is the step before)', async () => {
    const started = Date.now();
    stack = startNpm();
    let output = '';
    stack.stderr!.on('data', (c: Buffer) => (output += c.toString('utf8')));
    await new Promise<void>((resolve, reject) => {
      stack!.stdout!.on('data', (c: Buffer) => {
        output += c.toString('utf8');
        if (output.includes('feedpub is running at')) resolve();
      });
      stack!.once('exit', (code) => reject(new Error(`npm start exited with ${code}: ${output}`)));
    });
    // The first start of a data directory; the README promises under 10 s after the first start.
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(output).toContain(`http://127.0.0.1:${port}`);
  }, 60_000);

  it('publishes the post, and both feeds it reads hold it at once', async () => {
    const { code, stdout, stderr } = await run('bash', ['-e', '-o', 'pipefail', '-c', local(blocks[1]!)], { cwd: home, env });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    // The POST's answer (one line of JSON), then the category's RSS, then the site's JSON Feed.
    const answer = stdout.slice(0, stdout.indexOf('<?xml'));
    expect(JSON.parse(answer.trim())).toMatchObject({ title: '离岸人民币升至6.3512', categories: ['emnews'], status: 'published' });
    const rss = stdout.slice(stdout.indexOf('<?xml'), stdout.indexOf('</rss>') + '</rss>'.length);
    expect(readFeed('rss', rss).items.map((i) => i.title)).toEqual(['离岸人民币升至6.3512']);
    const json = JSON.parse(stdout.slice(stdout.indexOf('</rss>') + '</rss>'.length)) as { items: { title: string }[] };
    expect(json.items.map((i) => i.title)).toEqual(['离岸人民币升至6.3512']);
  });

  it('serves the home page and the directory it points to', async () => {
    const home = await fetch(`http://127.0.0.1:${port}/`);
    expect(home.status).toBe(200);
    expect(await home.text()).toContain('离岸人民币升至6.3512');
    // The directory lists a new feed as soon as the feed is rendered (a moment after the feeds answer).
    const deadline = Date.now() + 1000;
    let directory = await fetch(`http://127.0.0.1:${port}/feeds/`);
    while (directory.status !== 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      directory = await fetch(`http://127.0.0.1:${port}/feeds/`);
    }
    expect(directory.status).toBe(200);
    expect(await directory.text()).toContain('emnews');
  });

  it('a second start on the same data directory is ready within 10 s, with the post', async () => {
    await interrupt(stack!);
    const started = Date.now();
    stack = startNpm();
    let output = '';
    await new Promise<void>((resolve, reject) => {
      stack!.stdout!.on('data', (c: Buffer) => {
        output += c.toString('utf8');
        if (output.includes('feedpub is running at')) resolve();
      });
      stack!.once('exit', (code) => reject(new Error(`npm start exited with ${code}: ${output}`)));
    });
    const readyMs = Date.now() - started;
    const feed = await (await fetch(`http://127.0.0.1:${port}/feeds/feed.json`)).json() as { items: { title: string }[] };
    expect(feed.items.map((i) => i.title)).toEqual(['离岸人民币升至6.3512']);
    expect(readyMs).toBeLessThan(10_000);
  }, 60_000);
});
