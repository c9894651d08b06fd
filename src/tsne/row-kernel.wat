;; The inner loops of the neighbour searches (./row-kernel.ts): squared distances and dot products
;; of float32 rows, four lanes at a time (WebAssembly SIMD). Rows are `stride` bytes apart, a
;; multiple of 32, zero-padded: each loop step reads two 16-byte blocks of both vectors.
;; Compiled to row-kernel.wasm by `npm run build:wasm`.
(module
  (memory (export "memory") 1)

  ;; out[c] = |query − row(ids[c])|² for c < count (query, rows, ids, out: byte offsets).
  (func (export "distances")
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
