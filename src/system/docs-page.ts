/**
 * The human API page at /docs, rendered on the server from the OpenAPI document: no scripts, styles
 * or fonts from a CDN, so it works offline (`wrangler dev` without internet) and under a strict CSP.
 */
interface Operation {
  summary?: string;
  description?: string;
  tags?: string[];
  security?: unknown[];
  requestBody?: { content?: Record<string, { schema?: { $ref?: string } }> };
  responses?: Record<string, { description?: string }>;
  parameters?: { name: string; in: string; required?: boolean }[];
}

interface Document {
  info: { title: string; version: string; description?: string };
  /** Path → method → operation; typed loosely so any OpenAPI object type fits. */
  paths?: object;
}

const escape = (text: string) =>
  text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);

const schemaName = (ref: string | undefined) => (ref ? ref.split('/').pop()! : '');

function renderOperation(method: string, path: string, op: Operation): string {
  const body = schemaName(op.requestBody?.content?.['application/json']?.schema?.$ref);
  const params = (op.parameters ?? []).map((p) => `${p.name} (${p.in}${p.required ? ', required' : ''})`);
  const responses = Object.entries(op.responses ?? {}).map(
    ([code, r]) => `<li><code>${escape(code)}</code> ${escape(r.description ?? '')}</li>`,
  );
  return `<section>
  <h3><span class="m ${escape(method)}">${escape(method.toUpperCase())}</span> <code>${escape(path)}</code>${op.security?.length ? ' <span class="auth">token</span>' : ''}</h3>
  <p>${escape(op.summary ?? '')}${op.description ? `<br><small>${escape(op.description)}</small>` : ''}</p>
  ${params.length ? `<p>Parameters: ${params.map(escape).join(', ')}</p>` : ''}
  ${body ? `<p>Body: <code>${escape(body)}</code></p>` : ''}
  <ul>${responses.join('')}</ul>
</section>`;
}

export function renderDocsPage(doc: Document, specUrl: string): string {
  const byTag = new Map<string, string[]>();
  for (const [path, operations] of Object.entries((doc.paths ?? {}) as Record<string, Record<string, Operation>>)) {
    for (const [method, op] of Object.entries(operations)) {
      const tag = op.tags?.[0] ?? 'Other';
      byTag.set(tag, [...(byTag.get(tag) ?? []), renderOperation(method, path, op)]);
    }
  }
  const sections = [...byTag].map(([tag, ops]) => `<h2>${escape(tag)}</h2>${ops.join('\n')}`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(doc.info.title)}</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
section{border-top:1px solid #ddd;padding:.5rem 0}h3{margin:.3rem 0;font-size:1rem}
.m{display:inline-block;min-width:4.5rem;font-weight:600}.get{color:#1a7f37}.post{color:#0550ae}.put{color:#9a6700}.delete{color:#cf222e}
.auth{font-size:.75rem;border:1px solid #999;border-radius:3px;padding:0 .3rem;color:#555}code{background:#f4f4f4;padding:0 .2rem}
</style></head><body>
<h1>${escape(doc.info.title)} <small>${escape(doc.info.version)}</small></h1>
<p>${escape(doc.info.description ?? '')}</p>
<p>Machine-readable: <a href="${escape(specUrl)}">${escape(specUrl)}</a> (OpenAPI 3.1). Send tokens as <code>Authorization: Token &lt;jwt&gt;</code> or <code>Bearer &lt;jwt&gt;</code>.</p>
${sections}
</body></html>`;
}
