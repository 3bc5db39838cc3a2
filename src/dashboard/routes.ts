import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { FastifyInstance, FastifyReply } from 'fastify';

/**
 * The operators' dashboard at `/admin`: one page shell and its assets, served by the service
 * itself from the repository and npm packages (no CDN: it works offline). The shell holds no
 * data; the page signs in with the admin token (kept in the browser's session storage) and reads
 * everything from the admin API, so it shows exactly what the API shows, masked the same way.
 */

export const DASHBOARD_PATH = '/admin';

interface Asset {
  readonly body: Buffer;
  readonly type: string;
  readonly etag: string;
}

const require = createRequire(import.meta.url);
const own = (name: string) => new URL(`./assets/${name}`, import.meta.url);

/** Every file the page loads, by the name it is served under. */
const FILES: Readonly<Record<string, { readonly path: string | URL; readonly type: string }>> = {
  'app.js': { path: own('app.js'), type: 'text/javascript; charset=utf-8' },
  'app.css': { path: own('app.css'), type: 'text/css; charset=utf-8' },
  'uPlot.js': {
    path: require.resolve('uplot/dist/uPlot.iife.min.js'),
    type: 'text/javascript; charset=utf-8',
  },
  'uPlot.css': { path: require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css; charset=utf-8' },
};

function load(path: string | URL, type: string): Asset {
  const body = readFileSync(path);
  return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` };
}

/** Scripts and styles from this origin only; no inline script, no framing. */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

export async function dashboardRoutes(app: FastifyInstance) {
  const shell = load(own('index.html'), 'text/html; charset=utf-8');
  const assets = new Map(Object.entries(FILES).map(([name, file]) => [name, load(file.path, file.type)]));

  const send = (reply: FastifyReply, asset: Asset, ifNoneMatch: string | undefined) => {
    void reply.headers({ ...SECURITY_HEADERS, etag: asset.etag, 'cache-control': 'no-cache' });
    if (ifNoneMatch === asset.etag) return reply.status(304).send();
    return reply.type(asset.type).send(asset.body);
  };

  app.get<{ Params: { name: string } }>(
    `${DASHBOARD_PATH}/assets/:name`,
    { schema: { hide: true } },
    (request, reply) => {
      const asset = assets.get(request.params.name);
      if (!asset) return reply.status(404).send({ error: 'not_found', message: 'no such asset' });
      return send(reply, asset, request.headers['if-none-match']);
    },
  );
  // Every page of the dashboard is the same shell: the page reads its route from the URL.
  const page = (request: { headers: { 'if-none-match'?: string } }, reply: FastifyReply) =>
    send(reply, shell, request.headers['if-none-match']);
  app.get(DASHBOARD_PATH, { schema: { hide: true } }, page);
  app.get(`${DASHBOARD_PATH}/*`, { schema: { hide: true } }, page);
}
