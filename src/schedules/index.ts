export { parseSchedules, scheduleKey, type PeriodicJobSource, type Schedule } from './spec.js';
export { syncSchedules, findScheduleJob, type SyncAction } from './sync.js';
export { recordRuns, occurrenceOf, type RunCounts } from './runs.js';
export { listSchedules, type ScheduleView } from './list.js';
