// The API docs page: renders /api/openapi.json with the DOM alone (no framework, no
// network but this node), so it works offline and under the node's CSP.
"use strict";

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function schemaName(schema) {
  if (!schema) return "";
  if (schema.$ref) return schema.$ref.split("/").pop();
  if (schema.type === "array") return schemaName(schema.items) + "[]";
  return schema.type || "";
}

function table(headings, rows) {
  const t = el("table");
  const head = el("tr");
  for (const h of headings) head.append(el("th", h));
  t.append(head);
  for (const row of rows) {
    const tr = el("tr");
    for (const cell of row) tr.append(el("td", cell));
    t.append(tr);
  }
  return t;
}

function operation(path, method, op) {
  const section = el("section");
  const title = el("h2");
  title.append(el("span", method.toUpperCase(), "method"), path);
  section.append(title);
  if (op.summary) section.append(el("p", op.summary));
  if (op.description) section.append(el("p", op.description));
  const params = op.parameters || [];
  if (params.length) {
    section.append(table(["parameter", "in", "required", "what"],
      params.map((p) => [p.name, p.in, p.required ? "yes" : "no", p.description || schemaName(p.schema)])));
  }
  const body = op.requestBody && op.requestBody.content && op.requestBody.content["application/json"];
  if (body) section.append(el("p", "Body: " + schemaName(body.schema)));
  const responses = Object.entries(op.responses || {}).map(([status, r]) => {
    const json = r.content && r.content["application/json"];
    return [status, r.description || "", json ? schemaName(json.schema) : ""];
  });
  section.append(table(["status", "when", "body"], responses));
  return section;
}

function schemas(components) {
  const section = el("section");
  section.append(el("h2", "Schemas"));
  for (const [name, schema] of Object.entries(components.schemas || {})) {
    const details = el("details");
    details.append(el("summary", name), el("pre", JSON.stringify(schema, null, 2)));
    section.append(details);
  }
  return section;
}

async function render() {
  const main = document.getElementById("docs");
  try {
    const response = await fetch("/api/openapi.json");
    if (!response.ok) throw new Error("HTTP " + response.status);
    const doc = await response.json();
    main.replaceChildren(el("p", doc.info.description, "intro"));
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) main.append(operation(path, method, op));
    }
    main.append(schemas(doc.components || {}));
  } catch (error) {
    main.replaceChildren(el("p", "The API description could not be read: " + error.message));
  }
}

render();
