//! SDP and candidate text: what the remote side said, parsed the way [`super::NativePeer`]
//! needs it.

use anyhow::{Context as _, Result};
use webrtc::peer_connection::RTCIceCandidateInit;

use super::MAX_MESSAGE_SIZE;

/// Parses a remote candidate; `None` for the end-of-candidates marker.
pub(super) fn parse_remote_candidate(json: &str) -> Result<Option<RTCIceCandidateInit>> {
    let init: RTCIceCandidateInit =
        serde_json::from_str(json).context("parsing a remote ICE candidate")?;
    Ok((!init.candidate.trim().is_empty()).then_some(init))
}

/// The SDP session name (`s=` line) of a Pairwise CLI's offers and answers
/// (`docs/protocol.md` §5): a CLI that sees it in the remote SDP knows the other side reads
/// its UDP socket through a large buffer, so it may send in large bursts.
pub(super) const CLI_SESSION_LINE: &str = "s=pairwise-cli";

/// `sdp` with its session name set to `pairwise-cli` (`CLI_SESSION_LINE`) and the lanes this
/// side takes declared (`docs/protocol.md` §12, [`pairwise_proto::lanes::declare_lanes`]).
pub fn mark_cli(sdp: &str) -> String {
    let named: String = sdp
        .split_inclusive('\n')
        .map(|l| {
            if l.starts_with("s=") {
                let end = &l[l.trim_end_matches(['\r', '\n']).len()..];
                format!("{CLI_SESSION_LINE}{end}")
            } else {
                l.to_owned()
            }
        })
        .collect();
    pairwise_proto::lanes::declare_lanes(&named, LANES_TAKEN)
}

/// How many lanes a CLI takes from its peer: as many as the protocol allows.
pub const LANES_TAKEN: u8 = pairwise_proto::lanes::MAX_LANES;

/// Whether a remote SDP comes from a Pairwise CLI ([`mark_cli`]).
pub(super) fn is_cli(sdp: &str) -> bool {
    sdp.lines().any(|l| l.trim_end() == CLI_SESSION_LINE)
}

/// `a=max-message-size` of an SDP (RFC 8841: absent means 64 KiB, 0 means unlimited), capped
/// at [`MAX_MESSAGE_SIZE`].
pub(super) fn remote_max_message_size(sdp: &str) -> usize {
    let advertised = sdp
        .lines()
        .find_map(|l| l.trim().strip_prefix("a=max-message-size:"))
        .and_then(|v| v.trim().parse::<u64>().ok());
    match advertised {
        None => 65_536,
        Some(0) => MAX_MESSAGE_SIZE,
        Some(n) => usize::try_from(n)
            .unwrap_or(usize::MAX)
            .min(MAX_MESSAGE_SIZE),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cli_session_name_is_set_and_recognised() {
        let sdp = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";
        let marked = mark_cli(sdp);
        assert_eq!(
            marked,
            "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=pairwise-cli\r\nt=0 0\r\na=pairwise-lanes:32\r\n"
        );
        assert_eq!(pairwise_proto::lanes::declared_lanes(&marked), LANES_TAKEN);
        assert!(is_cli(&marked));
        assert!(!is_cli(sdp), "a browser's SDP");
    }

    #[test]
    fn a_cli_peer_gets_the_larger_receive_window() {
        use super::super::{NativePeerOptions, settings};
        let sdp = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";
        let options = || NativePeerOptions::default();
        assert_eq!(
            options().receive_window(),
            settings::SCTP_RECEIVE_BUFFER_BROWSER,
            "not known yet"
        );
        assert_eq!(
            options().for_remote_sdp(sdp).receive_window(),
            settings::SCTP_RECEIVE_BUFFER_BROWSER
        );
        assert_eq!(
            options().for_remote_sdp(&mark_cli(sdp)).receive_window(),
            settings::SCTP_RECEIVE_BUFFER
        );
    }

    #[test]
    fn browser_candidate_json_parses_and_end_marker_is_skipped() {
        let json = r#"{"candidate":"candidate:1 1 udp 2122260223 127.0.0.1 40000 typ host generation 0","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"abcd"}"#;
        let init = parse_remote_candidate(json).ok().flatten();
        assert_eq!(init.as_ref().and_then(|i| i.sdp_mid.as_deref()), Some("0"));
        assert_eq!(
            init.and_then(|i| i.username_fragment),
            Some("abcd".to_owned())
        );
        let end = r#"{"candidate":"","sdpMid":"0","sdpMLineIndex":0}"#;
        assert!(matches!(parse_remote_candidate(end), Ok(None)));
        assert!(parse_remote_candidate("{").is_err());
    }

    #[test]
    fn local_candidate_json_addresses_the_first_m_line() {
        let init = RTCIceCandidateInit {
            candidate: "candidate:1 1 udp 1 127.0.0.1 5000 typ host".to_owned(),
            sdp_mid: Some(String::new()),
            sdp_mline_index: Some(0),
            ..Default::default()
        };
        let json = super::super::handler::candidate_json(init).unwrap_or_default();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(v["sdpMid"], serde_json::Value::Null);
        assert_eq!(v["sdpMLineIndex"], 0);
        assert!(
            v["candidate"]
                .as_str()
                .is_some_and(|c| c.starts_with("candidate:"))
        );
    }

    #[test]
    fn message_size_follows_the_remote_sdp_and_is_capped() {
        let sdp = |attr: &str| {
            format!(
                "v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n{attr}a=sctp-port:5000\r\n"
            )
        };
        assert_eq!(remote_max_message_size(&sdp("")), 65_536);
        assert_eq!(
            remote_max_message_size(&sdp("a=max-message-size:262144\r\n")),
            262_144
        );
        assert_eq!(
            remote_max_message_size(&sdp("a=max-message-size:100000\r\n")),
            100_000
        );
        assert_eq!(
            remote_max_message_size(&sdp("a=max-message-size:1073741823\r\n")),
            MAX_MESSAGE_SIZE
        );
        assert_eq!(
            remote_max_message_size(&sdp("a=max-message-size:0\r\n")),
            MAX_MESSAGE_SIZE
        );
    }
}
