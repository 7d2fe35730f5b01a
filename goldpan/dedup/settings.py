"""What the recipe's `dedup` section (`goldpan.recipe.DedupSection`, the only dedup config model)
means to the matching code: the LSH banding, and the signature and verification settings it implies.

Functions of the section rather than a second config class, so the knobs, their defaults and their
checks are written once (in the recipe); these only derive what the section leaves implicit.
"""

from __future__ import annotations

from goldpan.dedup.candidates import choose_banding
from goldpan.dedup.signatures import SignatureConfig
from goldpan.dedup.verify import VerifyConfig
from goldpan.recipe import DedupSection


def banding(section: DedupSection) -> tuple[int, int]:
    """(bands, rows): as given, or chosen from the S-curve for `threshold` (candidates.choose_banding)."""
    if section.num_bands is not None and section.rows_per_band is not None:
        return section.num_bands, section.rows_per_band
    return choose_banding(min(section.threshold, 0.99), section.num_perm, section.lsh_min_recall)


def signature_config(section: DedupSection) -> SignatureConfig:
    b, r = banding(section)
    return SignatureConfig(shingle=section.shingle, word_ngram=section.word_ngram, char_ngram=section.char_ngram,
                           cjk_ngram=section.cjk_ngram, minhash=section.minhash, num_perm=section.num_perm,
                           num_bands=b, rows_per_band=r, seed=section.seed)


def verify_config(section: DedupSection) -> VerifyConfig:
    return VerifyConfig(threshold=section.threshold, containment=section.containment,
                        containment_threshold=section.containment_threshold,
                        containment_min_shingles=section.containment_min_shingles, segments=section.segments,
                        segment_min=section.segment_min, segments_may_fail=section.segments_may_fail)
