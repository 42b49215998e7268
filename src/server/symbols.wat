;; The generator's two loops: keystream pages from their seeds (`expand`), and keystream draws
;; to symbols (`pairs`). src/server/keystream.ts defines the keystream and src/server/symbol-kernel.ts
;; the mapping and the memory's layout; this kernel only makes them fast.
;;
;; A page is xoshiro128++ in eight 32-bit lanes, 32 bytes a step: lanes 0-3 (state a) then
;; lanes 4-7 (state b), each word little-endian. Its seed is the eight lanes' 128-bit states,
;; word by word: s0 of lanes 0-3, s1, s2, s3, then the same for lanes 4-7.
;;
;; A 16-bit draw x gives the symbol indexes
;;   d0 = (x * n) >> 16,  d1 = (((x * n) & 0xffff) * n) >> 16
;; unless (x * n * n) & 0xffff is below t = 65536 mod n², when it is thrown away (Lemire's
;; multiply-shift with rejection).
;;
;; Memory: the alphabet's bytes at 0, up to 96 of them, zero-padded (six tables of 16, looked
;; up by swizzles); at 96, the alphabet as at most three runs of consecutive bytes, where it is
;; one (the default A-Z a-z 0-9 is three), which turns an index into its symbol by adding and
;; comparing instead; at 256, 256 shuffles that move the kept pairs of eight to the front.
(module
  (memory (export "memory") 5)

  ;; Draws read by the last call of `pairs`.
  (global $used (export "used") (mut i32) (i32.const 0))

  ;; The `pages` keystream pages seeded by the SEED_BYTES (128) each at `seeds`, `steps` steps
  ;; of 32 bytes a page, written at `out`. Two states of four lanes, so that each hides the
  ;; other's latency.
  (func (export "expand") (param $seeds i32) (param $pages i32) (param $steps i32) (param $out i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128)
    (local $ta v128) (local $tb v128) (local $step i32)
    (block $pagesDone
      (loop $page
        (br_if $pagesDone (i32.eqz (local.get $pages)))
        (local.set $a0 (v128.load (local.get $seeds)))
        (local.set $a1 (v128.load offset=16 (local.get $seeds)))
        (local.set $a2 (v128.load offset=32 (local.get $seeds)))
        (local.set $a3 (v128.load offset=48 (local.get $seeds)))
        (local.set $b0 (v128.load offset=64 (local.get $seeds)))
        (local.set $b1 (v128.load offset=80 (local.get $seeds)))
        (local.set $b2 (v128.load offset=96 (local.get $seeds)))
        (local.set $b3 (v128.load offset=112 (local.get $seeds)))
        (local.set $step (local.get $steps))
        (loop $steps
          ;; The output: rotl(s0 + s3, 7) + s0.
          (local.set $ta (i32x4.add (local.get $a0) (local.get $a3)))
          (local.set $tb (i32x4.add (local.get $b0) (local.get $b3)))
          (v128.store (local.get $out)
            (i32x4.add (v128.or (i32x4.shl (local.get $ta) (i32.const 7)) (i32x4.shr_u (local.get $ta) (i32.const 25))) (local.get $a0)))
          (v128.store offset=16 (local.get $out)
            (i32x4.add (v128.or (i32x4.shl (local.get $tb) (i32.const 7)) (i32x4.shr_u (local.get $tb) (i32.const 25))) (local.get $b0)))
          ;; The step: t = s1 << 9; s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl(s3, 11).
          (local.set $ta (i32x4.shl (local.get $a1) (i32.const 9)))
          (local.set $tb (i32x4.shl (local.get $b1) (i32.const 9)))
          (local.set $a2 (v128.xor (local.get $a2) (local.get $a0)))
          (local.set $b2 (v128.xor (local.get $b2) (local.get $b0)))
          (local.set $a3 (v128.xor (local.get $a3) (local.get $a1)))
          (local.set $b3 (v128.xor (local.get $b3) (local.get $b1)))
          (local.set $a1 (v128.xor (local.get $a1) (local.get $a2)))
          (local.set $b1 (v128.xor (local.get $b1) (local.get $b2)))
          (local.set $a0 (v128.xor (local.get $a0) (local.get $a3)))
          (local.set $b0 (v128.xor (local.get $b0) (local.get $b3)))
          (local.set $a2 (v128.xor (local.get $a2) (local.get $ta)))
          (local.set $b2 (v128.xor (local.get $b2) (local.get $tb)))
          (local.set $a3 (v128.or (i32x4.shl (local.get $a3) (i32.const 11)) (i32x4.shr_u (local.get $a3) (i32.const 21))))
          (local.set $b3 (v128.or (i32x4.shl (local.get $b3) (i32.const 11)) (i32x4.shr_u (local.get $b3) (i32.const 21))))
          (local.set $out (i32.add (local.get $out) (i32.const 32)))
          (local.set $step (i32.sub (local.get $step) (i32.const 1)))
          (br_if $steps (local.get $step)))
        (local.set $seeds (i32.add (local.get $seeds) (i32.const 128)))
        (local.set $pages (i32.sub (local.get $pages) (i32.const 1)))
        (br $page))))

  ;; Symbols for the `draws` draws at `in`, two a kept draw, at most `room` pairs of them
  ;; written at `out`; n the alphabet's size, t = 65536 mod n². Returns the pairs written and
  ;; leaves in $used the draws read.
  (func (export "pairs") (param $in i32) (param $draws i32) (param $out i32) (param $room i32) (param $n i32) (param $t i32) (result i32)
    (local $vn v128) (local $vt v128) (local $sixteen v128) (local $low v128) (local $high v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128) (local $t4 v128) (local $t5 v128)
    (local $base v128) (local $after1 v128) (local $step1 v128) (local $after2 v128) (local $step2 v128)
    (local $x v128) (local $r v128) (local $thrown v128) (local $idx v128) (local $s v128)
    (local $first i32) (local $start i32) (local $end i32) (local $wide i32) (local $runs i32) (local $vectors i32) (local $kept i32) (local $mask i32)
    (local $w i32) (local $lo i32)
    (local.set $first (local.get $in))
    (local.set $start (local.get $out))
    (local.set $end (i32.add (local.get $in) (i32.shl (local.get $draws) (i32.const 1))))
    (local.set $vn (i16x8.splat (local.get $n)))
    (local.set $vt (i16x8.splat (local.get $t)))
    (local.set $sixteen (i8x16.splat (i32.const 16)))
    (local.set $low (i16x8.splat (i32.const 0xff)))
    (local.set $high (i16x8.splat (i32.const 0xff00)))
    ;; The runs: the first's first byte, then for the second and third the last index before
    ;; them (127 for none: no index is above it) and what they add to the one before.
    (local.set $runs (i32.load8_u offset=103 (i32.const 0)))
    (local.set $base (i8x16.splat (i32.load8_u offset=96 (i32.const 0))))
    (local.set $after1 (i8x16.splat (i32.load8_u offset=97 (i32.const 0))))
    (local.set $step1 (i8x16.splat (i32.load8_u offset=98 (i32.const 0))))
    (local.set $after2 (i8x16.splat (i32.load8_u offset=99 (i32.const 0))))
    (local.set $step2 (i8x16.splat (i32.load8_u offset=100 (i32.const 0))))
    ;; Only alphabets of more than 64 need the last two tables.
    (local.set $wide (i32.gt_u (local.get $n) (i32.const 64)))
    (local.set $t0 (v128.load (i32.const 0)))
    (local.set $t1 (v128.load (i32.const 16)))
    (local.set $t2 (v128.load (i32.const 32)))
    (local.set $t3 (v128.load (i32.const 48)))
    (local.set $t4 (v128.load (i32.const 64)))
    (local.set $t5 (v128.load (i32.const 80)))
    ;; Eight draws in and at most eight pairs out a vector, for as long as both last.
    (local.set $vectors (i32.shr_u (i32.sub (local.get $end) (local.get $in)) (i32.const 4)))
    (if (i32.gt_u (local.get $vectors) (i32.shr_u (local.get $room) (i32.const 3)))
      (then (local.set $vectors (i32.shr_u (local.get $room) (i32.const 3)))))
    (block $vectorsDone
      (loop $vector
        (br_if $vectorsDone (i32.eqz (local.get $vectors)))
        (local.set $x (v128.load (local.get $in)))
        (local.set $r (i16x8.mul (local.get $x) (local.get $vn)))
        ;; Non-zero in the lanes of the draws thrown away: t - (r * n mod 65536), saturating.
        (local.set $thrown (i16x8.sub_sat_u (local.get $vt) (i16x8.mul (local.get $r) (local.get $vn))))
        ;; The high half of y * n in 16-bit lanes, y's high and low bytes apart:
        ;; (y * n) >> 16 = ((y >> 8) * n + (((y & 0xff) * n) >> 8)) >> 8, and every term fits.
        ;; d0 from x, d1 from r, each pair d0 | d1 << 8.
        (local.set $idx (v128.or
          (i16x8.shr_u
            (i16x8.add (i16x8.mul (i16x8.shr_u (local.get $x) (i32.const 8)) (local.get $vn))
                       (i16x8.shr_u (i16x8.mul (v128.and (local.get $x) (local.get $low)) (local.get $vn)) (i32.const 8)))
            (i32.const 8))
          (v128.and
            (i16x8.add (i16x8.mul (i16x8.shr_u (local.get $r) (i32.const 8)) (local.get $vn))
                       (i16x8.shr_u (i16x8.mul (v128.and (local.get $r) (local.get $low)) (local.get $vn)) (i32.const 8)))
            (local.get $high))))
        (if (local.get $runs)
          (then
            ;; Index to symbol by runs: the first's base, plus each later run's step past its start.
            (local.set $s (i8x16.add
              (i8x16.add (local.get $idx) (local.get $base))
              (i8x16.add (v128.and (i8x16.gt_s (local.get $idx) (local.get $after1)) (local.get $step1))
                         (v128.and (i8x16.gt_s (local.get $idx) (local.get $after2)) (local.get $step2))))))
          (else
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
                (local.set $s (v128.or (local.get $s) (i8x16.swizzle (local.get $t5) (local.get $idx))))))))
        (local.set $kept (i32.const 8))
        ;; About one vector in fifty for the default alphabet: its kept pairs to the front, by
        ;; the shuffle for the mask of the kept draws.
        (if (v128.any_true (local.get $thrown))
          (then
            (local.set $mask (i16x8.bitmask (i16x8.eq (local.get $thrown) (v128.const i64x2 0 0))))
            (local.set $s (i8x16.swizzle (local.get $s) (v128.load offset=256 (i32.shl (local.get $mask) (i32.const 4)))))
            (local.set $kept (i32.popcnt (local.get $mask)))))
        (v128.store (local.get $out) (local.get $s))
        (local.set $in (i32.add (local.get $in) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.shl (local.get $kept) (i32.const 1))))
        (local.set $room (i32.sub (local.get $room) (local.get $kept)))
        (local.set $vectors (i32.sub (local.get $vectors) (i32.const 1)))
        (br $vector)))
    ;; What is left (fewer than eight draws, or room for fewer than eight pairs), one by one.
    (block $done
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
        (br $one)))
    (global.set $used (i32.shr_u (i32.sub (local.get $in) (local.get $first)) (i32.const 1)))
    (i32.shr_u (i32.sub (local.get $out) (local.get $start)) (i32.const 1)))
)
