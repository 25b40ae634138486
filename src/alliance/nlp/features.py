"""Turning an utterance and its neighbours into a sparse feature vector, in numpy only.

Blocks (each TF-IDF weighted with sublinear term frequency and L2-normalised on its own):

* ``w`` word n-grams of the utterance (with start/end markers, and ``?`` kept as a token);
* ``c`` character n-grams inside word boundaries (robust to transcription spelling);
* ``p`` word n-grams of the previous turn (the context the utterance answers);
* ``n`` words of the next turn (how the other person took it; the analysis sees the whole
  transcript, so this is not a look-ahead leak at run time);
* sentence cues: the first words of every question (open questions start with "what"/"how",
  closed ones with "do you"/"is it") and the words of the last sentence, which usually carries
  the coded act;
* optionally (``use_negation``) words in the scope of a negation;
* a few dense cues: how much of the previous turn the utterance echoes (reflections repeat the
  client's words: Miller & Rollnick, *Motivational Interviewing*, 3rd ed., ch. 5), lengths and
  question marks.

The vocabulary is an n-gram list, not training sentences, so shipping it does not ship the text.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from .base import CSR, BaseEstimator

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[?!]")
_SPACES = re.compile(r"\s+")
_SENTENCE = re.compile(r"[^.?!]+[.?!]*")

# Function words are ignored when measuring how much of the previous turn is echoed.
STOPWORDS = frozenset(
    """a an the and or but so if then of to in on at for with from by about as is are was were be
    been being am i me my mine you your yours he him his she her it its we us our they them their
    this that these those there here what which who whom how why when where do does did doing have
    has had having not no yes yeah okay ok uh um mm hmm just like really very can could would should
    will shall may might must know think mean well oh right gonna wanna kind sort thing things get got
    go going s t don't i'm it's that's you're can't didn't""".split()  # noqa: SIM905 - a word list reads and edits better as text
)

N_DENSE = 8
# blocks in _terms order: words, chars, previous, next, sentence cues -> index in block_weights
_BLOCK_WEIGHT = (0, 1, 2, 3, 5)
DENSE_NAMES = (
    "echo_of_previous",
    "previous_echoed",
    "shared_content_words",
    "log_words",
    "log_previous_words",
    "has_question_mark",
    "ends_with_question_mark",
    "no_previous_turn",
)


def normalise(text: str) -> str:
    return _SPACES.sub(" ", text.lower().replace("’", "'").replace("‘", "'")).strip()


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(normalise(text))


def as_context(item: Any) -> tuple[str, str, str, str, str]:
    """``(text, previous, next, previous-but-one, next-but-one)`` from a string, a tuple of up to
    five strings in that order, or a dict with text/prev/next/prev2/next2 keys."""
    if isinstance(item, str):
        return item, "", "", "", ""
    if isinstance(item, dict):
        return tuple(item.get(k) or "" for k in ("text", "prev", "next", "prev2", "next2"))  # type: ignore[return-value]
    if isinstance(item, (tuple, list)):
        parts = [p or "" for p in list(item)[:5]] + [""] * (5 - min(len(item), 5))
        return parts[0], parts[1], parts[2], parts[3], parts[4]
    raise TypeError(f"cannot use {type(item).__name__} as an utterance")


def _word_ngrams(toks: list[str], lo: int, hi: int, prefix: str) -> list[str]:
    seq = ["<s>"] + toks + ["</s>"]
    out = [prefix + t for t in toks] if lo <= 1 else []
    for n in range(max(lo, 2), hi + 1):
        for i in range(len(seq) - n + 1):
            out.append(prefix + " ".join(seq[i : i + n]))
    return out


_NEGATORS = frozenset(
    {
        "not",
        "no",
        "never",
        "don't",
        "can't",
        "won't",
        "didn't",
        "doesn't",
        "isn't",
        "wasn't",
        "aren't",
        "couldn't",
        "wouldn't",
        "shouldn't",
        "haven't",
        "nothing",
        "nobody",
    }
)
_CLAUSE_END = frozenset({"?", "!", "but", "because", "and", "so"})


