"""magcycle.trace: lots, campaigns, element accounts, the ledger and certificates.

Built so far: the hash-chained ledger core (:mod:`magcycle.trace.ledger`).
"""

from magcycle.trace.ledger import agrees_with, append, canonical_json, checkpoint, first_bad_entry, merkle_root

__all__ = ["agrees_with", "append", "canonical_json", "checkpoint", "first_bad_entry", "merkle_root"]
