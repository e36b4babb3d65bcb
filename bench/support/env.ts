/** What the results were measured on: machine, versions and settings. */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { sqliteSettings, sqliteVersion } from './sqlite.js';

const require = createRequire(import.meta.url);

function versionOf(pkg: string): string {
  // Some packages do not export their package.json; read it next to the resolved entry point instead.
  let dir = dirname(require.resolve(pkg));
  while (dir !== dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const manifest = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (manifest.name === pkg) return manifest.version ?? '?';
    }
    dir = dirname(dir);
  }
  return 'unknown';
}

function git(...args: string[]): string {
  return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
}

/** The commit measured, and whether src/ differed from it. */
function gitCommit(): string {
  try {
    const dirty = git('status', '--porcelain', '--', 'src') !== '';
    return `${git('rev-parse', '--short', 'HEAD')}${dirty ? ' (src/ with uncommitted changes)' : ''}`;
  } catch {
    return 'unknown';
  }
}

/** Key/value lines describing this run. */
export function environment(): [string, string][] {
  const cpu = cpus();
  const own = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return [
    ['command', `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`],
    ['date', new Date().toISOString()],
    ['commit', gitCommit()],
    ['node', process.version],
    ['cpu', `${cpu.length} x ${cpu[0]?.model.trim() ?? 'unknown'}`],
    ['memory', `${(totalmem() / 2 ** 30).toFixed(1)} GiB`],
    ['platform', `${process.platform} ${process.arch}`],
    [
      'packages',
      [
        `oaas-sdk ${own.version} (from src/ through tsx ${versionOf('tsx')})`,
        `better-sqlite3 ${versionOf('better-sqlite3')} (SQLite ${sqliteVersion()})`,
        `@mikro-orm/core ${versionOf('@mikro-orm/core')}`,
        `@mikro-orm/knex ${versionOf('@mikro-orm/knex')}`,
        `@mikro-orm/postgresql ${versionOf('@mikro-orm/postgresql')}`,
        `pg ${versionOf('pg')}`,
        `knex ${versionOf('knex')}`,
        `tinybench ${versionOf('tinybench')}`,
      ].join(', '),
    ],
    ['sqlite', `journal_mode=WAL, synchronous=${sqliteSettings.synchronous.toUpperCase()}, one file per scenario and contender in the OS temp folder`],
  ];
}
