/**
 * The published packages, checked on their packed tarballs (packed once, here, from the
 * built packages: `npm test` builds first): contents, metadata, types (attw), lint (publint),
 * source maps, a no-network publish dry run, the lerna release configuration, one copy
 * of each package in a Node process that both imports and requires them, and every install
 * line of the READMEs and guides run as written in a fresh folder, with our packages taken from
 * the tarballs and tfjs from a local registry (test/local-registry.ts).
 */
import {execFileSync, spawn, spawnSync} from 'node:child_process';
import {cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync,
  writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join, posix, relative} from 'node:path';
import {startLocalRegistry} from './local-registry';

const root = join(__dirname, '..');
const packagesDir = join(root, 'packages');
const bin = (name: string) => join(root, 'node_modules', '.bin', name);

interface PackageJson {
  name: string;
  version: string;
  description?: string;
  private?: boolean;
  license?: string;
  main?: string;
  module?: string;
  types?: string;
  unpkg?: string;
  jsdelivr?: string;
  homepage?: string;
  bugs?: {url: string};
  repository?: {type: string, url: string, directory: string};
  engines?: Record<string, string>;
  publishConfig?: {access?: string};
  exports?: Record<string, unknown>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as PackageJson;
const packages = readdirSync(packagesDir)
  .filter((d) => existsSync(join(packagesDir, d, 'package.json')))
  .map((d) => ({short: d, dir: join(packagesDir, d),
    pkg: JSON.parse(readFileSync(join(packagesDir, d, 'package.json'), 'utf8')) as PackageJson}))
  .filter(({pkg}) => !pkg.private);

const run = (cmd: string, args: string[], cwd: string) => execFileSync(cmd, args,
  {cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120000});

interface Packed {tarball: string; files: string[]; size: number; unpacked: string}
const work = mkdtempSync(join(tmpdir(), 'deepspline-pack-'));
const project = join(work, 'project');
const packed: Record<string, Packed> = {};

beforeAll(() => {
  for (const {dir, pkg} of packages) {
    const umd = pkg.unpkg?.replace(/^\.\//, '');
    if (umd == null || !existsSync(join(dir, umd))) {
      throw new Error(`${pkg.name}: ${umd ?? 'the unpkg bundle'} is missing; run \`npm run build\` before the tests`);
    }
    const [info] = JSON.parse(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], dir));
    const unpacked = join(project, 'node_modules', ...pkg.name.split('/'));
    mkdirSync(unpacked, {recursive: true});
    run('tar', ['-xzf', join(work, info.filename), '-C', unpacked, '--strip-components=1'], work);
    packed[pkg.name] = {tarball: join(work, info.filename), size: info.size, unpacked,
      files: (info.files as Array<{path: string}>).map((f) => f.path)};
  }
  // The project resolves tfjs from this repository (one copy, as npm would install it).
  symlinkSync(join(root, 'node_modules', '@tensorflow'), join(project, 'node_modules', '@tensorflow'), 'dir');
  writeFileSync(join(project, 'package.json'), JSON.stringify({name: 'consumer', private: true}));
}, 300000);

afterAll(() => rmSync(work, {recursive: true, force: true}));

test('the six packages are published', () => {
  expect(packages.map(({pkg}) => pkg.name).sort()).toEqual(['@deepspline/core', '@deepspline/layers',
    '@deepspline/lipschitz', '@deepspline/wasm', '@deepspline/webgl', '@deepspline/webgpu']);
});

test('the root LICENSE is the Apache License 2.0 text', () => {
  const text = readFileSync(join(root, 'LICENSE'), 'utf8');
  expect(text).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004\s+http:\/\/www\.apache\.org\/licenses\//);
  expect(text).toContain('END OF TERMS AND CONDITIONS');
  expect(text.length).toBeGreaterThan(11000);
  expect(rootPkg.license).toBe('Apache-2.0');
});

