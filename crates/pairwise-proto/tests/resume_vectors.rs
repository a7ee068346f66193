//! Shared test vectors of the resume hash chain (`docs/protocol.md` §11.3):
//! `testdata/vectors/resume.json`. File bytes are `(i * 31 + 7) mod 251` for `i` from 0, so
//! the file stays small; `web/test` checks the same values.

mod common;

use pairwise_proto::limits::RESUME_BLOCK;
use pairwise_proto::transfer::{ResumeChain, TransferId};
use serde_json::json;

use crate::common::{check_or_write, seed};

fn pattern(len: u64) -> Vec<u8> {
    (0..len).map(|i| ((i * 31 + 7) % 251) as u8).collect()
}

#[test]
fn resume_vectors() {
    let id = TransferId::from_bytes(seed("resume id")[..16].try_into().unwrap());
    let b = RESUME_BLOCK;
    let cases: Vec<serde_json::Value> = [0, 1, b - 1, b, b + 1, 2 * b + b / 2]
        .iter()
        .map(|&len| {
            let data = pattern(len);
            let mut chain = ResumeChain::new(&id, 3);
            chain.update(&data);
            let (at, h) = chain.checkpoint();
            assert_eq!(at, len - len % b);
            // Continuing from the checkpoint gives the same final value.
            let mut rest = ResumeChain::at(h, at);
            rest.update(&data[usize::try_from(at).unwrap()..]);
            let finish = chain.finish();
            assert_eq!(rest.finish(), finish);
            json!({
                "length": len,
                "checkpoint_offset": at,
                "checkpoint": hex::encode(h),
                "finish": hex::encode(finish),
            })
        })
        .collect();
    check_or_write(
        "resume.json",
        &json!({
            "id": hex::encode(id.as_bytes()),
            "index": 3,
            "block": RESUME_BLOCK,
            "start": hex::encode(ResumeChain::new(&id, 3).checkpoint().1),
            "cases": cases,
        }),
    );
}
