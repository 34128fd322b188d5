import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { countObjects, validateManifestFiles, yamlFiles } from '../../scripts/k8s-validate.js';
import { ROOT } from './delivery.helpers.js';

const shipped = () =>
  yamlFiles(path.join(ROOT, 'deploy/k8s')).map((file) => ({ file, text: readFileSync(file, 'utf8') }));

/** A shipped manifest with one line replaced, as a file of its own. */
function edited(relative: string, from: string | RegExp, to: string) {
  const text = readFileSync(path.join(ROOT, relative), 'utf8');
  const changed = text.replace(from, to);
  expect(changed, `${relative}: ${from}`).not.toBe(text);
  return [{ file: path.join(ROOT, relative), text: changed }];
}

describe('Kubernetes manifests against the Kubernetes schemas (offline)', () => {
  it('when every manifest of deploy/k8s and deploy/k8s/monitoring is validated, none has a problem', async () => {
    const files = shipped();
    expect(files.map((f) => path.relative(ROOT, f.file))).toContain('deploy/k8s/monitoring/prometheusrule.yaml');
    expect(countObjects(files)).toBeGreaterThanOrEqual(15);
    expect(await validateManifestFiles(files)).toEqual([]);
  }, 120_000);

  it('when a field the schema does not define is added (a misspelt security setting), it is refused by path', async () => {
    const problems = await validateManifestFiles(
      edited('deploy/k8s/worker-deployment.yaml', 'readOnlyRootFilesystem: true', 'readOnlyRootFileSystem: true'),
    );
    expect(problems).toEqual([
      expect.stringMatching(
        /worker-deployment\.yaml#1 \(Deployment\): spec\.template\.spec\.containers\.0\.securityContext\.readOnlyRootFileSystem: Object literal may only specify known properties/,
      ),
    ]);
  }, 120_000);

  it('when a value has the wrong type or a required field is missing, it is refused', async () => {
    const wrongType = await validateManifestFiles(
      edited('deploy/k8s/worker-deployment.yaml', /replicas: \d+/, 'replicas: "two"'),
    );
    expect(wrongType).toContainEqual(expect.stringMatching(/\(Deployment\): data\/spec\/replicas must be integer/));
    const noName = await validateManifestFiles(
      edited('deploy/k8s/migrate-job.yaml', /- name: migrate\n\s+image:/, '- image:'),
    );
    expect(noName).toContainEqual(
      expect.stringMatching(/\(Job\): data\/spec\/template\/spec\/containers\/0 must have required property name/),
    );
  }, 120_000);

  it('when a PrometheusRule rule carries an unknown field, or a kind is unknown, it is refused', async () => {
    const rule = await validateManifestFiles(
      edited('deploy/k8s/monitoring/prometheusrule.yaml', /^(\s+)for: 2m$/m, '$1for: 2m\n$1severty: high'),
    );
    expect(rule).toEqual([expect.stringMatching(/\(PrometheusRule\): spec\.groups\.0\.rules\.0\.severty: /)]);
    const unknown = await validateManifestFiles([
      { file: 'x.yaml', text: 'apiVersion: apps/v1\nkind: Deploymnet\nmetadata: { name: x }\n' },
    ]);
    expect(unknown).toContainEqual(
      expect.stringMatching(/apps\/v1 Deploymnet is not a kind the Kubernetes schemas know/),
    );
  }, 120_000);
});