test('sibling peer ranges admit the siblings\' versions (scripts/sync-peer-ranges.mjs --check)', () => {
  expect(() => run(process.execPath, [join(root, 'scripts', 'sync-peer-ranges.mjs'), '--check'], root))
    .not.toThrow();
});

describe.each(packages.map(({short, dir, pkg}) => [pkg.name, short, dir, pkg] as const))(
    '%s', (name, short, dir, pkg) => {
  const p = () => packed[name];

  test('the tarball holds both builds with their types, the script-tag bundle, the TypeScript sources, README, ' +
      'LICENSE and CHANGELOG, and no tests', () => {
    const expected = ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'dist/esm/index.js',
      'dist/esm/index.d.ts', 'dist/esm/package.json', 'dist/cjs/index.js', 'dist/cjs/index.d.ts',
      'dist/cjs/package.json', `dist/deepspline-${short}.min.js`, `dist/deepspline-${short}.min.js.map`, 'src/index.ts'];
    expect(p().files).toEqual(expect.arrayContaining(expected));
    expect(p().files.filter((f) => /(^|\/)(test|types)\/|\.test\.|tsbuildinfo/.test(f))).toEqual([]);
    // the sources are exactly the repository's src folder (what the declaration maps point at)
    const sources = (readdirSync(join(dir, 'src'), {recursive: true}) as string[])
      .filter((f) => f.endsWith('.ts')).map((f) => posix.join('src', f.split(/[\\/]/).join('/'))).sort();
    expect(p().files.filter((f) => f.startsWith('src/')).sort()).toEqual(sources);
    expect(readFileSync(join(p().unpacked, 'LICENSE'), 'utf8')).toBe(readFileSync(join(root, 'LICENSE'), 'utf8'));
    expect(readFileSync(join(p().unpacked, 'CHANGELOG.md'), 'utf8')).toMatch(/^# Change Log\n/);
  });

  test('the CHANGELOG says what 0.1.0 holds: its peer dependencies and every exported function', () => {
    const text = readFileSync(join(p().unpacked, 'CHANGELOG.md'), 'utf8');
    const entry = /\n## 0\.1\.0\n([\s\S]*?)(?=\n#+ |$)/.exec(text)?.[1] ?? '';
    expect(entry).not.toMatch(/unreleased|Later entries/);
    for (const peer of Object.keys(pkg.peerDependencies ?? {})) expect([peer, entry.includes(`\`${peer}\``)]).toEqual([peer, true]);
    // the installed package's exported functions (classes, constants and namespaces aside), from Node
    const exported = JSON.parse(execFileSync(process.execPath, ['-e', `console.log(JSON.stringify(Object.entries(` +
      `require(${JSON.stringify(name)})).filter(([k, v]) => typeof v === 'function' && /^[a-z]/.test(k)).map(([k]) => k)))`],
    {cwd: project, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 60000})) as string[];
    expect(exported.filter((k) => !new RegExp(`\`(\\w+\\.)?${k}\\b`).test(entry))).toEqual([]);
  });

  test('publishable metadata', () => {
    expect(pkg).toMatchObject({
      license: 'Apache-2.0',
      homepage: 'https://tfjs-deepspline.github.io/tfjs-deepspline/',
      bugs: {url: 'https://github.com/tfjs-deepspline/tfjs-deepspline/issues'},
      repository: {type: 'git', url: 'git+https://github.com/tfjs-deepspline/tfjs-deepspline.git',
        directory: `packages/${short}`},
      engines: rootPkg.engines,
      publishConfig: {access: 'public'},
      unpkg: `./dist/deepspline-${short}.min.js`,
      jsdelivr: `./dist/deepspline-${short}.min.js`,
    });
    expect(pkg.description?.length).toBeGreaterThan(20);
  });

  test('tfjs is a peer (^4.22.0); sibling packages are peers too, never nested dependencies', () => {
    const peers = Object.entries(pkg.peerDependencies ?? {});
    expect(peers.some(([d]) => d.startsWith('@tensorflow/'))).toBe(true);
    for (const [dep, range] of peers) {
      if (dep.startsWith('@tensorflow/')) expect(range).toBe('^4.22.0');
      else expect(dep).toMatch(/^@deepspline\//);
    }
    expect(Object.keys(pkg.dependencies ?? {})).toEqual([]);
  });

  test('attw (--pack): no problem for import and require under node10, node16 and bundler', () => {
    const out = run(bin('attw'), [p().tarball, '--format', 'json'], work);
    const {analysis} = JSON.parse(out);
    expect(analysis.problems).toEqual([]);
    const kinds = Object.values(analysis.entrypoints['.'].resolutions as Record<string,
      {resolution?: {fileName: string}}>).map((r) => r.resolution?.fileName);
    expect(kinds.every((f) => f != null && f.endsWith('.d.ts'))).toBe(true);
  });

  test('publint: no error, warning or suggestion', () => {
    const out = run(bin('publint'), ['run', p().tarball, '--strict'], work);
    expect(out).toContain('All good!');
  });

  test('every JavaScript source map resolves: each source is inlined and is the repository file it names', () => {
    const maps = p().files.filter((f) => f.endsWith('.map') && !f.endsWith('.d.ts.map'));
    expect(maps.length).toBeGreaterThan(4);
    for (const file of maps) {
      const map = JSON.parse(readFileSync(join(p().unpacked, file), 'utf8'));
      const where = `${name}/${file}`;
      expect([where, map.sources.length]).toEqual([where, map.sourcesContent?.length]);
      expect(p().files).toContain(posix.join(posix.dirname(file), map.file ?? posix.basename(file, '.map')));
      for (const [i, source] of (map.sources as string[]).entries()) {
        // The bundles' generated stubs that read a global (scripts/umd-globals.mjs) are inlined only.
        // A bundle holds its own package's sources only: tfjs and our other packages are globals.
        // The bundle entry of a package with an `/internal` subpath is generated (scripts/build-package.mjs).
        if (source === '../generated:bundle-entry.ts') {
          expect([where, map.sourcesContent[i]]).toEqual([where, expect.stringMatching(/^export \* from '\.\/src\/index\.ts';\nexport \* as internal from '\.\/src\/internal\.ts';/)]);
          continue;
        }
        if (file.endsWith('.min.js.map') && !source.startsWith('umd-global:')) {
          expect([where, source]).toEqual([where, expect.stringMatching(/^\.\.\/src\/[^/]+(\/[^/]+)*\.ts$/)]);
        }
        if (source.startsWith('umd-global:')) {
          expect([where, source, map.sourcesContent[i]]).toEqual([where, source, expect.stringMatching(/^var g = globalThis\.tf/)]);
          continue;
        }
        const inRepo = join(dir, dirname(file), map.sourceRoot ?? '', source);
        expect([where, source, map.sourcesContent[i]]).toEqual([where, source, readFileSync(inRepo, 'utf8')]);
      }
    }
    for (const file of p().files.filter((f) => /\.(js|d\.ts)$/.test(f) && !f.endsWith('package.json'))) {
      const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(join(p().unpacked, file), 'utf8'))?.[1];
      expect([file, url == null || p().files.includes(posix.join(posix.dirname(file), url))]).toEqual([file, true]);
    }
  });

  test('every declaration map points at TypeScript sources in the tarball (go-to-definition lands there)', () => {
    const maps = p().files.filter((f) => f.endsWith('.d.ts.map'));
    expect(maps.length).toBeGreaterThan(2);
    for (const file of maps) {
      const map = JSON.parse(readFileSync(join(p().unpacked, file), 'utf8'));
      // TypeScript ignores a declaration map with sourcesContent (the file must be on disk)
      expect([file, map.sourcesContent]).toEqual([file, undefined]);
      for (const source of map.sources as string[]) {
        const shipped = posix.normalize(posix.join(posix.dirname(file), map.sourceRoot ?? '', source));
        expect([file, source, p().files.includes(shipped) && shipped.endsWith('.ts')]).toEqual([file, source, true]);
      }
    }
  });

  test('npm publish --dry-run publishes it with public access, without the network', () => {
    // npm 11 looks the version up even in a dry run: a closed local port, no retries.
    const r = spawnSync('npm', ['publish', p().tarball, '--dry-run', '--registry', 'http://127.0.0.1:9/',
      '--fetch-retries=0'],
      {cwd: work, encoding: 'utf8', timeout: 60000});
    expect([r.status, r.stdout]).toEqual([0, expect.stringContaining(`+ ${name}@${pkg.version}`)]);
    expect(r.stderr).toContain('Publishing to http://127.0.0.1:9/ with tag latest and public access (dry-run)');
  });
});

