"""Synonym table: free-text tumour type -> canonical lower-case name and lineage.

Keys are matched after lower-casing and turning ``_`` into spaces, so GDSC site labels
(``large_intestine``, ``lung_NSCLC_adenocarcinoma``), TCGA study codes (``coread``) and
everyday names (``colon cancer``) all land on the same canonical type.  A name that is
not in the table is kept as given (normalised) and scored with its lineage unknown.
"""

from __future__ import annotations

from types import MappingProxyType

# canonical name -> (lineage, synonyms). Lineages follow OncoTree's top-level tissues.
_TABLE: dict[str, tuple[str, tuple[str, ...]]] = {
    "melanoma": ("skin", ("skin", "skcm", "cutaneous melanoma", "skin melanoma")),
    "non-melanoma skin cancer": ("skin", ("skin other",)),
    "head and neck": ("head and neck", ("hnsc", "head and neck squamous cell carcinoma", "aero dig tract")),
    "oesophageal": ("oesophagus/stomach", ("oesophagus", "esophagus", "esophageal", "esca")),
    "stomach": ("oesophagus/stomach", ("gastric", "stad", "stomach adenocarcinoma")),
    "colorectal": ("bowel", ("large intestine", "colon", "rectal", "rectum", "coread", "coad", "read", "colorectal cancer")),
    "biliary tract": ("biliary tract", ("cholangiocarcinoma", "gallbladder")),
    "liver": ("liver", ("lihc", "hepatocellular carcinoma", "hcc")),
    "pancreatic": ("pancreas", ("pancreas", "paad", "pancreatic adenocarcinoma")),
    "digestive other": ("bowel", ("digestive system other", "digestive system")),
    "breast": ("breast", ("brca", "breast cancer", "breast carcinoma")),
    "ovarian": ("ovary/fallopian tube", ("ovary", "ov", "ovarian cancer")),
    "endometrial": ("uterus", ("endometrium", "ucec", "endometrial cancer")),
    "uterine other": ("uterus", ("uterus",)),
    "cervical": ("cervix", ("cervix", "cesc", "cervical cancer")),
    "bladder": ("bladder/urinary tract", ("blca", "urothelial", "urothelial carcinoma")),
    "kidney": ("kidney", ("kirc", "renal", "renal cell carcinoma", "rcc")),
    "prostate": ("prostate", ("prad", "prostate cancer")),
    "testicular germ cell": ("testis", ("testis", "tgct")),
    "urogenital other": ("bladder/urinary tract", ("urogenital system other", "urogenital system")),
    "adrenocortical carcinoma": ("adrenal gland", ("adrenal gland", "acc")),
    "thyroid": ("thyroid", ("thca", "thyroid cancer")),
    "lung adenocarcinoma": ("lung", ("luad", "lung nsclc adenocarcinoma")),
    "lung squamous cell carcinoma": ("lung", ("lusc", "lung nsclc squamous cell carcinoma")),
    "lung large cell carcinoma": ("lung", ("lung nsclc large cell",)),
    "lung carcinoid": ("lung", ("lung nsclc carcinoid",)),
    "non-small cell lung cancer": ("lung", ("nsclc", "lung nsclc", "lung nsclc not specified")),
    "small cell lung cancer": ("lung", ("sclc", "lung sclc", "lung small cell carcinoma")),
    "lung other": ("lung", ("lung",)),
    "mesothelioma": ("pleura", ("meso",)),
    "glioma": ("cns/brain", ("gbm", "lgg", "glioblastoma", "low-grade glioma", "nervous system")),
    "medulloblastoma": ("cns/brain", ("mb",)),
    "neuroblastoma": ("peripheral nervous system", ("nb",)),
    "ewing sarcoma": ("bone", ("ewings sarcoma", "ewing's sarcoma")),
    "osteosarcoma": ("bone", ()),
    "chondrosarcoma": ("bone", ()),
    "bone sarcoma other": ("bone", ("bone other", "bone")),
    "rhabdomyosarcoma": ("soft tissue", ()),
    "fibrosarcoma": ("soft tissue", ()),
    "soft tissue sarcoma": ("soft tissue", ("soft tissue other", "soft tissue")),
    "acute myeloid leukaemia": ("myeloid", ("aml", "laml", "acute myeloid leukemia")),
    "chronic myeloid leukaemia": ("myeloid", ("cml", "lcml", "chronic myeloid leukemia")),
    "acute lymphoblastic leukaemia": ("lymphoid", ("all", "lymphoblastic leukemia", "lymphoblastic t cell leukaemia", "t cell leukemia")),
    "b-cell leukaemia": ("lymphoid", ("b cell leukemia", "cll", "chronic lymphocytic leukaemia")),
    "hairy cell leukaemia": ("lymphoid", ("hairy cell leukemia",)),
    "leukaemia other": ("myeloid", ("leukemia", "leukaemia", "haematopoietic neoplasm other")),
    "diffuse large b-cell lymphoma": ("lymphoid", ("dlbcl", "dlbc", "b cell lymphoma")),
    "burkitt lymphoma": ("lymphoid", ()),
    "hodgkin lymphoma": ("lymphoid", ()),
    "anaplastic large cell lymphoma": ("lymphoid", ()),
    "lymphoma other": ("lymphoid", ("lymphoma", "lymphoid neoplasm other")),
    "myeloma": ("lymphoid", ("multiple myeloma", "mm")),
}  # fmt: skip

TUMOUR_TYPE_LINEAGE: MappingProxyType[str, str] = MappingProxyType(
    {name: lineage for name, (lineage, _) in _TABLE.items()}
)
TUMOUR_TYPE_SYNONYMS: MappingProxyType[str, str] = MappingProxyType(
    {
        synonym: name
        for name, (_, synonyms) in _TABLE.items()
        for synonym in (name, *synonyms)
    }
)


def canonical_tumour_type(name: str) -> str:
    """Map a free-text tumour type to its canonical name (unknown names kept)."""
    key = " ".join(name.strip().lower().replace("_", " ").split())
    return TUMOUR_TYPE_SYNONYMS.get(key, key)


def lineage_of(tumour_type: str) -> str | None:
    """Lineage (OncoTree tissue) of a tumour type, or None when not in the table."""
    return TUMOUR_TYPE_LINEAGE.get(canonical_tumour_type(tumour_type))
