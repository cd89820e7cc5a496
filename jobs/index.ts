import { notifierDefinitions } from '../notifiers/index.js';
import type { JobDefinition } from '../src/engine/job.js';
import analyze from './analyze.js';
import cleanupStuck from './cleanup-stuck.js';
import dailySummary from './daily-summary.js';
import { deliveryJobs } from './deliver-notification.js';
import ocr from './ocr.js';
import processFile from './process-file.js';
import quotaCheck from './quota-check.js';
import thumbnail from './thumbnail.js';

/**
 * Every job the core registers, in order: a new job is one file in jobs/ plus one line here.
 * The steps' order is the order a file shows its steps in; each notifier of the registry gets
 * its delivery job, `deliver-<channel>`.
 */
export const jobDefinitions: readonly JobDefinition[] = [
  processFile,
  analyze,
  thumbnail,
  ocr,
  ...deliveryJobs(notifierDefinitions),
  cleanupStuck,
  dailySummary,
  quotaCheck,
];
