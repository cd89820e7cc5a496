import type { JobDefinition } from '../src/engine/job.js';
import analyze from './analyze.js';
import deliverNotification from './deliver-notification.js';
import ocr from './ocr.js';
import processFile from './process-file.js';
import thumbnail from './thumbnail.js';

/** Every job the core registers. A new job is one file in jobs/ plus one line here. */
export const jobDefinitions: readonly JobDefinition[] = [processFile, analyze, thumbnail, ocr, deliverNotification] as readonly JobDefinition[];
