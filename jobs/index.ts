import type { JobDefinition } from '../src/engine/job.js';
import analyze from './analyze.js';
import cleanupStuck from './cleanup-stuck.js';
import dailySummary from './daily-summary.js';
import ocr from './ocr.js';
import processFile from './process-file.js';
import quotaCheck from './quota-check.js';
import thumbnail from './thumbnail.js';

/** Every job the core registers. A new job is one file in jobs/ plus one line here. */
export const jobDefinitions: readonly JobDefinition[] = [processFile, analyze, thumbnail, ocr, cleanupStuck, dailySummary, quotaCheck] as readonly JobDefinition[];
