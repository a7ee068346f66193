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
