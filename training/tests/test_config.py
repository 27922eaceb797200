import subprocess
import sys
import os

import pytest

from edgesplit_train.config import ConfigError, parse_args

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_should_reject_unknown_keys():
    with pytest.raises(ConfigError, match="unknown config key 'epoch'"):
        parse_args(["--epoch=3"])


def test_should_reject_unparsable_values():
    with pytest.raises(ConfigError, match="lr: cannot parse"):
        parse_args(["--lr=fast"])


def test_should_reject_widths_not_divisible_by_p():
    with pytest.raises(ConfigError, match="not divisible by P=3"):
        parse_args(["--partitions=3"])


def test_should_reject_missing_data_dir(tmp_path):
    with pytest.raises(ConfigError, match="data_dir"):
        parse_args(["--data_dir=%s" % (tmp_path / "nope")])


def test_should_apply_quick_preset_then_overrides():
    cfg = parse_args(["--quick", "--epochs=2"])
    assert cfg.quick and cfg.partitions == [1, 2] and cfg.epochs == 2


def test_should_exit_2_with_one_line_before_any_work():
    r = subprocess.run([sys.executable, os.path.join(HERE, "pipeline.py"), "train", "--widths=64,128,250"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0
    assert "widths[2]" in r.stderr
