//! Pairwise signaling server (placeholder while it is written).
