import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

import type * as Converter from '@tensorflow/tfjs-converter';
import type * as Core from '@tensorflow/tfjs-core';
import type * as Layers from '@tensorflow/tfjs-layers';

import { ErrorCodes, NightshiftError } from '../../src/errors.js';

/**
 * The parts of TensorFlow.js nightshift uses: tfjs-core (tensors, ops, io), tfjs-layers (layers
 * models: the bundled nsfwjs model and users' Keras models) and tfjs-converter (graph models).
 * Not the `@tensorflow/tfjs` umbrella, which adds tfjs-data, WebGL and ~140 MB of browser bundles.
 * Chained ops (`t.div(2)`) are not registered without the umbrella: use the functions (`tf.div(t, 2)`).
 */
export type Tf = Omit<typeof Core, 'default'> & Omit<typeof Layers, 'default'> & Pick<typeof Converter, 'loadGraphModel'>;
/** tensorflow: native tfjs-node; wasm: XNNPACK in WebAssembly; cpu: plain JavaScript (slow, last resort). */
export type TfBackend = 'tensorflow' | 'wasm' | 'cpu';

export interface LoadedTf {
  readonly tf: Tf;
  readonly backend: TfBackend;
}

// A variable specifier keeps tsc from resolving a package that is optional and usually absent.
const TFJS_NODE = '@tensorflow/tfjs-node';

let loading: Promise<LoadedTf> | undefined;

async function importNative(): Promise<Tf | undefined> {
  try {
    return (await import(TFJS_NODE)) as Tf;
  } catch {
    return undefined;
  }
}

async function init(): Promise<LoadedTf> {
  const native = await importNative();
  if (native && (await native.setBackend('tensorflow'))) return { tf: native, backend: 'tensorflow' };
  const [core, layers, converter] = await Promise.all([
    import('@tensorflow/tfjs-core'),
    import('@tensorflow/tfjs-layers'),
    import('@tensorflow/tfjs-converter'),
  ]);
  const tf: Tf = { ...layers, ...core, loadGraphModel: converter.loadGraphModel };
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    // The .wasm binaries ship in the package's dist; a file path makes the backend read them from disk.
    const dist = join(dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
    wasm.setWasmPaths(`${dist}/`);
    if (await tf.setBackend('wasm')) return { tf, backend: 'wasm' };
  } catch {
    // fall through to the JavaScript backend
  }
  await import('@tensorflow/tfjs-backend-cpu');
  if (await tf.setBackend('cpu')) return { tf, backend: 'cpu' };
  throw new NightshiftError(ErrorCodes.MODEL_LOAD_FAILED, 'no TensorFlow.js backend could be initialised (tried tensorflow, wasm, cpu)');
}

/** TensorFlow.js with the fastest backend available, initialised once per process. */
export function loadTf(): Promise<LoadedTf> {
  loading ??= init().catch((err: unknown) => {
    loading = undefined;
    throw err;
  });
  return loading;
}

/**
 * Switch the process-wide backend (benchmarks compare wasm with cpu). Models loaded earlier
 * keep working: tfjs moves their weights on first use.
 */
export async function useTfBackend(backend: TfBackend): Promise<LoadedTf> {
  const { tf } = await loadTf();
  if (!(await tf.setBackend(backend))) throw new NightshiftError(ErrorCodes.MODEL_LOAD_FAILED, `TensorFlow.js backend ${backend} is not available`);
  loading = Promise.resolve({ tf, backend });
  return { tf, backend };
}
