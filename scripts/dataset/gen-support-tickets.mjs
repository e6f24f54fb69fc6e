#!/usr/bin/env node
// Generates a deterministic support-ticket classification dataset for the main job (scripts/run.sh):
//   OUT_DIR/train.jsonl   chat examples: system prompt, the ticket, the answer as JSON {"category", "priority"}
//   OUT_DIR/eval.jsonl    held-out tickets in the same format (never in train)
//   OUT_DIR/finetune.json the run config (alias support-classifier, evaluation on "category", gates)
// The system prompt and the answer schema come from support-tickets.task.json beside this script, the single source
// shared with the consuming app (samples/SupportClassifier), so what is trained, evaluated and asked for stays the same.
// Usage: node scripts/dataset/gen-support-tickets.mjs OUT_DIR [--train 300] [--eval 60] [--seed 7] [--alias support-classifier]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
if (args.length < 1 || args[0].startsWith('--')) {
  console.error('usage: gen-support-tickets.mjs OUT_DIR [--train N] [--eval N] [--seed N] [--alias NAME] [--poll SECONDS]');
  process.exit(2);
}
const outDir = args[0];
const opt = (name, fallback) => { const i = args.indexOf(`--${name}`); return i > 0 && i + 1 < args.length ? args[i + 1] : fallback; };
const trainCount = Number(opt('train', 300));
const evalCount = Number(opt('eval', 60));
const seed = Number(opt('seed', 7));
const alias = opt('alias', 'support-classifier');
const poll = Number(opt('poll', 0.5));
if (!(trainCount >= 10 && evalCount >= 1 && Number.isFinite(seed))) { console.error('--train must be >= 10, --eval >= 1, --seed a number'); process.exit(2); }

// mulberry32: small, fast, and the same sequence on every machine for a seed.
function rng(s) { return () => { s |= 0; s = (s + 0x6D2B79F5) | 0; let t = Math.imul(s ^ (s >>> 15), 1 | s); t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t; return ((t ^ (t >>> 14)) >>> 0) / 4294967296; }; }
const random = rng(seed);
const pick = (xs) => xs[Math.floor(random() * xs.length)];

const products = ['Nimbus Router X2', 'Aurora Smart Plug', 'Pulse Fitness Band', 'Vega Laptop 14', 'Echo Desk Lamp', 'Orbit Webcam HD'];
const plans = ['Basic', 'Plus', 'Pro', 'Family', 'Business'];
const carriers = ['DHL', 'UPS', 'FedEx', 'the postal service'];
const months = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const openers = ['Hi,', 'Hello team,', 'Good morning.', 'Hey there,', 'Dear support,', ''];
const closers = ['Thanks.', 'Please help.', 'Regards, ' + 'Sam', 'Any advice?', 'Thank you in advance!', ''];

