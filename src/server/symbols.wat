;; Keystream draws to symbols, eight draws at a time. src/server/symbol-kernel.ts has the
;; mapping and the memory's layout; this kernel only makes it fast. A 16-bit draw x gives the
;; symbol indexes
;;   d0 = (x * n) >> 16,  d1 = (((x * n) & 0xffff) * n) >> 16
;; unless (x * n * n) & 0xffff is below t = 65536 mod n², when it is thrown away (Lemire's
;; multiply-shift with rejection). The symbols themselves are the alphabet's bytes at the start of
;; memory, up to 96 of them, zero-padded: six tables of 16, looked up by swizzles.
(module
  (memory (export "memory") 5)

  ;; Draws read by the last call of `pairs`.
  (global $used (export "used") (mut i32) (i32.const 0))

  ;; Symbols for the `draws` draws at `in`, two a kept draw, at most `room` pairs of them
  ;; written at `out`; n the alphabet's size, t = 65536 mod n². Returns the pairs written and
  ;; leaves in $used the draws read.
  (func (export "pairs") (param $in i32) (param $draws i32) (param $out i32) (param $room i32) (param $n i32) (param $t i32) (result i32)
    (local $vn v128) (local $vnn v128) (local $vt v128) (local $sixteen v128) (local $high v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128) (local $t4 v128) (local $t5 v128)
    (local $x v128) (local $p0 v128) (local $p1 v128) (local $q0 v128) (local $q1 v128) (local $idx v128) (local $s v128)
    (local $first i32) (local $start i32) (local $end i32) (local $wide i32) (local $stop i32) (local $w i32) (local $lo i32)
    (local.set $first (local.get $in))
    (local.set $start (local.get $out))
    (local.set $end (i32.add (local.get $in) (i32.shl (local.get $draws) (i32.const 1))))
    (local.set $vn (i16x8.splat (local.get $n)))
    (local.set $vnn (i16x8.splat (i32.mul (local.get $n) (local.get $n))))
    (local.set $vt (i16x8.splat (local.get $t)))
    (local.set $sixteen (i8x16.splat (i32.const 16)))
    (local.set $high (i32x4.splat (i32.const 0xff00)))
    ;; The default alphabet needs four tables: the last two only for alphabets of more than 64.
    (local.set $wide (i32.gt_u (local.get $n) (i32.const 64)))
    (local.set $t0 (v128.load (i32.const 0)))
    (local.set $t1 (v128.load (i32.const 16)))
    (local.set $t2 (v128.load (i32.const 32)))
    (local.set $t3 (v128.load (i32.const 48)))
    (local.set $t4 (v128.load (i32.const 64)))
    (local.set $t5 (v128.load (i32.const 80)))
    (block $done
      (loop $next
        (if (i32.and (i32.le_u (i32.add (local.get $in) (i32.const 16)) (local.get $end))
                     (i32.ge_u (local.get $room) (i32.const 8)))
          (then
            (local.set $x (v128.load (local.get $in)))
            ;; All eight kept (all but about one vector in fifty for the default alphabet).
            (if (i32.eqz (v128.any_true (i16x8.lt_u (i16x8.mul (local.get $x) (local.get $vnn)) (local.get $vt))))
              (then
                ;; x * n and its low half times n, 32 bits a lane: the digits are bits 16-23.
                (local.set $p0 (i32x4.extmul_low_i16x8_u (local.get $x) (local.get $vn)))
                (local.set $p1 (i32x4.extmul_high_i16x8_u (local.get $x) (local.get $vn)))
                (local.set $x (i16x8.mul (local.get $x) (local.get $vn)))
                (local.set $q0 (i32x4.extmul_low_i16x8_u (local.get $x) (local.get $vn)))
                (local.set $q1 (i32x4.extmul_high_i16x8_u (local.get $x) (local.get $vn)))
                ;; d0 | d1 << 8 in each lane's low half, narrowed to eight 16-bit pairs.
                (local.set $idx (i16x8.narrow_i32x4_u
                  (v128.or (i32x4.shr_u (local.get $p0) (i32.const 16)) (v128.and (i32x4.shr_u (local.get $q0) (i32.const 8)) (local.get $high)))
                  (v128.or (i32x4.shr_u (local.get $p1) (i32.const 16)) (v128.and (i32x4.shr_u (local.get $q1) (i32.const 8)) (local.get $high)))))
                ;; Index to symbol, a table of 16 at a time: a swizzle past a table's end gives 0.
                (local.set $s (i8x16.swizzle (local.get $t0) (local.get $idx)))
                (local.set $idx (i8x16.sub (local.get $idx) (local.get $sixteen)))
                (local.set $s (v128.or (local.get $s) (i8x16.swizzle (local.get $t1) (local.get $idx))))
                (local.set $idx (i8x16.sub (local.get $idx) (local.get $sixteen)))
                (local.set $s (v128.or (local.get $s) (i8x16.swizzle (local.get $t2) (local.get $idx))))
                (local.set $idx (i8x16.sub (local.get $idx) (local.get $sixteen)))
                (local.set $s (v128.or (local.get $s) (i8x16.swizzle (local.get $t3) (local.get $idx))))
                (if (local.get $wide)
                  (then
                    (local.set $idx (i8x16.sub (local.get $idx) (local.get $sixteen)))
                    (local.set $s (v128.or (local.get $s) (i8x16.swizzle (local.get $t4) (local.get $idx))))
                    (local.set $idx (i8x16.sub (local.get $idx) (local.get $sixteen)))
                    (local.set $s (v128.or (local.get $s) (i8x16.swizzle (local.get $t5) (local.get $idx))))))
                (v128.store (local.get $out) (local.get $s))
                (local.set $in (i32.add (local.get $in) (i32.const 16)))
                (local.set $out (i32.add (local.get $out) (i32.const 16)))
                (local.set $room (i32.sub (local.get $room) (i32.const 8)))
                (br $next)))
            ;; One of the eight is thrown away: these eight one by one.
            (local.set $stop (i32.add (local.get $in) (i32.const 16))))
          (else
            ;; Fewer than eight draws or pairs of room left: one by one to the end.
            (local.set $stop (local.get $end))))
        (loop $one
          (br_if $done (i32.or (i32.ge_u (local.get $in) (local.get $end)) (i32.eqz (local.get $room))))
          (local.set $w (i32.mul (i32.load16_u (local.get $in)) (local.get $n)))
          (local.set $lo (i32.mul (i32.and (local.get $w) (i32.const 0xffff)) (local.get $n)))
          (if (i32.ge_u (i32.and (local.get $lo) (i32.const 0xffff)) (local.get $t))
            (then
              (i32.store8 (local.get $out) (i32.load8_u (i32.shr_u (local.get $w) (i32.const 16))))
              (i32.store8 offset=1 (local.get $out) (i32.load8_u (i32.shr_u (local.get $lo) (i32.const 16))))
              (local.set $out (i32.add (local.get $out) (i32.const 2)))
              (local.set $room (i32.sub (local.get $room) (i32.const 1)))))
          (local.set $in (i32.add (local.get $in) (i32.const 2)))
          (br_if $one (i32.lt_u (local.get $in) (local.get $stop))))
        (br $next)))
    (global.set $used (i32.shr_u (i32.sub (local.get $in) (local.get $first)) (i32.const 1)))
    (i32.shr_u (i32.sub (local.get $out) (local.get $start)) (i32.const 1)))
)
