#!/usr/bin/env bash
# Lints Dockerfile.production with dockerfile-utils and fails on any finding. The CLI alone is not enough for CI:
# `lint` exits 1 on errors but 0 on warnings (deprecated or lowercase instructions, say), and an unrecognised
# command prints a message and exits 0. So ask for JSON and require an empty list of diagnostics.
set -euo pipefail
cd "$(dirname "$0")/../.."

file="${1:-Dockerfile.production}"
status=0
report=$(npx --no-install dockerfile-utils lint --json "$file") || status=$?

node --input-type=module - "$file" "$status" "$report" <<'EOF'
const [file, status, report] = process.argv.slice(2);
let diagnostics;
try {
  diagnostics = JSON.parse(report);
} catch {
  diagnostics = undefined;
}
if (!Array.isArray(diagnostics)) {
  console.error(`dockerfile-lint: FAIL: dockerfile-utils gave no JSON report for ${file} (exit ${status}):\n${report}`);
  process.exit(1);
}
for (const d of diagnostics) {
  console.error(`${file}:${d.range.start.line + 1}: ${d.severity}: ${d.message}`);
}
if (diagnostics.length > 0 || status !== '0') {
  console.error(`dockerfile-lint: FAIL: ${diagnostics.length} finding(s) in ${file} (exit ${status})`);
  process.exit(1);
}
console.log(`dockerfile-lint: ${file} is clean`);
EOF
