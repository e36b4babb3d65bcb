import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** The files `npm pack` would put in the package (the listing only: no build, no tarball). */
async function packedFiles(): Promise<Set<string>> {
  const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
  const [report] = JSON.parse(stdout) as [{ files: { path: string }[] }];
  return new Set(report.files.map((file) => file.path));
}

/**
 * The relative link targets of a Markdown file: inline links and images
 * (`[text](target)`, the text may span lines) and reference definitions;
 * web addresses, mail links and same-page anchors are not files.
 */
function relativeLinks(markdown: string): string[] {
  const prose = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
  const targets = [
    ...[...prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!),
    ...[...prose.matchAll(/^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)].map((m) => m[1]!),
  ];
  return targets.filter((target) => !/^([a-z][a-z0-9+.-]*:|#)/i.test(target));
}

describe('the package contents', () => {
  let files: Set<string>;
  beforeAll(async () => {
    files = await packedFiles();
  }, 60_000);

  it('ships the README, the docs and the license package.json names', () => {
    const manifest = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { license: string };
    expect(manifest.license).toBe('Apache-2.0');
    expect(files).toContain('README.md');
    expect(files).toContain('docs/stores.md');
    expect(files).toContain('docs/oparaca.md');
    expect(files).toContain('LICENSE');
    const license = readFileSync(`${root}LICENSE`, 'utf8');
    expect(license).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004\s+http:\/\/www\.apache\.org\/licenses\/\s/);
    expect(license).toContain('TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION');
    expect(license).toContain('END OF TERMS AND CONDITIONS');
    expect(license).toContain('APPENDIX: How to apply the Apache License to your work.');
  });

  it('finds the links it checks', () => {
    expect(relativeLinks('[a](docs/x.md) [b](https://example.com) [c](#here) `[d](not/a/link)`\n[e]: ../y.md\n[f](\nz.md#part)')).toEqual([
      'docs/x.md',
      'z.md#part',
      '../y.md',
    ]);
  });

  it('links only to files that ship, from every shipped Markdown file', () => {
    const markdown = [...files].filter((path) => path.endsWith('.md'));
    expect(markdown.length).toBeGreaterThan(5);
    const broken = markdown.flatMap((path) =>
      relativeLinks(readFileSync(`${root}${path}`, 'utf8')).flatMap((target) => {
        const file = posix.normalize(posix.join(posix.dirname(path), decodeURI(target.replace(/[#?].*$/, ''))));
        const shipped = files.has(file) || [...files].some((f) => f.startsWith(`${file.replace(/\/$/, '')}/`));
        return shipped ? [] : [`${path}: ${target}`];
      }),
    );
    expect(broken).toEqual([]);
  });
});