const templates = {
  billing: [
    () => `I was charged twice for my ${pick(plans)} plan in ${pick(months)}. Please refund the duplicate payment.`,
    () => `My invoice for ${pick(months)} shows the ${pick(plans)} price but I downgraded to ${pick(plans)}. Can you correct the invoice?`,
    () => `The card payment for order #${1000 + Math.floor(random() * 9000)} failed but the money left my account.`,
    () => `How do I get a VAT invoice for my ${pick(plans)} subscription?`,
    () => `I want a refund for the ${pick(products)}; I was billed after cancelling the subscription.`,
  ],
  technical: [
    () => `My ${pick(products)} keeps disconnecting from Wi-Fi every few minutes after the latest firmware update.`,
    () => `The ${pick(products)} does not turn on anymore; the LED blinks red three times.`,
    () => `The app crashes when I open the settings page of my ${pick(products)}. Error code E${100 + Math.floor(random() * 900)}.`,
    () => `Pairing my ${pick(products)} over Bluetooth fails with "device not found".`,
    () => `After resetting the ${pick(products)} the firmware update is stuck at ${10 + Math.floor(random() * 80)}%.`,
  ],
  account: [
    () => `I cannot log in to my account; the password reset email never arrives.`,
    () => `Please change the email address on my account to a new one, I lost access to the old mailbox.`,
    () => `My account was locked after too many login attempts. How do I unlock it?`,
    () => `How can I delete my account and all personal data?`,
    () => `Two-factor authentication codes are rejected when I sign in to my account.`,
  ],
  shipping: [
    () => `My order of a ${pick(products)} has not arrived; tracking with ${pick(carriers)} has not moved for ${2 + Math.floor(random() * 9)} days.`,
    () => `The package with my ${pick(products)} arrived damaged, the box was crushed.`,
    () => `Can I change the delivery address of order #${1000 + Math.floor(random() * 9000)} before it ships?`,
    () => `I received the wrong item: I ordered a ${pick(products)} but got a ${pick(products)}.`,
    () => `When will the ${pick(products)} be back in stock and shipped to my country?`,
  ],
  feedback: [
    () => `I love the new design of the ${pick(products)}, great job to the team!`,
    () => `Suggestion: add a dark mode to the companion app of the ${pick(products)}.`,
    () => `The setup guide for the ${pick(products)} was very clear, thanks for making it easy.`,
    () => `It would be nice if the ${pick(plans)} plan included more cloud storage.`,
    () => `Your support agent solved my problem quickly, five stars for the service.`,
  ],
};
const categories = Object.keys(templates);
const task = JSON.parse(readFileSync(new URL('./support-tickets.task.json', import.meta.url), 'utf8'));
const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
if (!same(task.jsonSchema.properties.category.enum, categories) || !same(task.jsonSchema.properties.priority.enum, ['low', 'medium', 'high'])) {
  console.error('support-tickets.task.json: the schema\'s category and priority values must be the generator\'s (' + categories.join(', ') + '; low, medium, high)');
  process.exit(2);
}
const urgent = ['URGENT: ', 'Urgent - ', 'ASAP: '];

function ticket() {
  const category = pick(categories);
  let text = pick(templates[category])();
  let priority = category === 'feedback' ? 'low' : (category === 'technical' || category === 'billing' ? 'medium' : pick(['low', 'medium']));
  if (category !== 'feedback' && random() < 0.2) { text = pick(urgent) + text; priority = 'high'; }
  const body = [pick(openers), text, pick(closers)].filter(Boolean).join(' ');
  return { body, answer: { category, priority } };
}

const system = task.systemPrompt;
const line = (t) => JSON.stringify({ messages: [
  { role: 'system', content: system },
  { role: 'user', content: t.body },
  { role: 'assistant', content: JSON.stringify(t.answer) },
] });

const seen = new Set();
const unique = (n) => { const out = []; let guard = 0; while (out.length < n && guard++ < n * 50) { const t = ticket(); if (!seen.has(t.body)) { seen.add(t.body); out.push(t); } } return out; };
const train = unique(trainCount);
const evalSet = unique(evalCount);

const config = {
  baseModel: 'gpt-4o-mini',
  suffix: 'support-tickets',
  seed,
  hyperparameters: { epochs: 2 },
  evaluation: {
    accuracyField: 'category',
    maxCases: evalCount,
    maxParallelism: 4,
    jsonSchema: task.jsonSchema,
  },
  gates: { minJsonValidRate: 0.9, minSchemaAdherence: 0.9, minAccuracy: 0.7, minImprovementOverBaseline: 0.1 },
  alias,
  budget: { maxCostUsd: 5 },
  polling: { minIntervalSeconds: poll, maxIntervalSeconds: Math.max(poll, 2), deadlineHours: 2 },
};

mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'train.jsonl'), train.map(line).join('\n') + '\n');
writeFileSync(join(outDir, 'eval.jsonl'), evalSet.map(line).join('\n') + '\n');
writeFileSync(join(outDir, 'finetune.json'), JSON.stringify(config, null, 2) + '\n');
const counts = Object.fromEntries(categories.map((c) => [c, train.filter((t) => t.answer.category === c).length]));
console.log(`wrote ${train.length} training and ${evalSet.length} evaluation tickets to ${outDir} (seed ${seed}; per category ${JSON.stringify(counts)})`);