test('installed from the tarballs, one copy of each package when Node both imports and requires them', () => {
  cpSync(join(root, 'test', 'dual-package.mjs'), join(project, 'dual-package.mjs'));
  // every entry point: the packages and their subpaths (`/internal`), not package.json or wildcards
  const specifiers = packages.flatMap(({pkg}) => Object.keys(pkg.exports ?? {'.': ''})
    .filter((k) => k === '.' || /^\.\/[a-z]+$/.test(k)).map((k) => pkg.name + k.slice(1)));
  expect(specifiers).toContain('@deepspline/core/internal');
  const out = execFileSync(process.execPath, ['dual-package.mjs', ...specifiers],
    {cwd: project, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120000});
  expect(JSON.parse(out).problems).toEqual([]);
});

test('in a project that installed the tarballs, an editor\'s go-to-definition of an import lands in our source', async () => {
  // What an editor does: ask tsserver, which follows the installed package's declaration map.
  const file = join(project, 'app.ts');
  const lines = ["import {splineActivation} from '@deepspline/layers';", "import {lipschitzBound} from '@deepspline/lipschitz';",
    'splineActivation({size: 21});', 'lipschitzBound;'];
  writeFileSync(file, lines.join('\n') + '\n');
  writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({compilerOptions: {module: 'node16', strict: true,
    noEmit: true, types: []}, files: ['app.ts']}));
  // tsserver answers in its own time: send the requests, read until both answers came, then exit.
  const server = spawn(process.execPath, [join(root, 'node_modules', 'typescript', 'lib', 'tsserver.js'),
    '--disableAutomaticTypingAcquisition'], {cwd: project, stdio: ['pipe', 'pipe', 'ignore']});
  const send = (seq: number, command: string, args: object) =>
    server.stdin.write(JSON.stringify({seq, type: 'request', command, arguments: args}) + '\n');
  const responses = await new Promise<Array<{request_seq: number, body?: unknown[]}>>((resolve, reject) => {
    const timer = setTimeout(() => { server.kill(); reject(new Error('tsserver did not answer in 60 s')); }, 60000);
    let out = '';
    server.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const got = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l))
        .filter((m) => m.type === 'response' && m.command === 'definition');
      if (got.length === 2) {
        clearTimeout(timer);
        send(4, 'exit', {});
        resolve(got);
      }
    });
    send(1, 'open', {file});
    send(2, 'definition', {file, line: 3, offset: 1});
    send(3, 'definition', {file, line: 4, offset: 1});
  });
  const where = (seq: number) => ((responses.find((r) => r.request_seq === seq)?.body ?? []) as
    Array<{file: string, start: {line: number}}>)
    .map((d) => `${relative(project, d.file).split(/[\\/]/).join('/')}:${d.start.line}`);
  const spline = readFileSync(join(packagesDir, 'layers', 'src', 'spline_activation.ts'), 'utf8').split('\n')
    .findIndex((l) => l.startsWith('export function splineActivation(')) + 1;
  expect(where(2)).toEqual([`node_modules/@deepspline/layers/src/spline_activation.ts:${spline}`]);
  expect(where(3)).toEqual([expect.stringMatching(/^node_modules\/@deepspline\/lipschitz\/src\/[a-z_]+\.ts:\d+$/)]);
});

