"""Shared test helpers, imported as ``helpers.<module>`` (tests/ is on pytest's
pythonpath): host builds of the firmware and a fake device, the portable kernels
built for the host and for QEMU, pyOCD fakes, and small networks and report
builders more than one tier uses."""