def _negated(toks: list[str]) -> list[str]:
    """Words in the scope of a negation, marked ("I don't want to stop" -> neg:want, neg:stop).

    Change and sustain talk often differ only by a negation (Miller & Rollnick's DARN-CAT
    categories apply in both directions), which bag-of-words features blur.
    """
    out, on = [], False
    for t in toks:
        if t in _CLAUSE_END:
            on = False
        elif t in _NEGATORS:
            on = True
        elif on:
            out.append("neg:" + t)
    return out


def _char_ngrams(toks: list[str], lo: int, hi: int) -> list[str]:
    out = []
    for tok in toks:
        w = " " + tok + " "
        L = len(w)
        for n in range(lo, hi + 1):
            for i in range(L - n + 1):
                out.append("c" + w[i : i + n])
    return out


class UtteranceFeaturizer(BaseEstimator):
    """TF-IDF of the utterance, its previous and next turn, plus echo cues.

    Parameters mirror scikit-learn's ``TfidfVectorizer`` where they overlap.
    """

    def __init__(
        self,
        word_ngram_range: tuple[int, int] = (1, 3),
        char_ngram_range: tuple[int, int] = (2, 5),
        use_chars: bool = True,
        prev_ngram_range: tuple[int, int] = (1, 2),
        use_next: bool = True,
        min_df: int = 2,
        block_weights: tuple[float, ...] = (1.0, 1.0, 0.6, 0.4, 1.0, 0.6),
        use_sentence_cues: bool = True,
        use_negation: bool = False,
        wider_context: float = 0.0,
    ) -> None:
        self.word_ngram_range = word_ngram_range
        self.char_ngram_range = char_ngram_range
        self.use_chars = use_chars
        self.prev_ngram_range = prev_ngram_range
        self.use_next = use_next
        self.min_df = min_df
        self.block_weights = block_weights
        self.use_sentence_cues = use_sentence_cues
        self.use_negation = use_negation
        self.wider_context = wider_context

    # -- term extraction -------------------------------------------------------------------
    def _terms(
        self, text: str, prev: str, nxt: str, prev2: str = "", next2: str = ""
    ) -> tuple[list[list[str]], list[str], list[str]]:
        toks, ptoks = tokens(text), tokens(prev)
        wlo, whi = self.word_ngram_range
        blocks = [_word_ngrams(toks, wlo, whi, "w")]
        if self.use_chars:
            clo, chi = self.char_ngram_range
            blocks.append(_char_ngrams([t for t in toks if t not in "?!"], clo, chi))
        else:
            blocks.append([])
        plo, phi = self.prev_ngram_range
        blocks.append(_word_ngrams(ptoks, plo, phi, "p") if ptoks else ["p<none>"])
        blocks.append(["n" + t for t in tokens(nxt)] if self.use_next else [])
        cues = self._sentence_cues(text) if self.use_sentence_cues else []
        if self.use_negation:
            cues = cues + _negated(toks)
        blocks.append(cues)
        if self.wider_context:
            blocks.append(["r" + t for t in tokens(prev2)])
            blocks.append(["s" + t for t in tokens(next2)])
        return blocks, toks, ptoks

    @staticmethod
    def _sentence_cues(text: str) -> list[str]:
        """How each question starts ("what ..." vs "do you ...") and the last sentence's words.

        Open and closed questions differ in their first words, and the coded act is usually the
        last sentence of a turn ("Okay. So what would help?" is a question, not small talk).
        """
        sentences = [s.strip() for s in _SENTENCE.findall(normalise(text)) if s.strip()]
        out: list[str] = []
        for s in sentences:
            if s.endswith("?"):
                t = [w for w in _TOKEN.findall(s) if w not in "?!"]
                t = [
                    w
                    for w in t
                    if w
                    not in ("so", "and", "okay", "ok", "well", "but", "um", "uh", "now", "then")
                ] or t
                out.extend(
                    ["q1 " + " ".join(t[:1]), "q2 " + " ".join(t[:2]), "q3 " + " ".join(t[:3])]
                )
        if sentences:
            last = [w for w in _TOKEN.findall(sentences[-1]) if w not in "!"]
            out.extend("l" + g for g in _word_ngrams(last, 1, 2, ""))
            first = _TOKEN.findall(sentences[0])[:2]
            out.append("f " + " ".join(first))
        out.append(f"ns{min(len(sentences), 5)}")
        return out

    @staticmethod
    def _dense(text: str, prev: str, toks: list[str], ptoks: list[str]) -> list[float]:
        cw = {t for t in toks if t not in STOPWORDS and t not in "?!" and len(t) > 2}
        pw = {t for t in ptoks if t not in STOPWORDS and t not in "?!" and len(t) > 2}
        shared = len(cw & pw)
        n_words = sum(1 for t in toks if t not in "?!")
        stripped = text.rstrip()
        return [
            shared / len(cw) if cw else 0.0,
            shared / len(pw) if pw else 0.0,
            math.log1p(shared),
            math.log1p(n_words) / 4.0,
            math.log1p(len(ptoks)) / 4.0,
            1.0 if "?" in text else 0.0,
            1.0 if stripped.endswith("?") else 0.0,
            0.0 if prev.strip() else 1.0,
        ]

    # -- estimator API ---------------------------------------------------------------------
    def fit(self, X: Iterable[Any], y: Any = None) -> UtteranceFeaturizer:
        df: Counter[str] = Counter()
        n_docs = 0
        for item in X:
            text, prev, nxt, prev2, next2 = as_context(item)
            blocks, _, _ = self._terms(text, prev, nxt, prev2, next2)
            for block in blocks:
                df.update(set(block))
            n_docs += 1
        if n_docs == 0:
            raise ValueError("cannot fit a featurizer on no utterances")
        min_df = self.min_df if n_docs >= 50 else 1
        terms = sorted(t for t, c in df.items() if c >= min_df)
        self.vocabulary_ = {t: i for i, t in enumerate(terms)}
        self.idf_ = np.array([math.log((1 + n_docs) / (1 + df[t])) + 1.0 for t in terms])
        self.n_features_out_ = len(terms) + N_DENSE
        return self

    def transform(self, X: Iterable[Any]) -> CSR:
        self._check_fitted("vocabulary_")
        vocab, idf = self.vocabulary_, self.idf_
        weights = self.block_weights
        n_terms = len(vocab)
        rows: list[tuple[list[int], list[float]]] = []
        for item in X:
            text, prev, nxt, prev2, next2 = as_context(item)
            blocks, toks, ptoks = self._terms(text, prev, nxt, prev2, next2)
            idx_all: list[int] = []
            val_all: list[float] = []
            for b, block in enumerate(blocks):
                counts = Counter(vocab[t] for t in block if t in vocab)
                if not counts:
                    continue
                idx = list(counts)
                vals = [(1.0 + math.log(c)) * idf[i] for i, c in counts.items()]
                norm = math.sqrt(sum(v * v for v in vals)) / (
                    weights[_BLOCK_WEIGHT[b]] if b < len(_BLOCK_WEIGHT) else self.wider_context
                )
                idx_all.extend(idx)
                val_all.extend(v / norm for v in vals)
            dense = self._dense(text, prev, toks, ptoks)
            for j, v in enumerate(dense):
                if v:
                    idx_all.append(n_terms + j)
                    val_all.append(v * weights[4])
            rows.append((idx_all, val_all))
        return CSR.from_rows(rows, n_terms + N_DENSE)

    def fit_transform(self, X: Sequence[Any], y: Any = None) -> CSR:
        return self.fit(X).transform(X)

    def get_feature_names_out(self) -> list[str]:
        self._check_fitted("vocabulary_")
        return list(self.vocabulary_) + [f"dense:{n}" for n in DENSE_NAMES]

    # -- persistence (arrays + JSON only: no pickle in the shipped artifact) ----------------
    def to_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        self._check_fitted("vocabulary_")
        params = self.get_params(deep=False)
        params = {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}
        return {
            "params": params,
            "vocabulary": self.get_feature_names_out()[: len(self.vocabulary_)],
        }, {"idf": self.idf_}

    @classmethod
    def from_state(cls, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> UtteranceFeaturizer:
        params: dict[str, Any] = {
            k: tuple(v) if isinstance(v, list) else v for k, v in meta["params"].items()
        }
        obj = cls(**params)
        obj.vocabulary_ = {t: i for i, t in enumerate(meta["vocabulary"])}
        obj.idf_ = np.asarray(arrays["idf"], dtype=np.float64)
        obj.n_features_out_ = len(obj.vocabulary_) + N_DENSE
        return obj
