use super::*;
use pairwise_proto::transfer::TransferId;

const MIB: usize = RESUME_BLOCK as usize;

fn entry(name: &str, size: u64) -> FileEntry {
    FileEntry::new(SafeName::parse(name).unwrap(), size, "").unwrap()
}

fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

struct Fixture {
    _tmp: tempfile::TempDir,
    inbox: Inbox,
    dir: ResumeDir,
}

fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let inbox = Inbox::open(tmp.path()).unwrap();
    let dir = ResumeDir::new(&inbox, TransferId::from_bytes([3; 16]), "peer");
    Fixture {
        _tmp: tmp,
        inbox,
        dir,
    }
}

/// Writes `bytes` of file 0 and drops the connection.
fn keep(f: &Fixture, e: &FileEntry, bytes: &[u8]) {
    let mut part = f.dir.begin(0, e, None).unwrap();
    part.write(bytes).unwrap();
    part.suspend();
}

#[test]
fn a_dropped_file_is_held_at_its_last_block_boundary_with_the_senders_chain() {
    let f = fixture();
    let bytes = data(3 * MIB + 100);
    let e = entry("a.bin", bytes.len() as u64 + 5);
    keep(&f, &e, &bytes);
    let held = f.dir.held(&f.inbox, 0, &e).expect("held");
    assert_eq!(held.claim.offset, 3 * RESUME_BLOCK);
    let mut chain = ResumeChain::new(&TransferId::from_bytes([3; 16]), 0);
    chain.update(&bytes[..3 * MIB]);
    assert_eq!(
        held.claim.proof,
        chain.checkpoint().1,
        "the proof the sender will compute"
    );
    assert_eq!(f.dir.kept(&[e]), 3 * RESUME_BLOCK);
}

#[test]
fn continuing_truncates_to_the_checkpoint_and_hands_over_the_whole_file() {
    let f = fixture();
    let bytes = data(2 * MIB + 777);
    let e = entry("b.bin", bytes.len() as u64);
    keep(&f, &e, &bytes[..MIB + 500]);
    let held = f.dir.held(&f.inbox, 0, &e).unwrap();
    assert_eq!(held.claim.offset, RESUME_BLOCK);
    let mut part = f.dir.begin(0, &e, Some(&held)).unwrap();
    part.write(&bytes[MIB..]).unwrap();
    let saved = part.finish(&f.inbox, &e).unwrap();
    assert_eq!(saved.path, f.inbox.path().join("b.bin"));
    assert_eq!(
        fs::read(&saved.path).unwrap(),
        bytes,
        "the 500 unverified bytes were cut"
    );
    // Saved whole: a later session can claim it whole.
    let whole = f.dir.held(&f.inbox, 0, &e).expect("held whole");
    assert_eq!(whole.claim.offset, bytes.len() as u64);
    assert_eq!(whole.saved.as_deref(), Some(saved.path.as_path()));
    f.dir.clear();
    assert!(!f.dir.root().exists(), "cleared, folder removed");
    assert!(
        saved.path.exists(),
        "clearing never touches handed-over files"
    );
}

#[test]
fn less_than_a_block_is_nothing_to_claim() {
    let f = fixture();
    let e = entry("c.bin", 10 * RESUME_BLOCK);
    keep(&f, &e, &data(MIB - 1));
    assert!(f.dir.held(&f.inbox, 0, &e).is_none());
    assert_eq!(f.dir.kept(&[e]), 0);
}

fn cp_path(f: &Fixture) -> PathBuf {
    f.dir.checkpoint_path(0)
}

/// Something done to a kept file.
type Spoil = Box<dyn Fn(&Fixture)>;

