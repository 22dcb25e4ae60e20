/**
 * Soak: `chargen run` over N distinct images against a faulty `chargen emulator` child process, SIGKILLed K times at
 * seeded random moments and run again each time, until a run ends (exit 0 or 3) and a last rerun of the retryable
 * failures settles. Then it is audited: every input has exactly one image and one sidecar (or was dead-lettered for a
 * reason a rerun cannot fix), no chunk got a second batch job, and what was dead-lettered, and why.
 * Run: npm run bench:soak -- [--images 10000] [--kills 50] [--seed soak-1] [--chunk-lines 1000]
 *                            [--skip-baseline --expected-seconds <s>] [--keep]
 *
 * Faults are the CI fault suite's (test/reliability/faults.test.ts): 30% of the calls to every endpoint answered 429
 * (with RetryInfo, 1 s) or 503, 10% of the batch lines answered INTERNAL, one analyze job EXPIRED, one synthesize job
 * FAILED, one result download cut. Jobs are PENDING 250 ms and RUNNING 1 s; images are 1K squares.
 *
 * Baseline (same run): the same images, in a project of their own, run to the end with no kill against the same
 * emulator, reset to the same faults. Its working time also places the kills: about one in ten lands in a run's
 * start-up, the others at moments uniform over that working time, each counted from a run's start-up, so that they
 * land in every phase of the pipeline and not only in its first minutes (see planKills).
 *
 * Not exactly replayable: the seed fixes the images, the fault dice and the kill delays, but upload concurrency,
 * retry and poll jitter and the emulator's background work decide which call draws which fault and how far a run has
 * got when its kill fires. Peak RSS is GNU time -v's (the kernel's ru_maxrss, killed runs included) when
 * /usr/bin/time exists, else VmHWM polled every 50 ms.
 */
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createCiFaults } from '../test/support/ci-faults.ts';
import { type OutputAudit, auditJobs, auditOutputs, countFailures, describeChunkHistory, describeCodeVersion, formatCounts, formatDuration, formatThousands } from './soak/audit-soak.ts';
import { createInputImages, createProject, describeRun, readFailures, stopActiveRun } from './soak/run-chargen.ts';
import { type Series, checkLastRunSendsNothing, describeKillPlan, planKills, readRequestsByModel, runSeries } from './soak/run-series.ts';
import { type RunningEmulator, startEmulator } from './soak/soak-emulator.ts';
import { analyzeModel, emulatorLatency, imageModel, pollIntervalMilliseconds, rssMethod } from './soak/soak-settings.ts';

