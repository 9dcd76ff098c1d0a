import json
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from features import Alteration, Profile, ProfileVectorizer

# scikit-learn's common checks generate numeric matrices; this transformer's input
# is a sequence (or DataFrame) of tumour profiles, so the checks that feed numbers
# cannot apply.  The properties they guard (fit returns self, idempotent fit, order
# and subset invariance, unfitted error, pickling) are tested below on profiles.
_NEEDS_PROFILES = "feeds a numeric matrix; the input is tumour profiles"
EXCUSED = dict.fromkeys(
    [
        "check_complex_data",
        "check_dict_unchanged",
        "check_dont_overwrite_parameters",
        "check_dtype_object",
        "check_estimator_sparse_array",
        "check_estimator_sparse_matrix",
        "check_estimators_dtypes",
        "check_estimators_empty_data_messages",
        "check_estimators_fit_returns_self",
        "check_estimators_nan_inf",
        "check_estimators_overwrite_params",
        "check_estimators_pickle",
        "check_f_contiguous_array_estimator",
        "check_fit2d_1feature",
        "check_fit2d_1sample",
        "check_fit2d_predict1d",
        "check_fit_check_is_fitted",
        "check_fit_idempotent",
        "check_fit_score_takes_y",
        "check_methods_sample_order_invariance",
        "check_methods_subset_invariance",
        "check_n_features_in",
        "check_n_features_in_after_fitting",
        "check_pipeline_consistency",
        "check_positive_only_tag_during_fit",
        "check_readonly_memmap_input",
        "check_transformer_data_not_an_array",
        "check_transformer_general",
        "check_transformer_preserve_dtypes",
    ],
    _NEEDS_PROFILES,
)


@parametrize_with_checks(
    [ProfileVectorizer()], expected_failed_checks=lambda _: EXCUSED
)
def test_sklearn_compatible(estimator, check) -> None:
    check(estimator)


@pytest.fixture
def profiles(planted) -> list[Profile]:
    return planted[0]


def test_readable_feature_names(profiles: list[Profile]) -> None:
    fusion = Profile(
        tumour_type="CML",
        alterations=(Alteration(kind="fusion", gene="BCR", partner_gene="ABL1"),),
    )
    names = (
        ProfileVectorizer(min_count=1).fit([*profiles, fusion]).get_feature_names_out()
    )
    for expected in [
        "mutation BRAF",
        "hotspot BRAF V600",
        "amplification ERBB2",
        "fusion BCR-ABL1",
        "fusion ABL1",
        "tumour type: melanoma",
        "tumour type: chronic myeloid leukaemia",
        "lineage: skin",
        "msi high",
    ]:
        assert expected in names


def test_vocabulary_respects_min_count(profiles: list[Profile]) -> None:
    rare = Profile(
        tumour_type="melanoma",
        alterations=(Alteration(kind="deletion", gene="CDKN2A"),),
    )
    assert (
        "deletion CDKN2A"
        not in ProfileVectorizer(min_count=2)
        .fit([*profiles, rare])
        .get_feature_names_out()
    )


def test_encodes_events_and_missing_biomarkers(profiles: list[Profile]) -> None:
    vectorizer = ProfileVectorizer().fit(profiles)
    names = list(vectorizer.get_feature_names_out())
    row = vectorizer.transform(
        [
            Profile(
                tumour_type="skin",
                alterations=(Alteration(kind="mutation", gene="braf"),),
            )
        ]
    )[0]
    assert row[names.index("mutation BRAF")] == 1
    assert row[names.index("tumour type: melanoma")] == 1
    assert row[names.index("mutation KRAS")] == 0
    assert np.isnan(row[names.index("msi high")])  # not measured, not "negative"
    assert row.sum(where=~np.isnan(row)) == 3  # BRAF, melanoma, lineage skin


def test_unseen_tumour_type_is_scored_with_no_tumour_type_column(
    profiles: list[Profile],
) -> None:
    # The bundle flags the unseen type (tests/models/test_bundle.py).
    vectorizer = ProfileVectorizer().fit(profiles)
    row = vectorizer.transform([Profile(tumour_type="cholangiocarcinoma")])[0]
    assert np.nansum(row) == 0


def test_state_round_trips_through_json(profiles: list[Profile]) -> None:
    vectorizer = ProfileVectorizer().fit(profiles)
    state = json.loads(json.dumps(vectorizer.get_state()))
    rebuilt = ProfileVectorizer.from_state(state)
    assert rebuilt.get_state() == vectorizer.get_state()
    np.testing.assert_array_equal(
        rebuilt.transform(profiles), vectorizer.transform(profiles)
    )


def test_rejects_unknown_state_version(profiles: list[Profile]) -> None:
    state = ProfileVectorizer().fit(profiles).get_state() | {"state_version": 99}
    with pytest.raises(ValueError, match="state_version"):
        ProfileVectorizer.from_state(state)


def test_dataframe_column_order_does_not_matter(profiles: list[Profile]) -> None:
    frame = pd.DataFrame([p.model_dump() for p in profiles])
    shuffled = frame[list(reversed(frame.columns))]
    vectorizer = ProfileVectorizer().fit(frame)
    np.testing.assert_array_equal(
        vectorizer.transform(frame), vectorizer.transform(shuffled)
    )
    np.testing.assert_array_equal(
        vectorizer.transform(frame), vectorizer.transform(profiles)
    )


def test_sample_order_and_subset_invariance(profiles: list[Profile]) -> None:
    vectorizer = ProfileVectorizer().fit(profiles)
    full = vectorizer.transform(profiles)
    order = np.random.default_rng(0).permutation(len(profiles))
    np.testing.assert_array_equal(
        vectorizer.transform([profiles[i] for i in order]), full[order]
    )
    np.testing.assert_array_equal(vectorizer.transform(profiles[:7]), full[:7])


def test_fit_is_idempotent_and_returns_self(profiles: list[Profile]) -> None:
    vectorizer = ProfileVectorizer()
    assert vectorizer.fit(profiles) is vectorizer
    first = vectorizer.get_state()
    assert vectorizer.fit(profiles).get_state() == first
    assert clone(vectorizer).get_params() == vectorizer.get_params()
    restored = pickle.loads(pickle.dumps(vectorizer))
    np.testing.assert_array_equal(
        restored.transform(profiles), vectorizer.transform(profiles)
    )


def test_errors_name_the_problem(profiles: list[Profile]) -> None:
    with pytest.raises(NotFittedError):
        ProfileVectorizer().transform(profiles)
    with pytest.raises(ValueError, match="no profiles"):
        ProfileVectorizer().fit([])
    with pytest.raises(TypeError, match="sequence of profiles"):
        ProfileVectorizer().fit(42)
    with pytest.raises(ValueError, match="min_count"):
        ProfileVectorizer(min_count=0).fit(profiles)
