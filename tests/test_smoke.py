import subprocess
import sys


def test_import_nasbench_does_not_import_torch_or_xgboost():
    code = (
        "import sys, nasbench\n"
        "b = nasbench.TabularBenchmark\n"
        "heavy = [m for m in ('torch', 'xgboost', 'pandas', 'sklearn', 'matplotlib') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
