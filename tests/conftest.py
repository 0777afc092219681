"""Every test process: the emulated AWS without the CPU it spends on work whose result is known (local/speedups.py).

moto's DynamoDB answers and botocore's service models took most of the integration tests' time; the shortcuts
change no answer (``tests/unit/test_speedups.py``)."""

from local import speedups

speedups.speed_up_moto()
speedups.share_botocore_loader()
