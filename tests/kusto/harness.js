#!/usr/bin/env node
// foxhunt's test harness around Microsoft's Kusto.Language (npm @kusto/language-service-next).
// One long-lived process: reads JSON lines on stdin, answers one JSON line per request.
//   {"id": 1, "schema": "sentinel", "query": "..."}  -> {"id": 1, "errors": [...], "warnings": [...]}
//   {"id": 2, "literal": "\"a\\\"b\""}                 -> {"id": 2, "errors": [...], "value": "a\"b"}
// Schemas live next to this file as schema_<name>.json:
//   {"tables": {"T": "(col:type, ...)"}, "functions": {"F": {"params": "(...)", "body": "{ ... }"}}}
"use strict";
const fs = require("fs");
const path = require("path");
const readline = require("readline");

// The package registers globals: the Bridge.NET runtime first, then the Kusto namespace.
require("@kusto/language-service-next/bridge");
require("@kusto/language-service-next/Kusto.Language.Bridge");
const K = global.Kusto.Language;

const globalsBySchema = new Map();

function loadGlobals(name) {
  if (globalsBySchema.has(name)) return globalsBySchema.get(name);
  const file = path.join(__dirname, `schema_${name}.json`);
  const schema = JSON.parse(fs.readFileSync(file, "utf8"));
  const symbols = [];
  for (const [table, columns] of Object.entries(schema.tables || {})) {
    symbols.push(new K.Symbols.TableSymbol.$ctor7(table, columns, null));
  }
  for (const [fn, decl] of Object.entries(schema.functions || {})) {
    symbols.push(new K.Symbols.FunctionSymbol.$ctor16(fn, decl.params, decl.body, null));
  }
  const db = new K.Symbols.DatabaseSymbol.ctor(schema.database || name, symbols);
  const globals = K.GlobalState.Default.WithDatabase(db);
  globalsBySchema.set(name, globals);
  return globals;
}

function diagnostics(text, globals) {
  const code = K.KustoCode.ParseAndAnalyze(text, globals);
  const all = Bridge.toArray(code.GetDiagnostics()).map((d) => ({
    severity: d.Severity, code: d.Code, message: d.Message, start: d.Start,
    snippet: text.substr(d.Start, Math.min(Math.max(d.Length, 1), 60)),
  }));
  return {
    errors: all.filter((d) => d.severity === "Error"),
    warnings: all.filter((d) => d.severity !== "Error"),
  };
}

function handle(req) {
  if (typeof req.literal === "string") {
    const found = diagnostics(`print x = ${req.literal}`, K.GlobalState.Default);
    return { errors: found.errors, value: K.KustoFacts.GetStringLiteralValue(req.literal) };
  }
  return diagnostics(req.query, loadGlobals(req.schema || "sentinel"));
}

const rl = readline.createInterface({ input: process.stdin, terminal: false });
rl.on("line", (line) => {
  if (!line.trim()) return;
  let req = {};
  let answer;
  try {
    req = JSON.parse(line);
    answer = handle(req);
  } catch (err) {
    answer = { errors: [{ severity: "Error", code: "HARNESS", message: String(err) }] };
  }
  process.stdout.write(JSON.stringify({ id: req.id, ...answer }) + "\n");
});
