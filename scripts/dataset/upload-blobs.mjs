#!/usr/bin/env node
// Uploads local files as block blobs with Shared Key auth (no SDK needed), creating the container if missing, in the
// order given; prints one JSON line per blob: {"blob": ..., "etag": ...}.
// Usage: node scripts/dataset/upload-blobs.mjs "<connection string>" CONTAINER BLOB=FILE [BLOB=FILE ...]
// The connection string may be "UseDevelopmentStorage=true" (Azurite on 127.0.0.1:10000) or a full one with BlobEndpoint.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';

const [conn, container, ...pairs] = process.argv.slice(2);
if (!conn || !container || pairs.length === 0) {
  console.error('usage: upload-blobs.mjs CONNECTION_STRING CONTAINER BLOB=FILE [...]');
  process.exit(2);
}

const devKey = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const parts = Object.fromEntries(conn.split(';').filter(Boolean).map((p) => { const i = p.indexOf('='); return [p.slice(0, i).trim(), p.slice(i + 1).trim()]; }));
const dev = /^true$/i.test(parts.UseDevelopmentStorage ?? '');
const account = dev ? 'devstoreaccount1' : parts.AccountName;
const key = dev ? devKey : parts.AccountKey;
const endpoint = (dev ? 'http://127.0.0.1:10000/devstoreaccount1' : parts.BlobEndpoint ?? `${parts.DefaultEndpointsProtocol ?? 'https'}://${account}.blob.${parts.EndpointSuffix ?? 'core.windows.net'}`).replace(/\/$/, '');
if (!account || !key) { console.error('the connection string needs AccountName and AccountKey (Shared Key)'); process.exit(2); }
const version = '2023-11-03';

async function send(method, path, query, body, headers = {}) {
  const url = new URL(endpoint + path + (query ? `?${query}` : ''));
  const date = new Date().toUTCString();
  const all = { 'x-ms-date': date, 'x-ms-version': version, ...headers };
  const length = body ? String(body.length) : '';
  const canonHeaders = Object.keys(all).filter((h) => h.startsWith('x-ms-')).sort().map((h) => `${h}:${all[h]}`).join('\n');
  const params = [...url.searchParams.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `\n${k.toLowerCase()}:${v}`).join('');
  const canonResource = `/${account}${url.pathname}${params}`;
  const toSign = [method, '', '', length === '0' ? '' : length, '', headers['Content-Type'] ?? '', '', '', '', '', '', '', canonHeaders, canonResource].join('\n');
  const signature = createHmac('sha256', Buffer.from(key, 'base64')).update(toSign, 'utf8').digest('base64');
  return fetch(url, { method, body, headers: { ...all, Authorization: `SharedKey ${account}:${signature}` } });
}

const created = await send('PUT', `/${container}`, 'restype=container', undefined, {});
if (!(created.status === 201 || created.status === 409)) { console.error(`creating container ${container}: ${created.status} ${await created.text()}`); process.exit(1); }

for (const pair of pairs) {
  const i = pair.indexOf('=');
  const blob = pair.slice(0, i);
  const data = readFileSync(pair.slice(i + 1));
  const encoded = blob.split('/').map(encodeURIComponent).join('/');
  const res = await send('PUT', `/${container}/${encoded}`, '', data, { 'x-ms-blob-type': 'BlockBlob', 'Content-Type': blob.endsWith('.json') ? 'application/json' : 'application/jsonl' });
  if (res.status !== 201) { console.error(`uploading ${blob}: ${res.status} ${await res.text()}`); process.exit(1); }
  console.log(JSON.stringify({ blob, etag: res.headers.get('etag'), bytes: data.length }));
}
