//! A manifest's JSON ([`Manifest::parse`]): file names and folders (`SafeName`), sizes, MIME
//! types, the transfer id, `more`.
//!
//! Checks: no panic; what parses re-encodes to JSON that parses to the same manifest; split
//! into parts (as a sender does for a large offer) and joined again (as the receiver does),
//! it is the same offer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pairwise_proto::transfer::Manifest;

fuzz_target!(|data: &[u8]| {
    let Ok(manifest) = Manifest::parse(data) else {
        return;
    };
    let json = manifest.to_json();
    assert_eq!(Manifest::parse(&json).as_ref(), Ok(&manifest));
    for file in manifest.files() {
        let _ = file.relative_path();
    }
    let _ = manifest.total_bytes();

    // Small parts, so that fuzzed manifests of a few files are split too.
    let mut parts = manifest.parts(256).into_iter();
    let mut joined = parts.next().expect("at least one part");
    for part in parts {
        let part = Manifest::parse(&part.to_json()).expect("a part parses");
        joined.join(part).expect("parts join");
    }
    assert!(!joined.more());
    assert_eq!(joined.id(), manifest.id());
    assert_eq!(joined.files(), manifest.files());
});
