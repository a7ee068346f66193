use super::*;
use crate::handshake::PeerConfirmed;
use crate::limits::{MAX_FILE_SIZE, MAX_RECORD_BYTES};
use crate::name::SafeName;

fn manifest(sizes: &[u64]) -> Manifest {
    let files = sizes
        .iter()
        .enumerate()
        .map(|(i, &size)| {
            FileEntry::new(SafeName::parse(&format!("f{i}")).unwrap(), size, "").unwrap()
        })
        .collect();
    Manifest::new(files).unwrap()
}

fn accepted(sizes: &[u64]) -> Receiver {
    let mut rx = Receiver::new(PeerConfirmed::for_tests());
    rx.handle_message(Message::Manifest(manifest(sizes)), false)
        .unwrap();
    assert!(matches!(rx.poll_event(), Some(ReceiverEvent::Offered(_))));
    assert_eq!(rx.accept(), Some(Message::Accept));
    rx
}

fn drain(rx: &mut Receiver) -> Vec<ReceiverEvent> {
    std::iter::from_fn(|| rx.poll_event()).collect()
}

#[test]
fn manifest_has_exact_json_bytes() {
    let inner = Message::Manifest(manifest(&[3])).encode();
    assert_eq!(
        inner,
        b"\x01{\"files\":[{\"name\":\"f0\",\"size\":3,\"type\":\"\"}]}"
    );
}

#[test]
fn received_has_exact_bytes() {
    assert_eq!(Message::Received(0x0102_0304).encode(), [0x05, 1, 2, 3, 4]);
}

#[test]
fn file_size_at_the_cap_is_accepted_and_one_past_is_refused() {
    let name = SafeName::parse("a").unwrap();
    assert!(FileEntry::new(name.clone(), MAX_FILE_SIZE, "").is_ok());
    assert!(FileEntry::new(name, MAX_FILE_SIZE + 1, "").is_err());
}

#[test]
fn type_at_the_cap_is_accepted_and_one_past_is_refused() {
    let name = SafeName::parse("a").unwrap();
    assert!(FileEntry::new(name.clone(), 1, &"t".repeat(255)).is_ok());
    assert!(FileEntry::new(name, 1, &"t".repeat(256)).is_err());
}

