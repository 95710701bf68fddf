import { execFileSync } from 'node:child_process';

/**
 * `terraform fmt` as an oracle for the templates' output, when the binary is installed: its
 * output equals its input only for well-formed, canonically formatted HCL.
 */
let available: boolean | undefined;

export function terraformAvailable(): boolean {
  if (available === undefined) {
    try {
      execFileSync('terraform', ['version'], { stdio: 'ignore', env: tfEnv() });
      available = true;
    } catch {
      available = false;
    }
  }
  return available;
}

function tfEnv(): NodeJS.ProcessEnv {
  return { ...process.env, TF_CLI_CONFIG_FILE: '/dev/null', CHECKPOINT_DISABLE: '1' };
}

/** The canonical form of `src`, or the original text when terraform is not installed. */
export function terraformFmt(src: string): string {
  if (!terraformAvailable()) return src;
  return execFileSync('terraform', ['fmt', '-no-color', '-'], { input: src, env: tfEnv(), stdio: ['pipe', 'pipe', 'pipe'] }).toString('utf8');
}
