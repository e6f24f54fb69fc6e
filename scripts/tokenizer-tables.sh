#!/usr/bin/env bash
# Rewrites the ready-to-use tokenizer rank tables (src/FineTuneOrchestrator.Validation/Tokenization/Data/*.table.N)
# from the rank files (*.ranks.N, written and checked by scripts/tokenizer-data.mjs), then checks them.
# Run it after `node scripts/tokenizer-data.mjs generate`, or after changing the hash in RankTable.cs.
# The tables are written by the Validation tests (TokenizerTableTests), which in CI require them to match.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
tests=tests/FineTuneOrchestrator.Validation.Tests/FineTuneOrchestrator.Validation.Tests.csproj
FTO_WRITE_TOKENIZER_TABLES=1 dotnet test "$tests" -c Release --nologo --filter "FullyQualifiedName~TokenizerTableTests.ShippedTable"
# A second run embeds the new tables and checks every token through them.
dotnet test "$tests" -c Release --nologo --filter "FullyQualifiedName~TokenizerTableTests"
ls -l src/FineTuneOrchestrator.Validation/Tokenization/Data/*.table.*
