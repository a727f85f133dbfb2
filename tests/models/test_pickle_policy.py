"""The callable policy: allowlist first, denylist critical, everything else unknown."""

from __future__ import annotations

import pytest

from shareguard.models.formats.pickle_policy import Verdict, default_policy


@pytest.mark.parametrize(
    "module,name,verdict",
    [
        ("torch._utils", "_rebuild_tensor_v2", Verdict.SAFE),
        ("collections", "OrderedDict", Verdict.SAFE),
        ("numpy.core.multiarray", "_reconstruct", Verdict.SAFE),
        ("copy_reg", "_reconstructor", Verdict.SAFE),  # protocol-2 spelling, mapped like pickle does
        ("__builtin__", "set", Verdict.SAFE),
        ("sklearn.ensemble._forest", "RandomForestClassifier", Verdict.SAFE),
        ("__torch__.torch.nn.modules.linear", "Linear", Verdict.SAFE),
        ("torch.jit._pickle", "build_intlist", Verdict.SAFE),
        ("argparse", "Namespace", Verdict.SAFE),
        ("sklearn.utils", "check_array", Verdict.UNKNOWN),  # a function, not a class
        ("sklearn.utils", "Evil.__init__", Verdict.UNKNOWN),  # dotted qualname is never a plain class
        ("mypkg", "Model", Verdict.UNKNOWN),
        ("__builtin__", "eval", Verdict.DANGEROUS),
        ("builtins", "getattr", Verdict.DANGEROUS),
        ("posix", "system", Verdict.DANGEROUS),
        ("torch.storage", "_load_from_bytes", Verdict.DANGEROUS),
        ("torch.serialization", "load", Verdict.DANGEROUS),
        ("torch.jit", "load", Verdict.DANGEROUS),
        ("asyncio.unix_events", "_UnixSubprocessTransport", Verdict.DANGEROUS),
        ("uuid", "_get_command_stdout", Verdict.DANGEROUS),
        ("bdb", "Bdb.run", Verdict.DANGEROUS),
        ("functools", "partial", Verdict.DANGEROUS),
        ("_io", "FileIO", Verdict.DANGEROUS),
        ("io", "open", Verdict.DANGEROUS),
    ],
)
def test_classify(module: str, name: str, verdict: Verdict) -> None:
    assert default_policy().classify(module, name) is verdict


def test_safe_and_dangerous_lists_do_not_overlap() -> None:
    p = default_policy()
    assert not (p.safe & p.dangerous)
