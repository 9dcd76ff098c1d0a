"""Drug knowledge: targets, pathway and the DRUP matching rules, one entry per drug.

The table is plain data (built by ``scripts/build_drug_knowledge.py`` from the GDSC
drug list and CC0 CIViC evidence, packaged as ``features/drug_knowledge.json``) and
round-trips through JSON exactly, so it can ship inside a model bundle.

DRUP matching classes (van der Velden et al., Nature 574:127, 2019):

1. the drug's on-label target / sensitivity marker (e.g. BRAF V600 for vemurafenib);
2. an oncogenic variant upstream in, or activating, the drug's pathway or target;
3. a unique susceptibility (HR deficiency -> PARP inhibitor; MSI / high TMB ->
   immune checkpoint inhibitor);
4. other justified evidence (CIViC predictive sensitivity items, levels A-C).

When several rules match, the best match has the lowest class; ties go to the
alteration listed first in the profile (then MSI, TMB, HRD), then to the rule listed
first in the entry.  A match in a tumour type the drug is approved for with that
biomarker (BRAF V600E melanoma for vemurafenib; BRCA2 ovarian for olaparib) is still
reported, with ``on_label=True``: DRUP only treats off-label use, so callers that
model DRUP keep or drop those as they need.  A drug missing from the table has no
known biomarkers: ``match`` gives None and ``target_match`` all zeros.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from features._schema import Alteration, AlterationKind, Profile, _normalise_gene
from features._tumour_types import canonical_tumour_type

KNOWLEDGE_VERSION: Literal[1] = 1
# The 37 DRUP drugs, lower-case generic names (the drug knowledge table's keys).
DRUP_DRUGS: tuple[str, ...] = (
    "nivolumab", "pembrolizumab", "durvalumab", "atezolizumab", "ipilimumab",
    "vemurafenib", "dabrafenib", "trametinib", "cobimetinib", "binimetinib",
    "encorafenib", "palbociclib", "ribociclib", "abemaciclib", "olaparib",
    "niraparib", "talazoparib", "erlotinib", "gefitinib", "osimertinib", "afatinib",
    "lapatinib", "trastuzumab", "pertuzumab", "crizotinib", "alectinib", "lorlatinib",
    "larotrectinib", "entrectinib", "everolimus", "alpelisib", "vismodegib",
    "imatinib", "nilotinib", "dasatinib", "cabozantinib", "sunitinib",
)  # fmt: skip

PACKAGED_KNOWLEDGE = "drug_knowledge.json"
Signature = Literal["msi_high", "tmb_mut_per_mb", "hrd_score"]
_SIGNATURES: tuple[Signature, ...] = ("msi_high", "tmb_mut_per_mb", "hrd_score")
CivicLevel = Literal["A", "B", "C"]

# Names of the indicator features returned by DrugKnowledge.target_match, in order.
MATCH_FEATURE_NAMES: tuple[str, ...] = (
    "target match",
    "match class 1",
    "match class 2",
    "match class 3",
    "match class 4",
    "match on label",
    "target gene altered",
    "pathway gene altered",
)


class SensitivityRule(BaseModel):
    """One biomarker that predicts sensitivity to a drug, with its DRUP class.

    A rule names either a gene (with optional alteration kinds, protein change and
    fusion partner) or a signature (``msi_high``, or ``tmb_mut_per_mb`` /
    ``hrd_score`` at or above ``min_value``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    matching_class: Literal[1, 2, 3, 4] = Field(description="DRUP matching class.")
    biomarker: str = Field(min_length=1, description="Readable, e.g. 'BRAF V600'.")
    gene: str | None = Field(default=None, description="HGNC symbol.")
    kinds: tuple[AlterationKind, ...] = Field(
        default=(), description="Accepted alteration kinds; empty = any kind."
    )
    protein_change: str | None = Field(
        default=None,
        description="Exact change ('V600E') or codon ('V600'); None = any change.",
    )
    partner_gene: str | None = Field(
        default=None, description="Fusion partner that must be involved, if any."
    )
    signature: Signature | None = Field(
        default=None, description="Genome-wide biomarker instead of a gene."
    )
    min_value: float | None = Field(
        default=None, description="Threshold (>=) for tmb_mut_per_mb or hrd_score."
    )
    on_label_tumour_types: tuple[str, ...] = Field(
        default=(),
        description="Canonical tumour types where the drug is approved for this "
        "biomarker.",
    )
    civic_level: CivicLevel | None = Field(
        default=None, description="Best CIViC evidence level merged into the rule."
    )
    sources: tuple[str, ...] = Field(
        default=(), description="Labels, papers and CIViC evidence items."
    )

    @model_validator(mode="after")
    def _check_shape(self) -> SensitivityRule:
        if (self.gene is None) == (self.signature is None):
            raise ValueError("a rule names exactly one of 'gene' or 'signature'")
        if self.gene is not None and _normalise_gene(self.gene) != self.gene:
            raise ValueError(f"gene {self.gene!r} must be an upper-case HGNC symbol")
        needs_value = self.signature in ("tmb_mut_per_mb", "hrd_score")
        if needs_value != (self.min_value is not None):
            raise ValueError("min_value is required for tmb/hrd rules and only then")
        if self.partner_gene is not None and self.kinds != ("fusion",):
            raise ValueError("partner_gene needs kinds == ('fusion',)")
        for tumour_type in self.on_label_tumour_types:
            if canonical_tumour_type(tumour_type) != tumour_type:
                raise ValueError(f"tumour type {tumour_type!r} is not canonical")
        return self

    def accepts(self, alteration: Alteration) -> bool:
        """Whether a genomic event satisfies this (gene) rule."""
        if self.gene is None or (self.kinds and alteration.kind not in self.kinds):
            return False
        if alteration.kind == "fusion":  # either gene of a fusion may be the target
            involved = {alteration.gene, alteration.partner_gene}
            needed = {self.gene, self.partner_gene} - {None}
            return self.protein_change is None and needed <= involved
        return alteration.gene == self.gene and (
            self.protein_change is None
            or self.protein_change in (alteration.protein_change, alteration.codon)
        )

    def signature_hit(self, profile: Profile) -> str | None:
        """Readable value of the profile's signature if it satisfies the rule."""
        if self.signature == "msi_high":
            return "msi high" if profile.msi_high else None
        if self.signature is None or self.min_value is None:
            return None
        value = getattr(profile, self.signature)
        if value is None or value < self.min_value:
            return None
        unit = " mut/Mb" if self.signature == "tmb_mut_per_mb" else ""
        name = "tmb" if self.signature == "tmb_mut_per_mb" else "hrd score"
        return f"{name} {value:g}{unit}"


class OnLabelUse(NamedTuple):
    """A tumour type and biomarker for which the drug is approved."""

    tumour_type: str
    biomarker: str
    matching_class: int


class DrugEntry(BaseModel):
    """What is known about one drug: names, targets, pathway and matching rules."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    drug: str = Field(min_length=1, description="Lower-case generic name.")
    synonyms: tuple[str, ...] = Field(default=(), description="Other names, codes.")
    targets: tuple[str, ...] = Field(default=(), description="HGNC target genes.")
    unmapped_targets: tuple[str, ...] = Field(
        default=(), description="Target descriptions with no HGNC gene."
    )
    pathway: str = Field(description="Target pathway (GDSC vocabulary).")
    pathway_genes: tuple[str, ...] = Field(
        default=(), description="Genes named by the class 2 and 3 rules."
    )
    rules: tuple[SensitivityRule, ...] = Field(
        default=(), description="Sensitivity rules, ordered by matching class."
    )
    gdsc_drug_ids: tuple[int, ...] = Field(default=(), description="GDSC DRUG_IDs.")
    sources: tuple[str, ...] = Field(default=(), description="Where the entry's from.")

    @model_validator(mode="after")
    def _check_names(self) -> DrugEntry:
        if self.drug != self.drug.strip().lower():
            raise ValueError(f"drug {self.drug!r} must be a lower-case stripped name")
        classes = [rule.matching_class for rule in self.rules]
        if classes != sorted(classes):
            raise ValueError(f"{self.drug}: rules must be ordered by matching class")
        return self

    @property
    def on_label(self) -> tuple[OnLabelUse, ...]:
        """Approved (tumour type, biomarker) pairs, read off the rules."""
        return tuple(
            OnLabelUse(tumour_type, rule.biomarker, rule.matching_class)
            for rule in self.rules
            for tumour_type in rule.on_label_tumour_types
        )


class Match(BaseModel):
    """The best biomarker match of a profile to a drug."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    matching_class: int = Field(ge=1, le=4, description="DRUP matching class 1-4.")
    alteration: str = Field(
        description="What matched, e.g. 'mutation BRAF V600E' or 'msi high'.",
        examples=["mutation BRAF V600E"],
    )
    evidence: str = Field(description="The rule and its sources.")
    on_label: bool = Field(
        default=False,
        description="The profile's tumour type is approved for this biomarker.",
    )


class _Hit(NamedTuple):
    matching_class: int
    position: int  # index of the alteration; after them MSI, TMB, HRD
    rule_index: int


class _RuleIndex(NamedTuple):
    by_gene: dict[str, tuple[int, ...]]  # rules naming a gene (fusions: both genes)
    signatures: tuple[int, ...]  # rules on MSI, TMB or HRD


class DrugKnowledge(BaseModel):
    """All drug entries, looked up by generic name or synonym (case-insensitive).

    ``knowledge["Zelboraf"]`` gives the vemurafenib entry and raises ``KeyError``
    for unknown names; :meth:`match` and :meth:`target_match` treat a drug the
    table does not know as one without known biomarkers (no match, all features
    0.0), so cohorts with other drugs still encode; ``name in knowledge`` tells
    the two apart.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    knowledge_version: Literal[1] = Field(description="Version of this format.")
    sources: tuple[str, ...] = Field(default=(), description="Input data sets.")
    entries: dict[str, DrugEntry] = Field(description="Entries keyed by drug.")
    _names: dict[str, str] = PrivateAttr(default_factory=dict)
    _rules: dict[str, _RuleIndex] = PrivateAttr(default_factory=dict)
    _by_gene: dict[str, frozenset[str]] = PrivateAttr(default_factory=dict)
    _by_signature: frozenset[str] = PrivateAttr(default=frozenset())

    @model_validator(mode="after")
    def _index(self) -> DrugKnowledge:
        names: dict[str, str] = {}
        for key, entry in self.entries.items():
            if key != entry.drug:
                raise ValueError(f"entry {key!r} holds drug {entry.drug!r}")
            for name in (entry.drug, *entry.synonyms):
                owner = names.setdefault(name.strip().lower(), key)
                if owner != key:
                    raise ValueError(f"name {name!r} is used by {owner} and {key}")
        self._names = names
        self._rules = {key: _index_rules(e.rules) for key, e in self.entries.items()}
        by_gene: dict[str, set[str]] = {}
        for key, entry in self.entries.items():
            for gene in (
                *self._rules[key].by_gene,
                *entry.targets,
                *entry.pathway_genes,
            ):
                by_gene.setdefault(gene, set()).add(key)
        self._by_gene = {gene: frozenset(keys) for gene, keys in by_gene.items()}
        self._by_signature = frozenset(
            k for k, r in self._rules.items() if r.signatures
        )
        return self

    def candidates(self, profile: Profile) -> frozenset[str]:
        """The drugs (generic names) a profile may match or flag: those with a
        rule, target or pathway gene the profile alters, and those with a
        signature rule when the profile measured a signature.  For any other
        drug :meth:`match` is None and :meth:`target_match` all zeros."""
        genes = {g for a in profile.alterations for g in (a.gene, a.partner_gene) if g}
        found = frozenset().union(*(self._by_gene.get(g, ()) for g in genes))
        if (
            profile.msi_high
            or profile.tmb_mut_per_mb is not None
            or (profile.hrd_score is not None)
        ):
            found |= self._by_signature
        return found

    def resolve(self, name: str) -> str | None:
        """Generic name for a drug name or synonym, None if unknown."""
        return self._names.get(name.strip().lower())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.resolve(name) is not None

    def __getitem__(self, name: str) -> DrugEntry:
        key = self.resolve(name)
        if key is None:
            raise KeyError(
                f"drug {name!r} is not in the drug knowledge table; give a generic "
                "name or synonym such as 'vemurafenib' or 'Zelboraf'"
            )
        return self.entries[key]

    def match(self, profile: Profile, drug: str) -> Match | None:
        """Best DRUP match of a profile to a drug; None when nothing matches.

        Lowest matching class wins; ties go to the alteration listed first (then
        MSI, TMB, HRD), then to the rule listed first.  ``on_label`` is True when
        the profile's canonical tumour type is an on-label type of any rule tied
        for that class and alteration.
        """
        key = self.resolve(drug)
        found = None if key is None else self._best_hit(profile, key)
        if key is None or found is None:
            return None
        best, on_label = found
        rule = self.entries[key].rules[best.rule_index]
        return Match(
            matching_class=best.matching_class,
            alteration=_name_hit(profile, best.position, rule),
            evidence=_describe(rule, key),
            on_label=on_label,
        )

    def _best_hit(self, profile: Profile, key: str) -> tuple[_Hit, bool] | None:
        rules = self.entries[key].rules
        hits = _hits(profile, rules, self._rules[key])
        if not hits:
            return None
        best = min(hits)
        tumour_type = canonical_tumour_type(profile.tumour_type)
        on_label = any(
            tumour_type in rules[hit.rule_index].on_label_tumour_types
            for hit in hits
            if hit[:2] == best[:2]
        )
        return best, on_label

    def biomarker_score(self, profile: Profile, drug: str) -> float:
        """The drug's known biomarker alone, as a score (higher: more likely to
        respond): the profile's value of the drug's numeric signature (TMB for a
        checkpoint inhibitor, HRD score) where the drug has one and the profile
        measured it; otherwise 4 - the best matching class + 1 (class 1 -> 4, class
        4 -> 1), 0 when nothing matches."""
        return self.score_of(profile, drug, self.match(profile, drug))

    def score_of(self, profile: Profile, drug: str, match: Match | None) -> float:
        """:meth:`biomarker_score` from the profile's :meth:`match` to the drug."""
        key = self.resolve(drug)
        if key is None:
            return 0.0
        for rule in self.entries[key].rules:
            if rule.signature in ("tmb_mut_per_mb", "hrd_score"):
                value = getattr(profile, rule.signature)
                if value is not None:
                    return float(value)
        return 0.0 if match is None else float(5 - match.matching_class)

    def target_match(self, profile: Profile, drug: str) -> dict[str, float]:
        """Indicator features (0.0 / 1.0) of how a profile matches a drug.

        Keys are :data:`MATCH_FEATURE_NAMES`: ``target match`` (any rule matched:
        the matching-rule baseline), ``match class 1`` .. ``match class 4``
        (one-hot class of the best match), ``match on label`` (the best match is
        on-label), ``target gene altered`` (any event in the drug's targets) and
        ``pathway gene altered`` (any event in its class 2/3 genes).
        """
        return self.flags_of(profile, drug, self.match(profile, drug))

    def flags_of(
        self, profile: Profile, drug: str, match: Match | None
    ) -> dict[str, float]:
        """:meth:`target_match` from the profile's :meth:`match` to the drug."""
        features = dict.fromkeys(MATCH_FEATURE_NAMES, 0.0)
        key = self.resolve(drug)
        if key is None:
            return features
        if match is not None:
            features["target match"] = 1.0
            features[f"match class {match.matching_class}"] = 1.0
            features["match on label"] = float(match.on_label)
        entry = self.entries[key]
        genes = {g for a in profile.alterations for g in (a.gene, a.partner_gene)}
        features["target gene altered"] = float(not genes.isdisjoint(entry.targets))
        features["pathway gene altered"] = float(
            not genes.isdisjoint(entry.pathway_genes)
        )
        return features


