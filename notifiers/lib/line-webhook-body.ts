import type { IncomingMessage } from 'node:http';

import type { FastifyRequest } from 'fastify';

import { ErrorCodes, NightshiftError } from '../../src/errors.js';
import type { LineSignatureCheck } from './line-signature.js';

/**
 * LINE's webhook body, read as it streams and checked against X-Line-Signature on the way: a
 * running HMAC and at most `maxBytes` per request, and a deadline for the whole body, so
 * unauthenticated clients that trickle or withhold a body hold little memory and not for long.
 */
export interface LineBodyLimits {
  /** Largest body accepted, bytes (a larger Content-Length is refused before reading). */
  readonly maxBytes: number;
  /** The whole body must arrive within this, ms, from the end of the headers. */
  readonly timeoutMs: number;
}

/** 256 KiB: a batch of LINE events is a few KB (a text message is at most 5,000 characters). */
export const LINE_BODY_LIMITS: LineBodyLimits = { maxBytes: 256 * 1024, timeoutMs: 5_000 };

const refuse = (status: number, code: (typeof ErrorCodes)[keyof typeof ErrorCodes], message: string) => new NightshiftError(code, message, { status });

/** Refused before the body is read: no well-formed signature, or a declared length over the limit. */
export function refuseBeforeBody(request: FastifyRequest, check: LineSignatureCheck | undefined, limits: LineBodyLimits): NightshiftError | undefined {
  if (!check) return refuse(401, ErrorCodes.UNAUTHORIZED, 'bad or missing X-Line-Signature');
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > limits.maxBytes) return refuse(413, ErrorCodes.BAD_REQUEST, `the body is larger than ${limits.maxBytes} bytes`);
  return undefined;
}

/** Read the body, feeding the signature check; resolves with the bytes only when the signature matches. */
export function readSignedBody(payload: IncomingMessage, check: LineSignatureCheck, limits: LineBodyLimits): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (err: NightshiftError | undefined, body?: Buffer) => {
      clearTimeout(timer);
      payload.off('data', onData);
      payload.off('end', onEnd);
      payload.off('error', onError);
      // Nothing more is read from a refused request; the error reply closes its connection.
      if (err) {
        payload.pause();
        reject(err);
      } else resolve(body ?? Buffer.alloc(0));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limits.maxBytes) return stop(refuse(413, ErrorCodes.BAD_REQUEST, `the body is larger than ${limits.maxBytes} bytes`));
      check.update(chunk);
      chunks.push(chunk);
    };
    const onEnd = () => {
      if (!check.matches()) return stop(refuse(401, ErrorCodes.UNAUTHORIZED, 'bad or missing X-Line-Signature'));
      stop(undefined, Buffer.concat(chunks));
    };
    const onError = () => stop(refuse(400, ErrorCodes.BAD_REQUEST, 'the request body could not be read'));
    const timer = setTimeout(() => stop(refuse(408, ErrorCodes.BAD_REQUEST, `the body did not arrive within ${limits.timeoutMs} ms`)), limits.timeoutMs);
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', onError);
  });
}
