import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const chargenBinary = join(import.meta.dirname, '..', '..', 'bin', 'chargen.js');

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a Node script to its end and keeps what it printed. */
export async function runNodeProcess(options: { args: string[]; cwd?: string; env?: NodeJS.ProcessEnv }): Promise<ProcessResult> {
  const child = spawn(process.execPath, options.args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

export interface EmulatorProcess {
  baseUrl: string;
  /** Every line the emulator wrote to stderr (a warning there means a bug in the emulator, not in chargen). */
  stderr: string[];
  /** Ctrl-C, as a user would stop it; resolves with its exit code. */
  stop(): Promise<number | null>;
}

/**
 * `chargen emulator --port 0 [--faults file]` as a child process, as a user starts it; resolves once it has printed
 * its URL.
 */
export async function startEmulatorProcess(options: { pendingMilliseconds: number; runningMilliseconds: number; faultsPath?: string }): Promise<EmulatorProcess> {
  const child = spawn(
    process.execPath,
    [
      chargenBinary, 'emulator', '--port', '0',
      '--pending-ms', String(options.pendingMilliseconds),
      '--running-ms', String(options.runningMilliseconds),
      ...(options.faultsPath ? ['--faults', options.faultsPath] : []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const stderr: string[] = [];
  createInterface({ input: child.stderr }).on('line', (line) => stderr.push(line));
  let baseUrl = '';
  for await (const line of createInterface({ input: child.stdout })) {
    const match = /at (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
    if (match?.[1]) {
      baseUrl = match[1];
      break;
    }
  }
  if (!baseUrl) throw new Error(`chargen emulator exited without printing its URL:\n${stderr.join('\n')}`);
  // Keep draining stdout, or a chatty emulator would block on a full pipe.
  child.stdout.resume();
  return {
    baseUrl,
    stderr,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGINT');
      const [code] = (await once(child, 'exit')) as [number | null];
      return code;
    },
  };
}

export interface UiProcess {
  url: string;
  /** Every line it wrote to stderr (the log of runs started from the page, too). */
  stderr: string[];
  /** Ctrl-C, as a user stops it; resolves with its exit code. */
  stop(): Promise<number | null>;
}

/** `chargen ui --port 0` as a child process in `cwd`; resolves once it has printed its URL. */
export async function startUiProcess(options: { cwd: string; env: NodeJS.ProcessEnv; args?: string[] }): Promise<UiProcess> {
  const child = spawn(process.execPath, [chargenBinary, 'ui', '--port', '0', ...(options.args ?? [])], { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  createInterface({ input: child.stderr }).on('line', (line) => stderr.push(line));
  let url = '';
  for await (const line of createInterface({ input: child.stdout })) {
    const match = /^chargen ui: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(line);
    if (match?.[1]) {
      url = match[1];
      break;
    }
  }
  if (!url) {
    if (child.exitCode === null) await once(child, 'exit');
    throw new Error(`chargen ui exited (${child.exitCode}) without printing its URL:\n${stderr.join('\n')}`);
  }
  child.stdout.resume();
  return {
    url,
    stderr,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGINT');
      const [code] = (await once(child, 'exit')) as [number | null];
      return code;
    },
  };
}