def _index_rules(rules: tuple[SensitivityRule, ...]) -> _RuleIndex:
    by_gene: dict[str, list[int]] = {}
    for index, rule in enumerate(rules):
        for gene in dict.fromkeys((rule.gene, rule.partner_gene)):
            if gene is not None:
                by_gene.setdefault(gene, []).append(index)
    signatures = tuple(i for i, rule in enumerate(rules) if rule.signature)
    return _RuleIndex({g: tuple(ids) for g, ids in by_gene.items()}, signatures)


def _hits(
    profile: Profile, rules: tuple[SensitivityRule, ...], index: _RuleIndex
) -> list[_Hit]:
    hits = []
    for position, event in enumerate(profile.alterations):
        candidates = {
            rule_index
            for gene in (event.gene, event.partner_gene)
            if gene is not None
            for rule_index in index.by_gene.get(gene, ())
        }
        hits += [
            _Hit(rules[i].matching_class, position, i)
            for i in sorted(candidates)
            if rules[i].accepts(event)
        ]
    for i in index.signatures:
        rule = rules[i]
        if rule.signature is not None and rule.signature_hit(profile) is not None:
            position = len(profile.alterations) + _SIGNATURES.index(rule.signature)
            hits.append(_Hit(rule.matching_class, position, i))
    return hits


