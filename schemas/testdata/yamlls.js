// Drives yaml-language-server over stdio as an editor would, for
// editor_test.go: initialize, open each file, collect the diagnostics the
// server publishes, and ask for completion at the given positions.
//
//   node yamlls.js < request.json > response.json
//
// request:  {"root": DIR, "files": [{"path": P, "complete": [[LINE, COL], ...]}]}
//           (P relative to DIR, LINE and COL 1-based)
// response: {P: {"diagnostics": ["LINE:COL: SEVERITY: MESSAGE", ...],
//                "completion": [[LABEL, ...], ...]}}
//
// yaml-language-server is found with require (set NODE_PATH to the
// node_modules it is installed in).
"use strict";
const { spawn } = require("child_process");
const fs = require("fs");
const path = require("path");
const url = require("url");

const req = JSON.parse(fs.readFileSync(0, "utf8"));
const server = spawn(process.execPath, [require.resolve("yaml-language-server/bin/yaml-language-server"), "--stdio"],
  { stdio: ["pipe", "pipe", "inherit"] });
const settings = { yaml: { validate: true, completion: true, hover: true, schemaStore: { enable: false }, schemas: {} } };
const pending = new Map();
const published = new Map();
let nextId = 1;
let buf = Buffer.alloc(0);

function send(msg) {
  const body = Buffer.from(JSON.stringify({ jsonrpc: "2.0", ...msg }));
  server.stdin.write(`Content-Length: ${body.length}\r\n\r\n`);
  server.stdin.write(body);
}
function request(method, params) {
  const id = nextId++;
  send({ id, method, params });
  return new Promise((resolve) => pending.set(id, resolve));
}
server.stdout.on("data", (chunk) => {
  buf = Buffer.concat([buf, chunk]);
  for (;;) {
    const end = buf.indexOf("\r\n\r\n");
    if (end < 0) return;
    const len = Number(/Content-Length: (\d+)/i.exec(buf.subarray(0, end).toString())[1]);
    if (buf.length < end + 4 + len) return;
    const msg = JSON.parse(buf.subarray(end + 4, end + 4 + len).toString());
    buf = buf.subarray(end + 4 + len);
    if (msg.method && msg.id !== undefined) { // the server asks: configuration
      const result = msg.method === "workspace/configuration"
        ? msg.params.items.map((it) => (it.section ? settings[it.section] ?? null : settings)) : null;
      send({ id: msg.id, result });
    } else if (msg.id !== undefined) {
      pending.get(msg.id)?.(msg.result ?? null);
      pending.delete(msg.id);
    } else if (msg.method === "textDocument/publishDiagnostics") {
      published.set(msg.params.uri, { at: Date.now(), list: msg.params.diagnostics });
    }
  }
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const severity = ["", "error", "warning", "info", "hint"];

(async () => {
  const root = path.resolve(req.root);
  await request("initialize", {
    processId: process.pid, rootUri: url.pathToFileURL(root).href,
    capabilities: { workspace: { configuration: true },
      textDocument: { completion: { completionItem: { snippetSupport: true } }, publishDiagnostics: {} } },
  });
  send({ method: "initialized", params: {} });
  send({ method: "workspace/didChangeConfiguration", params: { settings } });
  const out = {};
  const uris = req.files.map((f) => url.pathToFileURL(path.join(root, f.path)).href);
  req.files.forEach((f, i) => send({ method: "textDocument/didOpen", params: { textDocument: {
    uri: uris[i], languageId: "yaml", version: 1, text: fs.readFileSync(path.join(root, f.path), "utf8") } } }));
  // Wait for a report on every file, then until none came for a second (the
  // server may publish again once it has loaded the schema).
  for (let i = 0; i < 600 && !uris.every((u) => published.has(u)); i++) await sleep(50);
  const last = () => Math.max(...uris.map((u) => published.get(u)?.at ?? 0));
  for (let i = 0; i < 200 && Date.now() - last() < 1000; i++) await sleep(50);
  for (const [i, f] of req.files.entries()) {
    const diags = (published.get(uris[i])?.list ?? []).map((d) =>
      `${d.range.start.line + 1}:${d.range.start.character + 1}: ${severity[d.severity || 1]}: ${d.message.replace(/\s+/g, " ")}`);
    const completion = [];
    for (const [line, col] of f.complete ?? []) {
      const c = await request("textDocument/completion", { textDocument: { uri: uris[i] }, position: { line: line - 1, character: col - 1 } });
      completion.push((Array.isArray(c) ? c : c?.items ?? []).map((it) => it.label).sort());
    }
    out[f.path] = { diagnostics: diags.sort(), completion };
  }
  process.stdout.write(JSON.stringify(out, null, 2) + "\n");
  await request("shutdown", null);
  send({ method: "exit" });
  setTimeout(() => process.exit(0), 500).unref();
})().catch((e) => { console.error(e); process.exit(1); });
