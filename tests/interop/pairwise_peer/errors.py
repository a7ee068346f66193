"""The one exception the peer raises: a §9 error code plus a detail for the log."""


class PeerError(Exception):
    """A failure with the §9 code the peer reports (`ERROR <code> <detail>`)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


def drift(log, what: str) -> None:
    """Something the spec says a peer does (or does not do) that this peer can observe but that
    the spec gives no error code for: logged as `DRIFT …` on stderr, which the e2e driver
    asserts never appears."""
    log.warning("DRIFT %s", what)


# §9, in the table's order: a `close` may carry any of them (§6.1).
CODES = (
    "bad-link", "room-full", "link-expired", "peer-left", "verify-failed", "peer-misbehaved",
    "record-rejected", "bad-name", "name-refused", "peer-refused", "incomplete", "cancelled",
    "declined", "signaling-lost", "connect-failed", "no-route", "unknown-device", "key-changed",
    "forgotten", "bad-message", "too-large", "not-joined", "no-peer", "rate-limited",
)

# §6.1: failures found in what the peer sent, told to it in `close {"code": …}`.
REFUSALS = ("bad-name", "peer-misbehaved", "record-rejected")
