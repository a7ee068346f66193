//! The receiving side of lane frames (§12): [`Reorder`], fed sequence numbers and lengths a
//! peer chooses (`frame_seq` of each frame, its length on the wire).
//!
//! The input is a start (`u32be`), then operations of 4 bytes: `[op, d_hi, d_lo, len]`. An odd
//! `op` pops; an even one inserts the frame `next + 2·d - 1024` (below `next` too: copies) of
//! `len · 64 KiB` bytes, so both `TooFarAhead` and `Overfull` are reachable.
//!
//! Checks: no panic; `insert` does what `check` said; records come out in order, each once;
//! the bytes held are the sum of what is held and stay within `REORDER_BYTES` but for the one
//! frame at `next` (always taken).
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use pairwise_proto::lanes::{REORDER_BYTES, Reorder};

fuzz_target!(|data: &[u8]| {
    let Some((start, ops)) = data.split_first_chunk::<4>() else {
        return;
    };
    let mut next = u64::from(u32::from_be_bytes(*start));
    let mut reorder = Reorder::<u64>::new(next);
    // What the reorder buffer should hold: seq -> len.
    let mut held = BTreeMap::<u64, usize>::new();
    for op in ops.chunks_exact(4) {
        if op[0] & 1 == 1 {
            let popped = reorder.pop();
            assert_eq!(popped, held.remove(&next).map(|_| next));
            if popped.is_some() {
                next += 1;
            }
        } else {
            let d = u64::from(u16::from_be_bytes([op[1], op[2]]));
            let Some(seq) = (next + 2 * d).checked_sub(1024) else {
                continue;
            };
            let len = usize::from(op[3]) << 16;
            let checked = reorder.check(seq, len);
            let inserted = reorder.insert(seq, seq, len);
            assert_eq!(checked.as_ref().err(), inserted.as_ref().err());
            if checked == Ok(true) {
                assert!(held.insert(seq, len).is_none(), "a held seq taken twice");
            } else if checked == Ok(false) {
                assert!(seq < next || held.contains_key(&seq));
            }
        }
        assert_eq!(reorder.next(), next);
        assert_eq!(reorder.held_bytes(), held.values().sum::<usize>());
        let beyond_next: usize = held
            .iter()
            .filter(|(s, _)| **s != next)
            .map(|(_, l)| l)
            .sum();
        assert!(beyond_next <= REORDER_BYTES);
        assert!(reorder.held().copied().eq(held.keys().copied()));
    }
});