test('lerna version (conventional commits, no git push) bumps, writes CHANGELOGs and keeps peer ranges ' +
    'installable', () => {
  // A scratch repository with this one's release configuration: a feat on core is a breaking
  // 0.x minor, so every dependent must be re-released with a peer range that admits it.
  const repo = join(work, 'release');
  for (const f of ['lerna.json', 'package.json', join('scripts', 'sync-peer-ranges.mjs')]) {
    cpSync(join(root, f), join(repo, f));
  }
  for (const {short} of packages) {
    for (const f of ['package.json', 'CHANGELOG.md']) cpSync(join(packagesDir, short, f), join(repo, 'packages', short, f));
  }
  const git = (...args: string[]) => run('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.org', ...args], repo);
  git('init', '-q');
  git('add', '.');
  git('commit', '-qm', 'chore: the current release');
  for (const {pkg} of packages) git('tag', `${pkg.name}@${pkg.version}`);
  writeFileSync(join(repo, 'packages', 'core', 'new.js'), '\n');
  git('add', '.');
  git('commit', '-qm', 'feat(core): a new op');
  run(process.execPath, [join(root, 'node_modules', 'lerna', 'dist', 'cli.js'), 'version', '--yes', '--no-push',
    '--no-git-tag-version'], repo);
  const after = (short: string) => JSON.parse(readFileSync(join(repo, 'packages', short, 'package.json'), 'utf8'));
  const core = after('core');
  const coreBefore = packages.find(({short}) => short === 'core')!.pkg;
  expect(core.version).not.toBe(coreBefore.version);
  expect(readFileSync(join(repo, 'packages', 'core', 'CHANGELOG.md'), 'utf8'))
    .toMatch(new RegExp(`# \\[${core.version.replace(/\./g, '\\.')}\\][\\s\\S]*a new op[\\s\\S]*## 0\\.1\\.0`));
  for (const {short, pkg} of packages) {
    if (pkg.peerDependencies?.['@deepspline/core'] == null) continue;
    expect([short, after(short).peerDependencies['@deepspline/core']]).toEqual([short, `^${core.version}`]);
    expect(after(short).version).not.toBe(pkg.version);
  }
  expect(() => run(process.execPath, [join(repo, 'scripts', 'sync-peer-ranges.mjs'), '--check'], repo)).not.toThrow();
});

