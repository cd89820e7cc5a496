import type { FastifyReply, FastifyRequest } from 'fastify';

import { ErrorCodes, NightshiftError } from '../errors.js';

/** Names of this machine: localhost (and its subdomains), 127.0.0.0/8, ::1. */
const LOOPBACK_HOST = /^(localhost|[a-z0-9-]+\.localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\]|::1)$/i;
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The host name of a Host header (`name`, `name:port`, `[v6]:port`), lower-cased. */
function hostName(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.lastIndexOf(':');
  return colon === -1 ? h : h.slice(0, colon);
}

export function isLoopbackHost(host: string | undefined): boolean {
  return host !== undefined && LOOPBACK_HOST.test(hostName(host));
}

/** True when an Origin header names a page served from this machine. `null` (sandboxed, file://) is not. */
function isLoopbackOrigin(origin: string): boolean {
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && LOOPBACK_HOST.test(url.hostname);
  } catch {
    return false;
  }
}

/**
 * Without API_TOKEN the server is open to this machine only, and a browser on it is the way in
 * for everyone else: a page on another site posting a form, or a rebound DNS name reaching
 * 127.0.0.1. So: a Host that is not a loopback name is refused on every route (a rebound name
 * could read as well as write), and on state-changing methods an Origin (or Sec-Fetch-Site) from
 * another site is refused. One root-level hook, so every scope (API, console, Agendash) has it.
 */
export function sameMachineGuard() {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (!isLoopbackHost(request.headers.host)) {
      throw refused(reply, `Host ${JSON.stringify(request.headers.host ?? '')} is not a loopback name; without API_TOKEN only this machine may call the API`);
    }
    if (!STATE_CHANGING.has(request.method)) return;
    const origin = request.headers.origin;
    if (origin !== undefined && !isLoopbackOrigin(origin)) {
      throw refused(reply, `cross-site request from Origin ${JSON.stringify(origin)} refused; without API_TOKEN only pages on this machine may change state`);
    }
    if (origin === undefined && request.headers['sec-fetch-site'] === 'cross-site') {
      throw refused(reply, 'cross-site request refused (Sec-Fetch-Site); without API_TOKEN only pages on this machine may change state');
    }
  };
}

function refused(reply: FastifyReply, message: string): NightshiftError {
  // The body of a refused request is never read: close rather than drain it.
  void reply.header('Connection', 'close');
  return new NightshiftError(ErrorCodes.FORBIDDEN, message, { status: 403 });
}

/**
 * Drop a client that goes silent mid-request: while the body is still arriving the socket has
 * an inactivity timeout of `idleMs` (node destroys it on expiry, which fails the body stream and
 * so removes a partial upload); once the body is in, the handler may take as long as it needs.
 */
export function bodyIdleTimeout(idleMs: number) {
  return {
    onRequest: async (request: FastifyRequest): Promise<void> => {
      if (!request.raw.complete) request.raw.socket.setTimeout(idleMs);
    },
    preHandler: async (request: FastifyRequest): Promise<void> => {
      if (request.raw.complete) bodyReceived(request);
    },
  };
}

/** The body is in (a route that reads its own body, the upload, says so): no inactivity limit now. */
export function bodyReceived(request: FastifyRequest): void {
  request.raw.socket?.setTimeout(0);
}
