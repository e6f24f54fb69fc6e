#!/usr/bin/env node
// Uploads local files as block blobs with the official Azure Storage client for JavaScript (@azure/storage-blob), creating
// the container if missing, in the order given; prints one JSON line per blob: {"blob": ..., "etag": ...}.
// Usage: node scripts/dataset/upload-blobs.mjs "<connection string>" CONTAINER BLOB=FILE [BLOB=FILE ...]
// The connection string may be "UseDevelopmentStorage=true" (Azurite on 127.0.0.1:10000) or a full one with BlobEndpoint.
// Azurite must run with --skipApiVersionCheck: this client sends a newer service version than Azurite 3.35 knows.
import { BlobServiceClient } from '@azure/storage-blob';
import { readFileSync } from 'node:fs';

const [conn, container, ...pairs] = process.argv.slice(2);
if (!conn || !container || pairs.length === 0) {
  console.error('usage: upload-blobs.mjs CONNECTION_STRING CONTAINER BLOB=FILE [...]');
  process.exit(2);
}

const service = BlobServiceClient.fromConnectionString(conn);
const target = service.getContainerClient(container);
await target.createIfNotExists();
for (const pair of pairs) {
  const i = pair.indexOf('=');
  if (i <= 0) { console.error(`not BLOB=FILE: ${pair}`); process.exit(2); }
  const blob = pair.slice(0, i), file = pair.slice(i + 1);
  const data = readFileSync(file);
  const contentType = blob.endsWith('.json') ? 'application/json' : 'application/jsonl';
  const result = await target.getBlockBlobClient(blob).uploadData(data, { blobHTTPHeaders: { blobContentType: contentType } });
  console.log(JSON.stringify({ blob, etag: result.etag }));
}
