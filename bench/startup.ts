/**
 * Start-up of the command line: `chargen --help`, `--version` and `status` (in a project with a finished run) against
 * `node -e 0`, all measured in the same run, rounds interleaved so that a busy machine weighs on every side alike.
 * Each process runs under /usr/bin/time: wall time and CPU time (user + system), median over the rounds.
 * Run: npx tsx bench/startup.ts [--rounds 15] [--before <checkout>]
 * --before measures another checkout's bin/chargen.js too (main before the build, which loads its TypeScript through
 * tsx: `git archive 4d35fa3 | tar -x -C /tmp/chargen-before` with node_modules linked), on its own project.
 */
import { spawnSync } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { timeBinary } from './measure-peak-rss.ts';

const repositoryRoot = join(import.meta.dirname, '..');

interface Sample {
  wallMilliseconds: number;
  cpuMilliseconds: number;
}

interface Subject {
  label: string;
  args: string[];
  cwd: string;
}

/** Runs one process under /usr/bin/time; throws when it fails (a start-up that fails measures nothing). */
function measure(subject: Subject, environment: NodeJS.ProcessEnv): Sample {
  const result = spawnSync(timeBinary, ['-f', 'chargen-time %e %U %S', process.execPath, ...subject.args], { cwd: subject.cwd, env: environment, encoding: 'utf8' });
  const match = /chargen-time ([\d.]+) ([\d.]+) ([\d.]+)/.exec(result.stderr);
  if (!match || (result.status !== 0 && result.status !== 4)) throw new Error(`${subject.label} failed (exit ${result.status}):\n${result.stderr}`);
  return { wallMilliseconds: Number(match[1]) * 1000, cpuMilliseconds: (Number(match[2]) + Number(match[3])) * 1000 };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** A project with the sample images and one finished run on the built-in emulator, for `status` to read. */
async function createRunProject(binary: string, environment: NodeJS.ProcessEnv): Promise<string> {
  const project = await mkdtemp(join(tmpdir(), 'chargen-startup-'));
  await cp(join(repositoryRoot, 'input_images'), join(project, 'input_images'), { recursive: true });
  const result = spawnSync(process.execPath, [binary, 'run', '--yes', '--poll-interval', '200'], { cwd: project, env: environment, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`chargen run in ${project} failed (exit ${result.status}):\n${result.stderr}`);
  return project;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '15' }, before: { type: 'string' } } });
  const rounds = Number(values.rounds);
  // No key, no endpoint: the built-in emulator, whatever this shell has set.
  const environment = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(CHARGEN|GEMINI|GOOGLE)_/.test(name)));
  const checkouts = [...(values.before ? [{ name: 'before', root: values.before }] : []), { name: 'after', root: repositoryRoot }];
  const subjects: Subject[] = [{ label: 'node -e 0', args: ['-e', '0'], cwd: repositoryRoot }];
  const projects: string[] = [];
  for (const checkout of checkouts) {
    const binary = join(checkout.root, 'bin', 'chargen.js');
    const project = await createRunProject(binary, environment);
    projects.push(project);
    for (const command of [['--help'], ['--version'], ['status']]) {
      subjects.push({ label: `${checkout.name}: chargen ${command.join(' ')}`, args: [binary, ...command], cwd: project });
    }
  }
  const samples = new Map<string, Sample[]>(subjects.map((subject) => [subject.label, []]));
  for (let round = 0; round < rounds; round += 1) {
    // A different order each round: no subject always runs right after another.
    const order = subjects.map((subject, index) => subjects[(index + round) % subjects.length] as Subject);
    for (const subject of order) samples.get(subject.label)?.push(measure(subject, environment));
  }
  for (const project of projects) await rm(project, { recursive: true, force: true });

  const baseline = samples.get('node -e 0') ?? [];
  const baseWall = median(baseline.map((sample) => sample.wallMilliseconds));
  const baseCpu = median(baseline.map((sample) => sample.cpuMilliseconds));
  console.log(`start-up, median of ${rounds} rounds (Node ${process.version}, load average ${loadavg()[0]?.toFixed(1)} at the end)`);
  console.log('command                         wall ms   CPU ms   wall × node -e 0   CPU × node -e 0');
  for (const subject of subjects) {
    const list = samples.get(subject.label) ?? [];
    const wall = median(list.map((sample) => sample.wallMilliseconds));
    const cpu = median(list.map((sample) => sample.cpuMilliseconds));
    console.log(`${subject.label.padEnd(30)} ${wall.toFixed(0).padStart(8)} ${cpu.toFixed(0).padStart(8)} ${(wall / baseWall).toFixed(1).padStart(18)} ${(cpu / baseCpu).toFixed(1).padStart(17)}`);
  }
}

await main();
