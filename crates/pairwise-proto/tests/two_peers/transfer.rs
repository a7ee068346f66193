//! Files over records between two confirmed peers, and a misbehaving sender.

use crate::harness::*;

/// Sends every file of `files` from `init` to `resp` through records; returns what arrived.
fn transfer(files: &[Vec<u8>], max_record: usize) -> Vec<Vec<u8>> {
    let (init, resp) = handshake("transfer", |_, _| {});
    let (init, resp) = (confirmed(init), confirmed(resp));
    let mut receiver = Receiver::new(resp.proof());
    let entries = files
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let name = SafeName::parse(&format!("file {i}.bin")).unwrap();
            FileEntry::new(name, f.len() as u64, "application/octet-stream").unwrap()
        })
        .collect();
    let (mut sender, manifest) =
        Sender::new(init.proof(), Manifest::new(entries).unwrap(), max_record);
    let ((mut i_seal, mut i_open), (mut r_seal, mut r_open)) =
        (init.into_records(max_record), resp.into_records(max_record));

    // initiator -> responder
    let mut to_resp = |msg: &Message, is_final: bool, receiver: &mut Receiver| {
        let record = i_seal.seal(&msg.encode(), is_final).unwrap();
        assert!(record.len() <= max_record);
        let opened = r_open.open(&record).unwrap();
        let msg = Message::decode(&opened.inner).unwrap();
        assert_eq!(msg.route(), Route::Receiver);
        receiver.handle_message(msg, opened.is_final).unwrap();
    };
    for part in &manifest {
        to_resp(part, false, &mut receiver);
    }
    assert!(matches!(
        receiver.poll_event(),
        Some(ReceiverEvent::Offered(_))
    ));
    let accept = receiver.accept().unwrap();

    // responder -> initiator
    let mut to_init = |msg: &Message, sender: &mut Sender| {
        let record = r_seal.seal(&msg.encode(), false).unwrap();
        let msg = Message::decode(&i_open.open(&record).unwrap().inner).unwrap();
        assert_eq!(msg.route(), Route::Sender);
        sender.handle_message(msg).unwrap();
    };
    to_init(&accept, &mut sender);
    assert_eq!(sender.poll_event(), Some(SenderEvent::Accepted));

    let mut arrived = vec![Vec::new(); files.len()];
    let mut complete = false;
    while let Some(chunk) = sender.poll_chunk() {
        let file = &files[chunk.index as usize];
        let start = usize::try_from(chunk.offset).unwrap();
        let data = file[start..start + chunk.len].to_vec();
        to_resp(&Message::Chunk(data), chunk.is_final, &mut receiver);
        while let Some(event) = receiver.poll_event() {
            match event {
                ReceiverEvent::Data { index, bytes } => arrived[index as usize].extend(bytes),
                ReceiverEvent::FileComplete { index } => {
                    to_init(&Message::Received(index), &mut sender);
                }
                ReceiverEvent::TransferComplete => complete = true,
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    assert!(complete);
    let events: Vec<SenderEvent> = std::iter::from_fn(|| sender.poll_event()).collect();
    assert_eq!(events.last(), Some(&SenderEvent::TransferComplete));
    assert!(sender.is_done());
    arrived
}

#[test]
fn several_files_arrive_byte_identical() {
    let max_record = 1024;
    let big: Vec<u8> = (0..3 * max_chunk(max_record) + 5)
        .map(|i| (i * 7 % 251) as u8)
        .collect();
    let exact: Vec<u8> = vec![0xee; max_chunk(max_record)];
    let files = vec![Vec::new(), vec![0x42], big, exact];
    assert_eq!(transfer(&files, max_record), files);
}

#[test]
fn full_size_records_carry_a_multi_chunk_file() {
    let file: Vec<u8> = (0..MAX_RECORD_BYTES * 2).map(|i| (i % 256) as u8).collect();
    assert_eq!(
        transfer(std::slice::from_ref(&file), MAX_RECORD_BYTES),
        vec![file]
    );
}

fn receiving(size: u64) -> (RecordSealer, RecordOpener, Receiver) {
    let (init, resp) = handshake("final", |_, _| {});
    let (init, resp) = (confirmed(init), confirmed(resp));
    let mut receiver = Receiver::new(resp.proof());
    let (seal, _) = init.into_records(MAX_RECORD_BYTES);
    let (_, open) = resp.into_records(MAX_RECORD_BYTES);
    let entry = FileEntry::new(SafeName::parse("f").unwrap(), size, "").unwrap();
    receiver
        .handle_message(
            Message::Manifest(Manifest::new(vec![entry]).unwrap()),
            false,
        )
        .unwrap();
    let _ = receiver.accept().unwrap();
    (seal, open, receiver)
}

fn deliver(
    seal: &mut RecordSealer,
    open: &mut RecordOpener,
    receiver: &mut Receiver,
    data: &[u8],
    is_final: bool,
) -> Result<(), TransferError> {
    let record = seal
        .seal(&Message::Chunk(data.to_vec()).encode(), is_final)
        .unwrap();
    let opened = open.open(&record).unwrap();
    receiver.handle_message(Message::decode(&opened.inner).unwrap(), opened.is_final)
}

#[test]
fn early_final_is_peer_misbehaviour() {
    let (mut seal, mut open, mut rx) = receiving(10);
    deliver(&mut seal, &mut open, &mut rx, &[1; 4], false).unwrap();
    let err = deliver(&mut seal, &mut open, &mut rx, &[1; 5], true).unwrap_err();
    assert_eq!(err.code(), ErrorCode::PeerMisbehaved);
}

#[test]
fn late_final_is_peer_misbehaviour() {
    let (mut seal, mut open, mut rx) = receiving(10);
    deliver(&mut seal, &mut open, &mut rx, &[1; 10], false).unwrap();
    let err = deliver(&mut seal, &mut open, &mut rx, &[1], true).unwrap_err();
    assert_eq!(err.code(), ErrorCode::PeerMisbehaved);
    let (mut seal, mut open, mut rx) = receiving(0);
    let err = deliver(&mut seal, &mut open, &mut rx, &[1], false).unwrap_err();
    assert_eq!(err.code(), ErrorCode::PeerMisbehaved);
}

#[test]
fn channel_closing_mid_file_leaves_the_transfer_incomplete() {
    let (mut seal, mut open, mut rx) = receiving(10);
    deliver(&mut seal, &mut open, &mut rx, &[1; 4], false).unwrap();
    assert_eq!(rx.handle_close().unwrap_err().code(), ErrorCode::Incomplete);
}