#[test]
fn manifest_with_dotdot_name_is_refused_as_bad_name() {
    let err = Message::decode(br#"{"files":[{"name":"..","size":1,"type":""}]}"#)
        .err()
        .map(|e| e.code());
    // Without the type byte this is an unknown type; with it, a bad name.
    assert_eq!(err, Some(crate::error::ErrorCode::PeerMisbehaved));
    let mut inner = vec![msg_type::MANIFEST];
    inner.extend_from_slice(br#"{"files":[{"name":"..","size":1,"type":""}]}"#);
    assert_eq!(
        Message::decode(&inner).unwrap_err().code(),
        crate::error::ErrorCode::BadName
    );
}

#[test]
fn files_arrive_in_order_with_final_on_each() {
    let mut rx = accepted(&[0, 1, 5]);
    rx.handle_message(Message::Chunk(vec![]), true).unwrap();
    rx.handle_message(Message::Chunk(vec![7]), true).unwrap();
    rx.handle_message(Message::Chunk(vec![1, 2]), false)
        .unwrap();
    rx.handle_message(Message::Chunk(vec![3, 4, 5]), true)
        .unwrap();
    assert_eq!(
        drain(&mut rx),
        vec![
            ReceiverEvent::FileComplete { index: 0 },
            ReceiverEvent::Data {
                index: 1,
                bytes: vec![7]
            },
            ReceiverEvent::FileComplete { index: 1 },
            ReceiverEvent::Data {
                index: 2,
                bytes: vec![1, 2]
            },
            ReceiverEvent::Data {
                index: 2,
                bytes: vec![3, 4, 5]
            },
            ReceiverEvent::FileComplete { index: 2 },
            ReceiverEvent::TransferComplete,
        ]
    );
    assert_eq!(rx.handle_close(), Ok(()));
}

#[test]
fn final_with_fewer_bytes_is_refused() {
    let mut rx = accepted(&[5]);
    rx.handle_message(Message::Chunk(vec![1, 2]), false)
        .unwrap();
    assert_eq!(
        rx.handle_message(Message::Chunk(vec![3]), true),
        Err(TransferError::FinalTooEarly {
            index: 0,
            got: 3,
            expected: 5
        })
    );
}

#[test]
fn more_bytes_than_the_manifest_size_is_refused() {
    let mut rx = accepted(&[2]);
    rx.handle_message(Message::Chunk(vec![1, 2]), false)
        .unwrap();
    let err = rx
        .handle_message(Message::Chunk(vec![3]), true)
        .unwrap_err();
    assert_eq!(
        err,
        TransferError::TooManyBytes {
            index: 0,
            got: 3,
            expected: 2
        }
    );
    assert_eq!(err.code(), crate::error::ErrorCode::PeerMisbehaved);
}

#[test]
fn chunk_before_accept_or_after_the_last_file_is_refused() {
    let mut rx = Receiver::new(PeerConfirmed::for_tests());
    assert_eq!(
        rx.handle_message(Message::Chunk(vec![1]), false),
        Err(TransferError::ChunkWithoutFile)
    );
    let mut rx = accepted(&[1]);
    rx.handle_message(Message::Chunk(vec![1]), true).unwrap();
    assert_eq!(
        rx.handle_message(Message::Chunk(vec![]), true),
        Err(TransferError::ChunkWithoutFile)
    );
}

#[test]
fn final_on_a_non_chunk_is_refused() {
    let mut rx = Receiver::new(PeerConfirmed::for_tests());
    assert_eq!(
        rx.handle_message(Message::Manifest(manifest(&[1])), true),
        Err(TransferError::FinalOnNonChunk { msg_type: 0x01 })
    );
}

#[test]
fn second_manifest_during_a_transfer_is_refused() {
    let mut rx = accepted(&[1]);
    assert!(
        rx.handle_message(Message::Manifest(manifest(&[1])), false)
            .is_err()
    );
}

#[test]
fn close_mid_transfer_is_incomplete_and_cancel_ends_it() {
    let mut rx = accepted(&[3]);
    rx.handle_message(Message::Chunk(vec![1]), false).unwrap();
    assert_eq!(rx.handle_close(), Err(TransferError::Incomplete));
    assert_eq!(
        TransferError::Incomplete.code(),
        crate::error::ErrorCode::Incomplete
    );
    let mut rx = accepted(&[3]);
    rx.handle_message(Message::Cancel, false).unwrap();
    assert_eq!(drain(&mut rx), vec![ReceiverEvent::Cancelled]);
    assert_eq!(rx.handle_close(), Ok(()));
}

#[test]
fn chunk_plan_uses_max_record_minus_18_and_one_empty_final_for_empty_files() {
    let max = max_chunk(MAX_RECORD_BYTES);
    assert_eq!(max, MAX_RECORD_BYTES - 18);
    assert_eq!(
        ChunkPlan::new(0, MAX_RECORD_BYTES).collect::<Vec<_>>(),
        vec![(0, 0, true)]
    );
    assert_eq!(
        ChunkPlan::new(max as u64, MAX_RECORD_BYTES).collect::<Vec<_>>(),
        vec![(0, max, true)]
    );
    assert_eq!(
        ChunkPlan::new(max as u64 + 1, MAX_RECORD_BYTES).collect::<Vec<_>>(),
        vec![(0, max, false), (max as u64, 1, true)]
    );
}

#[test]
fn sender_walks_files_and_accepts_received_in_order() {
    let (mut tx, first) = Sender::new(PeerConfirmed::for_tests(), manifest(&[0, 3]), 20);
    assert!(matches!(first.as_slice(), [Message::Manifest(_), ..]));
    assert_eq!(tx.poll_chunk(), None);
    tx.handle_message(Message::Accept).unwrap();
    assert_eq!(tx.poll_event(), Some(SenderEvent::Accepted));
    let chunks: Vec<ChunkSpec> = std::iter::from_fn(|| tx.poll_chunk()).collect();
    let spec = |index, offset, len, is_final| ChunkSpec {
        index,
        offset,
        len,
        is_final,
    };
    assert_eq!(
        chunks,
        vec![
            spec(0, 0, 0, true),
            spec(1, 0, 2, false),
            spec(1, 2, 1, true)
        ]
    );
    assert!(tx.handle_message(Message::Received(1)).is_err());
}

#[test]
fn set_max_record_cuts_the_rest_of_the_current_file_and_the_next_ones_smaller() {
    // Records of 100 bytes carry 82-byte chunks, records of 40 bytes 22-byte ones.
    let (mut tx, _) = Sender::new(PeerConfirmed::for_tests(), manifest(&[200, 30]), 100);
    tx.handle_message(Message::Accept).unwrap();
    let spec = |index, offset, len, is_final| ChunkSpec {
        index,
        offset,
        len,
        is_final,
    };
    assert_eq!(tx.poll_chunk(), Some(spec(0, 0, 82, false)));
    tx.set_max_record(40);
    let rest: Vec<ChunkSpec> = std::iter::from_fn(|| tx.poll_chunk()).collect();
    let mut want: Vec<ChunkSpec> = (0..5).map(|k| spec(0, 82 + 22 * k, 22, false)).collect();
    want.push(spec(0, 192, 8, true));
    want.extend([spec(1, 0, 22, false), spec(1, 22, 8, true)]);
    assert_eq!(rest, want);
}

#[test]
fn set_max_record_before_accept_sizes_every_chunk() {
    let (mut tx, _) = Sender::new(PeerConfirmed::for_tests(), manifest(&[50]), 1000);
    tx.set_max_record(40);
    tx.handle_message(Message::Accept).unwrap();
    let lens: Vec<usize> = std::iter::from_fn(|| tx.poll_chunk())
        .map(|c| c.len)
        .collect();
    assert_eq!(lens, vec![22, 22, 6]);
}

#[test]
fn received_for_an_unsent_file_is_refused() {
    let (mut tx, _) = Sender::new(PeerConfirmed::for_tests(), manifest(&[1, 1]), 100);
    tx.handle_message(Message::Accept).unwrap();
    let _ = tx.poll_chunk();
    tx.handle_message(Message::Received(0)).unwrap();
    assert!(tx.handle_message(Message::Received(1)).is_err());
}

#[test]
fn decline_ends_the_transfer_and_a_late_accept_is_refused() {
    let (mut tx, _) = Sender::new(PeerConfirmed::for_tests(), manifest(&[1]), 100);
    tx.handle_message(Message::Decline).unwrap();
    assert_eq!(tx.poll_event(), Some(SenderEvent::Declined));
    assert!(tx.is_done());
    assert!(tx.handle_message(Message::Accept).is_err());
}

#[test]
fn decode_in_keeps_a_chunk_in_its_buffer_and_decodes_the_rest_like_decode() {
    // A record opened in place: one flags byte, the inner message, 16 tag bytes.
    let framed = |inner: &[u8]| {
        let mut buf = vec![0x01];
        buf.extend_from_slice(inner);
        buf.extend_from_slice(&[0xee; 16]);
        (buf, 1..1 + inner.len())
    };
    for msg in [
        Message::Chunk(b"bytes".to_vec()),
        Message::Chunk(Vec::new()),
        Message::Received(7),
        Message::Progress(1 << 20),
        Message::Cancel,
        Message::Text("hello".to_owned()),
    ] {
        let (buf, inner) = framed(&msg.encode());
        assert_eq!(Message::decode_in(buf, inner), Ok(msg));
    }
    let (buf, _) = framed(&[0x99]);
    assert_eq!(
        Message::decode_in(buf.clone(), 1..2),
        Err(TransferError::UnknownType { msg_type: 0x99 })
    );
    assert_eq!(
        Message::decode_in(buf.clone(), 1..1),
        Err(TransferError::EmptyMessage)
    );
    assert_eq!(
        Message::decode_in(buf, 10..40),
        Err(TransferError::EmptyMessage)
    );
}
