//! Tests of §11: manifest parts, folders, text, and resuming with claims and a `resume-ack`.

use super::*;
use crate::error::ErrorCode;
use crate::handshake::PeerConfirmed;
use crate::limits::{MAX_DIR_DEPTH, MAX_PATH_BYTES, RESUME_BLOCK};
use crate::name::SafeName;

fn file(name: &str, size: u64) -> FileEntry {
    FileEntry::new(SafeName::parse(name).unwrap(), size, "").unwrap()
}

fn id() -> TransferId {
    TransferId::from_bytes([3; 16])
}

/// Delivers every message of `msgs` to a fresh receiver and returns it with its events.
fn offer_to_receiver(msgs: Vec<Message>) -> (Receiver, Vec<ReceiverEvent>) {
    let mut rx = Receiver::new(PeerConfirmed::for_tests());
    for m in msgs {
        rx.handle_message(m, false).unwrap();
    }
    let events = std::iter::from_fn(|| rx.poll_event()).collect();
    (rx, events)
}

#[test]
fn a_long_offer_is_split_into_parts_and_joined_back() {
    let files: Vec<FileEntry> = (0..5000)
        .map(|i| file(&format!("file-{i:05}.bin"), i))
        .collect();
    let manifest = Manifest::new(files).unwrap().with_id(id());
    let (_, msgs) = Sender::new(PeerConfirmed::for_tests(), manifest.clone(), 64 * 1024);
    assert!(msgs.len() > 3, "5000 entries need several 64 KiB records");
    for m in &msgs {
        assert!(m.encode().len() <= 64 * 1024 - 17);
        // Every part survives its own encoding.
        assert_eq!(&Message::decode(&m.encode()).unwrap(), m);
    }
    let (_, events) = offer_to_receiver(msgs);
    assert_eq!(events, vec![ReceiverEvent::Offered(manifest)]);
}

#[test]
fn a_part_after_the_last_or_with_another_id_is_refused() {
    let one = Manifest::new(vec![file("a", 1)]).unwrap();
    let mut rx = Receiver::new(PeerConfirmed::for_tests());
    rx.handle_message(Message::Manifest(one.clone()), false)
        .unwrap();
    assert!(rx.handle_message(Message::Manifest(one), false).is_err());

    let parts = Manifest::new(vec![file("a", 1), file("b", 1)])
        .unwrap()
        .with_id(id())
        .parts(1);
    assert_eq!(parts.len(), 2);
    let other = Manifest::new(vec![file("b", 1)]).unwrap();
    let mut rx = Receiver::new(PeerConfirmed::for_tests());
    rx.handle_message(Message::Manifest(parts[0].clone()), false)
        .unwrap();
    assert!(rx.handle_message(Message::Manifest(other), false).is_err());
}

#[test]
fn folders_round_trip_and_unsafe_segments_are_refused() {
    let seg = |s: &str| SafeName::parse(s).unwrap();
    let entry = file("c.txt", 2).in_dir(vec![seg("a"), seg("b")]).unwrap();
    assert_eq!(entry.relative_path(), "a/b/c.txt");
    let m = Manifest::new(vec![entry]).unwrap();
    let json = m.to_json();
    assert_eq!(
        json,
        br#"{"files":[{"name":"c.txt","size":2,"type":"","dir":["a","b"]}]}"#
    );
    assert_eq!(Manifest::parse(&json).unwrap(), m);
    for bad in [
        r#"{"files":[{"name":"c","size":1,"type":"","dir":[".."]}]}"#,
        r#"{"files":[{"name":"c","size":1,"type":"","dir":["a/b"]}]}"#,
        r#"{"files":[{"name":"c","size":1,"type":"","dir":[]}]}"#,
    ] {
        assert!(Manifest::parse(bad.as_bytes()).is_err(), "{bad}");
    }
    let deep: Vec<SafeName> = (0..MAX_DIR_DEPTH).map(|_| seg("d")).collect();
    assert!(file("x", 1).in_dir(deep.clone()).is_ok());
    let deeper = [deep, vec![seg("d")]].concat();
    let err = file("x", 1).in_dir(deeper).unwrap_err();
    assert_eq!(err.code(), ErrorCode::BadName, "{err}");
}

