//! Which path a connection took: the candidate types of the selected pair, and the one word a
//! person reads ("direct" or "relayed").

use std::fmt;

use rtc::peer_connection::transport::RTCIceCandidateType;
use rtc::statistics::report::{RTCStatsReport, RTCStatsReportEntry};

/// An ICE candidate's type (RFC 8445 §5.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CandidateKind {
    /// An address of the device itself.
    Host,
    /// The device's address outside its NAT, learned from a STUN server.
    Srflx,
    /// The device's address outside its NAT, learned from the peer's checks.
    Prflx,
    /// An address on a TURN relay.
    Relay,
    /// Anything else webrtc-rs reports.
    Unknown,
}

impl From<RTCIceCandidateType> for CandidateKind {
    fn from(t: RTCIceCandidateType) -> Self {
        match t {
            RTCIceCandidateType::Host => Self::Host,
            RTCIceCandidateType::Srflx => Self::Srflx,
            RTCIceCandidateType::Prflx => Self::Prflx,
            RTCIceCandidateType::Relay => Self::Relay,
            _ => Self::Unknown,
        }
    }
}

impl CandidateKind {
    /// The name `getStats()` uses (`host`, `srflx`, `prflx`, `relay`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Host => "host",
            Self::Srflx => "srflx",
            Self::Prflx => "prflx",
            Self::Relay => "relay",
            Self::Unknown => "unknown",
        }
    }
}

/// The selected candidate pair's two ends, as seen from this side, and its round trip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Path {
    /// This side's candidate.
    pub local: CandidateKind,
    /// The other side's candidate.
    pub remote: CandidateKind,
    /// The pair's latest round trip from ICE's consent checks, if one was measured.
    pub rtt: Option<std::time::Duration>,
}

impl Path {
    /// Whether the bytes go through a TURN relay (either end's candidate is relayed; a
    /// peer-reflexive remote may hide the peer's relay, which only the peer can tell).
    pub fn is_relayed(self) -> bool {
        self.local == CandidateKind::Relay || self.remote == CandidateKind::Relay
    }

    /// `"relayed"` or `"direct"`.
    pub fn word(self) -> &'static str {
        if self.is_relayed() {
            "relayed"
        } else {
            "direct"
        }
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}/{})",
            self.word(),
            self.local.as_str(),
            self.remote.as_str()
        )
    }
}

/// The selected pair of a stats report (the transport's, else the nominated one), as a [`Path`].
pub(super) fn selected(report: &RTCStatsReport) -> Option<Path> {
    let selected = report
        .transport()
        .map(|t| t.selected_candidate_pair_id.clone())
        .filter(|id| !id.is_empty());
    let pair = report.candidate_pairs().find(|p| match &selected {
        Some(id) => &p.stats.id == id,
        None => p.nominated,
    })?;
    // webrtc-rs names candidates `RTCLocalIceCandidate_ID`/`RTCRemoteIceCandidate_ID` but its
    // pairs by the bare ID; a remote candidate learned from the peer's checks is in no list at
    // all, which is what peer-reflexive means.
    let kind = |prefix: &str, id: &str| {
        [id.to_owned(), format!("{prefix}{id}")]
            .iter()
            .find_map(|key| match report.get(key) {
                Some(
                    RTCStatsReportEntry::LocalCandidate(c)
                    | RTCStatsReportEntry::RemoteCandidate(c),
                ) => Some(CandidateKind::from(c.candidate_type)),
                _ => None,
            })
    };
    Some(Path {
        local: kind("RTCLocalIceCandidate_", &pair.local_candidate_id)
            .unwrap_or(CandidateKind::Unknown),
        remote: kind("RTCRemoteIceCandidate_", &pair.remote_candidate_id)
            .unwrap_or(CandidateKind::Prflx),
        rtt: Some(pair.current_round_trip_time)
            .filter(|s| s.is_finite() && *s > 0.0)
            .map(std::time::Duration::from_secs_f64),
    })
}
