"""Perplexity of documents under a small reference model, over their first N tokens (CCNet-style).

The same runtime as the synthesize stage: a completion request that echoes the prompt with its token
log-probabilities (`echo`, `logprobs`; llama.cpp's server needs `logits_all` for it, so the embedded
scorer runs its own server with it on). Only the first `first_tokens` tokens count: the text sent is
cut to a character length that holds them (about 4 characters per token in English, 1.2 in Chinese),
and the log-probabilities beyond N are ignored.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Iterator

from goldpan.lake.schemas import ERROR, KEPT
from goldpan.llm.client import LLMClient, LLMRequest
from goldpan.text.tokenize import is_cjk_lang


def chars_for_tokens(first_tokens: int, lang: str | None) -> int:
    return int(first_tokens * (1.2 if is_cjk_lang(lang) else 4.5)) + 16


def scoring_request(doc_id: str, text: str, lang: str | None, first_tokens: int) -> LLMRequest:
    cut = text[: chars_for_tokens(first_tokens, lang)]
    return LLMRequest(doc_id, "completion", cut,
                      {"max_tokens": 1, "echo": True, "logprobs": 1, "temperature": 0.0, "seed": 0})


def mean_logprob(raw: dict, first_tokens: int) -> tuple[float, int]:
    """Mean log-likelihood per token of the first `first_tokens` prompt tokens (the first token has none)."""
    choice = raw["choices"][0]
    lps = choice["logprobs"]["token_logprobs"]
    n_prompt = int((raw.get("usage") or {}).get("prompt_tokens") or len(lps) - 1)
    vals = [v for v in lps[1:min(n_prompt, first_tokens)] if v is not None and math.isfinite(v)]
    if not vals:
        raise ValueError("no prompt log-probabilities in the answer (is logits_all on?)")
    return sum(vals) / len(vals), len(vals) + 1


def score_documents(client: LLMClient, docs: Iterable[dict], first_tokens: int, model_name: str,
                    model_sha256: str | None) -> Iterator[dict]:
    """`doc_perplexity` rows for (doc_id, batch_id, lang, text) records, in completion order."""
    meta: dict[str, dict] = {}

    def requests() -> Iterator[LLMRequest]:
        for d in docs:
            meta[d["doc_id"]] = d
            yield scoring_request(d["doc_id"], d["text"] or "", d.get("lang"), first_tokens)

    for res in client.run(requests()):
        d = meta.pop(res.key)
        row = {"doc_id": d["doc_id"], "batch_id": d["batch_id"], "model_name": model_name,
               "model_sha256": model_sha256, "first_tokens": first_tokens,
               "text_md5": hashlib.md5((d["text"] or "").encode()).hexdigest(), "status": KEPT, "reason": None,
               "n_tokens": None, "mean_logprob": None, "perplexity": None}
        if res.error is not None:
            row.update(status=ERROR, reason=f"{res.error}: {res.detail}"[:300])
        else:
            try:
                lp, n = mean_logprob(res.raw or {}, first_tokens)
                row.update(mean_logprob=lp, perplexity=math.exp(-lp), n_tokens=n)
            except (KeyError, IndexError, TypeError, ValueError) as exc:
                row.update(status=ERROR, reason=f"bad_response: {exc}"[:300])
        yield row
