import { checkImports, describeViolation } from "./lib/import-graph";

// `npm run check:imports`: the layering rules of docs/architecture.md, checked over src/. Exits 1 on a violation.
const violations = checkImports(process.cwd());
for (const violation of violations) console.error(`${describeViolation(violation)}\n`);
console.log(
  violations.length === 0 ? "imports: layered, no cycles" : `imports: ${violations.length} violation(s)`,
);
process.exit(violations.length === 0 ? 0 : 1);
