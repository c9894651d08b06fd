;; The inner loops of the t-SNE gradient (./force-kernel.ts) in WebAssembly SIMD: the Barnes-Hut
;; repulsion of a group of points from its interaction list (float32, four lanes at a time), and
;; the attraction along the rows of P (float64, two lanes). All pointers are byte offsets into the
;; memory. Compiled to force-kernel.wasm by `npm run build:wasm`.
(module
  (memory (export "memory") 1)

  ;; For points q in [from, to) at (xs[q], ys[q]) (float64): out[2(q − from)], out[2(q − from) + 1] =
  ;; Σ_e c_e w_e² (p_q − l_e) with w_e = 1 / (1 + |p_q − l_e|²), over the `blocks` blocks of the
  ;; list, each four entries as x0..x3 y0..y3 c0..c3 in float32, relative to (originX, originY)
  ;; (an unused lane has c = 0). Each point is taken relative to the origin too, so a near pair's
  ;; difference keeps float32's precision. Returns Σ_q (Σ_e c_e w_e − 1): each point is in its own
  ;; list once, with w = 1.
  (func (export "group_repulsion")
    (param $xs i32) (param $ys i32) (param $from i32) (param $to i32) (param $list i32) (param $blocks i32)
    (param $out i32) (param $originX f64) (param $originY f64) (result f64)
    (local $q i32) (local $b i32) (local $end i32) (local $xi v128) (local $yi v128) (local $dx v128)
    (local $dy v128) (local $w v128) (local $cw v128) (local $cww v128) (local $fx v128) (local $fy v128)
    (local $z v128) (local $total f64)
    (local.set $end (i32.add (local.get $list) (i32.mul (local.get $blocks) (i32.const 48))))
    (local.set $q (local.get $from))
    (block $points_done
      (loop $points
        (br_if $points_done (i32.ge_u (local.get $q) (local.get $to)))
        (local.set $xi (f32x4.splat (f32.demote_f64 (f64.sub
          (f64.load (i32.add (local.get $xs) (i32.shl (local.get $q) (i32.const 3)))) (local.get $originX)))))
        (local.set $yi (f32x4.splat (f32.demote_f64 (f64.sub
          (f64.load (i32.add (local.get $ys) (i32.shl (local.get $q) (i32.const 3)))) (local.get $originY)))))
        (local.set $fx (v128.const i64x2 0 0))
        (local.set $fy (v128.const i64x2 0 0))
        (local.set $z (v128.const i64x2 0 0))
        (local.set $b (local.get $list))
        (block $list_done
          (loop $entries
            (br_if $list_done (i32.ge_u (local.get $b) (local.get $end)))
            (local.set $dx (f32x4.sub (local.get $xi) (v128.load (local.get $b))))
            (local.set $dy (f32x4.sub (local.get $yi) (v128.load offset=16 (local.get $b))))
            (local.set $w (f32x4.div (f32x4.splat (f32.const 1))
              (f32x4.add (f32x4.splat (f32.const 1))
                (f32x4.add (f32x4.mul (local.get $dx) (local.get $dx)) (f32x4.mul (local.get $dy) (local.get $dy))))))
            (local.set $cw (f32x4.mul (v128.load offset=32 (local.get $b)) (local.get $w)))
            (local.set $z (f32x4.add (local.get $z) (local.get $cw)))
            (local.set $cww (f32x4.mul (local.get $cw) (local.get $w)))
            (local.set $fx (f32x4.add (local.get $fx) (f32x4.mul (local.get $cww) (local.get $dx))))
            (local.set $fy (f32x4.add (local.get $fy) (f32x4.mul (local.get $cww) (local.get $dy))))
            (local.set $b (i32.add (local.get $b) (i32.const 48)))
            (br $entries)))
        (f64.store (local.get $out) (call $sum_f32_lanes (local.get $fx)))
        (f64.store offset=8 (local.get $out) (call $sum_f32_lanes (local.get $fy)))
        (local.set $total (f64.add (local.get $total) (f64.sub (call $sum_f32_lanes (local.get $z)) (f64.const 1))))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (br $points)))
    (local.get $total))

  ;; For rows i in [from, to) of P (CSR: rowPtr i32, cols i32, vals f64) and positions Y (x, y
  ;; interleaved): out[2i], out[2i + 1] = α Σ_e p_e w_e (y_i − y_j), w_e = 1 / (1 + |y_i − y_j|²),
  ;; each operation as attractiveForces in gradient.ts does it, so the two agree to the bit.
  (func (export "attraction")
    (param $rowPtr i32) (param $cols i32) (param $vals i32) (param $Y i32) (param $out i32)
    (param $from i32) (param $to i32) (param $exaggeration f64)
    (local $i i32) (local $e i32) (local $end i32) (local $yi v128) (local $force v128) (local $diff v128)
    (local $squares v128)
    (local.set $i (local.get $from))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $i) (local.get $to)))
        (local.set $yi (v128.load (i32.add (local.get $Y) (i32.shl (local.get $i) (i32.const 4)))))
        (local.set $force (v128.const i64x2 0 0))
        (local.set $e (i32.load (i32.add (local.get $rowPtr) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $end (i32.load offset=4 (i32.add (local.get $rowPtr) (i32.shl (local.get $i) (i32.const 2)))))
        (block $entries_done
          (loop $entries
            (br_if $entries_done (i32.ge_u (local.get $e) (local.get $end)))
            (local.set $diff (f64x2.sub (local.get $yi)
              (v128.load (i32.add (local.get $Y)
                (i32.shl (i32.load (i32.add (local.get $cols) (i32.shl (local.get $e) (i32.const 2)))) (i32.const 4))))))
            (local.set $squares (f64x2.mul (local.get $diff) (local.get $diff)))
            ;; p · (1 / ((1 + dx²) + dy²)), in the order of gradient.ts's attractiveForces: the same bits.
            (local.set $force (f64x2.add (local.get $force)
              (f64x2.mul (local.get $diff) (f64x2.splat
                (f64.mul (f64.load (i32.add (local.get $vals) (i32.shl (local.get $e) (i32.const 3))))
                  (f64.div (f64.const 1)
                    (f64.add (f64.add (f64.const 1) (f64x2.extract_lane 0 (local.get $squares)))
                      (f64x2.extract_lane 1 (local.get $squares)))))))))
            (local.set $e (i32.add (local.get $e) (i32.const 1)))
            (br $entries)))
        (v128.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 4)))
          (f64x2.mul (local.get $force) (f64x2.splat (local.get $exaggeration))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))

  ;; (l0 + l1) + (l2 + l3) of a float32 vector, in float64.
  (func $sum_f32_lanes (param $v v128) (result f64)
    (f64.add
      (f64.add (f64.promote_f32 (f32x4.extract_lane 0 (local.get $v))) (f64.promote_f32 (f32x4.extract_lane 1 (local.get $v))))
      (f64.add (f64.promote_f32 (f32x4.extract_lane 2 (local.get $v))) (f64.promote_f32 (f32x4.extract_lane 3 (local.get $v))))))
)
