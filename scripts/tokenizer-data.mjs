#!/usr/bin/env node
// Tokenizer data for FineTuneOrchestrator.Validation, produced from the npm package `tiktoken` (MIT, OpenAI's
// tiktoken core compiled to WASM). Run from the repository root after `npm ci`.
//
//   node scripts/tokenizer-data.mjs generate   rewrite the shipped rank files and the reference token IDs
//   node scripts/tokenizer-data.mjs check      verify the shipped files against tiktoken (exit 1 on any difference)
//   node scripts/tokenizer-data.mjs encode ENCODING IN.json OUT.json
//                                              encode a JSON array of strings; writes an array of token-ID arrays
//                                              (used by the live exactness test)
//
// Shipped rank file format, split into parts of at most 1,000,000 bytes (*.ranks.0, *.ranks.1, ...) and loaded
// uncompressed (decompressing would cost start-up time on every run):
//   "FTOBPE01" | uint32 LE entry count | uint32 LE max rank | entries in rank order:
//   varint (rank - previous rank - 1) | varint byte length | token bytes
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(path.join(root, "package.json"));
const tiktokenDir = path.dirname(require.resolve("tiktoken")); // tiktoken.cjs sits at the package root
const { Tiktoken } = require("tiktoken/lite");

const dataDir = path.join(root, "src/FineTuneOrchestrator.Validation/Tokenization/Data");
const referenceFile = path.join(root, "tests/FineTuneOrchestrator.Validation.Tests/TestData/tokenizer-reference.json");
const encodings = ["o200k_base", "cl100k_base"];

// The C# pre-tokenizer is written by hand for exactly these patterns; a new tiktoken pattern must fail the check.
const expectedPatterns = {
  o200k_base: String.raw`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`,
  cl100k_base: String.raw`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`,
};

function loadEncoding(name) {
  const json = JSON.parse(fs.readFileSync(path.join(tiktokenDir, "encoders", `${name}.json`), "utf8"));
  const ranks = new Map(); // rank -> Buffer
  for (const line of json.bpe_ranks.split("\n")) {
    if (!line) continue;
    const [, offsetStr, ...tokens] = line.split(" ");
    const offset = Number.parseInt(offsetStr, 10);
    tokens.forEach((t, i) => ranks.set(offset + i, Buffer.from(t, "base64")));
  }
  const core = new Tiktoken(json.bpe_ranks, json.special_tokens, json.pat_str);
  return { json, ranks, core };
}

function varint(n, out) {
  while (n >= 0x80) { out.push((n & 0x7f) | 0x80); n >>>= 7; }
  out.push(n);
}

function buildRankFile(ranks) {
  const sorted = [...ranks.keys()].sort((a, b) => a - b);
  const out = [];
  let prev = -1;
  for (const rank of sorted) {
    const bytes = ranks.get(rank);
    varint(rank - prev - 1, out); varint(bytes.length, out);
    for (const b of bytes) out.push(b);
    prev = rank;
  }
  const header = Buffer.alloc(16);
  header.write("FTOBPE01", 0, "ascii");
  header.writeUInt32LE(sorted.length, 8);
  header.writeUInt32LE(prev, 12);
  return Buffer.concat([header, Buffer.from(out)]);
}

const PART_SIZE = 1_000_000;

function writeParts(name, raw) {
  for (const old of fs.readdirSync(dataDir)) if (old.startsWith(`${name}.`)) fs.rmSync(path.join(dataDir, old));
  const parts = [];
  for (let i = 0, offset = 0; offset < raw.length; i++, offset += PART_SIZE) {
    const file = path.join(dataDir, `${name}.ranks.${i}`);
    fs.writeFileSync(file, raw.subarray(offset, offset + PART_SIZE));
    parts.push(path.relative(root, file));
  }
  return parts;
}

function readParts(name) {
  const parts = [];
  for (let i = 0; fs.existsSync(path.join(dataDir, `${name}.ranks.${i}`)); i++) parts.push(fs.readFileSync(path.join(dataDir, `${name}.ranks.${i}`)));
  return Buffer.concat(parts);
}

// Every rank must decode, through the official core, to the bytes we ship.
function verifyAgainstCore(name, enc) {
  let bad = 0;
  for (const [rank, bytes] of enc.ranks) {
    const fromCore = Buffer.from(enc.core.decode_single_token_bytes(rank));
    if (!fromCore.equals(bytes)) { if (bad++ < 5) console.error(`${name}: rank ${rank} differs from the tiktoken core`); }
  }
  if (enc.json.pat_str !== expectedPatterns[name]) { console.error(`${name}: tiktoken's pre-tokenizer pattern changed; update the C# pre-tokenizer`); bad++; }
  return bad;
}

