// Checks schemas/ with Ajv, a JSON Schema validator certplan does not use,
// in strict mode (draft 2020-12), for strict_test.go:
//
//   node ajv-strict.js DIR EDITOR_KEYWORDS_JSON < emails.json
//
// - every *.schema.json but the editor bundle compiles with strict: true
//   (no unknown keyword, no required property that is not defined, no type
//   ambiguity), and so does the bundle once its editor-only keywords are
//   declared as a vocabulary;
// - all of them load into one Ajv instance (every $id is unique);
// - the email table on stdin ({"address": valid, ...}) gets the same
//   answers from the email pattern as certplan's Go validator gives.
// Prints one problem a line; nothing when all is well.
"use strict";
const fs = require("fs");
const path = require("path");
const Ajv2020 = require("ajv/dist/2020").default;

const [dir, editorJSON] = process.argv.slice(2);
const editorKeywords = JSON.parse(editorJSON);
const emails = JSON.parse(fs.readFileSync(0, "utf8"));
const problems = [];
const files = fs.readdirSync(dir).filter((f) => f.endsWith(".schema.json")).sort();
const docs = Object.fromEntries(files.map((f) => [f, JSON.parse(fs.readFileSync(path.join(dir, f), "utf8"))]));
const bundle = files.filter((f) => editorKeywords.some((k) => JSON.stringify(docs[f]).includes(`"${k}"`)));

function ajv(withEditor) {
  const a = new Ajv2020({ strict: true, allErrors: true });
  if (withEditor) a.addVocabulary(editorKeywords);
  return a;
}
function compileAll(a, names, label) {
  for (const f of names) {
    try {
      a.addSchema(docs[f]);
    } catch (e) {
      problems.push(`${label}: ${f}: ${e.message}`);
    }
  }
  for (const f of names) {
    try {
      a.getSchema(docs[f].$id);
    } catch (e) {
      problems.push(`${label}: ${f}: ${e.message}`);
    }
  }
}

if (bundle.length !== 1) problems.push(`want exactly one schema with editor keywords (the bundle), found: ${bundle.join(", ") || "none"}`);
const standard = files.filter((f) => !bundle.includes(f));
const plain = ajv(false);
compileAll(plain, standard, "strict");
compileAll(ajv(true), bundle, "strict, editor vocabulary declared");
compileAll(ajv(true), files, "all of schemas/ in one validator");

const common = docs["common.schema.json"];
if (common) {
  const email = plain.getSchema(common.$id + "#/$defs/email");
  for (const [addr, want] of Object.entries(emails)) {
    if (email(addr) !== want) problems.push(`email ${JSON.stringify(addr)}: Ajv says valid=${!want}, certplan says ${want}`);
  }
}
for (const p of problems) console.log(p);
