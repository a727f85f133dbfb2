"""Strategic merge as the controllers apply it to pod specs."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shareguard.posture.controllers.merge import merge

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["env", "name", "a", "containers"]), inner, max_size=3)
    ),
    max_leaves=12,
)


def test_maps_merge_and_scalars_replace() -> None:
    base = {"securityContext": {"runAsNonRoot": True, "privileged": False}, "image": "a"}
    assert merge(base, {"securityContext": {"privileged": True}, "image": "b"}) == {
        "securityContext": {"runAsNonRoot": True, "privileged": True},
        "image": "b",
    }
    assert base["securityContext"] == {"runAsNonRoot": True, "privileged": False}  # input untouched


def test_lists_merge_on_their_key() -> None:
    base = {"containers": [{"name": "c", "env": [{"name": "A", "value": "1"}], "args": ["x"]}]}
    patch = {"containers": [{"name": "c", "env": [{"name": "A", "value": "2"}, {"name": "B"}], "args": ["y"]}]}
    out = merge(base, patch)
    assert out["containers"][0]["env"] == [{"name": "A", "value": "2"}, {"name": "B"}]
    assert out["containers"][0]["args"] == ["y"]  # not a merge list: replaced


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_JSON, _JSON)
def test_merge_never_raises(base: object, patch: object) -> None:
    merge(base, patch)