#[test]
fn odd_checkpoints_are_ignored_and_removed() {
    let bytes = data(2 * MIB);
    let e = entry("d.bin", 4 * RESUME_BLOCK);
    let cases: Vec<(&str, Spoil)> = vec![
        (
            "corrupt JSON",
            Box::new(|f| fs::write(cp_path(f), b"{\"version\":1,").unwrap()),
        ),
        (
            "offset past the part's end",
            Box::new(|f| {
                let mut cp = read_checkpoint(&cp_path(f)).unwrap();
                cp.offset = 3 * RESUME_BLOCK;
                fs::write(cp_path(f), serde_json::to_vec(&cp).unwrap()).unwrap();
            }),
        ),
        (
            "an offset off the block grid",
            Box::new(|f| {
                let mut cp = read_checkpoint(&cp_path(f)).unwrap();
                cp.offset = RESUME_BLOCK + 1;
                fs::write(cp_path(f), serde_json::to_vec(&cp).unwrap()).unwrap();
            }),
        ),
        (
            "another peer",
            Box::new(|f| {
                let mut cp = read_checkpoint(&cp_path(f)).unwrap();
                cp.peer = "mallory".into();
                fs::write(cp_path(f), serde_json::to_vec(&cp).unwrap()).unwrap();
            }),
        ),
        (
            "a saved name that leads elsewhere",
            Box::new(|f| {
                let mut cp = read_checkpoint(&cp_path(f)).unwrap();
                cp.saved = Some("../../etc/passwd".into());
                cp.offset = cp.size;
                fs::write(cp_path(f), serde_json::to_vec(&cp).unwrap()).unwrap();
            }),
        ),
        (
            "a damaged part",
            Box::new(|f| {
                let mut part = fs::read(f.dir.part_path(0)).unwrap();
                part[10] ^= 1;
                fs::write(f.dir.part_path(0), part).unwrap();
            }),
        ),
        (
            "a part replaced by a symbolic link",
            Box::new(|f| {
                let outside = f.inbox.path().join("outside.bin");
                fs::rename(f.dir.part_path(0), &outside).unwrap();
                #[cfg(unix)]
                std::os::unix::fs::symlink(&outside, f.dir.part_path(0)).unwrap();
            }),
        ),
    ];
    for (what, spoil) in cases {
        let f = fixture();
        keep(&f, &e, &bytes);
        assert!(f.dir.held(&f.inbox, 0, &e).is_some(), "{what}: held before");
        spoil(&f);
        assert!(f.dir.held(&f.inbox, 0, &e).is_none(), "{what}: ignored");
        assert!(!cp_path(&f).exists(), "{what}: checkpoint removed");
        // Starting again from 0 works and writes only inside the folder.
        let mut part = f.dir.begin(0, &e, None).unwrap();
        part.write(&bytes[..10]).unwrap();
        part.suspend();
        assert_eq!(
            fs::metadata(f.dir.part_path(0)).unwrap().len(),
            10,
            "{what}"
        );
    }
}

#[test]
fn a_checkpoint_for_another_file_or_transfer_is_not_used() {
    let f = fixture();
    let e = entry("e.bin", 4 * RESUME_BLOCK);
    keep(&f, &e, &data(2 * MIB));
    assert!(
        f.dir
            .held(&f.inbox, 0, &entry("other.bin", 4 * RESUME_BLOCK))
            .is_none()
    );
    let f = fixture();
    keep(&f, &e, &data(2 * MIB));
    let other = ResumeDir::new(&f.inbox, TransferId::from_bytes([4; 16]), "peer");
    assert!(
        other.held(&f.inbox, 0, &e).is_none(),
        "another transfer's files"
    );
    assert!(f.dir.held(&f.inbox, 0, &e).is_some(), "left alone");
}

#[test]
fn a_new_offer_of_the_same_path_from_the_same_peer_supersedes_old_kept_files() {
    let f = fixture();
    let e = entry("f.bin", 4 * RESUME_BLOCK);
    keep(&f, &e, &data(2 * MIB));
    let newer = ResumeDir::new(&f.inbox, TransferId::from_bytes([5; 16]), "peer");
    newer.clean_up(&[entry("unrelated.bin", 1)]);
    assert!(f.dir.part_path(0).exists(), "another path: kept");
    let stranger = ResumeDir::new(&f.inbox, TransferId::from_bytes([6; 16]), "stranger");
    stranger.clean_up(std::slice::from_ref(&e));
    assert!(f.dir.part_path(0).exists(), "another peer: kept");
    newer.clean_up(std::slice::from_ref(&e));
    assert!(!f.dir.part_path(0).exists(), "superseded: removed");
    assert!(!f.dir.checkpoint_path(0).exists());
}
