use super::*;

fn inbox() -> (tempfile::TempDir, Inbox) {
    let dir = tempfile::tempdir().unwrap();
    let inbox = Inbox::open(dir.path()).unwrap();
    (dir, inbox)
}

fn name(s: &str) -> SafeName {
    SafeName::parse(s).unwrap()
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn file_is_a_part_file_until_finished_then_has_its_name() {
    let (dir, inbox) = inbox();
    let mut part = inbox.begin(&[], &name("a.txt")).unwrap();
    part.write(b"hello ").unwrap();
    part.write(b"world").unwrap();
    assert_eq!(listing(dir.path()), ["a.txt.part"]);
    let saved = part.finish().unwrap();
    assert_eq!(saved.path, dir.path().join("a.txt"));
    assert!(!saved.renamed);
    assert_eq!(listing(dir.path()), ["a.txt"]);
    assert_eq!(fs::read(&saved.path).unwrap(), b"hello world");
}

#[test]
fn existing_file_is_never_overwritten_and_the_new_name_is_reported() {
    let (dir, inbox) = inbox();
    fs::write(dir.path().join("a.txt"), b"mine").unwrap();
    fs::write(dir.path().join("a (1).txt"), b"mine too").unwrap();
    let mut part = inbox.begin(&[], &name("a.txt")).unwrap();
    part.write(b"theirs").unwrap();
    let saved = part.finish().unwrap();
    assert!(saved.renamed);
    assert_eq!(saved.path, dir.path().join("a (2).txt"));
    assert_eq!(fs::read(dir.path().join("a.txt")).unwrap(), b"mine");
    assert_eq!(fs::read(dir.path().join("a (1).txt")).unwrap(), b"mine too");
    assert_eq!(fs::read(&saved.path).unwrap(), b"theirs");
}

#[test]
fn duplicate_names_in_one_transfer_get_distinct_files() {
    let (dir, inbox) = inbox();
    let mut one = inbox.begin(&[], &name("x")).unwrap();
    let mut two = inbox.begin(&[], &name("x")).unwrap();
    one.write(b"1").unwrap();
    two.write(b"2").unwrap();
    let a = one.finish().unwrap();
    let b = two.finish().unwrap();
    assert_ne!(a.path, b.path);
    assert_eq!(listing(dir.path()), ["x", "x (1)"]);
}

#[test]
fn discarded_or_dropped_part_files_leave_nothing() {
    let (dir, inbox) = inbox();
    let mut part = inbox.begin(&[], &name("big.bin")).unwrap();
    part.write(&[0; 1000]).unwrap();
    part.discard();
    let mut part = inbox.begin(&[], &name("big.bin")).unwrap();
    part.write(&[0; 1000]).unwrap();
    drop(part);
    assert!(listing(dir.path()).is_empty());
}

#[test]
fn alternative_names_keep_the_extension_and_fit_the_limit() {
    assert_eq!(alternative("photo.jpg", 0), "photo.jpg");
    assert_eq!(alternative("photo.jpg", 3), "photo (3).jpg");
    assert_eq!(alternative(".profile", 1), ".profile (1)");
    assert_eq!(alternative("README", 12), "README (12)");
    let long = format!("{}.txt", "é".repeat(125));
    let alt = alternative(&long, 7);
    assert!(alt.len() + ".part".len() <= MAX_NAME_BYTES, "{}", alt.len());
    assert!(alt.ends_with(" (7).txt"));
}

#[test]
fn missing_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let err = Inbox::open(dir.path().join("nope")).unwrap_err();
    assert!(matches!(err, SinkError::NotADirectory { .. }));
}

#[cfg(target_os = "linux")]
#[test]
fn full_disk_is_reported_and_the_part_file_removed() {
    // /dev/full answers every write with ENOSPC; a symlink makes it look like a part file.
    let (dir, _) = inbox();
    let part_path = dir.path().join("f.part");
    std::os::unix::fs::symlink("/dev/full", &part_path).unwrap();
    let file = OpenOptions::new().write(true).open(&part_path).unwrap();
    let mut part = PartFile {
        dir: dir.path().to_owned(),
        name: name("f"),
        part: part_path.clone(),
        out: Some(BufWriter::with_capacity(16, file)),
        written: 0,
    };
    let err = part.write(&[1; 64]).unwrap_err();
    assert!(matches!(err, SinkError::DiskFull { .. }), "{err:?}");
    assert!(!part_path.exists());
}

#[test]
fn files_in_folders_are_created_inside_the_inbox() {
    let (dir, inbox) = inbox();
    let mut part = inbox
        .begin(&[name("Photos"), name("2026 été")], &name("a.jpg"))
        .unwrap();
    part.write(b"jpg").unwrap();
    let saved = part.finish().unwrap();
    assert_eq!(
        saved.path,
        dir.path().join("Photos").join("2026 été").join("a.jpg")
    );
    assert_eq!(std::fs::read(&saved.path).unwrap(), b"jpg");
    // A second file in the same folder reuses it.
    let part = inbox.begin(&[name("Photos")], &name("b.jpg")).unwrap();
    assert!(
        part.finish()
            .unwrap()
            .path
            .starts_with(dir.path().join("Photos"))
    );
}

#[cfg(unix)]
#[test]
fn a_symlinked_folder_is_never_followed() {
    let (dir, inbox) = inbox();
    let outside = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path(), dir.path().join("Photos")).unwrap();
    let err = inbox.begin(&[name("Photos")], &name("a.jpg")).unwrap_err();
    assert!(matches!(err, SinkError::Io { .. }), "{err:?}");
    assert_eq!(
        std::fs::read_dir(outside.path()).unwrap().count(),
        0,
        "nothing written outside"
    );
    // A file where a folder should be is refused the same way.
    std::fs::write(dir.path().join("Docs"), b"x").unwrap();
    assert!(inbox.begin(&[name("Docs")], &name("a.txt")).is_err());
}
