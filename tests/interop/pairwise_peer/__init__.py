"""An independent Pairwise protocol v1 peer on aiortc, written from docs/protocol.md."""
