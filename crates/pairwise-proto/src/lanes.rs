//! Lanes (`docs/protocol.md` §12): more peer connections for one side's records, so that a
//! transfer is not bound by a single SCTP association's loss-based congestion control.
//!
//! This module owns what both sides must agree on, without any I/O: the lane messages'
//! payloads ([`LaneSdp`], [`LaneCandidate`]), the SDP line that declares how many lanes a side
//! takes ([`declared_lanes`]), and the receiving side of frames ([`Reorder`]): after a side's
//! first `lane-offer`, each of its records travels as `u64be(seq) || record` on whichever
//! channel, and the receiver puts them back in order.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::ErrorCode;
use crate::limits::{MAX_RECORD_BYTES, TRANSFER_WINDOW};
use crate::record::FRAME_HEADER;

/// The most lanes a side may declare or open (`lane` indices are 1 to this).
pub const MAX_LANES: u8 = 32;

/// The session-level SDP attribute by which a side declares how many lanes it takes
/// (`a=pairwise-lanes:N`).
pub const LANES_ATTRIBUTE: &str = "a=pairwise-lanes:";

/// The label of a lane's one data channel.
pub const LANE_LABEL: &str = "pairwise-lane";

/// The most bytes of frames a receiver holds out of order: the transfer window (§11.4),
/// which bounds what a sender has unacknowledged, plus one record per lane and the session's
/// channel for the messages that are not chunks.
pub const REORDER_BYTES: usize =
    TRANSFER_WINDOW as usize + (MAX_LANES as usize + 1) * MAX_RECORD_BYTES;

/// How far past the next sequence number to deliver a frame may be.
pub const MAX_AHEAD: u64 = 1 << 16;

/// The largest SDP in a `lane-offer` or `lane-answer`.
pub const MAX_LANE_SDP_BYTES: usize = 16 * 1024;

/// The payload of `lane-offer` and `lane-answer`: the lane and its SDP (without candidates).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LaneSdp {
    /// 1 to [`MAX_LANES`].
    pub lane: u8,
    /// The offer or answer.
    pub sdp: String,
}

/// The payload of `lane-candidate`: an `RTCIceCandidateInit` for a lane, or `None` at the end
/// of its candidates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LaneCandidate {
    /// 1 to [`MAX_LANES`].
    pub lane: u8,
    /// Which end of the lane the candidate is for: the lane of the side that offered it, or of
    /// the side that answered (both sides may open a lane with the same index).
    pub side: LaneSide,
    /// The candidate, as `RTCIceCandidateInit` JSON.
    pub candidate: Option<CandidateInit>,
}

/// The end of a lane that sent a `lane-candidate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LaneSide {
    /// The side that sent the `lane-offer` (the lane's opener, who sends on it).
    Offer,
    /// The side that answered it.
    Answer,
}

/// `RTCIceCandidateInit`, as browsers' `toJSON()` and the CLI write it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CandidateInit {
    /// The `candidate:` line; empty at the end of candidates.
    pub candidate: String,
    /// The media id, or `null`.
    #[serde(default)]
    pub sdp_mid: Option<String>,
    /// The m-line index, or `null`.
    #[serde(default, rename = "sdpMLineIndex")]
    pub sdp_m_line_index: Option<u16>,
    /// The ICE username fragment, or `null`.
    #[serde(default)]
    pub username_fragment: Option<String>,
}

/// Why a lane message is refused (`peer-misbehaved`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LaneError {
    /// The lane index is 0 or above [`MAX_LANES`].
    #[error("lane {lane} is outside 1..={MAX_LANES}")]
    BadIndex {
        /// The index.
        lane: u8,
    },
    /// The SDP is empty or longer than [`MAX_LANE_SDP_BYTES`].
    #[error("lane SDP of {len} bytes")]
    BadSdp {
        /// Its length.
        len: usize,
    },
}

impl LaneSdp {
    /// Checks the index and the SDP's size.
    ///
    /// # Errors
    /// [`LaneError`] if either is out of bounds.
    pub fn check(&self) -> Result<(), LaneError> {
        check_index(self.lane)?;
        if self.sdp.is_empty() || self.sdp.len() > MAX_LANE_SDP_BYTES {
            return Err(LaneError::BadSdp {
                len: self.sdp.len(),
            });
        }
        Ok(())
    }
}

impl LaneCandidate {
    /// Checks the index.
    ///
    /// # Errors
    /// [`LaneError::BadIndex`].
    pub fn check(&self) -> Result<(), LaneError> {
        check_index(self.lane)
    }
}

fn check_index(lane: u8) -> Result<(), LaneError> {
    if lane == 0 || lane > MAX_LANES {
        return Err(LaneError::BadIndex { lane });
    }
    Ok(())
}

/// The lanes an SDP's sender takes (its `a=pairwise-lanes:N` line, capped at [`MAX_LANES`]);
/// 0 if it has none or it does not parse. A hint, not a promise: it comes through the server.
pub fn declared_lanes(sdp: &str) -> u8 {
    sdp.lines()
        .find_map(|l| l.trim_end().strip_prefix(LANES_ATTRIBUTE))
        .and_then(|n| n.parse::<u8>().ok())
        .map_or(0, |n| n.min(MAX_LANES))
}

