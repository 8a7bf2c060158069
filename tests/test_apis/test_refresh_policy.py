import numpy as np
import pytest

from bleedorigin.apis import (
    ConfidenceAdaptiveRefresh,
    FixedIntervalRefresh,
    RefreshPolicy,
    build_refresh_policy,
)


def _run(policy, confidences):
    """Frames at which the policy refreshes, given a confidence per frame."""
    fired, since = [], 0
    for t, conf in enumerate(confidences):
        since += 1
        if policy.should_refresh(since, np.array([conf]), np.array([True])):
            fired.append(t)
            since = 0
    return fired


def test_fixed_interval_refreshes_every_n_frames():
    assert _run(FixedIntervalRefresh(30), [0.9] * 100) == [29, 59, 89]
    assert _run(RefreshPolicy(), [0.1] * 200) == []


def test_adaptive_refreshes_after_confidence_recovers():
    policy = ConfidenceAdaptiveRefresh(drop_threshold=0.5, recover_threshold=0.65,
                                       recover_frames=3, min_interval=5, max_interval=0,
                                       momentum=0.0)
    # clear view, then flushing (confidence drops), then clean again
    confidences = [0.9] * 20 + [0.2] * 10 + [0.9] * 10
    assert _run(policy, confidences) == [32]  # third recovered frame after the drop
    policy.reset()
    assert _run(policy, [0.9] * 200) == []  # no drop, no fallback: never


def test_adaptive_fallback_interval_and_min_interval():
    policy = ConfidenceAdaptiveRefresh(max_interval=50, min_interval=10, momentum=0.0)
    assert _run(policy, [0.9] * 120) == [49, 99]
    policy = ConfidenceAdaptiveRefresh(min_interval=30, max_interval=0, momentum=0.0)
    # recovery at frame 6 is too early after the start; it fires once allowed
    assert _run(policy, [0.1] * 3 + [0.9] * 40) == [29]


def test_build_refresh_policy_names_and_errors():
    assert build_refresh_policy('fixed90').interval == 90
    assert build_refresh_policy(60).interval == 60
    assert isinstance(build_refresh_policy('adaptive'), ConfidenceAdaptiveRefresh)
    assert type(build_refresh_policy('none')) is RefreshPolicy
    assert type(build_refresh_policy(None)) is RefreshPolicy
    built = build_refresh_policy(dict(type='ConfidenceAdaptiveRefresh', drop_threshold=0.3))
    assert built.drop_threshold == 0.3
    with pytest.raises(ValueError, match='unknown refresh policy'):
        build_refresh_policy('every_frame')
    with pytest.raises(ValueError, match='interval must be > 0'):
        FixedIntervalRefresh(0)
    with pytest.raises(ValueError, match='drop_threshold < recover_threshold'):
        ConfidenceAdaptiveRefresh(drop_threshold=0.7, recover_threshold=0.6)