/**
 * The `npm install` commands of the READMEs and the docs' pages, one list per ```sh block
 * (commands of one block run one after the other in one project), with their file.
 */
function installBlocks(): Array<[string, string[][]]> {
  const markdown = (dir: string): string[] => readdirSync(dir, {withFileTypes: true}).flatMap((d) =>
    d.isDirectory() ? (['node_modules', 'dist', 'api', '.vitepress'].includes(d.name) ? [] : markdown(join(dir, d.name)))
      : d.name.endsWith('.md') ? [join(dir, d.name)] : []);
  const files = [join(root, 'README.md'), ...packages.map(({dir}) => join(dir, 'README.md')), ...markdown(join(root, 'docs'))];
  const blocks: Array<[string, string[][]]> = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const [, body] of text.matchAll(/```(?:sh|bash|shell)\n([\s\S]*?)```/g)) {
      const commands = body.replace(/\\\n/g, ' ').split(/\n|&&/).map((l) => l.replace(/#.*/, '').trim())
        .filter((l) => /^npm (install|i)\b/.test(l)).map((l) => l.split(/\s+/).slice(2));
      if (commands.length) blocks.push([`${relative(root, file)}: ${commands.map((c) => `npm install ${c.join(' ')}`).join('; ')}`, commands]);
    }
  }
  return blocks;
}

const blocks = installBlocks();

