"""Mix stage assets: recipe decisions over every filtered document, then the corpus candidate."""


from collections import Counter

import dagster as dg

from assets.common import counts_markdown, materialize_result
from goldpan.lake.delta import rows_to_batches
from goldpan.lake.schemas import CORPUS, MIX_DECISIONS
from goldpan.lineage.funnel import stage_sql
from goldpan.mix.select import decide_mix
from resources import LakeResource, RecipeResource

MIX_CODE_VERSION = "mix-v1"
CANDIDATE_CODE_VERSION = "candidate-v1"


@dg.asset(
    key="mix_decisions",
    group_name="mix",
    # quality_decisions (classify) also writes `rejections` rows the mix must see first.
    deps=["rejections", "quality_decisions", "documents"],
    code_version=MIX_CODE_VERSION,
    kinds={"delta", "duckdb"},
    description="One row per document that passed dedup and filter (all batches): selected by the mixing "
    "recipe or not, with the rule that left it out.",
)
def mix_decisions(context: dg.AssetExecutionContext, lake: LakeResource, recipe: RecipeResource) -> dg.MaterializeResult:
    lk, rc = lake.lake(), recipe.load()
    filter_kept, _, _ = stage_sql("mix")
    docs = lk.iter_rows(
        f"SELECT d.doc_id, d.batch_id, d.lang, d.lang_score, d.host FROM documents d "
        f"JOIN ({filter_kept}) k ON k.doc_id = d.doc_id ORDER BY d.host, d.doc_id",
        tables=["documents", "doc_signals", "rejections"],
        batch_size=4096,
    )
    outcomes: Counter[str] = Counter()
    rules: Counter[str] = Counter()

    def counted(rows):
        for r in rows:
            outcomes[r["status"]] += 1
            if r["rule"]:
                rules[r["rule"]] += 1
            yield r

    written = lk.write(
        "mix_decisions",
        rows_to_batches(counted(decide_mix(docs, rc.mix, rc.recipe_id)), MIX_DECISIONS, 4096),
        MIX_DECISIONS,
        commit_metadata=lake.commit_metadata(context, MIX_CODE_VERSION),
    )
    return materialize_result(
        lk,
        written,
        MIX_DECISIONS,
        preview_columns=["doc_id", "status", "rule", "lang", "source"],
        extra={
            "outcomes": dg.MetadataValue.md(counts_markdown(outcomes)),
            "rejected_by_rule": dg.MetadataValue.json(dict(rules)),
            "recipe_id": rc.recipe_id,
        },
    )


CANDIDATE_SQL = """
SELECT d.doc_id, d.page_id, d.batch_id, d.url, d.title, COALESCE(c.dedup_text, d.text) AS text, d.lang,
       m.source, d.host AS domain, d.n_words, m.repeat, m.recipe_id
FROM mix_decisions m JOIN documents d ON d.doc_id = m.doc_id
LEFT JOIN dedup_clusters c ON c.doc_id = m.doc_id
WHERE m.status = 'kept'
ORDER BY d.doc_id
"""


@dg.asset(
    key="corpus_candidate",
    group_name="release",
    deps=["mix_decisions"],
    code_version=CANDIDATE_CODE_VERSION,
    kinds={"delta", "duckdb"},
    description="The documents the recipe selected, with text and provenance ids: what the quality gate "
    "validates and what training_corpus promotes.",
)
def corpus_candidate(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
    lk = lake.lake()
    written = lk.write(
        "corpus_candidate",
        lk.iter_batches(CANDIDATE_SQL, tables=["mix_decisions", "documents", "dedup_clusters"], batch_size=1024),
        CORPUS,
        commit_metadata=lake.commit_metadata(context, CANDIDATE_CODE_VERSION),
    )
    with lk.connect(tables=["corpus_candidate"]) as con:
        langs = dict(con.sql("SELECT lang, count(*) FROM corpus_candidate GROUP BY 1 ORDER BY 2 DESC").fetchall())
        words = con.execute("SELECT coalesce(sum(n_words * repeat), 0) FROM corpus_candidate").fetchone()[0]
    return materialize_result(
        lk,
        written,
        CORPUS,
        preview_columns=["doc_id", "lang", "domain", "n_words", "title", "text"],
        extra={"documents_by_lang": dg.MetadataValue.json(langs), "words": dg.MetadataValue.int(int(words))},
    )
