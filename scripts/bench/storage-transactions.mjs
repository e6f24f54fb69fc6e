// Counts the storage transactions in an Azurite debug log (azurite --debug FILE), between byte offsets, by service and
// by the operation classes Azure bills separately. Used by scripts/bench-storage.sh.
// Usage: node storage-transactions.mjs LOG FROM TO   -> prints JSON {total, byService, byOperation}
import { openSync, readSync, closeSync } from 'node:fs';

const [log, from, to] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const fd = openSync(log, 'r');
const buffer = Buffer.alloc(to - from);
readSync(fd, buffer, 0, buffer.length, from);
closeSync(fd);

// One line per request: "<Service>StorageContextMiddleware: RequestMethod=GET RequestURL=http://127.0.0.1/devstoreaccount1/...".
const line = /(Blob|Queue|Table)StorageContextMiddleware: RequestMethod=(\w+) RequestURL=(\S+)/g;
const counts = { total: 0, byService: {}, byOperation: {} };
for (const m of buffer.toString('utf8').matchAll(line)) {
  const [, service, method, url] = m;
  const op = classify(service, method, new URL(url));
  counts.total++;
  counts.byService[service] = (counts.byService[service] ?? 0) + 1;
  counts.byOperation[op] = (counts.byOperation[op] ?? 0) + 1;
}
process.stdout.write(JSON.stringify(counts));

// The price classes of Azure's storage price pages: blob write, read, list/create-container and other (Delete is free);
// queue class 1 (writes, and GetMessages, which changes visibility) and class 2 (reads); table: every transaction alike.
function classify(service, method, url) {
  const comp = url.searchParams.get('comp') ?? '';
  const path = url.pathname.split('/').filter(Boolean); // [account, container|queue|table, ...]
  if (service === 'Blob') {
    if (method === 'DELETE') return 'blob delete (free)';
    if (comp === 'list' || (method === 'PUT' && path.length === 2)) return 'blob list/create container';
    if (method === 'PUT' || (method === 'POST')) return comp === 'lease' ? 'blob write (lease)' : 'blob write';
    if (method === 'GET' && path.length >= 3) return 'blob read';
    return 'blob other';
  }
  if (service === 'Queue') {
    const messages = path[2] === 'messages';
    if (messages && method === 'GET' && url.searchParams.get('peekonly') === 'true') return 'queue class 2 (peek)';
    if (messages && method === 'GET') return 'queue class 1 (get messages)';
    if (messages || method === 'PUT' || method === 'DELETE') return 'queue class 1 (write)';
    return 'queue class 2 (read)';
  }
  return 'table transaction';
}
