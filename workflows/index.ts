// The workflow bundle's entry point: every workflow type the worker registers.
export { remediation } from './remediation';
export { sealSweep, sealClosedRun } from './seal-sweep';
