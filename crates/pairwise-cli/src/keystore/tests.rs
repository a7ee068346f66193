use std::fs;
use std::path::Path;

use pairwise_proto::b64;

use super::*;

const NOW: u64 = 1_764_000_000;

fn peer(byte: u8) -> PublicKey {
    IdentitySecret::new(p256::SecretKey::from_slice(&[byte; 32]).unwrap()).public()
}

fn pk(byte: u8) -> PairingKey {
    PairingKey::from_bytes([byte; 32])
}

fn name(s: &str) -> DeviceName {
    DeviceName::parse(s).unwrap()
}

/// A store in a fresh temporary directory with devices named `names` (peer keys 1, 2, ...).
fn store_with(names: &[&str]) -> (tempfile::TempDir, ConfigDir, Keystore) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = ConfigDir::at(tmp.path().join("config"));
    let mut store = Keystore::open(&dir, NOW).unwrap();
    store
        .update(NOW, |s| {
            for (i, n) in names.iter().enumerate() {
                let key = peer(u8::try_from(i).unwrap() + 1);
                assert_eq!(s.remember(&key, &pk(9), NOW), Remembered::New);
                s.seen(&device_id(&key), Some(&name(n)), NOW);
            }
        })
        .unwrap();
    (tmp, dir, store)
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn identity_is_made_once_owner_only_and_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = ConfigDir::at(tmp.path().join("config"));
    assert!(Keystore::is_empty_dir(&dir));
    let first = Keystore::open(&dir, NOW).unwrap().identity().public();
    let pem = fs::read_to_string(dir.file(IDENTITY_FILE)).unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"), "{pem}");
    let again = Keystore::open(&dir, NOW).unwrap().identity().public();
    assert_eq!(first, again, "the second run uses the same identity");
    #[cfg(unix)]
    {
        assert_eq!(mode(dir.path()), 0o700);
        assert_eq!(mode(&dir.file(IDENTITY_FILE)), 0o600);
    }
}

#[test]
fn devices_round_trip_through_an_owner_only_file() {
    let (_tmp, dir, store) = store_with(&["Pixel 8", "Work laptop"]);
    #[cfg(unix)]
    assert_eq!(mode(&dir.file(DEVICES_FILE)), 0o600);
    let loaded = Keystore::open(&dir, NOW + 5).unwrap();
    assert_eq!(loaded.devices(), store.devices());
    let d = &loaded.devices()[0];
    assert_eq!(d.name.as_str(), "Pixel 8");
    assert_eq!(d.id, device_id(&peer(1)));
    assert_eq!(d.id.len(), 64);
    assert_eq!(d.pairing_key, pk(9));
    assert_eq!((d.created, d.last_seen, d.auto_accept), (NOW, NOW, false));
    let json: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.file(DEVICES_FILE)).unwrap()).unwrap();
    assert_eq!(json["version"], 1);
    assert_eq!(
        json["identity"],
        device_id(&loaded.identity().public()).as_str()
    );
    assert_eq!(json["devices"][0]["pairing_key"], b64::encode(&[9; 32]));
}

