// Runs dependency-cruiser's API over a tree and prints the rule violations as JSON.
// A child process of its own because dependency-cruiser is ESM only and jest runs the tests as CommonJS.
// Usage: node test/helpers/cruise.mjs <config file> <base dir> <root>...
import path from 'node:path';
import { cruise } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';

const [configFile, baseDir, ...roots] = process.argv.slice(2);
const options = await extractDepcruiseOptions(path.resolve(configFile));
process.chdir(baseDir);
const tsConfig = extractTSConfig(path.resolve(options.tsConfig.fileName));
const result = await cruise(roots, { ...options, validate: true, outputType: 'json' }, {}, { tsConfig });
const { violations } = typeof result.output === 'string' ? JSON.parse(result.output).summary : result.output.summary;
console.log(
  JSON.stringify(violations.map((v) => ({ rule: v.rule.name, from: v.from, to: v.to, ...(v.cycle ? { cycle: v.cycle.map((c) => c.name) } : {}) }))),
);
