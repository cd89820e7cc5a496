import { createRequire } from 'node:module';

import type * as LineSdk from '@line/bot-sdk';

let sdk: typeof LineSdk | undefined;

/**
 * @line/bot-sdk, loaded when LINE is used rather than by every process that lists the
 * notifiers: with axios it is ~400 files the idle service read at start-up, with no LINE set up.
 */
export function lineSdk(): typeof LineSdk {
  sdk ??= createRequire(import.meta.url)('@line/bot-sdk') as typeof LineSdk;
  return sdk;
}
