"""A blank English spaCy pipeline with lookup lemmas, shared by the safety screen and the check-in
parsers. No model is downloaded: the tokenizer is spaCy's own and the lemmas come from the tables
of spacy-lookups-data, installed with the project."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

# Also split words glued by punctuation in SMS ("money/family", "hot&cold", "pain,sleep").
GLUED_WORDS = (r"(?<=[a-z])[.,!?;:&/+()*=~](?=[a-z])", r"[<>]")


@dataclass(frozen=True)
class English:
    nlp: Any            # spacy.Language
    lemmas: Any         # the lemma_lookup table: word -> lemma
    known: frozenset    # every English word the lemma tables know (lemmas and inflected forms)


def build(extra_infixes: Sequence[str] = (), expect: Mapping[str, str] = {"worries": "worry"}) -> English:
    """Build the pipeline. `expect` are lemmas that must come out right, or the tables are missing
    or wrong and we refuse to start (RuntimeError) rather than screen texts badly."""
    import spacy
    from spacy.lookups import load_lookups
    from spacy.util import compile_infix_regex

    nlp = spacy.blank("en")
    infixes = list(nlp.Defaults.infixes or ()) + list(GLUED_WORDS) + list(extra_infixes)
    tokenizer: Any = nlp.tokenizer   # spaCy types it as any callable; a blank pipeline's is a Tokenizer
    tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()  # loads the lemma_lookup table from spacy-lookups-data (offline)
    lemmatizer: Any = nlp.get_pipe("lemmatizer")
    table = lemmatizer.lookups.get_table("lemma_lookup")
    if any(table.get(word) != lemma for word, lemma in expect.items()):
        raise RuntimeError("the spaCy lookup lemmatizer tables (spacy-lookups-data) are missing or wrong")
    index = load_lookups("en", ["lemma_index"]).get_table("lemma_index")
    known: set[str] = set(table.values())
    for pos in ("noun", "verb", "adj", "adv"):
        known.update(index.get(pos, []))
    return English(nlp, table, frozenset(known))
