#!/usr/bin/env bash
# Builds .gpukit/: everything the WebGPU checks need on a GPU machine that has no Node and no
# internet (x86-64 Linux, glibc >= 2.34): Node itself, esbuild bundles of the training and
# embedding benchmarks and the gradient check, Dawn (the `webgpu` package's dawn.node), tfjs's
# wasm binaries, the Vulkan loader and GL dispatch libraries the NVIDIA ICD needs
# (../shared/tools/device-vulkan/*.deb), the PyTorch comparison, and run-on-device.sh. Run here,
# from anywhere in the repository:
#
#   bash scripts/gpu/build-kit.sh            # then, on the device: bash .gpukit/run-on-device.sh
#
# Compressed parts are unpacked by run-on-device.sh. Total size is checked against 60 MiB.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
KIT="$ROOT/.gpukit"
LIMIT_MIB=60
cd "$ROOT"

say() { printf 'build-kit: %s\n' "$*" >&2; }

NODE_BIN=$(readlink -f "$(command -v node)")
# Compressing Node takes minutes on a busy machine: keep the previous node.xz if it is this Node's.
KEEP=""
if [ -f "$KIT/node.xz" ] && [ "$(cat "$KIT/node-version.txt" 2>/dev/null)" = "$("$NODE_BIN" --version) $(stat -c %s "$NODE_BIN")" ]; then
  KEEP=$(mktemp) && mv "$KIT/node.xz" "$KEEP"
fi
rm -rf "$KIT"
mkdir -p "$KIT/node_modules/webgpu/dist/linux-x64" "$KIT/wasm" "$KIT/vulkan-debs" "$KIT/lib-fallback" "$KIT/torch"

# 1. Node, the very binary that runs the project here.
say "node $("$NODE_BIN" --version) from $NODE_BIN"
if [ -n "$KEEP" ]; then mv "$KEEP" "$KIT/node.xz"; else xz -T2 -6 -c "$NODE_BIN" > "$KIT/node.xz"; fi
echo "$("$NODE_BIN" --version) $(stat -c %s "$NODE_BIN")" > "$KIT/node-version.txt"
# libstdc++/libgcc of this machine, used only if the device's are missing or too old.
for lib in libstdc++.so.6 libgcc_s.so.1; do
  cp -L "/lib/x86_64-linux-gnu/$lib" "$KIT/lib-fallback/$lib"
done
xz -T2 -6 "$KIT/lib-fallback/libstdc++.so.6"

# 2. Bundles: our TypeScript and tfjs in one file each. `webgpu` stays outside (it loads
#    dawn.node from its own folder); CommonJS parts of tfjs need a real
#    `require`, `__dirname` and `__filename`.
#    --ignore-annotations: tfjs packages declare "sideEffects" lists that would drop the
#    `import '@tensorflow/tfjs-backend-cpu'` that registers the cpu backend.
ESBUILD="$ROOT/node_modules/.bin/esbuild"
BANNER="import { createRequire as __createRequire } from 'node:module'; import { fileURLToPath as __fileURLToPath } from 'node:url'; import { dirname as __pathDirname } from 'node:path'; const require = __createRequire(import.meta.url); const __filename = __fileURLToPath(import.meta.url); const __dirname = __pathDirname(__filename);"
for entry in scripts/bench-train.ts scripts/bench-embed.ts scripts/gpu/check-gradients.ts; do
  name=$(basename "$entry" .ts)
  "$ESBUILD" "$entry" --bundle --platform=node --format=esm --target=node20 --log-level=warning --ignore-annotations \
    --external:webgpu --external:@tensorflow/tfjs-node --external:@tensorflow/tfjs-node-gpu \
    --external:onnxruntime-node --external:@napi-rs/canvas \
    --banner:js="$BANNER" --outfile="$KIT/$name.mjs"
done

# The data-parallel trainer (src/train/parallel/pool.ts) resolves tsx's loader when its module
# loads, for its TypeScript worker entry; the bundles never start workers (webgpu), so a stub
# package that only resolves is enough.
mkdir -p "$KIT/node_modules/tsx"
printf '{ "name": "tsx", "type": "module", "exports": { "./esm/api": "./api.mjs" } }\n' > "$KIT/node_modules/tsx/package.json"
printf 'throw new Error("tsx is not in the GPU kit: --workers cannot run from its bundles");\n' > "$KIT/node_modules/tsx/api.mjs"

# 3. Dawn: the package's entry, its package.json (type: module) and the Linux x64 binary.
cp node_modules/webgpu/index.js node_modules/webgpu/package.json "$KIT/node_modules/webgpu/"
xz -T2 -6 -c node_modules/webgpu/dist/linux-x64/dawn.node > "$KIT/node_modules/webgpu/dist/linux-x64/dawn.node.xz"

# 4. tfjs wasm binaries (the bundles find them through TFJS_WASM_DIR).
cp node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm \
   node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm "$KIT/wasm/"

# 5. Vulkan for the NVIDIA driver: Debian's loader and GL dispatch libraries (see
#    ../shared/tools/device-vulkan/README.md); run-on-device.sh unpacks them without root.
SHARED_VULKAN="$ROOT/../shared/tools/device-vulkan"
if ls "$SHARED_VULKAN"/*.deb >/dev/null 2>&1; then
  cp "$SHARED_VULKAN"/*.deb "$KIT/vulkan-debs/"
  say "vulkan: $(ls "$KIT/vulkan-debs" | tr '\n' ' ')"
else
  say "WARNING: no $SHARED_VULKAN/*.deb; the kit relies on the device's own Vulkan loader"
fi

# 6. The same training step in PyTorch, for a same-machine ratio.
cp scripts/gpu/torch_train_step.py scripts/gpu/torch_resnet.py "$KIT/torch/"

# 7. The script that runs on the device.
cp scripts/gpu/run-on-device.sh "$KIT/run-on-device.sh"
chmod +x "$KIT/run-on-device.sh"

SIZE_KIB=$(du -sk "$KIT" | cut -f1)
say "kit: $KIT, $((SIZE_KIB / 1024)) MiB"
find "$KIT" -type f -printf '  %8s  %P\n' | sort -k2 >&2
if [ "$SIZE_KIB" -gt $((LIMIT_MIB * 1024)) ]; then
  say "ERROR: the kit is over $LIMIT_MIB MiB"
  exit 1
fi
