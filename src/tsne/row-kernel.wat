;; The inner loops of the neighbour searches (./row-kernel.ts): squared distances and dot products
;; of float32 rows, four lanes at a time (WebAssembly SIMD), and the heap of a row's nearest. Rows are `stride` bytes apart, a
;; multiple of 32, zero-padded: each loop step reads two 16-byte blocks of both vectors.
;; Compiled to row-kernel.wasm by `npm run build:wasm`.
(module
  (memory (export "memory") 1)

  ;; out[c] = |query − row(ids[c])|² for c < count (query, rows, ids, out: byte offsets).
  (func $distances (export "distances")
    (param $query i32) (param $rows i32) (param $stride i32) (param $ids i32) (param $count i32) (param $out i32)
    (local $end i32) (local $row i32) (local $q i32) (local $acc0 v128) (local $acc1 v128) (local $diff v128)
    (local.set $end (i32.add (local.get $ids) (i32.shl (local.get $count) (i32.const 2))))
    (block $done
      (loop $next_row
        (br_if $done (i32.ge_u (local.get $ids) (local.get $end)))
        (local.set $row (i32.add (local.get $rows) (i32.mul (i32.load (local.get $ids)) (local.get $stride))))
        (local.set $acc0 (v128.const i64x2 0 0))
        (local.set $acc1 (v128.const i64x2 0 0))
        (local.set $q (i32.const 0))
        (loop $next_block
          (local.set $diff (f32x4.sub (v128.load (i32.add (local.get $query) (local.get $q)))
                                      (v128.load (i32.add (local.get $row) (local.get $q)))))
          (local.set $acc0 (f32x4.add (local.get $acc0) (f32x4.mul (local.get $diff) (local.get $diff))))
          (local.set $diff (f32x4.sub (v128.load offset=16 (i32.add (local.get $query) (local.get $q)))
                                      (v128.load offset=16 (i32.add (local.get $row) (local.get $q)))))
          (local.set $acc1 (f32x4.add (local.get $acc1) (f32x4.mul (local.get $diff) (local.get $diff))))
          (local.set $q (i32.add (local.get $q) (i32.const 32)))
          (br_if $next_block (i32.lt_u (local.get $q) (local.get $stride))))
        (f32.store (local.get $out) (call $sum_lanes (f32x4.add (local.get $acc0) (local.get $acc1))))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (local.set $ids (i32.add (local.get $ids) (i32.const 4)))
        (br $next_row))))

  ;; The k nearest of rows ids[0, count) to `query`, leaving out the row numbered `self` (−1: none),
  ;; as a max-heap of k squared distances at heapDist (float32) and their rows at heapIds (int32),
  ;; filled afresh: a distance below the heap's largest replaces it and sifts down. The same steps
  ;; as heap.ts's keepNearest, so the same neighbours, ties included. `out` receives the count
  ;; distances on the way.
  (func (export "nearest")
    (param $query i32) (param $rows i32) (param $stride i32) (param $ids i32) (param $count i32) (param $self i32)
    (param $k i32) (param $heapDist i32) (param $heapIds i32) (param $out i32)
    (local $slot i32) (local $c i32) (local $id i32) (local $value f32)
    (call $distances (local.get $query) (local.get $rows) (local.get $stride) (local.get $ids) (local.get $count)
      (local.get $out))
    (block $filled
      (loop $fill
        (br_if $filled (i32.ge_u (local.get $slot) (local.get $k)))
        (f32.store (i32.add (local.get $heapDist) (i32.shl (local.get $slot) (i32.const 2))) (f32.const inf))
        (i32.store (i32.add (local.get $heapIds) (i32.shl (local.get $slot) (i32.const 2))) (i32.const -1))
        (local.set $slot (i32.add (local.get $slot) (i32.const 1)))
        (br $fill)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $c) (local.get $count)))
        (local.set $value (f32.load (i32.add (local.get $out) (i32.shl (local.get $c) (i32.const 2)))))
        (if (f32.lt (local.get $value) (f32.load (local.get $heapDist)))
          (then
            (local.set $id (i32.load (i32.add (local.get $ids) (i32.shl (local.get $c) (i32.const 2)))))
            (if (i32.ne (local.get $id) (local.get $self))
              (then (call $replace_top (local.get $heapDist) (local.get $heapIds) (local.get $k)
                (local.get $value) (local.get $id))))))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $next))))

  ;; Puts (value, id) in place of the largest entry of the max-heap of k entries and sifts it down.
  (func $replace_top (param $heapDist i32) (param $heapIds i32) (param $k i32) (param $value f32) (param $id i32)
    (local $pos i32) (local $left i32) (local $child i32) (local $childValue f32)
    (block $placed
      (loop $down
        (local.set $left (i32.add (i32.shl (local.get $pos) (i32.const 1)) (i32.const 1)))
        (br_if $placed (i32.ge_u (local.get $left) (local.get $k)))
        (local.set $child (local.get $left))
        (if (i32.lt_u (i32.add (local.get $left) (i32.const 1)) (local.get $k))
          (then
            (if (f32.gt (f32.load offset=4 (i32.add (local.get $heapDist) (i32.shl (local.get $left) (i32.const 2))))
                        (f32.load (i32.add (local.get $heapDist) (i32.shl (local.get $left) (i32.const 2)))))
              (then (local.set $child (i32.add (local.get $left) (i32.const 1)))))))
        (local.set $childValue (f32.load (i32.add (local.get $heapDist) (i32.shl (local.get $child) (i32.const 2)))))
        (br_if $placed (f32.le (local.get $childValue) (local.get $value)))
        (f32.store (i32.add (local.get $heapDist) (i32.shl (local.get $pos) (i32.const 2))) (local.get $childValue))
        (i32.store (i32.add (local.get $heapIds) (i32.shl (local.get $pos) (i32.const 2)))
          (i32.load (i32.add (local.get $heapIds) (i32.shl (local.get $child) (i32.const 2)))))
        (local.set $pos (local.get $child))
        (br $down)))
    (f32.store (i32.add (local.get $heapDist) (i32.shl (local.get $pos) (i32.const 2))) (local.get $value))
    (i32.store (i32.add (local.get $heapIds) (i32.shl (local.get $pos) (i32.const 2))) (local.get $id)))

  ;; out[c] = vector · row(ids[c]) for c < count.
  (func (export "dots")
    (param $vector i32) (param $rows i32) (param $stride i32) (param $ids i32) (param $count i32) (param $out i32)
    (local $end i32) (local $row i32) (local $q i32) (local $acc0 v128) (local $acc1 v128)
    (local.set $end (i32.add (local.get $ids) (i32.shl (local.get $count) (i32.const 2))))
    (block $done
      (loop $next_row
        (br_if $done (i32.ge_u (local.get $ids) (local.get $end)))
        (local.set $row (i32.add (local.get $rows) (i32.mul (i32.load (local.get $ids)) (local.get $stride))))
        (local.set $acc0 (v128.const i64x2 0 0))
        (local.set $acc1 (v128.const i64x2 0 0))
        (local.set $q (i32.const 0))
        (loop $next_block
          (local.set $acc0 (f32x4.add (local.get $acc0)
            (f32x4.mul (v128.load (i32.add (local.get $vector) (local.get $q)))
                       (v128.load (i32.add (local.get $row) (local.get $q))))))
          (local.set $acc1 (f32x4.add (local.get $acc1)
            (f32x4.mul (v128.load offset=16 (i32.add (local.get $vector) (local.get $q)))
                       (v128.load offset=16 (i32.add (local.get $row) (local.get $q))))))
          (local.set $q (i32.add (local.get $q) (i32.const 32)))
          (br_if $next_block (i32.lt_u (local.get $q) (local.get $stride))))
        (f32.store (local.get $out) (call $sum_lanes (f32x4.add (local.get $acc0) (local.get $acc1))))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (local.set $ids (i32.add (local.get $ids) (i32.const 4)))
        (br $next_row))))

  (func $sum_lanes (param $v v128) (result f32)
    (f32.add (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
             (f32.add (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v)))))
)
