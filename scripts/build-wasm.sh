#!/usr/bin/env bash
# Builds the training kernels (wasm/training_kernels.c) with Debian clang + lld (apt-get install -y clang lld):
#   wasm/training_kernels.wasm                  for the single-threaded tfjs wasm build (plain memory)
#   wasm/training_kernels-shared.wasm           for the threaded build (shared memory)
#   wasm/training_kernels-relaxed.wasm          the same two with relaxed SIMD (fused multiply-add in the
#   wasm/training_kernels-relaxed-shared.wasm   product sums), chosen at start-up where the runtime accepts them
# All import tfjs-backend-wasm's memory and export their stack pointer, which the host points into a block it
# allocates (see lib/backend/native-kernels.ts). Usage: build-wasm.sh [output folder]; CLANG=... picks the
# compiler (default clang, else clang-19).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/wasm}"
clang="${CLANG:-}"
if [ -z "$clang" ]; then
  if command -v clang >/dev/null; then clang=clang; else clang=clang-19; fi
fi
# -ffp-contract=off: products and sums are fused only where the source says so (MADD in the relaxed build).
common=(--target=wasm32 -O3 -msimd128 -mmutable-globals -nostdlib -ffreestanding -fno-builtin -ffp-contract=off
  -Wall -Wextra -Werror -Wno-unused-parameter
  -Wl,--no-entry -Wl,--import-memory -Wl,--export=__stack_pointer -Wl,-z,stack-size=65536 -Wl,--strip-all)
shared=(-matomics -mbulk-memory -Wl,--shared-memory -Wl,--max-memory=4294967296)
src="$root/wasm/training_kernels.c"
"$clang" "${common[@]}" -o "$out/training_kernels.wasm" "$src"
"$clang" "${common[@]}" "${shared[@]}" -o "$out/training_kernels-shared.wasm" "$src"
"$clang" "${common[@]}" -mrelaxed-simd -o "$out/training_kernels-relaxed.wasm" "$src"
"$clang" "${common[@]}" "${shared[@]}" -mrelaxed-simd -o "$out/training_kernels-relaxed-shared.wasm" "$src"
echo "built $out/training_kernels{,-shared,-relaxed,-relaxed-shared}.wasm"