// The exactness corpus: each entry is one string; reference IDs come from the official core.
function corpus() {
  const c = [
    "Hello, world! This is a test.",
    "",
    " ",
    "   leading and trailing spaces   ",
    "Don't you think it's fine? I'M SURE THEY'RE RIGHT, WE'VE SEEN IT, YOU'LL SEE, HE'D KNOW.",
    "it'S mixed CaSe: I'm, i'M, we'Re, You'Ve, she'Ll, He'D, 'tis 'T",
    "long s contraction: it'ſ and IT'ſ",
    "quote-only: ' '' ''' 's 'S 'x 're're",
    "Multilingual: Français, Español (niño), Deutsch (Straße, ẞ), Polski (źdźbło), Čeština, Türkçe (İstanbul, ı).",
    "Русский текст: Привет, как дела? Українська: Їжак, ґанок.",
    "Ελληνικά: Καλημέρα κόσμε. עברית: שלום עולם. العربية: مرحبا بالعالم.",
    "हिन्दी: नमस्ते दुनिया। தமிழ்: வணக்கம். ไทย: สวัสดีชาวโลก",
    "中文：你好，世界！日本語：こんにちは、世界。カタカナ。한국어: 안녕하세요 세계",
    "Emoji: 😀 👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈 ❤️ 🇩🇪🇯🇵 🧑🏿‍💻 ✋🏻 *️⃣ 1️⃣",
    "Skin tones alone: 🏻🏼🏽🏾🏿 and ZWJ alone \u200d, VS16 \ufe0f after text\ufe0f",
    "Math alphanumerics: 𝐀𝐁𝐂 𝑎𝑏𝑐 𝒜ℬ𝒞 𝔄𝔅 𝕏𝕐 𝟎𝟏𝟐𝟑 𝟘𝟙𝟚 𝚊𝚋𝚌",
    "Bold caps then lower: 𝐇𝐞𝐥𝐥𝐨 𝐖𝐎𝐑𝐋𝐃 𝐰𝐨𝐫𝐥𝐝",
    "CJK Extension B: 𠀀𠀁𠀂 𪚥 𠮷野家 𩸽 𡈽",
    "Other astral: 𐐀𐐨 (Deseret) 𓀀𓀁 (hieroglyphs) 𝄞 (music) 🄰🄱 (enclosed) 𞤀𞤢 (Adlam) 𑁦𑁧 (Brahmi digits)",
    "Combining: e\u0301 a\u0308 n\u0303 \u0301 starts with mark; Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334\u0319A\u0360\u035cL\u0321G\u031aO",
    "Digits: 1 12 123 1234 12345 123456789012345678901234567890 3.14159 1,000,000 -42 +7e10",
    "Other numbers: ½ ¾ ² ³ Ⅻ ⅻ ٣٤٥ ۱۲۳ ४५६ ๑๒๓ 〇 二三",
    "Code: for (int i = 0; i < n; i++) { sum += a[i]; }\n\tif (x != null) return x?.Value ?? 0;\n",
    "def f(x):\n    return {'a': [1, 2, 3], \"b\": None}  # comment\n\n\nclass A(B):\n    pass\n",
    "<html><body><div class=\"x\">Text &amp; more</div></body></html>",
    "SELECT id, name FROM users WHERE email LIKE '%@example.com' ORDER BY id DESC;",
    "path/to/file.txt C:\\Windows\\System32 https://example.com/a/b?c=d&e=f#g //comment /* block */",
    "JSON: {\"category\":\"bug\",\"urgency\":\"high\",\"summary\":\"Login fails.\"}",
    "Whitespace: a  b   c    d\t\te\n\nf\r\ng\r\n\r\nh \n i \r\n j\u00a0k\u00a0\u00a0l\u2003m\u3000n\u2028o\u2029p\u0085q\u000bv\u000cw",
    "trailing spaces then newline   \n   leading",
    "     ",
    "\n\n\n",
    "\r\n\r\n",
    " \n \n ",
    "\t \t\n",
    "line1\nline2\r\nline3\rline4",
    "punctuation!!! ??? ... --- *** /// \\\\ ||| ,,, ;;; ::: ''' \"\"\" ``` ~~~",
    "slash runs: //\n// a/ /b /\r\n/",
    "Symbols: © ® ™ € £ ¥ ₹ ° ± × ÷ ∞ ≈ ≠ ≤ ≥ → ← ↑ ↓ ★ ☆ ♠ ♣ ♥ ♦ ✓ ✗",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "ThisIsCamelCaseIdentifier and snake_case_identifier and SCREAMING_CASE and kebab-case-word",
    "McDonald's iPhone eBay HTTPServer XMLHttpRequest ÀÉÎõü ǅungla ǈj ǋa (titlecase digraphs)",
    "Modifier letters: ʰʲʷ ˈstress ˌsecondary ᵃᵇᶜ ꜛ and Lo: ª º ƻ ǀ",
    "\u00ad soft hyphen, \u200b zero width space, \u2060 word joiner, \ufeff BOM inside",
    "Private use: \ue000\uf8ff and replacement \ufffd and nonchar \uffff",
    "Ümlaut at start, élan, Œuvre, ǲ, İ, Å",
    "12abc abc12 a1b2c3 1st 2nd 3rd 4th 100%",
    "email: jane.doe+tag@example.co.uk, phone +1 (555) 123-4567",
    "Mixed scripts: Helloмир世界🌍مرحبا",
    "x".repeat(300),
    "9".repeat(100),
    " ".repeat(50) + "end",
    "ab\u0301\u0301cd \u0301\u0301 ,\u0301x",
    "A\u0300B\u0301C",
    "don’t (curly apostrophe) vs don't",
  ];
  return c;
}

