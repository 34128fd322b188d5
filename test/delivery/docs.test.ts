import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const PERFORMANCE_MAX_LINES = 250;

const read = (relative: string) => readFileSync(path.join(ROOT, relative), 'utf8');

/** README.md and every Markdown file under docs/, as paths relative to the repository. */
function markdownFiles(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
      const relative = path.join(dir, entry.name);
      if (entry.isDirectory()) return walk(relative);
      return entry.name.endsWith('.md') ? [relative] : [];
    });
  return ['README.md', ...walk('docs')];
}

/** Markdown text without fenced code blocks, whose contents are commands and examples, not links. */
const prose = (markdown: string) => markdown.replace(/^```[\s\S]*?^```/gm, '');

/** Targets of inline links and images, `[text](target "title")`, that are not web, mail or in-page addresses. */
function localLinkTargets(markdown: string): string[] {
  return [...prose(markdown).matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)]
    .map((m) => m[1] as string)
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens; repeats get -1, -2, … */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const [, heading] of prose(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const slug = (heading as string)
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

const insideRepository = (absolute: string) => absolute === ROOT || absolute.startsWith(`${ROOT}${path.sep}`);

/** Files of the repository that prose names by path (`src/…/x.ts`, test/…, docs/…), links or not. */
function namedRepositoryFiles(markdown: string): string[] {
  const named =
    /(?<![\w./@-])(?:src|test|scripts|bench|deploy|prisma|docs)\/[\w./-]*\.(?:ts|mjs|js|md|sh|ya?ml|json|prisma|sql)\b/g;
  return [...markdown.matchAll(named)].map((m) => m[0]);
}

/** What a run writes (git-ignored): named by the docs, absent from a clean checkout. */
const RUN_OUTPUTS = ['bench/results/'];

describe('documentation', () => {
  it(`when docs/performance.md is read, it is a reference of at most ${PERFORMANCE_MAX_LINES} lines`, () => {
    const lines = read('docs/performance.md').trimEnd().split('\n').length;
    expect(lines).toBeLessThanOrEqual(PERFORMANCE_MAX_LINES);
  });

  it('when README.md names a path, none lies outside the repository', () => {
    const readme = read('README.md');
    const parentPaths = [...readme.matchAll(/(?:^|[\s(<`'"[])(\.\.[\\/][^\s)>`'"\]]*)/g)].map((m) => m[1]);
    expect(parentPaths).toEqual([]);
    const escaping = localLinkTargets(readme).filter(
      (target) => !insideRepository(path.resolve(ROOT, decodeURIComponent(target.split('#')[0] as string))),
    );
    expect(escaping).toEqual([]);
  });

  it('when README.md or a doc links a file, the file is in the repository and the anchor is one of its headings', () => {
    const broken: string[] = [];
    for (const file of markdownFiles()) {
      const markdown = read(file);
      for (const target of localLinkTargets(markdown)) {
        const [pathPart = '', anchor] = target.split('#');
        const absolute = pathPart
          ? path.resolve(ROOT, path.dirname(file), decodeURIComponent(pathPart))
          : path.join(ROOT, file);
        if (!insideRepository(absolute)) broken.push(`${file}: ${target} is outside the repository`);
        else if (!existsSync(absolute)) broken.push(`${file}: ${target} does not exist`);
        else if (
          anchor &&
          statSync(absolute).isFile() &&
          absolute.endsWith('.md') &&
          !anchorsOf(readFileSync(absolute, 'utf8')).has(anchor)
        )
          broken.push(`${file}: ${target} names no heading of ${path.relative(ROOT, absolute)}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('when README.md or a doc names a file of the repository by its path, that file exists', () => {
    const missing = markdownFiles().flatMap((file) =>
      namedRepositoryFiles(read(file))
        .filter((named) => !RUN_OUTPUTS.some((output) => named.startsWith(output)))
        .filter((named) => !existsSync(path.join(ROOT, named)))
        .map((named) => `${file}: ${named}`),
    );
    expect([...new Set(missing)]).toEqual([]);
  });
});