async function runBench(): Promise<void> {
  const { values } = parseArgs({
    options: {
      images: { type: 'string', default: '10000' },
      kills: { type: 'string', default: '50' },
      seed: { type: 'string', default: 'soak-1' },
      'chunk-lines': { type: 'string', default: '1000' },
      'skip-baseline': { type: 'boolean', default: false },
      'expected-seconds': { type: 'string' },
      keep: { type: 'boolean', default: false },
    },
  });
  const imageCount = Number(values.images);
  const killCount = Number(values.kills);
  const chunkLines = Number(values['chunk-lines']);
  const seed = values.seed;
  if (!Number.isInteger(imageCount) || imageCount < 1) throw new Error('--images must be a positive integer');
  if (!Number.isInteger(killCount) || killCount < 0) throw new Error('--kills must be a whole number');
  if (!Number.isInteger(chunkLines) || chunkLines < 1) throw new Error('--chunk-lines must be a positive integer');
  if (values['skip-baseline'] && values['expected-seconds'] === undefined) throw new Error('--skip-baseline needs --expected-seconds (the working time a run without kills takes), to place the kills');

  const benchStartedAt = performance.now();
  const codeVersion = describeCodeVersion();
  const [loadAverage] = loadavg();
  if (loadAverage !== undefined && loadAverage > availableParallelism() / 2) {
    process.stderr.write(`note: load average ${loadAverage.toFixed(1)} on ${availableParallelism()} CPUs; other work will slow both the soak and its baseline, and not alike\n`);
  }
  const root = await mkdtemp(join(tmpdir(), 'chargen-bench-soak-'));
  const statsDirectory = join(root, 'time');
  await mkdir(statsDirectory);
  let emulator: RunningEmulator | undefined;
  // Ctrl-C must leave neither a run nor the emulator nor gigabytes of images behind.
  const stopOnSignal = () => {
    void (async () => {
      await stopActiveRun?.().catch(() => undefined);
      await emulator?.stop().catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
      process.exit(130);
    })();
  };
  process.on('SIGINT', stopOnSignal);
  process.on('SIGTERM', stopOnSignal);
  try {
    const generationStartedAt = performance.now();
    const images = createInputImages({ count: imageCount, seed });
    process.stderr.write(`${imageCount} distinct images (${Math.round(images.reduce((total, image) => total + image.bytes.length, 0) / 1024)} KiB) in ${formatDuration(performance.now() - generationStartedAt)}; working in ${root}\n`);

    const faults = createCiFaults(`${seed}/faults`);
    const faultsPath = join(root, 'faults.json');
    await writeFile(faultsPath, JSON.stringify(faults, null, 2));
    emulator = await startEmulator({ directory: root, faultsPath });
    process.stderr.write(`chargen emulator at ${emulator.baseUrl}\n`);

    let baseline: Series | undefined;
    let baselineAudit: OutputAudit | undefined;
    if (!values['skip-baseline']) {
      process.stderr.write('baseline: one project, no kill\n');
      const project = await createProject({ root, name: 'baseline', images, chunkLines });
      baseline = await runSeries({ project, emulator, statsDirectory, kills: [], startUpMilliseconds: 0 });
      baselineAudit = await auditOutputs({ project, failures: await readFailures(project) });
      await rm(project.directory, { recursive: true, force: true });
      // The soak starts from the same emulator: no jobs or files, the fault dice and job outcomes from the start.
      await emulator.reset();
    }

    const firstBaselineRun = baseline?.runs[0];
    const startUpMilliseconds = firstBaselineRun?.startUpMilliseconds ?? 3_000;
    const workMilliseconds = values['expected-seconds'] !== undefined ? Number(values['expected-seconds']) * 1000 : (firstBaselineRun?.elapsedMilliseconds ?? 0) - startUpMilliseconds;
    const kills = planKills({ seed, kills: killCount, workMilliseconds });
    process.stderr.write(`soak: ${killCount} kills over ${formatDuration(workMilliseconds)} of work after a start-up of ${formatDuration(startUpMilliseconds)} (seed "${seed}")\n`);
    const project = await createProject({ root, name: 'soak', images, chunkLines });
    const statsBefore = await emulator.readStats();
    const soak = await runSeries({ project, emulator, statsDirectory, kills, startUpMilliseconds });
    const statsAfterSoak = await emulator.readStats();
    const lastRunCheck = await checkLastRunSendsNothing({ project, emulator, statsDirectory });

    const failures = await readFailures(project);
    const outputs = await auditOutputs({ project, failures });
    const jobs = await auditJobs({ project, emulator, batchesCreated: statsAfterSoak.batchesCreated - statsBefore.batchesCreated });
    // A warning from the emulator is a bug in it, which would make every other figure suspect.
    const emulatorWarnings = emulator.stderrLines.filter((line) => /warning/i.test(line.text)).map((line) => line.text);
    const emulatorExit = await emulator.stop();
    emulator = undefined;

    const killed = soak.runs.filter((run) => run.killed);
    const killsByPhase: Record<string, number> = {};
    for (const run of killed) killsByPhase[run.phase] = (killsByPhase[run.phase] ?? 0) + 1;
    const allRuns = [...soak.runs, ...(baseline?.runs ?? [])];
    // A summary is one JSON document whatever the exit code; stdout on a pipe is written asynchronously, so a process
    // that exits without waiting for it to drain cuts it at the pipe's 64 KiB.
    const unparsedSummaries = allRuns.filter((run) => !run.killed && run.summary === undefined);
    const peakRssMegabytes = Math.round(Math.max(...soak.runs.map((run) => run.peakRssKilobytes)) / 1024);
    const baselinePeakRssMegabytes = baseline ? Math.round(Math.max(...baseline.runs.map((run) => run.peakRssKilobytes)) / 1024) : undefined;
    const soakImagesPerSecond = imageCount / (soak.wallMilliseconds / 1000);
    const baselineImagesPerSecond = baseline ? imageCount / (baseline.wallMilliseconds / 1000) : undefined;
    const costPerKillMilliseconds = baseline && killed.length > 0 ? (soak.wallMilliseconds - baseline.wallMilliseconds) / killed.length : undefined;
    const adoptions = soak.runs.reduce((total, run) => total + run.stderrLines.filter((line) => /adopted batches\//.test(line.text)).length, 0);
    const statsDelta = {
      uploads: statsAfterSoak.uploads - statsBefore.uploads,
      analyzeLinesAnswered: readRequestsByModel(statsAfterSoak, analyzeModel) - readRequestsByModel(statsBefore, analyzeModel),
      imageLinesAnswered: readRequestsByModel(statsAfterSoak, imageModel) - readRequestsByModel(statsBefore, imageModel),
      faultsInjected: Object.fromEntries(
        Object.entries(statsAfterSoak.faultsInjected)
          .map(([kind, count]) => [kind, count - (statsBefore.faultsInjected[kind] ?? 0)] as const)
          .filter(([, count]) => count > 0),
      ),
    };
    const problems = [
      ...(outputs.lost.length > 0 ? [`${outputs.lost.length} images lost: ${outputs.lost.slice(0, 20).join(', ')}`] : []),
      ...(outputs.doubled.length > 0 ? [`${outputs.doubled.length} images doubled: ${outputs.doubled.slice(0, 20).join(', ')}`] : []),
      ...(outputs.broken.length > 0 ? [`${outputs.broken.length} sidecars without their whole image: ${outputs.broken.slice(0, 20).join(', ')}`] : []),
      ...(outputs.strayImages.length > 0 ? [`${outputs.strayImages.length} images no sidecar names: ${outputs.strayImages.slice(0, 20).join(', ')}`] : []),
      ...(outputs.temporaryFiles.length > 0 ? [`${outputs.temporaryFiles.length} temporary files left in the output folder`] : []),
      ...jobs.duplicateDisplayNames.map((name) => `a chunk submitted twice: ${name}`),
      ...jobs.secondJobs.map((entry) => `a second job for a chunk: ${entry}`),
      ...jobs.attemptsWithoutEarlierJob.map((entry) => `(not a double) a chunk's attempt without a job for the attempt before: ${entry}`),
      ...(jobs.jobsCreated !== jobs.jobsListed ? [`batchesCreated ${jobs.jobsCreated} but ${jobs.jobsListed} jobs of this workspace listed`] : []),
      ...jobs.jobsWithoutRecord.map((entry) => `a job without a record naming it: ${entry}`),
      ...jobs.recordsNotListed.map((entry) => `a record whose job is not listed: ${entry}`),
      ...soak.failedReruns.map((run) => `a rerun failed (${describeRun(run)}): ${run.stderrLines.slice(-3).map((line) => line.text).join(' | ')}`),
      ...(soak.plainRerunRetried === false ? ['a plain rerun after exit 3 sent nothing: stages with a current checkpoint were skipped, retryable failures and all (settled with --from analyze)'] : []),
      ...(lastRunCheck.sendsNothing ? [] : [`the run after the last one was not idle: ${lastRunCheck.detail}`]),
      ...(unparsedSummaries.length > 0
        ? [
            `${unparsedSummaries.length} of ${allRuns.filter((run) => !run.killed).length} runs that were not killed printed a --json summary that does not parse: ` +
              `${unparsedSummaries.map((run) => `${run.label} exit ${run.code}, ${run.stdoutBytes} bytes`).join('; ')}`,
          ]
        : []),
      ...(emulatorExit.code === 0 ? [] : [`the emulator exited ${emulatorExit.code ?? 'on a signal'} when stopped`]),
      ...emulatorWarnings.map((line) => `the emulator warned: ${line}`),
    ];

    const figures = {
      images: imageCount,
      seed,
      chunkLines,
      faults,
      emulatorLatency,
      kills: { planned: killCount, landed: killed.length, byPhase: killsByPhase, plan: kills.map(describeKillPlan) },
      soak: {
        runs: soak.runs.length,
        wallSeconds: Number((soak.wallMilliseconds / 1000).toFixed(1)),
        imagesPerSecond: Number(soakImagesPerSecond.toFixed(2)),
        peakRssMegabytes,
        jobsAdoptedAfterAKill: adoptions,
        plainRerunRetried: soak.plainRerunRetried,
        runsLog: soak.runs.map(describeRun),
      },
      baseline: baseline
        ? {
            runs: baseline.runs.length,
            wallSeconds: Number((baseline.wallMilliseconds / 1000).toFixed(1)),
            startUpSeconds: Number((startUpMilliseconds / 1000).toFixed(1)),
            imagesPerSecond: Number((baselineImagesPerSecond ?? 0).toFixed(2)),
            peakRssMegabytes: baselinePeakRssMegabytes,
            outputs: baselineAudit,
            runsLog: baseline.runs.map(describeRun),
            deadLettersAtFirstEnd: countFailures(baseline.firstEndFailures),
          }
        : undefined,
      costPerKillSeconds: costPerKillMilliseconds !== undefined ? Number((costPerKillMilliseconds / 1000).toFixed(1)) : undefined,
      emulator: { peakRssMegabytes: Math.round(emulatorExit.peakRssKilobytes / 1024), exitCode: emulatorExit.code, ...statsDelta },
      jobs: { ...jobs, listed: undefined, records: undefined },
      outputs: { ...outputs, lost: outputs.lost.length, doubled: outputs.doubled.length, broken: outputs.broken.length, strayImages: outputs.strayImages.length, temporaryFiles: outputs.temporaryFiles.length },
      deadLetters: { atFirstEnd: countFailures(soak.firstEndFailures), final: countFailures(failures) },
      lastRunSendsNothing: lastRunCheck,
      problems,
      peakRssMeasuredBy: rssMethod,
      code: codeVersion,
      node: process.version,
      cpus: availableParallelism(),
      benchWallSeconds: Number(((performance.now() - benchStartedAt) / 1000).toFixed(1)),
    };
    process.stdout.write(`${JSON.stringify(figures, null, 2)}\n\n`);

    const chunkFigures = Object.entries(jobs.byStage)
      .sort(([left], [right]) => left.localeCompare(right))
      .map(([stage, stageJobs]) => `${stage} ${stageJobs.jobs} jobs / ${stageJobs.chunks} chunks (${Object.entries(stageJobs.states).map(([state, count]) => `${count} ${state.toLowerCase()}`).join(', ')})`)
      .join('; ');
    const rows: [string, string][] = [
      ['workload', `${formatThousands(imageCount)} distinct 64×96 PNGs → 1K images, \`chunkMaxLines\` ${chunkLines}, \`--poll-interval ${pollIntervalMilliseconds}\`; emulator child process with the CI fault suite's faults (30% 429/503 with RetryInfo 1 s, 10% line errors, 1 job EXPIRED, 1 FAILED, 1 cut download), jobs pending ${emulatorLatency.pendingMilliseconds} ms / running ${emulatorLatency.runningMilliseconds} ms`],
      ['kills', `${killed.length} of ${killCount} SIGKILLs landed (seed \`${seed}\`), ${soak.runs.length} runs in all; by phase: ${formatCounts(killsByPhase)}; ${adoptions} jobs adopted by displayName on a rerun`],
      ['wall time', `${formatDuration(soak.wallMilliseconds)} with kills${baseline ? `; ${formatDuration(baseline.wallMilliseconds)} without (same-run baseline, ${baseline.runs.length} run${baseline.runs.length === 1 ? '' : 's'})` : ''}`],
      ['throughput (end to end)', `${soakImagesPerSecond.toFixed(2)} images/s with kills${baselineImagesPerSecond !== undefined ? `; ${baselineImagesPerSecond.toFixed(2)} images/s without${costPerKillMilliseconds !== undefined ? `; (with − without) / kills: ${(costPerKillMilliseconds / 1000).toFixed(1)} s per kill` : ''}` : ''}`],
      ['peak RSS', `${peakRssMegabytes} MiB, max over ${soak.runs.length} chargen runs${baselinePeakRssMegabytes !== undefined ? ` (${baselinePeakRssMegabytes} MiB without kills)` : ''}; emulator ${Math.round(emulatorExit.peakRssKilobytes / 1024)} MiB`],
      ['batch jobs vs chunks', `${jobs.jobsCreated} created for ${jobs.distinctDisplayNames} distinct displayNames (${jobs.distinctChunks} distinct chunks; ${jobs.resubmittedAfterEnd} chunk${jobs.resubmittedAfterEnd === 1 ? '' : 's'} sent again after its job ended FAILED/EXPIRED); ${chunkFigures}; chunks submitted twice: ${jobs.duplicateDisplayNames.length + jobs.secondJobs.length}`],
      ['images lost', `${outputs.lost.length} (${formatThousands(outputs.exactlyOnce)} of ${formatThousands(imageCount)} inputs with exactly one whole image + sidecar)`],
      ['images doubled', `${outputs.doubled.length}${outputs.strayImages.length + outputs.broken.length + outputs.temporaryFiles.length > 0 ? `; ${outputs.strayImages.length} stray images, ${outputs.broken.length} broken sidecars, ${outputs.temporaryFiles.length} temporary files` : ''}`],
      ['dead letters', `when the series first ended: ${formatCounts(countFailures(soak.firstEndFailures))}; after settling: ${formatCounts(countFailures(failures))}`],
      ['measured', `${new Date().toISOString().slice(0, 10)}, ${codeVersion}, Node ${process.version}, ${availableParallelism()} CPUs; peak RSS by ${rssMethod}; \`npm run bench:soak -- --images ${imageCount} --kills ${killCount} --seed ${seed}\``],
    ];
    process.stdout.write('| soak | figure |\n|---|---|\n');
    for (const [name, value] of rows) process.stdout.write(`| ${name} | ${value.replaceAll('|', '\\|')} |\n`);
    process.stdout.write(problems.length > 0 ? `\nproblems:\n${problems.map((problem) => `- ${problem}`).join('\n')}\n` : '\nno problem found\n');
    for (const chunk of jobs.suspectChunks) process.stdout.write(`\n${describeChunkHistory({ chunk, jobs, runs: soak.runs }).join('\n')}\n`);
    if (outputs.lost.length > 0 || outputs.doubled.length > 0 || jobs.duplicateDisplayNames.length + jobs.secondJobs.length > 0) process.exitCode = 1;
  } finally {
    await emulator?.stop().catch(() => undefined);
    if (values.keep) process.stderr.write(`kept ${root}\n`);
    else await rm(root, { recursive: true, force: true });
    process.off('SIGINT', stopOnSignal);
    process.off('SIGTERM', stopOnSignal);
  }
}

await runBench();
