import { execFileSync } from 'node:child_process';
import { mkdtempSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI_TYPE, SA } from '../../../signals/search-attributes';

const root = path.resolve(__dirname, '..', '..', '..');

test('temporal-dev.sh registers exactly the search attributes the workflows upsert', () => {
  const fromScript = execFileSync(path.join(root, 'temporal-dev.sh'), ['search-attributes'], { encoding: 'utf8' }).trim().split('\n').sort();
  const fromCode = Object.values(SA).map((k) => `${k.name}=${CLI_TYPE[k.type]}`).sort();
  expect(fromScript).toEqual(fromCode);
  expect(fromCode).toEqual(expect.arrayContaining(['DrwStatus=Keyword', 'DrwSeverity=Keyword', 'DrwRiskScore=Double', 'DrwAsset=Keyword', 'DrwPendingApproval=Bool', 'DrwPolicyVersion=Keyword', 'DrwSlaDeadline=Datetime', 'DrwApprovers=KeywordList']));
});

test('temporal-dev.sh rejects an unknown command with exit 2', () => {
  let status = 0;
  try {
    execFileSync(path.join(root, 'temporal-dev.sh'), ['frobnicate'], { stdio: 'pipe' });
  } catch (e) {
    status = (e as { status: number }).status;
  }
  expect(status).toBe(2);
});

test('temporal-dev.sh names every way it tried when the CLI cannot be obtained', () => {
  // A PATH with the shell tools the script needs but no temporal, go or curl.
  const bin = mkdtempSync(path.join(os.tmpdir(), 'drw-nocli-'));
  for (const tool of ['bash', 'dirname', 'mkdir', 'uname', 'tr', 'cat', 'mktemp', 'rm', 'sed', 'seq', 'sleep', 'tail']) {
    symlinkSync(execFileSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim(), path.join(bin, tool));
  }
  let out = '';
  let status = 0;
  try {
    execFileSync(path.join(root, 'temporal-dev.sh'), ['path'], {
      stdio: 'pipe',
      encoding: 'utf8',
      // No PATH entries with temporal or go, an empty cache, no network tools: every option fails.
      env: { PATH: bin, HOME: '/nonexistent', GOROOT: '/nonexistent', DRW_CACHE_DIR: '/nonexistent/cache', TEMPORAL_CLI: '/nonexistent/temporal' },
    });
  } catch (e) {
    status = (e as { status: number }).status;
    out = String((e as { stderr: string }).stderr);
  }
  expect(status).not.toBe(0);
  for (const option of ['$TEMPORAL_CLI', "'temporal' on PATH", 'user cache', 'go install', 'release archive']) expect(out).toContain(option);
});
