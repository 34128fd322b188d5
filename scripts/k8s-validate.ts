// npm run lint:k8s [-- <file.yaml>…]
// Validates every Kubernetes object of deploy/k8s/ (and its subfolders), or of the files given, against the
// Kubernetes API schemas, offline, and exits 1 naming each problem. Two checks, both from the kubernetes-models
// packages (generated from Kubernetes' OpenAPI document and the Prometheus Operator's CRDs):
//   1. the JSON Schema validator of the object's kind: types, required fields, formats;
//   2. TypeScript's excess-property check against the kind's generated interface, which refuses any field the schema
//      does not define (a typo such as `readOnlyRootFileSystem` would otherwise be dropped by the API server with a
//      warning at best, and the pod would run without the setting).
// kustomization.yaml files are kustomize's own configuration, not API objects: they are skipped.

import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import ts from 'typescript';
import { parseAllDocuments } from 'yaml';

const ROOT = path.resolve(import.meta.dirname, '..');
const require = createRequire(import.meta.url);

interface Manifest {
  where: string;
  apiVersion: string;
  kind: string;
  object: Record<string, unknown>;
}

/** The module of kubernetes-models that defines an apiVersion's kinds, or undefined for an unknown group. */
function modelModule(apiVersion: string, kind: string): string | undefined {
  if (apiVersion === 'monitoring.coreos.com/v1') {
    return `@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/${kind}`;
  }
  if (!/^([a-z0-9.-]+\/)?v\d+((alpha|beta)\d+)?$/.test(apiVersion)) return undefined;
  return `kubernetes-models/${apiVersion}/${kind}`;
}

/** Every YAML file under `dir`, recursively, in a stable order. */
export function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return yamlFiles(full);
      return /\.ya?ml$/.test(entry.name) ? [full] : [];
    });
}

function manifestsOf(file: string, text: string): { manifests: Manifest[]; problems: string[] } {
  const manifests: Manifest[] = [];
  const problems: string[] = [];
  parseAllDocuments(text).forEach((doc, i) => {
    const where = `${path.relative(ROOT, file) || file}#${i + 1}`;
    if (doc.errors.length > 0) {
      problems.push(`${where}: not YAML: ${doc.errors.map((e) => e.message).join('; ')}`);
      return;
    }
    const object = doc.toJS() as Record<string, unknown> | null;
    if (!object) return;
    const { apiVersion, kind } = object as { apiVersion?: unknown; kind?: unknown };
    if (typeof apiVersion !== 'string' || typeof kind !== 'string') {
      problems.push(`${where}: has no apiVersion and kind`);
      return;
    }
    if (apiVersion.startsWith('kustomize.config.k8s.io/')) return;
    manifests.push({ where: `${where} (${kind})`, apiVersion, kind, object });
  });
  return { manifests, problems };
}

/** Check 1: the kind's JSON Schema validator. */
async function schemaProblems(m: Manifest): Promise<string[]> {
  const module = modelModule(m.apiVersion, m.kind);
  let Model: (new (data: unknown) => { validate(): void }) | undefined;
  try {
    Model = module ? ((await import(module)) as Record<string, typeof Model>)[m.kind] : undefined;
  } catch {
    Model = undefined;
  }
  if (!Model) return [`${m.where}: ${m.apiVersion} ${m.kind} is not a kind the Kubernetes schemas know`];
  try {
    new Model(m.object).validate();
    return [];
  } catch (err) {
    return [`${m.where}: ${(err as Error).message.split('\n').join('; ')}`];
  }
}

/** Check 2: every object literal assigned to the kind's generated interface; unknown fields are type errors. */
function unknownFieldProblems(manifests: Manifest[]): string[] {
  const sources = new Map<string, { text: string; manifest: Manifest }>();
  manifests.forEach((m, i) => {
    const module = modelModule(m.apiVersion, m.kind);
    if (!module) return;
    const file = path.join(ROOT, `__k8s_manifest_${i}.ts`);
    const text = `import type { I${m.kind} as Kind } from ${JSON.stringify(module)};\nexport const manifest: Kind = ${JSON.stringify(m.object, null, 1)};\n`;
    sources.set(file, { text, manifest: m });
  });
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (f) => sources.get(path.resolve(f))?.text ?? readFile(f);
  host.fileExists = (f) => sources.has(path.resolve(f)) || fileExists(f);
  host.getSourceFile = (f, v, onError, create) => {
    const own = sources.get(path.resolve(f));
    return own ? ts.createSourceFile(f, own.text, v, true) : getSourceFile(f, v, onError, create);
  };
  const program = ts.createProgram([...sources.keys()], options, host);
  const problems: string[] = [];
  for (const [file, { manifest }] of sources) {
    const source = program.getSourceFile(file);
    for (const d of ts.getPreEmitDiagnostics(program, source)) {
      const message = ts.flattenDiagnosticMessageText(d.messageText, ' ');
      const field = d.file && d.start !== undefined ? fieldPath(d.file, d.start) : '';
      problems.push(`${manifest.where}: ${field ? `${field}: ` : ''}${message}`);
    }
  }
  return problems;
}

/** The JSON path of the property at `position` of a generated source file, for readable messages. */
function fieldPath(file: ts.SourceFile, position: number): string {
  const parts: string[] = [];
  const visit = (node: ts.Node): void => {
    if (position < node.getStart(file) || position >= node.getEnd()) return;
    if (ts.isPropertyAssignment(node)) parts.push(node.name.getText(file).replace(/^"|"$/g, ''));
    if (ts.isArrayLiteralExpression(node)) {
      const index = node.elements.findIndex((e) => position >= e.getStart(file) && position < e.getEnd());
      if (index >= 0) parts.push(String(index));
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return parts.join('.');
}

/** Every problem of the manifests in `files`; [] when each is valid against its kind's schema. */
export async function validateManifestFiles(files: Array<{ file: string; text: string }>): Promise<string[]> {
  const problems: string[] = [];
  const manifests: Manifest[] = [];
  for (const { file, text } of files) {
    const parsed = manifestsOf(file, text);
    problems.push(...parsed.problems);
    manifests.push(...parsed.manifests);
  }
  for (const m of manifests) problems.push(...(await schemaProblems(m)));
  problems.push(...unknownFieldProblems(manifests));
  return problems;
}

/** The number of API objects the files hold (what was validated). */
export function countObjects(files: Array<{ file: string; text: string }>): number {
  return files.reduce((n, { file, text }) => n + manifestsOf(file, text).manifests.length, 0);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  const args = process.argv.slice(2);
  const paths = args.length > 0 ? args.map((a) => path.resolve(a)) : yamlFiles(path.join(ROOT, 'deploy/k8s'));
  const files = paths.map((file) => ({ file, text: readFileSync(file, 'utf8') }));
  const problems = await validateManifestFiles(files);
  for (const p of problems) console.error(p);
  const models = require('kubernetes-models/package.json') as { version: string };
  console.error(
    problems.length === 0
      ? `k8s-validate: ${countObjects(files)} objects in ${files.length} files valid (kubernetes-models ${models.version})`
      : `k8s-validate: ${problems.length} problem(s)`,
  );
  process.exitCode = problems.length === 0 ? 0 : 1;
}