#[test]
fn a_path_at_max_path_bytes_is_accepted_and_one_byte_more_is_a_bad_name() {
    let seg = |s: &str| SafeName::parse(s).unwrap();
    // 16 folders of 240 bytes, each with its slash: 3 856 bytes; the name takes the rest.
    let dir: Vec<SafeName> = (0..16).map(|_| seg(&"d".repeat(240))).collect();
    let at_cap = file(&"n".repeat(MAX_PATH_BYTES - 16 * 241), 1)
        .in_dir(dir.clone())
        .unwrap();
    assert_eq!(at_cap.relative_path().len(), MAX_PATH_BYTES);
    let err = file(&"n".repeat(MAX_PATH_BYTES - 16 * 241 + 1), 1)
        .in_dir(dir)
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::BadName, "{err}");
}

#[test]
fn text_is_utf8_and_bounded() {
    let msg = Message::Text("hello 🌍 https://example.org".to_owned());
    assert_eq!(Message::decode(&msg.encode()).unwrap(), msg);
    assert_eq!(msg.route(), Route::Session);
    assert!(Message::decode(&[msg_type::TEXT]).is_err());
    assert!(Message::decode(&[msg_type::TEXT, 0xff]).is_err());
    let mut long = vec![msg_type::TEXT];
    long.extend(std::iter::repeat_n(b'a', crate::limits::MAX_TEXT_BYTES + 1));
    assert!(Message::decode(&long).is_err());
}

/// Sender and receiver agree where a resumed transfer continues and count bytes from there.
#[test]
fn resume_continues_after_the_verified_prefix() {
    let sizes = [3 * RESUME_BLOCK + 10, 5, 2 * RESUME_BLOCK];
    let manifest = Manifest::new(
        sizes
            .iter()
            .enumerate()
            .map(|(i, &s)| file(&format!("f{i}"), s))
            .collect(),
    )
    .unwrap()
    .with_id(id());
    let (mut tx, msgs) = Sender::new(PeerConfirmed::for_tests(), manifest, 1 << 20);
    let (mut rx, _) = offer_to_receiver(msgs);
    // The receiver held 2 blocks of file 0 and all of file 2; it claims both.
    let claims = vec![
        ResumeClaim {
            index: 0,
            offset: 2 * RESUME_BLOCK,
            proof: [1; 32],
        },
        ResumeClaim {
            index: 2,
            offset: 2 * RESUME_BLOCK,
            proof: [2; 32],
        },
    ];
    let accept = rx.accept_resume(claims.clone()).unwrap();
    assert_eq!(Message::decode(&accept.encode()).unwrap(), accept);
    tx.handle_message(accept).unwrap();
    assert_eq!(tx.poll_event(), Some(SenderEvent::ResumeRequested(claims)));
    assert_eq!(tx.poll_chunk(), None, "no chunk before the resume decision");
    // File 0's proof matched; file 2's did not (its source changed): it starts again.
    let ack = tx
        .resume(vec![
            ResumeStart {
                index: 0,
                offset: 2 * RESUME_BLOCK,
            },
            ResumeStart {
                index: 2,
                offset: 0,
            },
        ])
        .unwrap();
    assert_eq!(Message::decode(&ack.encode()).unwrap(), ack);
    rx.handle_message(ack, false).unwrap();
    let resumed: Vec<ReceiverEvent> = std::iter::from_fn(|| rx.poll_event()).collect();
    assert_eq!(
        resumed,
        vec![
            ReceiverEvent::Resumed {
                index: 0,
                offset: 2 * RESUME_BLOCK
            },
            ReceiverEvent::Resumed {
                index: 2,
                offset: 0
            },
        ]
    );
    let mut sent = [0u64; 3];
    while let Some(c) = tx.poll_chunk() {
        if sent[c.index as usize] == 0 && c.index == 0 {
            assert_eq!(c.offset, 2 * RESUME_BLOCK);
        }
        sent[c.index as usize] += c.len as u64;
        rx.handle_message(Message::Chunk(vec![0; c.len]), c.is_final)
            .unwrap();
    }
    assert_eq!(sent, [RESUME_BLOCK + 10, 5, 2 * RESUME_BLOCK]);
    let events: Vec<ReceiverEvent> = std::iter::from_fn(|| rx.poll_event()).collect();
    assert!(events.contains(&ReceiverEvent::TransferComplete));
}

