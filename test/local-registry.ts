/**
 * A registry on 127.0.0.1 for installing the way a user does, without the network: it answers
 * package metadata (packuments) for the packages this repository's package-lock.json holds,
 * with each version's integrity from the lock, and 404 for everything else. npm then takes the
 * tarballs from its cache by integrity (`npm ci` put them there), so `npm install --registry
 * <url> --prefer-offline` resolves third-party packages exactly as it would from npmjs.org, and
 * a name that is not on the registry (such as an unpublished `@deepspline/*` package) fails.
 * The tarball URLs point back here and answer 404: a tarball missing from the cache is an
 * error, never a download.
 */
import {readFileSync} from 'node:fs';
import {createServer} from 'node:http';
import type {Server} from 'node:http';

interface LockEntry {
  version: string;
  integrity?: string;
  link?: boolean;
  [field: string]: unknown;
}

/** The fields of a lock entry that npm reads from a packument's version. */
const FIELDS = ['dependencies', 'optionalDependencies', 'peerDependencies', 'peerDependenciesMeta', 'bin',
  'engines', 'os', 'cpu', 'license'];

/** Starts the registry over `lockfile`; resolves with its URL and a function that stops it. */
export async function startLocalRegistry(lockfile: string): Promise<{url: string, close(): Promise<void>,
    requested: string[]}> {
  const lock = JSON.parse(readFileSync(lockfile, 'utf8')) as {packages: Record<string, LockEntry>};
  const versions = new Map<string, Record<string, LockEntry>>();
  for (const [path, entry] of Object.entries(lock.packages)) {
    const at = path.lastIndexOf('node_modules/');
    if (at < 0 || entry.link || entry.integrity == null) continue;
    const name = path.slice(at + 'node_modules/'.length);
    versions.set(name, {...versions.get(name), [entry.version]: entry});
  }
  const requested: string[] = [];
  const server: Server = createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? '/').slice(1));
    requested.push(name);
    const known = versions.get(name);
    if (known == null) {
      res.writeHead(404, {'content-type': 'application/json'});
      res.end(JSON.stringify({error: `${name} is not on this local registry`}));
      return;
    }
    const base = name.split('/').pop();
    const doc = {name, 'dist-tags': {latest: Object.keys(known).sort(compareVersions).at(-1)},
      versions: Object.fromEntries(Object.entries(known).map(([version, entry]) => [version, {
        name, version, ...Object.fromEntries(FIELDS.filter((f) => entry[f] != null).map((f) => [f, entry[f]])),
        dist: {integrity: entry.integrity, tarball: `http://${req.headers.host}/${name}/-/${base}-${version}.tgz`},
      }]))};
    res.writeHead(200, {'content-type': 'application/json', 'cache-control': 'no-store'});
    res.end(JSON.stringify(doc));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const {port} = server.address() as {port: number};
  return {url: `http://127.0.0.1:${port}/`, requested,
    close: () => new Promise<void>((resolve) => server.close(() => resolve()))};
}

/** Orders plain `major.minor.patch` versions (prereleases after their release: good enough for `latest`). */
function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/).map(Number);
  const pb = b.split(/[.-]/).map(Number);
  for (let i = 0; i < 3; ++i) if (pa[i] !== pb[i]) return pa[i] - pb[i];
  return 0;
}
