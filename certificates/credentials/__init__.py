"""Verifiable Credentials for certificates and transcripts.

Data Integrity proofs with the ``eddsa-rdfc-2022`` cryptosuite (W3C vc-di-eddsa), computed
entirely offline: JSON-LD contexts are served from pinned local copies (``contexts/``) whose
sha256 is checked on every load; nothing is ever fetched from the network.
"""