#[test]
fn a_file_held_whole_is_one_empty_final_chunk() {
    let manifest = Manifest::new(vec![file("a", 7)]).unwrap().with_id(id());
    let (mut tx, msgs) = Sender::new(PeerConfirmed::for_tests(), manifest, 1 << 20);
    let (mut rx, _) = offer_to_receiver(msgs);
    let claims = vec![ResumeClaim {
        index: 0,
        offset: 7,
        proof: [0; 32],
    }];
    tx.handle_message(rx.accept_resume(claims).unwrap())
        .unwrap();
    let ack = tx
        .resume(vec![ResumeStart {
            index: 0,
            offset: 7,
        }])
        .unwrap();
    rx.handle_message(ack, false).unwrap();
    let c = tx.poll_chunk().unwrap();
    assert_eq!((c.offset, c.len, c.is_final), (7, 0, true));
    rx.handle_message(Message::Chunk(Vec::new()), true).unwrap();
    assert!(
        std::iter::from_fn(|| rx.poll_event())
            .any(|e| e == ReceiverEvent::FileComplete { index: 0 })
    );
}

#[test]
fn bad_claims_and_answers_are_refused() {
    let m = |with_id: bool| {
        let m = Manifest::new(vec![file("a", 3 * RESUME_BLOCK), file("b", 1)]).unwrap();
        if with_id { m.with_id(id()) } else { m }
    };
    let claim = |index, offset| ResumeClaim {
        index,
        offset,
        proof: [0; 32],
    };
    let offered = |with_id| {
        let (_, msgs) = Sender::new(PeerConfirmed::for_tests(), m(with_id), 1 << 20);
        offer_to_receiver(msgs).0
    };
    // No id: nothing to resume.
    assert!(
        offered(false)
            .accept_resume(vec![claim(0, RESUME_BLOCK)])
            .is_err()
    );
    for bad in [
        vec![],
        vec![claim(0, 0)],
        vec![claim(0, 5)],
        vec![claim(0, 4 * RESUME_BLOCK)],
        vec![claim(2, 1)],
        vec![claim(1, 1), claim(0, RESUME_BLOCK)],
        vec![claim(0, RESUME_BLOCK), claim(0, RESUME_BLOCK)],
    ] {
        assert!(offered(true).accept_resume(bad.clone()).is_err(), "{bad:?}");
        let (mut tx, _) = Sender::new(PeerConfirmed::for_tests(), m(true), 1 << 20);
        assert!(tx.handle_message(Message::AcceptResume(bad)).is_err());
    }
    // An answer must name the claimed files, in order, at the claim or 0.
    let mut rx = offered(true);
    let accept = rx.accept_resume(vec![claim(0, RESUME_BLOCK)]).unwrap();
    assert!(
        rx.handle_message(
            Message::ResumeAck(vec![ResumeStart {
                index: 0,
                offset: 2 * RESUME_BLOCK
            }]),
            false
        )
        .is_err()
    );
    let (mut tx, _) = Sender::new(PeerConfirmed::for_tests(), m(true), 1 << 20);
    tx.handle_message(accept).unwrap();
    assert!(
        tx.resume(vec![ResumeStart {
            index: 1,
            offset: 0
        }])
        .is_err()
    );
    // A resume-ack nobody asked for.
    let mut rx = offered(true);
    assert!(
        rx.handle_message(Message::ResumeAck(vec![]), false)
            .is_err()
    );
}

#[test]
fn the_sender_stops_at_the_window_until_the_receiver_reports_stored_bytes() {
    use crate::limits::{PROGRESS_STEP, TRANSFER_WINDOW};
    let size = 4 * TRANSFER_WINDOW;
    let (mut tx, msgs) = Sender::new(
        PeerConfirmed::for_tests(),
        Manifest::new(vec![file("big", size)]).unwrap(),
        1 << 18,
    );
    let (mut rx, _) = offer_to_receiver(msgs);
    tx.handle_message(rx.accept().unwrap()).unwrap();
    let (mut sent, mut acked, mut stalls) = (0u64, 0u64, 0);
    // Progress messages the receiver sent and the sender has not read yet.
    let mut in_flight: std::collections::VecDeque<Message> = std::collections::VecDeque::new();
    loop {
        let Some(c) = tx.poll_chunk() else {
            // Window full: the sender waits for the receiver's next progress.
            stalls += 1;
            let msg = in_flight
                .pop_front()
                .expect("a stalled sender has a progress coming");
            if let Message::Progress(n) = msg {
                acked = n;
            }
            tx.handle_message(msg).unwrap();
            continue;
        };
        sent += c.len as u64;
        assert!(
            sent - acked <= TRANSFER_WINDOW,
            "sent {sent}, acknowledged {acked}"
        );
        rx.handle_message(Message::Chunk(vec![0; c.len]), c.is_final)
            .unwrap();
        if let Some(p) = rx.stored(c.len) {
            if let (Some(Message::Progress(last)), Message::Progress(n)) = (in_flight.back(), &p) {
                assert!(n - last >= PROGRESS_STEP);
            }
            in_flight.push_back(p);
        }
        if c.is_final {
            break;
        }
    }
    assert_eq!(sent, size);
    assert!(stalls > 0, "a 64 MiB file must fill a 16 MiB window");
}

