"""magcycle.trace: lots, campaigns, element accounts, the ledger and certificates.

Modules: db (tables, migrations, transactions), store (appending to the ledger), ledger (RFC 8785 hashing, the
Merkle frontier), documents (receipt and campaign files), lots (receipts, genealogy), campaigns, accounts, plans
(planned campaigns), keys, certificates and vc (W3C VC 2.0, eddsa-jcs-2022), audit (chain, checkpoints, replay).
"""

from magcycle.trace.ledger import agrees_with, append, canonical_json, checkpoint, first_bad_entry, merkle_root

__all__ = ["agrees_with", "append", "canonical_json", "checkpoint", "first_bad_entry", "merkle_root"]