test('the READMEs and guides have install lines (getting started, and each package\'s)', () => {
  const where = blocks.map(([name]) => name.split(':')[0]);
  expect(where).toEqual(expect.arrayContaining(['docs/guides/getting-started.md',
    ...packages.map(({short}) => `packages/${short}/README.md`)]));
});

describe('install lines, run as written in a fresh folder (our packages from their tarballs)', () => {
  interface Installed {commands: Array<{line: string, status: number | null, stderr: string}>, peers: string[],
    load: string}
  const installed = new Map<string, Installed>();

  // npm runs asynchronously: the registry answers from this process.
  const spawnAsync = (cmd: string, args: string[], cwd: string) =>
    new Promise<{status: number | null, stderr: string}>((resolve) => {
      const child = spawn(cmd, args, {cwd, stdio: ['ignore', 'ignore', 'pipe'], timeout: 120000});
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
      child.on('close', (status) => resolve({status, stderr}));
    });

  async function install(commands: string[][], registry: string): Promise<Installed> {
    const folder = mkdtempSync(join(work, 'install-'));
    writeFileSync(join(folder, 'package.json'), JSON.stringify({name: 'my-app', private: true}));
    const ours = new Set<string>();
    const result: Installed = {commands: [], peers: [], load: ''};
    for (const args of commands) {
      const mapped = args.map((arg) => {
        // `@deepspline/layers`, or a tarball packed from this repository (`.../deepspline-layers-0.1.0.tgz`)
        const name = /^@deepspline\/([a-z]+)$/.exec(arg)?.[1] ?? /(?:^|\/)deepspline-([a-z]+)-[0-9.]+\.tgz$/.exec(arg)?.[1];
        if (name == null) return arg;
        const tarball = packed[`@deepspline/${name}`]?.tarball;
        if (tarball == null) throw new Error(`${arg}: no package @deepspline/${name}`);
        ours.add(`@deepspline/${name}`);
        return tarball;
      });
      const r = await spawnAsync('npm', ['install', ...mapped, '--registry', registry, '--prefer-offline',
        '--fetch-retries=0', '--no-audit', '--no-fund', '--loglevel=error'], folder);
      result.commands.push({line: `npm install ${args.join(' ')}`, ...r});
      if (r.status !== 0) return result;
    }
    const lock = JSON.parse(readFileSync(join(folder, 'node_modules', '.package-lock.json'), 'utf8')) as
      {packages: Record<string, {peer?: boolean}>};
    result.peers = Object.entries(lock.packages).filter(([, e]) => e.peer).map(([path]) => path);
    const load = await spawnAsync(process.execPath, ['--input-type=module', '-e',
      `for (const name of ${JSON.stringify([...ours])}) await import(name);`], folder);
    result.load = load.status === 0 ? '' : `exit ${load.status}: ${load.stderr}`;
    return result;
  }

  // Three installs at a time (most of an install is waiting on the file system).
  beforeAll(async () => {
    const started = performance.now();
    const registry = await startLocalRegistry(join(root, 'package-lock.json'));
    try {
      const queue = [...blocks];
      await Promise.all(Array.from({length: 3}, async () => {
        for (let b = queue.shift(); b !== undefined; b = queue.shift()) installed.set(b[0], await install(b[1], registry.url));
      }));
    } finally {
      await registry.close();
    }
    console.log(`install lines: ${blocks.length} fresh installs in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }, 300000);

  test.each(blocks)('%s', (name) => {
    const {commands, peers, load} = installed.get(name)!;
    for (const {line, status, stderr} of commands) expect([line, status, stderr]).toEqual([line, 0, '']);
    // Every package that a peer dependency asks for is named on the line or brought by one that
    // is (npm 7+ would add a missing peer itself, but yarn 1 and --legacy-peer-deps do not).
    expect(peers).toEqual([]);
    // and each of our packages loads there
    expect(load).toBe('');
  });
});