function generate() {
  const refs = [];
  fs.mkdirSync(dataDir, { recursive: true });
  let bad = 0;
  const encs = {};
  for (const name of encodings) {
    const enc = loadEncoding(name);
    encs[name] = enc;
    bad += verifyAgainstCore(name, enc);
    const raw = buildRankFile(enc.ranks);
    const parts = writeParts(name, raw);
    console.log(`${name}: ${enc.ranks.size} ranks, ${raw.length} bytes -> ${parts.join(", ")}`);
  }
  for (const text of corpus()) {
    const entry = { text };
    for (const name of encodings) entry[name] = [...encs[name].core.encode_ordinary(text)];
    refs.push(entry);
  }
  fs.mkdirSync(path.dirname(referenceFile), { recursive: true });
  // One entry per line keeps diffs readable.
  const body = refs.map((e) => "  " + JSON.stringify(e)).join(",\n");
  fs.writeFileSync(referenceFile, `{"source": "npm tiktoken 1.0.22 encode_ordinary", "entries": [\n${body}\n]}\n`);
  console.log(`${refs.length} reference strings -> ${path.relative(root, referenceFile)}`);
  for (const e of Object.values(encs)) e.core.free();
  if (bad) { console.error(`${bad} problems`); process.exit(1); }
}

function check() {
  let bad = 0;
  const encs = {};
  for (const name of encodings) {
    const enc = loadEncoding(name);
    encs[name] = enc;
    bad += verifyAgainstCore(name, enc);
    const shipped = readParts(name);
    if (!shipped.equals(buildRankFile(enc.ranks))) { console.error(`${name}: shipped rank file differs from tiktoken's ranks`); bad++; }
    else console.log(`${name}: shipped rank file matches tiktoken (${enc.ranks.size} ranks)`);
  }
  const ref = JSON.parse(fs.readFileSync(referenceFile, "utf8"));
  for (const entry of ref.entries) {
    for (const name of encodings) {
      const ids = [...encs[name].core.encode_ordinary(entry.text)];
      if (JSON.stringify(ids) !== JSON.stringify(entry[name])) { console.error(`${name}: reference IDs differ for ${JSON.stringify(entry.text).slice(0, 60)}`); bad++; }
    }
  }
  console.log(`${ref.entries.length} reference strings checked`);
  for (const e of Object.values(encs)) e.core.free();
  if (bad) { console.error(`${bad} problems`); process.exit(1); }
  console.log("ok");
}

function encode(name, input, output) {
  const json = JSON.parse(fs.readFileSync(path.join(tiktokenDir, "encoders", `${name}.json`), "utf8"));
  const core = new Tiktoken(json.bpe_ranks, json.special_tokens, json.pat_str);
  const texts = JSON.parse(fs.readFileSync(input, "utf8"));
  fs.writeFileSync(output, JSON.stringify(texts.map((t) => [...core.encode_ordinary(t)])));
  core.free();
}

const [cmd, ...args] = process.argv.slice(2);
if (cmd === "generate") generate();
else if (cmd === "check") check();
else if (cmd === "encode" && args.length === 3) encode(...args);
else { console.error("usage: node scripts/tokenizer-data.mjs generate | check | encode ENCODING IN.json OUT.json"); process.exit(2); }
