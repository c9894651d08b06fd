#!/usr/bin/env bash
# Runs the WebGPU checks on a GPU machine from the kit built by scripts/gpu/build-kit.sh. Needs no
# Node, no internet and no root there. Results go to $OUT (default ./gpu-out), so that other
# checks can share the same device run:
#   summary.txt        what ran, exit codes, durations, the NDJSON results again
#   diag.log           machine, driver, Vulkan loader and ICD, the adapter Dawn sees, and the
#                      stderr of every step (per-kernel profiles and device work included)
#   gradients.ndjson   webgpu gradients vs the cpu backend (scripts/gpu/check-gradients.ts)
#   bench.ndjson       forward/train img/s, webgpu at batch 64, 256, 512 (bench:train)
#   embed.ndjson       embedding forward img/s on webgpu (bench:embed)
#   torch.ndjson       the same training step and forward pass in PyTorch, same machine
# Total run time stays under GPUKIT_BUDGET_S seconds (default 330: the device call allows 360).
#
#   bash .gpukit/run-on-device.sh                      # on the GPU machine
#   bash .gpukit/run-on-device.sh --swiftshader DIR    # here: SwiftShader's Vulkan, tiny sizes
set -uo pipefail

SELF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -f "$SELF_DIR/node.xz" ]; then KIT="$SELF_DIR"; else KIT="$(cd "$SELF_DIR/../.." && pwd)/.gpukit"; fi
SWIFTSHADER=""
if [ "${1:-}" = "--swiftshader" ]; then SWIFTSHADER=$(cd "${2:?--swiftshader needs the folder of env.sh}" && pwd); fi
OUT=${OUT:-$PWD/gpu-out}
BUDGET=${GPUKIT_BUDGET_S:-330}
START=$(date +%s)
mkdir -p "$OUT"
SUMMARY="$OUT/summary.txt"
DIAG="$OUT/diag.log"
: > "$SUMMARY"
: > "$DIAG"

LDCONFIG=$(command -v ldconfig || echo /sbin/ldconfig)
note() { printf '%s\n' "$*" | tee -a "$SUMMARY" >&2; }
elapsed() { echo $(( $(date +%s) - START )); }
# Seconds for the next step: its own limit, or what is left of the budget.
allow() { local left=$(( BUDGET - $(elapsed) )); [ "$1" -lt "$left" ] && echo "$1" || echo "$left"; }

note "gpukit: start $(date -u +%FT%TZ), kit $KIT, out $OUT, budget ${BUDGET}s" \
  "${SWIFTSHADER:+(SwiftShader from $SWIFTSHADER, tiny sizes)}"
if [ ! -f "$KIT/node.xz" ]; then note "gpukit: no kit at $KIT (run scripts/gpu/build-kit.sh first)"; exit 1; fi

