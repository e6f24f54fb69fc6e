#!/usr/bin/env bash
# Builds fto as a Native AOT executable: one native file that needs no .NET runtime and starts in milliseconds.
#
#   scripts/publish-fto.sh              -> .artifacts/fto/fto (this machine's runtime identifier, e.g. linux-x64)
#   scripts/publish-fto.sh --rid RID    -> .artifacts/fto-RID/fto (cross-compiling works from linux-x64 to linux-arm64
#                                          with clang, lld and the target's libc installed; see the Validation README)
#   scripts/publish-fto.sh --pack       -> also .NET tool packages in .artifacts/packages: a pointer package, the native
#                                          package for the RID, and a JIT package for any other platform (RID "any"):
#                                          dotnet tool install -g --add-source .artifacts/packages FineTuneOrchestrator.Fto
#
# Needs the .NET 10 SDK and a C toolchain (gcc or clang, the linker); the SDK restores the ILCompiler packages.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

rid="" pack=false
while [ $# -gt 0 ]; do
  case "$1" in
    --rid) rid="${2:?--rid needs a runtime identifier}"; shift 2 ;;
    --pack) pack=true; shift ;;
    *) echo "usage: scripts/publish-fto.sh [--rid RID] [--pack]" >&2; exit 2 ;;
  esac
done

project=src/FineTuneOrchestrator.Cli/FineTuneOrchestrator.Cli.csproj
host_rid="$(dotnet --info | sed -n 's/^ *RID: *//p' | head -n 1)"
rid="${rid:-$host_rid}"
out=.artifacts/fto
[ "$rid" = "$host_rid" ] || out=".artifacts/fto-$rid"
cross=()
# Cross-compiling (tried from linux-x64 to linux-arm64): clang drives lld with --target and finds the target's
# libc and gcc runtime from Debian's cross packages (clang lld gcc-aarch64-linux-gnu).
[ "$rid" = "$host_rid" ] || cross=(-p:CppCompilerAndLinker=clang -p:LinkerFlavor=lld)

rm -rf "$out"
dotnet publish "$project" -c Release -r "$rid" -p:PublishAot=true ${cross[@]+"${cross[@]}"} -o "$out" -nologo -clp:ErrorsOnly
echo "fto ($rid, Native AOT): $out/fto ($(du -h "$out/fto" | cut -f1))"

if $pack; then
  packages=.artifacts/packages
  mkdir -p "$packages"
  # The pointer package names the RID packages; the native one is this RID's, the "any" one runs on the .NET runtime.
  dotnet pack "$project" -c Release -o "$packages" -nologo -clp:ErrorsOnly
  dotnet pack "$project" -c Release -r "$rid" -p:PublishAot=true -p:CopyOutputSymbolsToPublishDirectory=false ${cross[@]+"${cross[@]}"} -o "$packages" -nologo -clp:ErrorsOnly
  dotnet pack "$project" -c Release -r any -p:PublishAot=false -o "$packages" -nologo -clp:ErrorsOnly
  ls -1 "$packages"/FineTuneOrchestrator.Fto.*.nupkg
fi
