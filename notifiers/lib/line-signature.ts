import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Check LINE's `x-line-signature` header: base64 of HMAC-SHA256 over the raw request body,
 * keyed with the channel secret. The body must be the exact bytes received (not re-serialised
 * JSON). Constant-time compare, so a forger learns nothing from timing.
 */
export function verifyLineSignature(rawBody: Buffer, signatureHeader: string | undefined, channelSecret: string): boolean {
  if (!signatureHeader || channelSecret === '') return false;
  const expected = createHmac('sha256', channelSecret).update(rawBody).digest();
  let given: Buffer;
  try {
    given = Buffer.from(signatureHeader.trim(), 'base64');
  } catch {
    return false;
  }
  // Buffer.from(base64) skips junk characters, so a length check alone is not proof of form.
  if (given.length !== expected.length || given.toString('base64') !== signatureHeader.trim()) return false;
  return timingSafeEqual(given, expected);
}

/** The signature LINE would send for `rawBody` (for tests and local tools). */
export function signLineBody(rawBody: Buffer | string, channelSecret: string): string {
  return createHmac('sha256', channelSecret).update(rawBody).digest('base64');
}

/** A LINE user id: `U` followed by 32 lowercase hex digits. */
export function isLineUserId(s: unknown): s is string {
  return typeof s === 'string' && /^U[0-9a-f]{32}$/.test(s);
}

/** Any push target LINE accepts: a user (U…), group (C…) or multi-person chat (R…). */
export function isLinePushTarget(s: unknown): s is string {
  return typeof s === 'string' && /^[UCR][0-9a-f]{32}$/.test(s);
}

/** A signature check fed the body as it streams in: nothing but a running HMAC is kept per request. */
export interface LineSignatureCheck {
  update(chunk: Buffer): void;
  /** After the last chunk: does the header sign exactly the bytes fed? Constant-time. */
  matches(): boolean;
}

/**
 * Start checking `x-line-signature` before the body is read. Undefined when the header cannot
 * be a signature at all (absent, or not the base64 of 32 bytes) or no secret is set: the request
 * is refused then without reading a byte of its body.
 */
export function startLineSignatureCheck(signatureHeader: string | undefined, channelSecret: string | undefined): LineSignatureCheck | undefined {
  const header = signatureHeader?.trim() ?? '';
  if (!channelSecret || !/^[A-Za-z0-9+/]{43}=$/.test(header)) return undefined;
  const given = Buffer.from(header, 'base64');
  if (given.length !== 32 || given.toString('base64') !== header) return undefined;
  const hmac = createHmac('sha256', channelSecret);
  return {
    update: (chunk) => void hmac.update(chunk),
    matches: () => timingSafeEqual(hmac.digest(), given),
  };
}
