"""python -m minigan.compat: `import torch` answered by minigan in a fresh process, the script
run as Python runs it, and a PyTorch API minigan lacks ended in one line FILE:LINE."""
import os
import subprocess
import sys
import textwrap

import pytest

import minigan


def run(tmp_path, code, *args, name="script.py", helper=None):
    """Run `code` as a script under python -m minigan.compat; the completed process."""
    (tmp_path / name).write_text(textwrap.dedent(code))
    if helper is not None:
        (tmp_path / "helper.py").write_text(textwrap.dedent(helper))
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(minigan.__file__)))
    return subprocess.run([sys.executable, "-m", "minigan.compat", name, *args], cwd=tmp_path,
                          capture_output=True, text=True, env=env, timeout=120)


def test_torch_names_are_minigan_objects_and_real_torch_is_never_imported(tmp_path):
    done = run(tmp_path, """
        import sys
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
        import torch.optim as optim
        import torch.utils.data
        from torch.utils.data import DataLoader
        import minigan
        assert torch.nn.Module is minigan.nn.Module and nn.Linear is minigan.nn.Linear
        assert F.relu is minigan.nn.functional.relu and optim.Adam is minigan.optim.Adam
        assert DataLoader is minigan.utils.data.DataLoader
        assert torch.Tensor is minigan.Tensor and torch.manual_seed is minigan.manual_seed
        assert torch.utils.data.TensorDataset is minigan.utils.data.TensorDataset
        assert sys.modules["torch"].__name__ == "torch" and hasattr(torch, "__minigan__")
        assert torch.__version__ == minigan.__version__ and not hasattr(torch, "__wrapped__")
        x = torch.zeros(2)
        assert not (x.is_cuda or x.is_xpu or x.is_mps)  # pytorch/examples' dcgan asks
        real = [n for n, m in sys.modules.items()
                if "site-packages/torch" in (getattr(m, "__file__", None) or "")]
        assert not real, real
        print("ok")
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_the_script_runs_as_python_runs_it(tmp_path):
    done = run(tmp_path, """
        import sys
        import helper
        assert __name__ == "__main__"
        print(sys.argv, helper.VALUE)
        sys.exit(3)
    """, "--flag", "x", helper="VALUE = 42\n")
    assert done.returncode == 3
    assert done.stdout.strip() == "['script.py', '--flag', 'x'] 42"


@pytest.mark.parametrize("line, api", [
    ("model = torch.nn.GRU(4, 4)", "torch.nn.GRU is a PyTorch API"),
    ("import torch.distributions", "torch.distributions is a PyTorch module"),
    ("from torch.nn import GRU", "torch.nn.GRU is a PyTorch API"),
    ("torch.zeros(2).stft(4)", "torch.Tensor.stft is a PyTorch API"),
    ("import torchvision.models", "torchvision.models is a PyTorch module"),
    ("torch.nn.Conv2d(1, 1, 3, padding_mode='reflect')", "unexpected keyword argument "
                                                          "'padding_mode' (a PyTorch argument"),
])
def test_what_minigan_lacks_is_one_line_naming_the_api_and_the_script_line(tmp_path, line, api):
    done = run(tmp_path, f"""
        import torch
        import torchvision

        {line}
        print("not reached")
    """)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("script.py:5: ") and api in done.stderr, done.stderr


def test_the_line_is_the_scripts_even_when_a_helper_module_fails(tmp_path):
    done = run(tmp_path, "import helper\nhelper.build()\n",
               helper="import torch\n\n\ndef build():\n    return torch.nn.LSTM(2, 2)\n")
    assert done.returncode == 1
    assert done.stderr.strip() == "helper.py:5: torch.nn.LSTM is a PyTorch API that minigan " \
                                  "does not have"


def test_probing_for_an_api_still_works(tmp_path):
    done = run(tmp_path, """
        import torch
        assert not hasattr(torch, "compile_everything")
        assert getattr(torch.nn, "GRU", None) is None
        try:
            import torch.distributions
        except ImportError:
            print("no distributions")
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "no distributions"


def test_the_scripts_own_errors_keep_their_traceback(tmp_path):
    done = run(tmp_path, """
        import torch
        raise ValueError("the script's own mistake")
    """)
    assert done.returncode == 1
    assert "Traceback" in done.stderr and "ValueError: the script's own mistake" in done.stderr


def test_a_bad_keyword_to_the_scripts_own_function_is_its_own_error(tmp_path):
    done = run(tmp_path, """
        import torch

        def build(width):
            return torch.nn.Linear(width, 1)

        build(widht=3)
    """)
    assert done.returncode == 1
    assert "Traceback" in done.stderr and "unexpected keyword argument 'widht'" in done.stderr
    assert "PyTorch argument" not in done.stderr


def test_a_missing_script_is_one_line(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(minigan.__file__)))
    done = subprocess.run([sys.executable, "-m", "minigan.compat", "nope.py"], cwd=tmp_path,
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip() == "python -m minigan.compat: no such script: nope.py"
