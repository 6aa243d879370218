/**
 * Runs libiscsi's conformance suite (`iscsi-test-cu`, Debian libiscsi-bin) against an iSCSI LUN and
 * reads its CUnit XML report, so Shorthorn and tgt are measured the same way. With `--xml`, the tool
 * writes CUnitAutomated-Results.xml into its working directory and prints only [SKIPPED]/[FAILED]
 * lines on stdout, which is how skips are counted.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** One test's outcome from the CUnit report. */
export interface CunitTest {
  /** "Suite.Test", as `iscsi-test-cu -l` names it under ALL. */
  readonly name: string;
  readonly passed: boolean;
  /** file:line of each failed assertion. */
  readonly failures: readonly string[];
}

/** The tally of one run. */
export interface Tally {
  readonly tests: readonly CunitTest[];
  readonly run: number;
  readonly passed: number;
  readonly failed: number;
  /** Every "[SKIPPED]" line printed (a passing test that skipped prints at least one). */
  readonly skippedLines: number;
  /** "[SKIPPED] … not implemented" (or "not working/implemented") lines: the target lacks the feature. */
  readonly notImplementedLines: number;
  readonly stdout: string;
}

const NOT_IMPLEMENTED = /\[SKIPPED\].*not (working\/)?implemented/i;

/** Parses CUnitAutomated-Results.xml into per-test outcomes. */
export function parseCunitResults(xml: string): CunitTest[] {
  const out: CunitTest[] = [];
  let suite = '';
  const re = /<SUITE_NAME>\s*(\S+)\s*<\/SUITE_NAME>|<CUNIT_RUN_TEST_(SUCCESS|FAILURE)>\s*<TEST_NAME>\s*(\S+)\s*<\/TEST_NAME>(?:\s*<FILE_NAME>\s*(\S+)\s*<\/FILE_NAME>\s*<LINE_NUMBER>\s*(\d+))?/g;
  for (let m = re.exec(xml); m !== null; m = re.exec(xml)) {
    if (m[1] !== undefined) {
      suite = m[1];
      continue;
    }
    const name = `${suite}.${m[3] ?? ''}`;
    const passed = m[2] === 'SUCCESS';
    const where = m[4] !== undefined ? [`${m[4]}:${m[5] ?? ''}`] : [];
    // CUnit writes one FAILURE record per failed assertion: fold them into one test.
    const prev = out[out.length - 1];
    if (!passed && prev !== undefined && prev.name === name && !prev.passed) {
      out[out.length - 1] = { ...prev, failures: [...new Set([...prev.failures, ...where])] };
    } else {
      out.push({ name, passed, failures: where });
    }
  }
  return out;
}

/** Counts the tally from a report and the tool's stdout. */
export function tally(xml: string, stdout: string): Tally {
  const tests = parseCunitResults(xml);
  const lines = stdout.split('\n');
  return {
    tests,
    run: tests.length,
    passed: tests.filter((t) => t.passed).length,
    failed: tests.filter((t) => !t.passed).length,
    skippedLines: lines.filter((l) => l.includes('[SKIPPED]')).length,
    notImplementedLines: lines.filter((l) => NOT_IMPLEMENTED.test(l)).length,
    stdout,
  };
}

/** How to run the suite. */
export interface RunOptions {
  /** iscsi://host:port/iqn/lun */
  readonly url: string;
  /** A second URL to the same LUN (multipath tests); the same URL again gives a second session. */
  readonly multipathUrl?: string;
  /** Working directory: the XML report is written here. */
  readonly cwd: string;
  readonly timeoutMs: number;
}

/** The exact command line, so documents can quote it. */
export function iscsiTestCuArgs(o: Pick<RunOptions, 'url' | 'multipathUrl'>): string[] {
  return ['--dataloss', '-t', 'ALL', '--xml', o.url, ...(o.multipathUrl !== undefined ? [o.multipathUrl] : [])];
}

/** Runs iscsi-test-cu; rejects when it cannot start or runs past the timeout (it is then killed). */
export async function runIscsiTestCu(o: RunOptions): Promise<Tally> {
  const child = spawn('iscsi-test-cu', iscsiTestCuArgs(o), { cwd: o.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`iscsi-test-cu ran past ${o.timeoutMs} ms`));
    }, o.timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  const xml = await readFile(join(o.cwd, 'CUnitAutomated-Results.xml'), 'utf8').catch((err: unknown) => {
    throw new Error(`iscsi-test-cu wrote no CUnit report; its output:\n${stdout.slice(0, 2000)}`, { cause: err });
  });
  return tally(xml, stdout);
}
