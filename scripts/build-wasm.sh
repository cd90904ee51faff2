#!/usr/bin/env bash
# Builds wasm/training_kernels.wasm from wasm/training_kernels.c with Debian clang + lld
# (apt-get install -y clang lld). The module imports tfjs-backend-wasm's memory and exports its stack pointer,
# which the host points into a block it allocates (see lib/backend/native-kernels.ts).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/wasm/training_kernels.wasm}"
clang --target=wasm32 -O3 -msimd128 -mmutable-globals -nostdlib -ffreestanding -fno-builtin \
  -Wall -Wextra -Werror -Wno-unused-parameter \
  -Wl,--no-entry -Wl,--import-memory -Wl,--export=__stack_pointer -Wl,-z,stack-size=65536 \
  -Wl,--strip-all \
  -o "$out" "$root/wasm/training_kernels.c"
echo "built $out ($(stat -c %s "$out") bytes)"
