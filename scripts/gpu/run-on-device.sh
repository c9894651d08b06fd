#!/usr/bin/env bash
# Runs the WebGPU checks on a GPU machine from the kit built by scripts/gpu/build-kit.sh. Needs no
# Node and no internet there. Results go to $OUT (default ./gpu-out), four files, so that other
# checks can share the same device run:
#   summary.txt        what ran, exit codes, durations, the NDJSON results again
#   diag.log           machine, driver, Vulkan loader and ICD, the adapter Dawn sees, and the
#                      stderr of every step (per-kernel profile included), each under a header
#   gradients.ndjson   webgpu gradients vs the cpu backend (scripts/gpu/check-gradients.ts)
#   bench.ndjson       forward/train img/s: webgpu at batch 64, 256, 512; wasm at 64 (comparison)
# Total run time stays under GPUKIT_BUDGET_S seconds (default 450).
set -uo pipefail

SELF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -f "$SELF_DIR/node.xz" ]; then KIT="$SELF_DIR"; else KIT="$(cd "$SELF_DIR/../.." && pwd)/.gpukit"; fi
OUT=${OUT:-$PWD/gpu-out}
BUDGET=${GPUKIT_BUDGET_S:-450}
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

note "gpukit: start $(date -u +%FT%TZ), kit $KIT, out $OUT, budget ${BUDGET}s"
if [ ! -f "$KIT/node.xz" ]; then note "gpukit: no kit at $KIT (run scripts/gpu/build-kit.sh first)"; exit 1; fi

# --- unpack -----------------------------------------------------------------------------------
RUN=$(mktemp -d "${TMPDIR:-/tmp}/gpukit.XXXXXX")
unxz_to() { # src.xz dest: xz if present, else Python's lzma
  if command -v xz >/dev/null 2>&1; then xz -dc "$1" > "$2"
  else python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2],"wb"))' "$1" "$2"; fi
}
cp -r "$KIT/node_modules" "$KIT/wasm" "$KIT"/*.mjs "$RUN/"
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

# --- Vulkan: loader and NVIDIA ICD --------------------------------------------------------------
{
  echo "== machine"; uname -a; cat /etc/os-release 2>/dev/null | head -2; ldd --version 2>&1 | head -1; nproc
  echo "== nvidia-smi"; timeout 20 nvidia-smi 2>&1 | head -20
  echo "== env"; env | grep -E '^(NVIDIA|VK_|LD_LIBRARY|CUDA)' | sort
  echo "== ICD folders"; ls -l /usr/local/nvidia/share/vulkan/icd.d /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/share/vulkan/icd.d 2>&1
  echo "== vulkan / nvidia libraries known to ld.so"; "$LDCONFIG" -p 2>/dev/null | grep -Ei 'vulkan|GLX_nvidia|EGL_nvidia|nvidia-glcore|nvidia-gpucomp' | head -20
} >> "$DIAG" 2>&1

if ! "$LDCONFIG" -p 2>/dev/null | grep -q 'libvulkan.so.1'; then
  if [ -d "$KIT/vulkan/usr/lib/x86_64-linux-gnu" ]; then
    export LD_LIBRARY_PATH="$KIT/vulkan/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    note "vulkan loader: from the kit (Debian libvulkan1)"
  else
    note "vulkan loader: none on this machine and none in the kit"
  fi
else
  note "vulkan loader: the machine's own"
fi
[ -d /usr/local/nvidia/lib64 ] && export LD_LIBRARY_PATH="/usr/local/nvidia/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

ICD=""
for candidate in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json \
                 /etc/vulkan/icd.d/nvidia_icd.json /usr/local/share/vulkan/icd.d/nvidia_icd.json; do
  if [ -f "$candidate" ]; then ICD="$candidate"; break; fi
done
if [ -z "$ICD" ]; then
  # The container has the driver's libraries but no ICD manifest: write one. The NVIDIA Vulkan
  # driver lives in libGLX_nvidia (or libEGL_nvidia) and exports vk_icdGetInstanceProcAddr.
  for lib in libGLX_nvidia.so.0 libEGL_nvidia.so.0; do
    path=$("$LDCONFIG" -p 2>/dev/null | grep -m1 "$lib" | sed 's/.*=> //')
    [ -z "$path" ] && for dir in /usr/local/nvidia/lib64 /usr/lib/x86_64-linux-gnu /usr/lib64; do
      [ -f "$dir/$lib" ] && path="$dir/$lib" && break
    done
    if [ -n "$path" ]; then
      mkdir -p "$RUN/icd"
      printf '{ "file_format_version": "1.0.0", "ICD": { "library_path": "%s", "api_version": "1.3.0" } }\n' "$path" > "$RUN/icd/nvidia_icd.json"
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

# --- what Dawn sees -----------------------------------------------------------------------------
cat > "$RUN/probe.mjs" <<'EOF'
import { create } from 'webgpu';
const gpu = create([]);
const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
if (!adapter) { console.log('adapter: none'); process.exit(3); }
console.log('adapter:', JSON.stringify(adapter.info));
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
step() { # name limit outfile args...
  local name=$1 limit; limit=$(allow "$2"); local out=$3; shift 3
  if [ "$limit" -lt 10 ]; then note "$name: skipped, budget spent"; return; fi
  local t0; t0=$(date +%s)
  echo "== $name: node $*" >> "$DIAG"
  (cd "$RUN" && timeout "$limit" "$NODE" "$@") >> "$out" 2>> "$DIAG"
  local rc=$?
  note "$name: exit $rc in $(( $(date +%s) - t0 ))s (limit ${limit}s)$([ $rc -eq 124 ] && echo ', TIMED OUT')"
}

step "gradients webgpu vs cpu" 150 "$OUT/gradients.ndjson" \
  check-gradients.mjs --backend webgpu --blocks '1,1,1;6,6,12' --batch 4
step "bench webgpu, batch 64 and 256" 180 "$OUT/bench.ndjson" \
  bench-train.mjs --backend webgpu --batch 64,256 --iterations 5 --json
step "bench webgpu, batch 512" 60 "$OUT/bench.ndjson" \
  bench-train.mjs --backend webgpu --batch 512 --iterations 3 --json
step "bench webgpu, kernel profile at batch 256" 45 "$DIAG" \
  bench-train.mjs --backend webgpu --batch 256 --iterations 1 --profile
step "bench wasm, batch 64 (comparison)" 90 "$OUT/bench.ndjson" \
  bench-train.mjs --backend wasm --batch 64 --iterations 2 --json

{
  echo "== results"
  [ -f "$OUT/bench.ndjson" ] && { echo "-- bench.ndjson"; cat "$OUT/bench.ndjson"; }
  [ -f "$OUT/gradients.ndjson" ] && { echo "-- gradients summary"; grep '"summary"' "$OUT/gradients.ndjson"; }
  echo "gpukit: done in $(elapsed)s"
} >> "$SUMMARY"
rm -rf "$RUN"
exit 0
