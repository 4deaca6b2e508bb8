// @ts-check
/**
 * Starts a real q2c server (server.py of this repository) for examples and tests:
 * `<python> server.py --port 0 --local --database-url sqlite:///<tmp>/q2c.db
 * --dev-key-dir <tmp>/dev-key`, cwd = the repository root; ready once it prints
 * "q2c listening on HOST:PORT". Stopped with SIGTERM.
 *
 * Every q2c call needs a bearer token: the development key is created first with
 * `<python> -m clients.cli auth dev-key` (the `q2c` command), and `server.mintToken(...)` mints
 * tokens from it with `q2c auth token`.
 */

import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { promisify } from 'node:util';

import { REPO_ROOT, findPython } from './protos.mjs';

/**
 * @typedef {object} LocalServer
 * @property {string} target  "HOST:PORT" to connect to.
 * @property {import('node:child_process').ChildProcess} process
 * @property {string} databaseUrl
 * @property {string} devKeyDir  The development key the server trusts.
 * @property {(claims: TokenRequest) => Promise<string>} mintToken  A bearer token from that key.
 * @property {() => Promise<number | null>} stop  SIGTERM, await exit; resolves the exit code.
 */

/**
 * What `mintToken` puts in a token.
 * @typedef {object} TokenRequest
 * @property {string} tenant
 * @property {string} principal
 * @property {string[]} [scopes]     Default ["admin"] (every scope).
 * @property {number} [ttlSeconds]   Default 3600.
 */

/**
 * The `q2c` command of this repository ([project.scripts] q2c = clients.cli:main), run with
 * the q2c Python interpreter.
 * @param {string} python
 * @param {string[]} args
 */
function q2cArgs(python, args) {
  return /** @type {const} */ ([python, ['-m', 'clients.cli', ...args], { cwd: REPO_ROOT, encoding: 'utf8' }]);
}

/**
 * Creates (or keeps) a development key in `dir`: `q2c auth dev-key --dir DIR`.
 * @param {string} dir
 * @param {string} [python]
 */
export function createDevKey(dir, python = findPython()) {
  const [command, args, options] = q2cArgs(python, ['auth', 'dev-key', '--dir', dir]);
  execFileSync(command, args, { ...options, stdio: ['ignore', 'ignore', 'pipe'] });
  return dir;
}

/**
 * Mints a token from the development key in `dir`: `q2c auth token ...` prints it on stdout.
 * @param {string} dir
 * @param {TokenRequest} request
 * @param {string} [python]
 * @returns {Promise<string>}
 */
export async function mintToken(dir, request, python = findPython()) {
  const scopes = (request.scopes ?? ['admin']).flatMap((scope) => ['--scope', scope]);
  const ttl = request.ttlSeconds !== undefined ? ['--ttl', String(request.ttlSeconds)] : [];
  const [command, args, options] = q2cArgs(python, [
    'auth', 'token', '--dev-key-dir', dir, '--tenant', request.tenant, '--principal', request.principal, ...scopes, ...ttl,
  ]);
  const { stdout } = await promisify(execFile)(command, args, options);
  return stdout.trim();
}

/**
 * @param {object} [options]
 * @param {string} [options.python]      Default: findPython().
 * @param {string[]} [options.extraArgs] More server.py flags.
 * @param {number} [options.startTimeoutMs]  Default 60 s.
 * @param {boolean} [options.local]      --local: engagements in-process, no Ray (default true).
 * @param {boolean} [options.echoLogs]   Copy the server's stderr to ours (default: env
 *   Q2C_SERVER_LOGS is set).
 * @param {string} [options.devKeyDir]  Trust this development key (created if absent);
 *   default: a fresh one in the server's temporary directory.
 * @returns {Promise<LocalServer>}
 */
export async function startServer(options = {}) {
  const python = options.python ?? findPython();
  const workdir = mkdtempSync(path.join(os.tmpdir(), 'q2c-node-'));
  const databaseUrl = `sqlite:///${path.join(workdir, 'q2c.db')}`;
  const devKeyDir = createDevKey(options.devKeyDir ?? path.join(workdir, 'dev-key'), python);
  const args = [
    'server.py',
    '--port', '0',
    ...(options.local ?? true ? ['--local'] : []),
    '--database-url', databaseUrl,
    '--dev-key-dir', devKeyDir,
    '--log-level', 'WARNING',
    ...(options.extraArgs ?? []),
  ];
  const echo = options.echoLogs ?? Boolean(process.env.Q2C_SERVER_LOGS);
  const child = spawn(python, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });

  /** @type {string[]} */
  const stderrTail = [];
  readline.createInterface({ input: /** @type {import('node:stream').Readable} */ (child.stderr) }).on('line', (line) => {
    if (echo) process.stderr.write(`[q2c] ${line}\n`);
    stderrTail.push(line);
    if (stderrTail.length > 40) stderrTail.shift();
  });

  /** @type {Promise<number | null>} */
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : null)));
  });

  const cleanup = () => rmSync(workdir, { recursive: true, force: true });

  const target = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`q2c server did not start within ${options.startTimeoutMs ?? 60_000} ms\n${stderrTail.join('\n')}`));
    }, options.startTimeoutMs ?? 60_000);
    // Keep consuming stdout after the ready line so the server never blocks on a full pipe.
    readline.createInterface({ input: /** @type {import('node:stream').Readable} */ (child.stdout) }).on('line', (line) => {
      if (echo) process.stderr.write(`[q2c] ${line}\n`);
      const match = /^q2c listening on (\S+)/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot start ${python} server.py: ${error.message}`));
    });
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`q2c server exited with code ${code} before listening (python: ${python})\n${stderrTail.join('\n')}`));
    });
  }).catch((error) => {
    cleanup();
    throw error;
  });

  let stopping;
  return {
    target,
    process: child,
    databaseUrl,
    devKeyDir,
    mintToken: (request) => mintToken(devKeyDir, request, python),
    stop() {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
          const code = await exited;
          clearTimeout(kill);
          cleanup();
          return code;
        }
        cleanup();
        return exited;
      })();
      return stopping;
    },
  };
}