/// `sdp` with the session-level line `a=pairwise-lanes:n` added before its first media
/// section (or at its end), replacing one already there.
pub fn declare_lanes(sdp: &str, n: u8) -> String {
    let eol = if sdp.contains("\r\n") { "\r\n" } else { "\n" };
    let line = format!("{LANES_ATTRIBUTE}{}{eol}", n.min(MAX_LANES));
    let mut out = String::with_capacity(sdp.len() + line.len());
    let mut added = false;
    for l in sdp.split_inclusive('\n') {
        if l.starts_with(LANES_ATTRIBUTE) {
            continue;
        }
        if !added && l.starts_with("m=") {
            out.push_str(&line);
            added = true;
        }
        out.push_str(l);
    }
    if !added {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push_str(eol);
        }
        out.push_str(&line);
    }
    out
}

/// The sequence number at the front of a frame and where its record starts, or `None` if the
/// frame is too short to hold one.
pub fn frame_seq(frame: &[u8]) -> Option<u64> {
    let header: [u8; FRAME_HEADER] = frame.get(..FRAME_HEADER)?.try_into().ok()?;
    Some(u64::from_be_bytes(header))
}

/// Why a frame is refused before or after opening.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReorderError {
    /// Shorter than its header: `peer-misbehaved`.
    #[error("a frame of {len} bytes has no sequence number")]
    Short {
        /// Its length.
        len: usize,
    },
    /// More than [`MAX_AHEAD`] past the next to deliver (`peer-misbehaved`).
    #[error("frame {seq} is too far ahead of {next}")]
    TooFarAhead {
        /// The sequence number.
        seq: u64,
        /// The next to deliver.
        next: u64,
    },
    /// Holding it would exceed [`REORDER_BYTES`] (`peer-misbehaved`).
    #[error("more than {REORDER_BYTES} bytes of frames out of order")]
    Overfull,
}

impl ReorderError {
    /// The catalogue code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Short { .. } | Self::TooFarAhead { .. } | Self::Overfull => {
                ErrorCode::PeerMisbehaved
            }
        }
    }
}

/// Puts a peer's frames back in sequence order. `T` is whatever the caller keeps per opened
/// record (the CLI: the decrypted buffer). Each sequence number is taken once: a sender may
/// send a frame held up on one channel again on another, byte for byte, and the copy that
/// comes second is dropped unopened. The bytes held out of order are capped at
/// [`REORDER_BYTES`].
#[derive(Debug)]
pub struct Reorder<T> {
    next: u64,
    held: BTreeMap<u64, (T, usize)>,
    bytes: usize,
}

impl<T> Reorder<T> {
    /// Delivers from `next` on: the sequence number after the peer's first `lane-offer`.
    pub fn new(next: u64) -> Self {
        Self {
            next,
            held: BTreeMap::new(),
            bytes: 0,
        }
    }

    /// Whether a frame with this sequence number and length is to be opened (`true`) or is
    /// a copy of one delivered or held already, to drop unopened (`false`). Checked before
    /// decrypting, so a copy costs no work.
    ///
    /// # Errors
    /// [`ReorderError`] for a frame too far ahead, or one that would overfill.
    #[must_use = "a copy (false) must be dropped, not opened"]
    pub fn check(&self, seq: u64, len: usize) -> Result<bool, ReorderError> {
        if seq < self.next || self.held.contains_key(&seq) {
            return Ok(false);
        }
        if seq - self.next > MAX_AHEAD {
            return Err(ReorderError::TooFarAhead {
                seq,
                next: self.next,
            });
        }
        if seq != self.next && self.bytes + len > REORDER_BYTES {
            return Err(ReorderError::Overfull);
        }
        Ok(true)
    }

    /// Takes the opened record `seq` (of `len` bytes on the wire); a copy of one taken
    /// already is dropped.
    ///
    /// # Errors
    /// As [`Self::check`].
    pub fn insert(&mut self, seq: u64, item: T, len: usize) -> Result<(), ReorderError> {
        if !self.check(seq, len)? {
            return Ok(());
        }
        self.bytes += len;
        self.held.insert(seq, (item, len));
        Ok(())
    }

    /// The next record in order, if it arrived.
    pub fn pop(&mut self) -> Option<T> {
        let (item, len) = self.held.remove(&self.next)?;
        self.bytes -= len;
        self.next += 1;
        Some(item)
    }

    /// The records held beyond a gap, in sequence order: where a receiver whose peer's
    /// session channel closed looks for that peer's `cancel` (§12).
    pub fn held(&self) -> impl Iterator<Item = &T> {
        self.held.values().map(|(item, _)| item)
    }

    /// The next sequence number to deliver.
    pub fn next(&self) -> u64 {
        self.next
    }

    /// Bytes held.
    pub fn held_bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests;
