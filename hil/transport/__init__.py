"""Wrappers around any pyserial-style port, stackable beneath the link: a baud-rate
throttle, fault injection and a tap that accounts for every byte on the wire."""