def _name_hit(profile: Profile, position: int, rule: SensitivityRule) -> str:
    if position >= len(profile.alterations):
        return rule.signature_hit(profile) or rule.biomarker
    return _name_event(profile.alterations[position])


def _name_event(event: Alteration) -> str:
    if event.kind == "fusion":
        return f"fusion {event.gene}-{event.partner_gene or '?'}"
    change = f" {event.protein_change}" if event.protein_change else ""
    return f"{event.kind} {event.gene}{change}"


def _describe(rule: SensitivityRule, drug: str, *, n_sources: int = 4) -> str:
    level = f"CIViC level {rule.civic_level}" if rule.civic_level else "curated"
    shown = "; ".join(rule.sources[:n_sources])
    more = len(rule.sources) - n_sources
    extra = f"; +{more} more" if more > 0 else ""
    head = f"{rule.biomarker} -> {drug} (class {rule.matching_class}, {level})"
    return f"{head}: {shown}{extra}"


def load_drug_knowledge(path: Path | None = None) -> DrugKnowledge:
    """Read the drug knowledge table (the packaged one when ``path`` is None)."""
    if path is None:
        text = resources.files("features").joinpath(PACKAGED_KNOWLEDGE).read_text()
    else:
        text = Path(path).read_text(encoding="utf-8")
    return DrugKnowledge.model_validate(json.loads(text))
