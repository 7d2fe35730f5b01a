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


class LocalScorer:
    """Perplexity with llama.cpp in this process (llama-cpp-python, the embedded server's runtime).

    Why not the server for the embedded model: llama-cpp-python 0.3.36's `echo` + `logprobs` pairs each
    prompt token with the distribution predicted *at* that token (the next token's), not the one that
    predicted it, so its prompt log-probabilities are off by one position (measured: a real paragraph
    scored 17x worse than its shuffled words). Here each token t[i+1] is scored from the logits of
    position i. Remote servers (vLLM, SGLang) keep the server path (`score_documents`)."""

    def __init__(self, model_path: str, n_ctx: int = 2048, n_threads: int = 2):
        from goldpan.llm.serve import _without_extra_buffer_types

        _without_extra_buffer_types()
        from llama_cpp import Llama

        self.llm = Llama(model_path=model_path, n_ctx=n_ctx, n_threads=n_threads, logits_all=True, verbose=False)

    def mean_logprob(self, text: str, first_tokens: int) -> tuple[float, int]:
        import numpy as np

        toks = self.llm.tokenize(text.encode("utf-8"), add_bos=True)[: first_tokens + 1]
        if len(toks) < 2:
            raise ValueError("fewer than 2 tokens")
        self.llm.reset()
        self.llm.eval(toks)
        logits = np.asarray(self.llm.scores[: len(toks) - 1], dtype=np.float64)
        m = logits.max(axis=1, keepdims=True)
        logz = (m + np.log(np.exp(logits - m).sum(axis=1, keepdims=True)))[:, 0]
        lp = logits[np.arange(len(toks) - 1), toks[1:]] - logz
        return float(lp.mean()), len(toks) - 1


def score_documents_locally(scorer: LocalScorer, docs: Iterable[dict], first_tokens: int, model_name: str,
                            model_sha256: str | None) -> Iterator[dict]:
    """`doc_perplexity` rows computed in process, one document at a time."""
    for d in docs:
        text = d["text"] or ""
        row = {"doc_id": d["doc_id"], "batch_id": d["batch_id"], "model_name": model_name,
               "model_sha256": model_sha256, "first_tokens": first_tokens,
               "text_md5": hashlib.md5(text.encode()).hexdigest(), "status": KEPT, "reason": None,
               "n_tokens": None, "mean_logprob": None, "perplexity": None}
        try:
            lp, n = scorer.mean_logprob(text, first_tokens)
            row.update(mean_logprob=lp, perplexity=math.exp(-lp), n_tokens=n)
        except (ValueError, RuntimeError) as exc:
            row.update(status=ERROR, reason=f"{exc}"[:300])
        yield row
