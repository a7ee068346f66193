//! Names a peer sends: file and folder names ([`SafeName::parse`], §7), device names
//! ([`DeviceName::parse`], §10.7) and room ids ([`RoomId::parse`], what a `join` carries).
//!
//! Checks: no panic; an accepted name is the input unchanged and parses again;
//! [`DeviceName::sanitize`] always yields a name that parses.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pairwise_proto::device::DeviceName;
use pairwise_proto::ids::RoomId;
use pairwise_proto::name::SafeName;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(name) = SafeName::parse(text) {
        assert_eq!(name.as_str(), text);
        assert_eq!(SafeName::parse(name.as_str()).as_ref(), Ok(&name));
    }
    if let Ok(name) = DeviceName::parse(text) {
        assert_eq!(name.as_str(), text);
        assert_eq!(DeviceName::parse(name.as_str()).as_ref(), Ok(&name));
    }
    let sanitized = DeviceName::sanitize(text, "device");
    assert_eq!(
        DeviceName::parse(sanitized.as_str()).as_ref(),
        Ok(&sanitized)
    );
    if let Ok(room) = RoomId::parse(text) {
        assert_eq!(room.as_str(), text);
        let _ = room.fmt_short();
    }
});
