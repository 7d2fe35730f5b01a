"""Build `goldpan/data/filter/fineweb2_thresholds.json` from the FineWeb-2 repository's per-language configs.

Why a generated file: FineWeb-2 publishes one YAML per language (`configs/<lang>_<script>.yml`) with the
thresholds its filters used (word-length bounds, alphabetic-word ratio, stop words, duplicate-line and
n-gram fractions, line-punctuation and newline ratios). goldpan keys languages by lid.176's ISO 639-1
labels, so this script maps the two and keeps only the fields the rule table reads. It runs once, by
hand, on a clone of https://github.com/huggingface/fineweb-2 (the commit is recorded in the output).

    python bench/fineweb2_thresholds.py /path/to/fineweb-2 [--out goldpan/data/filter/fineweb2_thresholds.json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path

import yaml

# lid.176 label -> FineWeb-2 config. English has no FineWeb-2 config (FineWeb's own values apply);
# Chinese keeps goldpan's character-unit section (calibrated apart), but its config is recorded too.
LANG_CONFIGS: dict[str, str] = {
    "af": "afr_Latn", "ar": "arb_Arab", "ast": "ast_Latn", "az": "azj_Latn", "be": "bel_Cyrl",
    "bg": "bul_Cyrl", "bn": "ben_Beng", "br": "bre_Latn", "ca": "cat_Latn", "cs": "ces_Latn",
    "cy": "cym_Latn", "da": "dan_Latn", "de": "deu_Latn", "el": "ell_Grek", "eo": "epo_Latn",
    "es": "spa_Latn", "et": "ekk_Latn", "eu": "eus_Latn", "fa": "fas_Arab", "fi": "fin_Latn",
    "fr": "fra_Latn", "ga": "gle_Latn", "gl": "glg_Latn", "he": "heb_Hebr", "hi": "hin_Deva",
    "hr": "hrv_Latn", "hu": "hun_Latn", "hy": "hye_Armn", "id": "ind_Latn", "is": "isl_Latn",
    "it": "ita_Latn", "ja": "jpn_Jpan", "ka": "kat_Geor", "kk": "kaz_Cyrl", "ko": "kor_Hang",
    "lt": "lit_Latn", "lv": "lvs_Latn", "mk": "mkd_Cyrl", "ms": "zsm_Latn", "nb": "nob_Latn",
    "nl": "nld_Latn", "nn": "nno_Latn", "no": "nob_Latn", "oc": "oci_Latn", "pl": "pol_Latn",
    "pt": "por_Latn", "ro": "ron_Latn", "ru": "rus_Cyrl", "sk": "slk_Latn", "sl": "slv_Latn",
    "sq": "als_Latn", "sr": "srp_Cyrl", "sv": "swe_Latn", "sw": "swh_Latn", "ta": "tam_Taml",
    "th": "tha_Thai", "tl": "fil_Latn", "tr": "tur_Latn", "uk": "ukr_Cyrl", "ur": "urd_Arab",
    "vi": "vie_Latn", "zh": "cmn_Hani",
}
FIELDS = ("min_avg_word_length", "max_avg_word_length", "max_non_alpha_words_ratio", "dup_line_frac",
          "line_punct_thr", "new_line_ratio", "language_score", "stopwords", "top_n_grams", "dup_n_grams")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("repo", type=Path)
    ap.add_argument("--out", type=Path, default=Path("goldpan/data/filter/fineweb2_thresholds.json"))
    args = ap.parse_args()
    commit = subprocess.run(["git", "-C", str(args.repo), "rev-parse", "HEAD"], capture_output=True,
                            text=True, check=True).stdout.strip()
    langs = {}
    for lang, cfg in sorted(LANG_CONFIGS.items()):
        text = subprocess.run(["git", "-C", str(args.repo), "show", f"HEAD:configs/{cfg}.yml"],
                              capture_output=True, text=True, check=True).stdout
        data = yaml.safe_load(text)
        entry = {k: data[k] for k in FIELDS}
        entry["top_n_grams"] = {str(n): v for n, v in data["top_n_grams"]}
        entry["dup_n_grams"] = {str(n): v for n, v in data["dup_n_grams"]}
        entry["config"] = cfg
        langs[lang] = entry
    out = {"source": f"huggingface/fineweb-2@{commit} configs/*.yml", "languages": langs}
    args.out.write_text(json.dumps(out, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{len(langs)} languages -> {args.out}")


if __name__ == "__main__":
    main()
