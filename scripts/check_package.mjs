// Checks pkg/ as npm would pack it, offline: the API, its types and the wasm module are in,
// no test is, and the version and license are the crate's.
//
// Usage: node scripts/check_package.mjs (after build.sh has generated pkg/wasm)
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

const root = new URL("../", import.meta.url);
const [packed] = JSON.parse(execFileSync("npm", ["pack", "--dry-run", "--json", "--offline"], { cwd: new URL("pkg/", root), encoding: "utf8" }));
const paths = packed.files.map((file) => file.path);
const problems = [];

const required = ["package.json", "index.js", "index.d.ts", "worker.js", "wasm/gatito.js", "wasm/gatito.d.ts", "wasm/gatito_bg.wasm", "wasm/relaxed/gatito.js", "wasm/relaxed/gatito_bg.wasm"];
for (const path of required) if (!paths.includes(path)) problems.push(`${path} is not packed`);
for (const path of paths) if (/(^|\/)tests?\/|\.(spec|test)\.[jt]s$/.test(path)) problems.push(`a test is packed: ${path}`);

const cargo = readFileSync(new URL("crate/Cargo.toml", root), "utf8");
const workspace = readFileSync(new URL("Cargo.toml", root), "utf8");
const crateVersion = cargo.match(/^version = "(.+)"/m)[1];
const crateLicense = workspace.match(/^license = "(.+)"/m)[1];
const manifest = JSON.parse(readFileSync(new URL("pkg/package.json", root), "utf8"));
if (manifest.version !== crateVersion) problems.push(`pkg/package.json says version ${manifest.version}, the crate ${crateVersion}`);
if (manifest.license !== crateLicense) problems.push(`pkg/package.json says license ${manifest.license}, the crate ${crateLicense}`);

if (problems.length) {
  console.error(`npm pack of pkg/ is wrong:\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log(`npm pack of pkg/: ${paths.length} files, ${(packed.size / 1e6).toFixed(1)} MB packed, version ${crateVersion}`);
