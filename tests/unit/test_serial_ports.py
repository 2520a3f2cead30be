"""ST-LINK virtual COM port discovery and port-open errors, with fake list_ports entries."""

from __future__ import annotations

import errno

import pytest
import serial

from hil.errors import ConfigError, DeviceError
from hil.runners import serial_ports
from hil.runners.serial_ports import PortInfo, check_port, vcp_for_probe

UID = "066DFF485457725187092531"


def stlink(device: str, serial_number: str | None, pid: int = 0x374B) -> PortInfo:
    return PortInfo(device, 0x0483, pid, serial_number, "STM32 STLink")


PORTS = [
    PortInfo("/dev/ttyUSB0", 0x0403, 0x6001, "A50285BI", "FT232R"),
    stlink("/dev/ttyACM1", "0670FF535155878281151932"),
    stlink("/dev/ttyACM0", UID),
]


def test_port_is_paired_with_the_probe_by_usb_serial_number():
    assert vcp_for_probe(UID, ports=PORTS) == "/dev/ttyACM0"
    assert vcp_for_probe(UID.lower(), ports=PORTS) == "/dev/ttyACM0"


def test_other_vendors_with_the_same_serial_are_ignored():
    ports = [PortInfo("/dev/ttyUSB3", 0x1366, 0x0105, UID, "J-Link"), *PORTS]
    assert vcp_for_probe(UID, ports=ports) == "/dev/ttyACM0"


def test_product_ids_narrow_the_match():
    with pytest.raises(DeviceError):
        vcp_for_probe(UID, pids=[0x374E], ports=PORTS)
    assert vcp_for_probe(UID, pids=[0x374B, 0x374E], ports=PORTS) == "/dev/ttyACM0"


def test_stlink_v3_with_two_ports_gives_the_first():
    ports = [stlink("/dev/ttyACM5", UID, 0x3753), stlink("/dev/ttyACM4", UID, 0x3753)]
    assert vcp_for_probe(UID, ports=ports) == "/dev/ttyACM4"


def test_probe_without_a_port_lists_the_stlink_ports_there_are():
    with pytest.raises(DeviceError, match="has no virtual COM port") as err:
        vcp_for_probe("0672FF000000000000000000", ports=PORTS)
    assert "/dev/ttyACM1 (serial 0670FF535155878281151932)" in err.value.message
    assert "--port" in err.value.hint


def test_no_stlink_ports_at_all_is_said():
    with pytest.raises(DeviceError, match="no ST-LINK serial ports present"):
        vcp_for_probe(UID, ports=PORTS[:1])


def test_remote_probe_needs_the_port_as_a_url():
    with pytest.raises(ConfigError, match="on another machine") as err:
        vcp_for_probe("remote:bench2:5555", ports=PORTS)
    assert "rfc2217://" in err.value.hint


def test_discovery_reads_pyserial_list_ports(monkeypatch):
    class Entry:
        device, vid, pid, serial_number, description = "/dev/ttyACM7", 0x0483, 0x374B, UID, "ST"

    from serial.tools import list_ports

    monkeypatch.setattr(list_ports, "comports", lambda: [Entry()])
    assert serial_ports.list_ports() == [PortInfo("/dev/ttyACM7", 0x0483, 0x374B, UID, "ST")]
    assert vcp_for_probe(UID) == "/dev/ttyACM7"


def raising(exc):
    def opener(url, **kwargs):
        raise exc

    return opener


@pytest.mark.parametrize(
    "exc, words, hint",
    [
        (
            serial.SerialException(
                errno.EBUSY, "could not open port /dev/ttyACM0: [Errno 16] Device or resource busy"
            ),
            "is busy",
            "close the program",
        ),
        (
            serial.SerialException(
                errno.EACCES, "could not open port /dev/ttyACM0: [Errno 13] Permission denied"
            ),
            "no permission",
            "dialout",
        ),
        (
            serial.SerialException(
                errno.ENOENT, "could not open port /dev/ttyACM0: [Errno 2] No such file"
            ),
            "does not exist",
            "list_ports",
        ),
        (
            serial.SerialException("Could not configure port: (5, 'Input/output error')"),
            "cannot open serial port",
            "URL",
        ),
    ],
)
def test_port_that_will_not_open_names_the_cause(exc, words, hint):
    with pytest.raises(DeviceError, match=words) as err:
        check_port("/dev/ttyACM0", opener=raising(exc))
    assert hint in err.value.hint


def test_missing_device_file_is_reported_by_the_real_opener(tmp_path):
    with pytest.raises(DeviceError, match="does not exist"):
        check_port(str(tmp_path / "ttyACM9"))


def test_a_port_that_opens_is_closed_again():
    check_port("loop://")
