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


def test_should_scale_widths_and_reject_fractional_ones():
    cfg = parse_args(["--width_mult=0.25", "--partitions=1,4,8"])
    assert cfg.scaled_widths() == (8, [16, 32, 64])
    with pytest.raises(ConfigError, match="width_mult: 0.3 makes stem"):
        parse_args(["--width_mult=0.3"])
    with pytest.raises(ConfigError, match="not divisible by P=8"):
        parse_args(["--width_mult=0.125", "--partitions=8"])


def test_should_validate_new_training_flags():
    cfg = parse_args(["--study_widths=1,0.5", "--search_modes=fp32", "--amp=off"])
    assert cfg.study_widths == [1.0, 0.5] and cfg.search_modes == ["fp32"] and cfg.amp == "off"
    assert parse_args([]).branch_dropout == 0.0
    for bad, msg in [("--amp=fp16", "amp:"), ("--channels_last=yes", "channels_last:"),
                     ("--search_modes=int8", "search_modes:"), ("--study_epochs=0", "study_budget_s"),
                     ("--epochs=0", "time_budget_s"), ("--study_widths=0.1", "width_mult: 0.1"),
                     ("--bd_variant=1", "bd_variant:")]:
        with pytest.raises(ConfigError, match=msg):
            parse_args([bad])
