export { listSchedules, type ScheduleView } from './list.js';
export { occurrenceOf, recordRuns, type RunCounts } from './runs.js';
export { parseSchedules, type PeriodicJobSource, type Schedule, scheduleKey } from './spec.js';
export { findScheduleJob, type SyncAction, syncSchedules } from './sync.js';
