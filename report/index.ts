/** Audit reports, history export and policy what-if, all from Temporal event histories. */
export { buildReport, diffText, REPORT_VERSION, type RemediationReport, type TimelineEntry, type ApprovalEntry, type ActionEntry } from './build';
export { renderReport, reportMarkdown, reportCsv, isReportFormat, REPORT_FORMATS, CONTENT_TYPES, type ReportFormat } from './render';
export { aggregate, renderAggregate, type AggregateReport } from './aggregate';
export { extract, type Extracted } from './extract';
export { runsFromText, runFromJson, chainText, historyDigest, HistoryFormatError, type RunHistory, type HistoryChainFile } from './history';
export { historyToJson, historyFromJson, sha256 } from './history-json';
export { fetchChain, fetchRun, queryDecisions, reportFromServer, NotFoundError } from './fetch';
export { whatIf, formatWhatIf, recoverInputs, comparePlans, type WhatIfResult, type PlanDifference } from './whatif';
export { Replayer, type ReplayInput, type ReplayInit } from './replay';
