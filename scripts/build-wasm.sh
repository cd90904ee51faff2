#!/usr/bin/env bash
# Builds the training kernels (wasm/training_kernels.c) with Debian clang + lld (apt-get install -y clang lld):
#   wasm/training_kernels.wasm          for the single-threaded tfjs wasm build (plain memory)
#   wasm/training_kernels-shared.wasm   for the threaded build (shared memory)
# Both import tfjs-backend-wasm's memory and export their stack pointer, which the host points into a block it
# allocates (see lib/backend/native-kernels.ts). Usage: build-wasm.sh [output folder]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/wasm}"
common=(--target=wasm32 -O3 -msimd128 -mmutable-globals -nostdlib -ffreestanding -fno-builtin
  -Wall -Wextra -Werror -Wno-unused-parameter
  -Wl,--no-entry -Wl,--import-memory -Wl,--export=__stack_pointer -Wl,-z,stack-size=65536 -Wl,--strip-all)
clang "${common[@]}" -o "$out/training_kernels.wasm" "$root/wasm/training_kernels.c"
clang "${common[@]}" -matomics -mbulk-memory -Wl,--shared-memory -Wl,--max-memory=4294967296 \
  -o "$out/training_kernels-shared.wasm" "$root/wasm/training_kernels.c"
echo "built $out/training_kernels.wasm and $out/training_kernels-shared.wasm"