#[test]
fn the_window_holds_without_acknowledgements_and_received_frees_it() {
    use crate::limits::TRANSFER_WINDOW;
    let files: Vec<FileEntry> = (0..40).map(|i| file(&format!("f{i}"), 1 << 20)).collect();
    let (mut tx, _) = Sender::new(
        PeerConfirmed::for_tests(),
        Manifest::new(files).unwrap(),
        1 << 18,
    );
    tx.handle_message(Message::Accept).unwrap();
    let mut sent = 0u64;
    let mut finals = 0u32;
    while let Some(c) = tx.poll_chunk() {
        sent += c.len as u64;
        finals += u32::from(c.is_final);
    }
    let chunk = max_chunk(1 << 18) as u64;
    assert!(
        sent <= TRANSFER_WINDOW && sent + chunk > TRANSFER_WINDOW,
        "{sent}"
    );
    assert_eq!(finals, 15);
    // `received` for the first 4 files acknowledges their 4 MiB.
    for i in 0..4 {
        tx.handle_message(Message::Received(i)).unwrap();
    }
    let more: u64 = std::iter::from_fn(|| tx.poll_chunk())
        .map(|c| c.len as u64)
        .sum();
    let total = sent + more;
    let limit = TRANSFER_WINDOW + (4 << 20);
    assert!(total <= limit && total + chunk > limit, "{total}");
}

#[test]
fn progress_that_goes_back_or_beyond_what_was_sent_is_refused() {
    let (mut tx, _) = Sender::new(
        PeerConfirmed::for_tests(),
        Manifest::new(vec![file("a", 10)]).unwrap(),
        1 << 18,
    );
    tx.handle_message(Message::Accept).unwrap();
    let _ = tx.poll_chunk();
    assert!(tx.handle_message(Message::Progress(11)).is_err());
    let (mut tx, _) = Sender::new(
        PeerConfirmed::for_tests(),
        Manifest::new(vec![file("a", 3 << 20)]).unwrap(),
        1 << 18,
    );
    tx.handle_message(Message::Accept).unwrap();
    for _ in 0..8 {
        let _ = tx.poll_chunk();
    }
    tx.handle_message(Message::Progress(1 << 20)).unwrap();
    assert!(tx.handle_message(Message::Progress(5)).is_err());
}

#[test]
fn after_a_local_cancel_messages_already_on_the_way_are_dropped() {
    // The receiver cancels while chunks are in flight: they are dropped, the next offer works.
    let (mut rx, _) = offer_to_receiver(vec![Message::Manifest(
        Manifest::new(vec![file("a", 10)]).unwrap(),
    )]);
    rx.accept().unwrap();
    rx.handle_message(Message::Chunk(vec![0; 4]), false)
        .unwrap();
    assert_eq!(rx.cancel(), Some(Message::Cancel));
    rx.handle_message(Message::Chunk(vec![0; 4]), false)
        .unwrap();
    rx.handle_message(Message::Chunk(vec![0; 2]), true).unwrap();
    rx.handle_message(
        Message::Manifest(Manifest::new(vec![file("b", 1)]).unwrap()),
        false,
    )
    .unwrap();
    // A chunk now, before accepting, is an error again.
    assert!(
        rx.handle_message(Message::Chunk(vec![0; 1]), false)
            .is_err()
    );

    // The sender cancels while the receiver's acknowledgements are in flight.
    let (mut tx, _) = Sender::new(
        PeerConfirmed::for_tests(),
        Manifest::new(vec![file("a", 10)]).unwrap(),
        1 << 18,
    );
    tx.handle_message(Message::Accept).unwrap();
    let _ = tx.poll_chunk();
    assert_eq!(tx.cancel(), Some(Message::Cancel));
    tx.handle_message(Message::Progress(0)).unwrap();
    tx.handle_message(Message::Received(0)).unwrap();
    // Without our own cancel, a stray received after the end is still refused.
    let (mut tx, _) = Sender::new(
        PeerConfirmed::for_tests(),
        Manifest::new(vec![file("a", 1)]).unwrap(),
        1 << 18,
    );
    tx.handle_message(Message::Decline).unwrap();
    assert!(tx.handle_message(Message::Received(0)).is_err());
}