# --- unpack -----------------------------------------------------------------------------------
RUN=$(mktemp -d "${TMPDIR:-/tmp}/gpukit.XXXXXX")
unxz_to() { # src.xz dest: xz if present, else Python's lzma
  if command -v xz >/dev/null 2>&1; then xz -dc "$1" > "$2"
  else python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2],"wb"))' "$1" "$2"; fi
}
cp -r "$KIT/node_modules" "$KIT/wasm" "$KIT/torch" "$KIT"/*.mjs "$RUN/"
unxz_to "$KIT/node.xz" "$RUN/node" && chmod +x "$RUN/node"
unxz_to "$KIT/node_modules/webgpu/dist/linux-x64/dawn.node.xz" "$RUN/node_modules/webgpu/dist/linux-x64/dawn.node"
rm -f "$RUN/node_modules/webgpu/dist/linux-x64/dawn.node.xz"
export TFJS_WASM_DIR="$RUN/wasm/"
NODE="$RUN/node"
if ! "$NODE" --version >/dev/null 2>&1; then
  # This machine's libstdc++ is missing or too old: use the one that came with the kit.
  mkdir -p "$RUN/lib" && unxz_to "$KIT/lib-fallback/libstdc++.so.6.xz" "$RUN/lib/libstdc++.so.6" && cp "$KIT/lib-fallback/libgcc_s.so.1" "$RUN/lib/"
  export LD_LIBRARY_PATH="$RUN/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
note "node: $("$NODE" --version 2>&1 | head -1) (unpacked in $(elapsed)s)"

# --- Vulkan: loader, GL dispatch libraries, ICD ---------------------------------------------------
{
  echo "== machine"; uname -a; head -2 /etc/os-release 2>/dev/null; ldd --version 2>&1 | head -1; nproc
  echo "== nvidia-smi"; timeout 20 nvidia-smi 2>&1 | head -20
  echo "== env"; env | grep -E '^(NVIDIA|VK_|LD_LIBRARY|CUDA)' | sort
  echo "== ICD folders"; ls -l /usr/local/nvidia/share/vulkan/icd.d /usr/share/vulkan/icd.d /etc/vulkan/icd.d 2>&1
  echo "== vulkan / nvidia libraries known to ld.so"
  "$LDCONFIG" -p 2>/dev/null | grep -Ei 'vulkan|GLX|GLdispatch|EGL_nvidia' | head -20
} >> "$DIAG" 2>&1

# Unpacks a .deb's files under $2 without dpkg if need be (a .deb is an ar archive of tarballs).
unpack_deb() {
  if command -v dpkg >/dev/null 2>&1; then dpkg -x "$1" "$2"; return; fi
  python3 - "$1" "$2" <<'PY'
import io, sys, tarfile
data = open(sys.argv[1], 'rb').read()
pos = 8
while pos < len(data):
    name = data[pos:pos + 16].decode().strip().rstrip('/')
    size = int(data[pos + 48:pos + 58].decode().strip())
    body = data[pos + 60:pos + 60 + size]
    if name.startswith('data.tar'):
        tarfile.open(fileobj=io.BytesIO(body)).extractall(sys.argv[2])
    pos += 60 + size + (size % 2)
PY
}

if [ -n "$SWIFTSHADER" ]; then
  export VK_DRIVER_FILES="$SWIFTSHADER/vk_swiftshader_icd.json" VK_ICD_FILENAMES="$SWIFTSHADER/vk_swiftshader_icd.json"
  export LD_LIBRARY_PATH="$SWIFTSHADER${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  note "vulkan: SwiftShader ($VK_DRIVER_FILES)"
else
  if ls "$KIT"/vulkan-debs/*.deb >/dev/null 2>&1; then
    # The NVIDIA ICD (libGLX_nvidia) needs libGLdispatch & co., which the machine lacks; the
    # loader too, on some. Ours go first on the library path: no root, nothing installed.
    for deb in "$KIT"/vulkan-debs/*.deb; do
      unpack_deb "$deb" "$RUN/vk" >> "$DIAG" 2>&1 || note "vulkan: could not unpack $deb"
    done
    export LD_LIBRARY_PATH="$RUN/vk/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    note "vulkan: loader and GL dispatch libraries from the kit ($(ls "$KIT"/vulkan-debs | wc -l) Debian packages)"
  else
    note "vulkan: no packages in the kit; using the machine's own libraries"
  fi
  [ -d /usr/local/nvidia/lib64 ] && export LD_LIBRARY_PATH="$LD_LIBRARY_PATH:/usr/local/nvidia/lib64"
  ICD=""
  for candidate in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json \
                   /etc/vulkan/icd.d/nvidia_icd.json /usr/local/share/vulkan/icd.d/nvidia_icd.json; do
    if [ -f "$candidate" ]; then ICD="$candidate"; break; fi
  done
  if [ -z "$ICD" ]; then
    # The driver's libraries without an ICD manifest: write one (the Vulkan driver lives in
    # libGLX_nvidia or libEGL_nvidia and exports vk_icdGetInstanceProcAddr).
    for lib in libGLX_nvidia.so.0 libEGL_nvidia.so.0; do
      path=$("$LDCONFIG" -p 2>/dev/null | grep -m1 "$lib" | sed 's/.*=> //')
      [ -z "$path" ] && for dir in /usr/local/nvidia/lib64 /usr/lib/x86_64-linux-gnu /usr/lib64; do
        [ -f "$dir/$lib" ] && path="$dir/$lib" && break
      done
      if [ -n "$path" ]; then
        mkdir -p "$RUN/icd"
        printf '{ "file_format_version": "1.0.0", "ICD": { "library_path": "%s", "api_version": "1.3.0" } }\n' \
          "$path" > "$RUN/icd/nvidia_icd.json"
        ICD="$RUN/icd/nvidia_icd.json"
        break
      fi
    done
  fi
  if [ -n "$ICD" ]; then
    export VK_DRIVER_FILES="$ICD" VK_ICD_FILENAMES="$ICD"
    note "vulkan ICD: $ICD"
    { echo "== ICD $ICD"; cat "$ICD"; } >> "$DIAG" 2>&1
  else
    note "vulkan ICD: no NVIDIA ICD manifest and no libGLX_nvidia/libEGL_nvidia found"
  fi
fi

# --- what Dawn sees -----------------------------------------------------------------------------
cat > "$RUN/probe.mjs" <<'EOF'
import { create } from 'webgpu';
const gpu = create([]);
const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
if (!adapter) { console.log('adapter: none'); process.exit(3); }
const { vendor, architecture, device, description } = adapter.info;
console.log('adapter:', JSON.stringify({ vendor, architecture, device, description }));
console.log('features:', [...adapter.features].join(' '));
const l = adapter.limits;
console.log('limits:', JSON.stringify({ maxBufferSize: l.maxBufferSize, maxStorageBufferBindingSize: l.maxStorageBufferBindingSize, maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize, maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup }));
process.exit(0);
EOF
echo "== Dawn probe (VK_LOADER_DEBUG=error,warn)" >> "$DIAG"
(cd "$RUN" && VK_LOADER_DEBUG=error,warn timeout "$(allow 40)" "$NODE" probe.mjs) >> "$DIAG" 2>&1
PROBE=$?
note "dawn probe: exit $PROBE ($(grep -m1 '^adapter' "$DIAG" || echo 'no adapter line'))"

# --- the checks ---------------------------------------------------------------------------------
step() { # name limit outfile command args...
  local name=$1 limit; limit=$(allow "$2"); local out=$3; shift 3
  if [ "$limit" -lt 10 ]; then note "$name: skipped, budget spent"; return; fi
  local t0; t0=$(date +%s)
  echo "== $name: $*" >> "$DIAG"
  (cd "$RUN" && timeout "$limit" "$@") >> "$out" 2>> "$DIAG"
  local rc=$?
  note "$name: exit $rc in $(( $(date +%s) - t0 ))s (limit ${limit}s)$([ $rc -eq 124 ] && echo ', TIMED OUT')"
}

if [ -n "$SWIFTSHADER" ]; then
  # Sizes that finish on a CPU: the point here is that every step runs, not its speed.
  GRAD_ARGS=(--blocks '1,1,1' --batch 2); TRAIN_BLOCKS=1,1,1; BATCHES=4; BIG_BATCH=""; PROFILE_BATCH=4
  EMBED_ARGS=(--engines tfjs-webgpu-folded --blocks 1,1,1 --batches 8 --seconds 1)
  TORCH_ARGS=(--cpu --blocks 1,1,1 --batch 4 --iterations 1)
  ITER=1
else
  GRAD_ARGS=(--blocks '1,1,1;6,6,12' --batch 4); TRAIN_BLOCKS=seed; BATCHES=64,256; BIG_BATCH=512; PROFILE_BATCH=256
  EMBED_ARGS=(--engines tfjs-webgpu-folded,tfjs-webgpu-layers --blocks seed --batches 256,512 --seconds 3)
  TORCH_ARGS=(--batch 64,256,512 --iterations 10)
  ITER=5
fi

step "gradients webgpu vs cpu" 120 "$OUT/gradients.ndjson" \
  "$NODE" check-gradients.mjs --backend webgpu "${GRAD_ARGS[@]}"
step "bench webgpu, batch $BATCHES" 120 "$OUT/bench.ndjson" \
  "$NODE" bench-train.mjs --backend webgpu --blocks "$TRAIN_BLOCKS" --batch "$BATCHES" --iterations "$ITER" --json
[ -n "$BIG_BATCH" ] && step "bench webgpu, batch $BIG_BATCH" 60 "$OUT/bench.ndjson" \
  "$NODE" bench-train.mjs --backend webgpu --blocks "$TRAIN_BLOCKS" --batch "$BIG_BATCH" --iterations 3 --json
step "bench webgpu, device work and kernel profile at batch $PROFILE_BATCH" 60 "$DIAG" \
  "$NODE" bench-train.mjs --backend webgpu --blocks "$TRAIN_BLOCKS" --batch "$PROFILE_BATCH" --iterations 1 --profile
step "bench:embed webgpu" 45 "$OUT/embed.ndjson" \
  "$NODE" bench-embed.mjs --json "${EMBED_ARGS[@]}"
if command -v python3 >/dev/null 2>&1; then
  step "pytorch, same step" 75 "$OUT/torch.ndjson" python3 torch/torch_train_step.py "${TORCH_ARGS[@]}"
else
  note "pytorch: no python3 on this machine"
fi

{
  echo "== results"
  for f in bench embed torch; do [ -f "$OUT/$f.ndjson" ] && { echo "-- $f.ndjson"; cat "$OUT/$f.ndjson"; }; done
  [ -f "$OUT/gradients.ndjson" ] && { echo "-- gradients summary"; grep '"summary"' "$OUT/gradients.ndjson"; }
  echo "-- device work and profile (from diag.log)"
  grep -A 14 '^device work of one training step' "$DIAG"
  echo "gpukit: done in $(elapsed)s"
} >> "$SUMMARY"
rm -rf "$RUN"
exit 0