#[test]
fn a_key_file_from_another_device_is_refused_with_both_paths() {
    let (_tmp, dir, _store) = store_with(&["Pixel 8"]);
    let other = p256::SecretKey::random(&mut OsRng)
        .to_pkcs8_pem(LineEnding::LF)
        .unwrap();
    fs::write(dir.file(IDENTITY_FILE), other.as_bytes()).unwrap();
    let err = Keystore::open(&dir, NOW).unwrap_err();
    assert!(matches!(err, StoreError::WrongKey { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("identity.key does not belong to"), "{text}");
    assert!(text.contains("devices.json"), "{text}");
    assert!(text.contains("restored from another device"), "{text}");
}

#[test]
fn a_missing_key_with_paired_devices_is_refused_not_replaced() {
    let (_tmp, dir, _store) = store_with(&["Pixel 8"]);
    fs::remove_file(dir.file(IDENTITY_FILE)).unwrap();
    let err = Keystore::open(&dir, NOW).unwrap_err();
    assert!(matches!(err, StoreError::MissingKey { .. }), "{err:?}");
    assert!(!dir.file(IDENTITY_FILE).exists(), "no new key was made");
}

#[test]
fn a_damaged_key_or_devices_file_is_a_clear_error() {
    let (_tmp, dir, _store) = store_with(&["Pixel 8"]);
    let devices = fs::read(dir.file(DEVICES_FILE)).unwrap();
    fs::write(dir.file(DEVICES_FILE), b"{not json").unwrap();
    let err = Keystore::open(&dir, NOW).unwrap_err().to_string();
    assert!(err.contains("devices.json is damaged"), "{err}");
    fs::write(dir.file(DEVICES_FILE), devices).unwrap();
    fs::write(dir.file(IDENTITY_FILE), b"hello").unwrap();
    let err = Keystore::open(&dir, NOW).unwrap_err().to_string();
    assert!(err.contains("is not a pairwise identity key"), "{err}");
}

#[test]
fn names_match_case_insensitively_and_ids_by_prefix() {
    let (_tmp, _dir, store) = store_with(&["Pixel 8", "Work laptop"]);
    assert_eq!(store.find("pixel 8").unwrap().name.as_str(), "Pixel 8");
    assert_eq!(store.find("WORK LAPTOP").unwrap().id, device_id(&peer(2)));
    let id = device_id(&peer(2));
    assert_eq!(store.find(&id[..6]).unwrap().id, id);
    assert_eq!(store.find(&id).unwrap().id, id);
}

#[test]
fn unknown_and_ambiguous_names_list_the_devices() {
    let (_tmp, _dir, store) = store_with(&["Laptop", "laptop", "Pixel 8"]);
    let err = store.find("LAPTOP").unwrap_err();
    assert!(matches!(err, MatchError::Ambiguous { .. }), "{err:?}");
    // Only the two matches, one per line as `pairwise devices` names them, to pick from.
    let text = err.to_string();
    let [first, second, pixel] = store.devices() else {
        panic!("three devices")
    };
    for d in [first, second] {
        let line = format!("\n  {}  (id {})\n", d.name, d.short_id());
        assert!(text.contains(&line), "{line:?} in {text}");
    }
    assert!(!text.contains(pixel.short_id()), "{text}");
    assert!(!text.contains("Pixel 8"), "{text}");
    assert!(text.contains("Use its id"), "{text}");
    let err = store.find("Phone").unwrap_err();
    assert!(matches!(err, MatchError::Unknown { .. }), "{err:?}");
    assert!(err.to_string().contains("Laptop"), "{err}");
    // Too short to be an id prefix: never matches by id.
    let id = device_id(&peer(3));
    assert!(store.find(&id[..3]).is_err());
    let (_t, _d, empty) = store_with(&[]);
    assert_eq!(empty.find("x").unwrap_err(), MatchError::NoDevices);
}

#[test]
fn a_peer_name_never_overrides_the_persons_name() {
    let (_tmp, _dir, mut store) = store_with(&["Pixel 8"]);
    let id = device_id(&peer(1));
    store
        .update(NOW, |s| {
            s.seen(&id, Some(&name("Renamed by peer")), NOW + 10)
        })
        .unwrap();
    assert_eq!(store.device(&id).unwrap().name.as_str(), "Renamed by peer");
    assert_eq!(store.device(&id).unwrap().last_seen, NOW + 10);
    assert!(
        store
            .update(NOW, |s| s.rename(&id, name("Anna's phone")))
            .unwrap()
    );
    store
        .update(NOW, |s| s.seen(&id, Some(&name("Pixel 8")), NOW + 20))
        .unwrap();
    let d = store.device(&id).unwrap();
    assert_eq!(d.name.as_str(), "Anna's phone");
    assert!(d.name_set_by_user);
}

#[test]
fn pairing_again_keeps_the_record_and_replaces_the_key() {
    let (_tmp, _dir, mut store) = store_with(&["Pixel 8"]);
    let again = store
        .update(NOW, |s| s.remember(&peer(1), &pk(7), NOW + 1))
        .unwrap();
    assert_eq!(again, Remembered::Again);
    assert_eq!(store.devices().len(), 1);
    assert_eq!(store.devices()[0].pairing_key, pk(7));
    assert_eq!(store.devices()[0].name.as_str(), "Pixel 8");
}

#[test]
fn forgetting_leaves_a_tombstone_for_thirty_days() {
    let (_tmp, dir, mut store) = store_with(&["Pixel 8", "Work laptop"]);
    let id = device_id(&peer(1));
    let gone = store.update(NOW, |s| s.forget(&id, NOW)).unwrap().unwrap();
    assert_eq!(gone.name.as_str(), "Pixel 8");
    assert_eq!(store.devices().len(), 1);
    let t = &store.tombstones()[0];
    assert_eq!(
        (t.identity.clone(), t.until),
        (peer(1), NOW + TOMBSTONE_SECONDS)
    );
    let later = Keystore::open(&dir, NOW + TOMBSTONE_SECONDS - 1).unwrap();
    assert_eq!(later.tombstones().len(), 1);
    let expired = Keystore::open(&dir, NOW + TOMBSTONE_SECONDS).unwrap();
    assert!(expired.tombstones().is_empty());
    // Pairing again drops the tombstone.
    store
        .update(NOW, |s| s.remember(&peer(1), &pk(3), NOW))
        .unwrap();
    assert!(store.tombstones().is_empty());
}

#[test]
fn store_keeps_at_most_the_cap() {
    let names: Vec<String> = (0..MAX_PAIRED_DEVICES).map(|i| format!("d{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let (_tmp, dir, mut store) = store_with(&refs);
    assert_eq!(store.devices().len(), MAX_PAIRED_DEVICES);
    let extra = peer(200);
    let got = store
        .update(NOW, |s| s.remember(&extra, &pk(1), NOW))
        .unwrap();
    assert_eq!(got, Remembered::Full);
    assert_eq!(
        Keystore::open(&dir, NOW).unwrap().devices().len(),
        MAX_PAIRED_DEVICES
    );
}

#[test]
fn an_update_keeps_changes_another_process_wrote() {
    let (_tmp, dir, mut first) = store_with(&["Pixel 8"]);
    let mut second = Keystore::open(&dir, NOW).unwrap();
    second
        .update(NOW, |s| s.remember(&peer(5), &pk(5), NOW))
        .unwrap();
    first
        .update(NOW, |s| s.set_auto_accept(&device_id(&peer(1)), true))
        .unwrap();
    let now = Keystore::open(&dir, NOW).unwrap();
    assert_eq!(now.devices().len(), 2, "the other process's device is kept");
    assert!(now.devices()[0].auto_accept);
}
